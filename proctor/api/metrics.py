"""Prometheus metrics of one app: requests, latency per route and per analyzer, errors by
code, and the analysis line's depth.

Each app has its own ``CollectorRegistry`` (tests build many apps in one process, and two
apps must not count into one another). Route labels are the route's template
(``/students/{student_id}``), never the raw path, so a scan of random URLs cannot explode the
number of series; unmatched paths count as ``unmatched``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

#: Seconds; analysis takes ~0.1 s on two cores, enrollment with ten photos a few seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's series, registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "proctor_requests",
            "HTTP requests served, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "proctor_request_duration_seconds",
            "Time from the request's arrival to its response's end, by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "proctor_errors",
            "Error responses by their stable code (internal_error: an unexpected exception).",
            ["code"],
            registry=self.registry,
        )
        self.analyzer_latency = Histogram(
            "proctor_analyzer_duration_seconds",
            "Time one analyzer (or the decode step) took on one frame.",
            ["analyzer"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "proctor_analysis_queue_depth",
            "Frames waiting for an analysis worker now.",
            registry=self.registry,
        )
        self.in_analysis = Gauge(
            "proctor_analysis_admitted",
            "Frames being analysed or waiting now (refused with 503 beyond workers + queue).",
            registry=self.registry,
        )

    def watch_admission(self, admitted: Callable[[], int], workers: int) -> None:
        """Read the admission gate's state at scrape time."""
        self.in_analysis.set_function(admitted)
        self.queue_depth.set_function(lambda: max(0, admitted() - workers))

    def observe_analysis(self, timings_ms: Mapping[str, float]) -> None:
        """Per-analyzer times of one frame (``total`` is the request's, counted per route)."""
        for name, ms in timings_ms.items():
            if name != "total":
                self.analyzer_latency.labels(name).observe(ms / 1000.0)
