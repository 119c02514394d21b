"""Prometheus metrics: requests and latency per route and status, the live index, and
search and worker timeouts.

Every label has a bounded set of values: ``route`` is a route template (or
``unmatched``), ``method`` one of the methods HTTP defines (any other is ``other``),
``status`` a status the app answers with.  No request can add a series of its own.

Under gunicorn, ``config/gunicorn.conf.py`` gives ``PROMETHEUS_MULTIPROC_DIR`` a
directory of the service's own before any worker starts (``api/worker.py``), so
every worker writes its values there and ``GET /metrics`` adds up all workers
(prometheus-client's multiprocess mode).  Without it (tests, a single process) the
values live in this app's own registry.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import falcon
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

__all__ = ["CONTENT_TYPE_LATEST", "METRICS_PATH", "Metrics", "OwnListener"]

METRICS_PATH = "/metrics"
# The methods HTTP and WebDAV define, as Falcon knows them: a bounded set.
_METHODS = frozenset(falcon.COMBINED_METHODS)

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The service's metrics, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "eventsearch_requests",
            "Requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "eventsearch_request_duration_seconds",
            "Time to answer a request, by route and status.",
            ["route", "status"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.timeouts = Counter(
            "eventsearch_search_timeouts",
            "Searches that reached their time limit.",
            registry=self.registry,
        )
        self.worker_timeouts = Counter(
            "eventsearch_worker_timeouts",
            "Requests answered 500 worker_timeout: their worker was restarted under them.",
            registry=self.registry,
        )
        self.documents = Gauge(
            "eventsearch_index_documents",
            "Events in the live index.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.generation = Gauge(
            "eventsearch_index_generation",
            "Number of the live index generation.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.age = Gauge(
            "eventsearch_index_age_seconds",
            "Seconds since the live generation was built (the oldest any worker serves).",
            registry=self.registry,
            multiprocess_mode="livemax",
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request.  ``route`` must be a route template or
        ``unmatched``; a method HTTP does not define is counted as ``other``."""
        method = method if method in _METHODS else "other"
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, str(status)).observe(seconds)

    def set_index(self, stats: dict[str, Any], generation_number: int) -> None:
        """Record the live index as one worker sees it."""
        self.documents.set(stats["documents"])
        self.generation.set(generation_number)
        if stats.get("built_at"):
            built = dt.datetime.fromisoformat(stats["built_at"])
            self.age.set((dt.datetime.now(dt.UTC) - built).total_seconds())

    def render(self) -> bytes:
        """The exposition text: every worker's values under gunicorn, this one's otherwise."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))


class OwnListener:
    """Falcon middleware for ``EVENTSEARCH_METRICS_BIND``: the listener on ``port``
    serves ``/metrics`` and nothing else, and no other listener serves it (404).
    Which listener took a request is gunicorn's ``SERVER_PORT``: the port of the
    socket it listens on, whatever the request's Host header says."""

    def __init__(self, port: int) -> None:
        self.port = str(port)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        on_own_port = req.env.get("SERVER_PORT") == self.port
        if on_own_port != (req.path == METRICS_PATH):
            raise falcon.HTTPNotFound()
