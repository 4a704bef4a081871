"""Signed webhook events, sent by a background worker so a slow or dead receiver never slows a
frame request.

``notify`` only puts the event on a bounded queue (when it is full the event is dropped and
logged: frames come first); one daemon thread POSTs each event as JSON and retries failures with
exponential backoff (1, 2, 4 ... seconds, at most ``attempts`` tries). Every request carries
``X-Proctor-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is HMAC-SHA256 of
``"<t>." + body`` under the shared secret, and ``X-Proctor-Event`` with the event type, so a
receiver can check origin and freshness (reject a ``t`` more than a few minutes old) before it
trusts the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Proctor-Signature"
EVENT_HEADER = "X-Proctor-Event"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Proctor-Signature`` value of ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, tolerance_s: float = 300.0) -> bool:
    """What a receiver does: a signature made with ``secret``, no older than ``tolerance_s``."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


class WebhookSender:
    def __init__(
        self, url: str, secret: str, *, queue_size: int, attempts: int, timeout_s: float
    ) -> None:
        self.url = url
        self.secret = secret
        self.attempts = attempts
        self.timeout_s = timeout_s
        self.sent = 0
        self.dropped = 0
        self.failed = 0
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=queue_size)
        self._worker = threading.Thread(target=self._run, name="proctor-webhook", daemon=True)
        self._worker.start()

    def notify(self, event: str, payload: Mapping[str, Any]) -> None:
        """Queue an event; never blocks."""
        body = json.dumps({"event": event, **payload}, sort_keys=True).encode()
        try:
            self._queue.put_nowait((event, body))
        except queue.Full:
            self.dropped += 1
            log.warning("webhook queue full: %s event dropped", event)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop after the events already queued (waiting at most ``timeout_s``)."""
        try:
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            return
        self._worker.join(timeout_s)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            self._deliver(*item)

    def _deliver(self, event: str, body: bytes) -> None:
        for attempt in range(self.attempts):
            timestamp = int(time.time())
            request = urllib.request.Request(
                self.url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: signature(self.secret, timestamp, body),
                    EVENT_HEADER: event,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    if 200 <= response.status < 300:
                        self.sent += 1
                        return
            except (urllib.error.URLError, OSError) as exc:
                log.info("webhook %s try %d failed: %s", event, attempt + 1, exc)
            if attempt + 1 < self.attempts:
                time.sleep(min(60.0, 2.0**attempt))
        self.failed += 1
        log.warning("webhook %s not delivered after %d tries", event, self.attempts)
