"""``GET /metrics``: the Prometheus text exposition of this process's metrics (admin keys)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from proctor.api.access import ACCESS_RESPONSES, AdminAccess

router = APIRouter(tags=["operations"], dependencies=[AdminAccess], responses=ACCESS_RESPONSES)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}},
)
def metrics(request: Request) -> Response:
    """Requests, latency per route and per analyzer, errors by code, the analysis queue."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
