"""Process logging: one JSON object per line (or plain text), each carrying the id of the
request it was written for, so every line of one request can be found with one search.

The request id lives in a context variable set by the API's request middleware; code below the
API logs as usual and gets the id for free (Starlette runs sync routes in threads that copy
the context). Nothing here logs a request's body, headers or frame.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

#: The id of the request being served ("-" outside a request).
request_id: ContextVar[str] = ContextVar("request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(log_format: str, level: str, stream: TextIO | None = None) -> None:
    """Send every logger (the service's and uvicorn's) through one handler on ``stream``
    (stderr by default).

    uvicorn's own access log is switched off: the request middleware writes one access line
    per request instead, with the request id, route, status and duration."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter(
            JSON_FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            # uvicorn's duplicate of the message with terminal colour codes
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
        if log_format == "json"
        else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True
