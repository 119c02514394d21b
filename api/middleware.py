"""What every request goes through: its id, checks of its raw query string and path,
its place among the requests in flight, and one JSON log line when it is answered."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

import falcon
import orjson

from api.errors import error_body
from api.inflight import RequestsInFlight
from api.metrics import Metrics
from search import BadRequest

__all__ = ["RequestMiddleware", "json_log"]

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

_logger = logging.getLogger("eventsearch.access")
_logger_lock = threading.Lock()


def _access_logger() -> logging.Logger:
    # Under a lock: two threads' first requests must not add two handlers.
    with _logger_lock:
        if not _logger.handlers:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(message)s"))
            _logger.addHandler(handler)
            _logger.setLevel(logging.INFO)
            _logger.propagate = False
    return _logger


def json_log(record: dict[str, Any]) -> None:
    """Write one request's record as a JSON line to stderr (gunicorn's error log stream)."""
    _access_logger().info(json.dumps(record, ensure_ascii=False))


def _decode(piece: str, name: str) -> str:
    """One percent-encoded name or value, strictly: bad escapes, bad UTF-8 and NUL refused."""
    if _BAD_PERCENT.search(piece):
        raise BadRequest("invalid_encoding", f"{name}: a % not followed by two hex digits", name)
    try:
        text = unquote_to_bytes(piece.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("invalid_encoding", f"{name}: not valid UTF-8", name) from None
    if "\x00" in text:
        raise BadRequest("invalid_parameter", f"{name}: contains a NUL byte", name)
    return text


def check_query_string(raw: str) -> None:
    """Refuse a query string Falcon would otherwise decode leniently."""
    for part in raw.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        lenient = unquote_to_bytes(key.replace("+", " ")).decode("utf-8", "replace")
        name = _decode(key, lenient or "parameter name")
        _decode(value, name)


def check_path(environ: dict[str, Any]) -> None:
    """The path must be valid UTF-8 without NUL bytes (WSGI hands it over as latin-1)."""
    path = environ.get("PATH_INFO", "")
    try:
        text = path.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise BadRequest("invalid_encoding", "the path is not valid UTF-8") from None
    if "\x00" in text:
        raise BadRequest("invalid_encoding", "the path contains a NUL byte")


def _result_count(media: Any) -> int | None:
    if not isinstance(media, dict):
        return None
    if isinstance(media.get("total"), int):
        return int(media["total"])
    for key in ("results", "suggestions"):
        if isinstance(media.get(key), list):
            return len(media[key])
    return None


class RequestMiddleware:
    """Request ids (``X-Request-ID`` honoured or made, and echoed), strict decoding of
    query strings and paths, the table of requests in flight, metrics, and a JSON log
    line per request: one when it is answered, or one when its worker is restarted
    under it (``RequestsInFlight.abort``)."""

    def __init__(
        self,
        metrics: Metrics,
        log: Callable[[dict[str, Any]], None] = json_log,
        clock: Callable[[], float] = time.perf_counter,
        in_flight: RequestsInFlight | None = None,
    ) -> None:
        self.metrics = metrics
        self.log = log
        self.clock = clock
        self.in_flight = in_flight if in_flight is not None else RequestsInFlight()

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = self.clock()
        given = req.get_header("X-Request-ID") or ""
        req.context.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        resp.set_header("X-Request-ID", req.context.request_id)
        self.in_flight.start(req, req.env.get("gunicorn.socket"), lambda: self._aborted(req, resp))
        check_path(req.env)

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: object
    ) -> None:
        # After routing, so that a refused request is still counted under its route.
        check_query_string(req.query_string)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        if not getattr(req.context, "request_id", None):
            req.context.request_id = uuid.uuid4().hex
        resp.set_header("X-Request-ID", req.context.request_id)
        if not self.in_flight.finish(req):
            return  # answered and recorded when its worker was restarted
        media = resp.media if resp.text is None and resp.data is None else None
        timed_out = isinstance(media, dict) and media.get("timed_out") is True
        code = _error_code(media)
        if timed_out or code == "search_timeout":
            self.metrics.timeouts.inc()
        self._record(req, resp.status_code, code, timed_out, _result_count(media))

    def refused(self, status: int, code: str, method: str | None, path: str | None) -> str:
        """Log and count a request the HTTP layer answered before the app (the gunicorn
        worker's loop, ``api/worker.py``): ``method`` and ``path`` when its head was
        read.  The request id to answer it with."""
        request_id = uuid.uuid4().hex
        self._write(request_id, method, "unmatched", path, status, code, 0.0, False, None)
        return request_id

    def _aborted(self, req: falcon.Request, resp: falcon.Response) -> bytes:
        """Record a request whose worker is being restarted under it; the error body to
        answer it with."""
        self.metrics.worker_timeouts.inc()
        self._record(req, 500, "worker_timeout", False, None)
        message = "the request ran over the time limit; its worker was restarted"
        return orjson.dumps(error_body("worker_timeout", message))

    def _record(
        self,
        req: falcon.Request,
        status: int,
        error: str | None,
        timed_out: bool,
        results: int | None,
    ) -> None:
        started = getattr(req.context, "started", None)
        latency = self.clock() - started if started is not None else 0.0
        route = req.uri_template or "unmatched"
        self._write(
            req.context.request_id,
            req.method,
            route,
            req.path,
            status,
            error,
            latency,
            timed_out,
            results,
        )

    def _write(
        self,
        request_id: str,
        method: str | None,
        route: str,
        path: str | None,
        status: int,
        error: str | None,
        latency: float,
        timed_out: bool,
        results: int | None,
    ) -> None:
        """Count one request in the metrics and write its log line."""
        self.metrics.observe(method or "", route, status, latency)
        self.log(
            {
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "request_id": request_id,
                "method": method,
                "route": route,
                "path": path,
                "status": status,
                "error": error,
                "latency_ms": round(latency * 1000, 2),
                "results": results,
                "timed_out": timed_out,
            }
        )


def _error_code(media: Any) -> str | None:
    if isinstance(media, dict) and isinstance(media.get("error"), dict):
        code = media["error"].get("code")
        return str(code) if code is not None else None
    return None
