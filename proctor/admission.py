"""Bounded concurrency for frame analysis: a few frames run at once, a few more wait, the
rest are refused at once.

Without a bound, every request the server accepts starts its own analysis: on two cores, 16
clients make 16 analyses share the CPU, each takes 16 times as long, clients time out and
retry, and the service collapses while looking busy. With a bound, an overloaded service says
so immediately (``OverloadedError``: HTTP 503 with ``Retry-After``) and keeps its latency for
the frames it does take.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from proctor.errors import OverloadedError


class AdmissionGate:
    """At most ``workers`` analyses at once and ``queue`` more waiting for a worker."""

    def __init__(self, workers: int, queue: int, retry_after_s: float) -> None:
        self.workers = workers
        self.queue = queue
        self.retry_after_s = retry_after_s
        self._running = threading.Semaphore(workers)
        self._lock = threading.Lock()
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Frames running or waiting now (the queue depth plus the busy workers)."""
        with self._lock:
            return self._admitted

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a worker for the block; refuse at once when all are busy and the queue is full."""
        with self._lock:
            if self._admitted >= self.workers + self.queue:
                raise OverloadedError(
                    f"{self._admitted} frames are being analysed or waiting (at most "
                    f"{self.workers} at once and {self.queue} waiting): retry later",
                    self.retry_after_s,
                )
            self._admitted += 1
        try:
            with self._running:
                yield
        finally:
            with self._lock:
                self._admitted -= 1
