"""FastAPI dependencies: route signatures name what they need."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from proctor.api.metrics import Metrics
from proctor.gallery import Gallery
from proctor.services import Services


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def current_gallery(services: ServicesDep) -> Gallery:
    """The gallery snapshot this request works with (reloaded when the store changed)."""
    return services.galleries.current()


GalleryDep = Annotated[Gallery, Depends(current_gallery)]


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


MetricsDep = Annotated[Metrics, Depends(get_metrics)]
