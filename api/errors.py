"""Every error the API answers: the registry of codes, and the one shape, made here only.

Every error answers ``{"error": {"code": "...", "message": "...", "parameter": ...}}``
with the HTTP status the registry (``ERRORS``) gives its code.  The README's table of
error codes and the OpenAPI document are checked against the registry by the tests.

What raises them:

- ``search.BadRequest(code, message, parameter)``: anything the client got wrong,
  from the engine (query-language limits) or from the API (parameters, bodies,
  encodings); its code decides the status (400, 408, 413 or 415).
- The engine's ``EventNotFound`` (404), ``IndexUnavailable`` and ``SearchTimeout``
  (503 with ``Retry-After``); the 503 codes tell why no index can be served:
  ``index_unavailable`` (none built yet, or a commit not recorded yet),
  ``index_damaged`` (CURRENT or a file of the live generation is not as written)
  and ``rebuild_needed`` (the live generation has another index format).
- Falcon's own errors (no route, a wrong or unknown method, a malformed header) get
  the registry's code for their status (an unknown method: 501).
- The HTTP layer (``api/framing.py``, in the gunicorn worker's loop) answers what
  never reaches the app in this shape too: 400 ``bad_request`` and ``invalid_chunk``,
  408 ``header_timeout``, 413, 414, 417, 431 and 501.
- Any other exception is logged and answered 500 ``internal_error``, without a
  traceback or a path.  A request that outlives ``EVENTSEARCH_TIMEOUT`` is answered
  500 ``worker_timeout`` by the gunicorn worker (``api/worker.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import falcon
import orjson

from search import (
    BadRequest,
    EventNotFound,
    IndexDamaged,
    IndexUnavailable,
    RebuildNeeded,
    SearchTimeout,
)

__all__ = ["ERRORS", "ApiError", "ErrorCode", "error_body", "error_json", "install", "status_of"]

log = logging.getLogger("eventsearch.api")


@dataclass(frozen=True)
class ErrorCode:
    """One error code: the status it is answered with, and what it means."""

    code: str
    status: int
    meaning: str
    retry_after: int | None = None  # seconds, sent as Retry-After


ERRORS: tuple[ErrorCode, ...] = (
    ErrorCode("invalid_parameter", 400, "A parameter or body field has a value it cannot take."),
    ErrorCode("unknown_parameter", 400, "A parameter or body field the route does not take."),
    ErrorCode("repeated_parameter", 400, "A parameter that may be given once is given again."),
    ErrorCode("duplicate_key", 400, "A JSON body gives the same key twice."),
    ErrorCode("invalid_range", 400, "`from` is after `to`."),
    ErrorCode(
        "invalid_encoding",
        400,
        "A query string or path that is not valid UTF-8 or percent-encoding.",
    ),
    ErrorCode("invalid_body", 400, "A body that is empty, not JSON, or not a JSON object."),
    ErrorCode("query_too_long", 400, "`q` is longer than `EVENTSEARCH_MAX_QUERY_LENGTH`."),
    ErrorCode("too_many_terms", 400, "`q` has more words than `EVENTSEARCH_MAX_QUERY_TERMS`."),
    ErrorCode(
        "wildcard_not_allowed", 400, "A wildcard that does not end a word (`*gees`, `r?fugee`)."
    ),
    ErrorCode(
        "too_many_expansions",
        400,
        "A `prefix*` or `word~` that matches more words than `EVENTSEARCH_MAX_EXPANSIONS`.",
    ),
    ErrorCode(
        "slop_too_large",
        400,
        'A sloppy phrase (`"a b"~N`) allows more words between its words than '
        "`EVENTSEARCH_MAX_SLOP`.",
    ),
    ErrorCode(
        "too_many_edits",
        400,
        "A fuzzy term allows more edits than `EVENTSEARCH_MAX_EDITS`, or not fewer than its "
        "word has characters.",
    ),
    ErrorCode(
        "result_window_too_large",
        400,
        "`page * size` is over `EVENTSEARCH_MAX_RESULT_WINDOW`.",
    ),
    ErrorCode(
        "too_many_buckets",
        400,
        "The date histogram would have too many buckets: narrow the dates or widen `interval`.",
    ),
    ErrorCode(
        "bad_request",
        400,
        "A request the HTTP layer refused: a malformed request line, header or Content-Length.",
    ),
    ErrorCode(
        "invalid_chunk",
        400,
        "A chunked body whose framing is malformed: a chunk size that is not hexadecimal "
        "digits, a chunk not followed by CRLF, a bad extension or trailer.",
    ),
    ErrorCode("not_found", 404, "No event has the id, or no route or asset has the path."),
    ErrorCode("method_not_allowed", 405, "The route does not answer this method."),
    ErrorCode(
        "header_timeout",
        408,
        "The request head did not arrive within `EVENTSEARCH_HEADER_TIMEOUT` seconds.",
    ),
    ErrorCode(
        "body_timeout", 408, "The body did not arrive within `EVENTSEARCH_BODY_TIMEOUT` seconds."
    ),
    ErrorCode("body_too_large", 413, "The body is over `EVENTSEARCH_MAX_BODY_BYTES` bytes."),
    ErrorCode("text_too_long", 413, "The text is over `EVENTSEARCH_MAX_RELATED_TEXT` characters."),
    ErrorCode(
        "uri_too_long", 414, "The request line is longer than 8190 bytes (the target, mostly)."
    ),
    ErrorCode("unsupported_media_type", 415, "The body is not sent as application/json."),
    ErrorCode("expectation_failed", 417, "An `Expect` other than `100-continue`."),
    ErrorCode(
        "headers_too_large",
        431,
        "More than 100 header fields, or one over 8190 bytes.",
    ),
    ErrorCode("internal_error", 500, "The server failed; the error was logged."),
    ErrorCode(
        "worker_timeout",
        500,
        "A request ran over `EVENTSEARCH_TIMEOUT` seconds; its worker was restarted.",
    ),
    ErrorCode("method_not_implemented", 501, "A method the service does not know."),
    ErrorCode(
        "unsupported_transfer_coding",
        501,
        "A `Transfer-Encoding` other than `chunked` alone.",
    ),
    ErrorCode(
        "index_unavailable",
        503,
        "No index can be served: none is built yet, or its newest commit is not recorded yet.",
        retry_after=5,
    ),
    ErrorCode(
        "index_damaged",
        503,
        "CURRENT or a file of the live generation is not as written: run `indexer rebuild`.",
        retry_after=5,
    ),
    ErrorCode(
        "rebuild_needed",
        503,
        "The live generation was written in another index format: run `indexer rebuild`.",
        retry_after=5,
    ),
    ErrorCode(
        "search_timeout",
        503,
        "The search found nothing within `EVENTSEARCH_SEARCH_TIMEOUT` seconds.",
        retry_after=1,
    ),
)

_BY_CODE = {error.code: error for error in ERRORS}
# The code of an error Falcon raises itself, by its status.
_FOR_STATUS = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}


def status_of(code: str) -> int:
    """The HTTP status a registered code is answered with; KeyError for another."""
    return _BY_CODE[code].status


def error_json(code: str, message: str, parameter: str | None = None) -> bytes:
    """``error_body`` as the bytes of a response body."""
    return orjson.dumps(error_body(code, message, parameter))


def error_body(code: str, message: str, parameter: str | None = None) -> dict[str, Any]:
    """The one error shape; KeyError for a code that is not in the registry."""
    _BY_CODE[code]
    return {"error": {"code": code, "message": message, "parameter": parameter}}


class ApiError(falcon.HTTPError):
    """An error response: a registered code, with its status and headers."""

    def __init__(self, code: str, message: str, parameter: str | None = None) -> None:
        entry = _BY_CODE[code]
        headers = {"Retry-After": str(entry.retry_after)} if entry.retry_after else None
        super().__init__(falcon.code_to_http_status(entry.status), headers=headers)
        self.body = error_body(code, message, parameter)

    def to_dict(self, obj_type: Any = dict) -> dict[str, Any]:
        return dict(self.body)


def _from_falcon(req: falcon.Request, exc: falcon.HTTPError) -> ApiError:
    """The registry's error for one Falcon raised itself."""
    status = exc.status_code
    code = _FOR_STATUS.get(status, "bad_request" if status < 500 else "internal_error")
    message = exc.description or exc.title or falcon.code_to_http_status(status)
    if status == 404 and not exc.description:
        message = f"no route {req.path}"
    elif status == 405:
        allowed = dict(exc.headers or {}).get("Allow", "")
        message = f"{req.method} is not allowed on {req.path}" + (
            f"; allowed: {allowed}" if allowed else ""
        )
    elif status == 400 and exc.description == "Invalid HTTP method":
        code, message = "method_not_implemented", f"{req.method} is not a method this service knows"
    return ApiError(code, message)


def _serialize(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    error = exc if isinstance(exc, ApiError) else _from_falcon(req, exc)
    resp.status = error.status
    if error.headers:
        resp.set_headers(error.headers)
    resp.content_type = falcon.MEDIA_JSON
    resp.media = error.to_dict()


def _bad_request(req: falcon.Request, resp: falcon.Response, exc: BadRequest, params: Any) -> None:
    if exc.code not in _BY_CODE:
        log.error("unregistered error code %r on %s %s", exc.code, req.method, req.path)
        raise ApiError("internal_error", "the server failed to answer; the error was logged")
    raise ApiError(exc.code, exc.message, exc.parameter)


def _not_found(req: falcon.Request, resp: falcon.Response, exc: EventNotFound, params: Any) -> None:
    raise ApiError("not_found", str(exc))


def _unavailable(
    req: falcon.Request, resp: falcon.Response, exc: IndexUnavailable, params: Any
) -> None:
    if isinstance(exc, RebuildNeeded):
        raise ApiError("rebuild_needed", str(exc))
    if isinstance(exc, IndexDamaged):
        raise ApiError("index_damaged", str(exc))
    raise ApiError("index_unavailable", str(exc))


def _timeout(req: falcon.Request, resp: falcon.Response, exc: SearchTimeout, params: Any) -> None:
    raise ApiError("search_timeout", str(exc))


def _unexpected(req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any) -> None:
    if isinstance(exc, falcon.HTTPError):
        raise exc
    log.exception("unexpected error on %s %s", req.method, req.path)
    raise ApiError("internal_error", "the server failed to answer; the error was logged")


def install(app: falcon.App[Any, Any]) -> None:
    """Route every error of ``app`` through the one serializer."""
    app.set_error_serializer(_serialize)
    # Handlers are matched most specific first, whatever the order added.
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(BadRequest, _bad_request)
    app.add_error_handler(EventNotFound, _not_found)
    app.add_error_handler(IndexUnavailable, _unavailable)
    app.add_error_handler(SearchTimeout, _timeout)
