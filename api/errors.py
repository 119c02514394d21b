"""The one error shape of the API, produced here and nowhere else.

Every error answers ``{"error": {"code": "...", "message": "...", "parameter": ...}}``:
400 for bad or unknown parameters, 404 for unknown ids and routes, 405 for a wrong
method, 413 for a body too large, 503 while no index is available or when a
search found nothing before its time limit.  The 503 codes tell why no index is
available: ``index_unavailable`` (none built yet, or a commit not recorded yet),
``index_damaged`` (CURRENT or a file of the live generation is not as written)
and ``rebuild_needed`` (the live generation has another index format).  An unexpected
exception is logged and answered 500 without a traceback or a path.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon

from api.params import ParamError
from search import (
    BadRequest,
    EventNotFound,
    IndexDamaged,
    IndexUnavailable,
    RebuildNeeded,
    SearchTimeout,
)

__all__ = ["ApiError", "install"]

log = logging.getLogger("eventsearch.api")

_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    431: "headers_too_large",
    500: "internal_error",
    503: "index_unavailable",
}


class ApiError(falcon.HTTPError):
    """An HTTP error carrying our code, message and parameter."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        parameter: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(falcon.code_to_http_status(status), headers=headers)
        self.error_code = code
        self.message = message
        self.parameter = parameter

    def to_dict(self, obj_type: Any = dict) -> dict[str, Any]:
        return {
            "error": {"code": self.error_code, "message": self.message, "parameter": self.parameter}
        }


def _serialize(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    if isinstance(exc, ApiError):
        body = exc.to_dict()
    else:
        status = exc.status_code
        message = exc.description or exc.title or falcon.code_to_http_status(status)
        if status == 404 and not exc.description:
            message = f"no route {req.path}"
        elif status == 405:
            allowed = dict(exc.headers or {}).get("Allow", "")
            message = f"{req.method} is not allowed on {req.path}" + (
                f"; allowed: {allowed}" if allowed else ""
            )
        body = {
            "error": {"code": _CODES.get(status, "error"), "message": message, "parameter": None}
        }
    resp.content_type = falcon.MEDIA_JSON
    resp.media = body


def _param_error(req: falcon.Request, resp: falcon.Response, exc: ParamError, params: Any) -> None:
    raise ApiError(400, exc.code, exc.message, exc.parameter)


def _bad_request(req: falcon.Request, resp: falcon.Response, exc: BadRequest, params: Any) -> None:
    raise ApiError(400, exc.code, exc.message, exc.parameter)


def _not_found(req: falcon.Request, resp: falcon.Response, exc: EventNotFound, params: Any) -> None:
    raise ApiError(404, "not_found", str(exc), None)


def _unavailable(
    req: falcon.Request, resp: falcon.Response, exc: IndexUnavailable, params: Any
) -> None:
    code = (
        "rebuild_needed"
        if isinstance(exc, RebuildNeeded)
        else "index_damaged"
        if isinstance(exc, IndexDamaged)
        else "index_unavailable"
    )
    raise ApiError(503, code, str(exc), None, headers={"Retry-After": "5"})


def _timeout(req: falcon.Request, resp: falcon.Response, exc: SearchTimeout, params: Any) -> None:
    raise ApiError(503, "search_timeout", str(exc), None, headers={"Retry-After": "1"})


def _unexpected(req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any) -> None:
    if isinstance(exc, falcon.HTTPError):
        raise exc
    log.exception("unexpected error on %s %s", req.method, req.path)
    raise ApiError(500, "internal_error", "the server failed to answer; the error was logged")


def install(app: falcon.App[Any, Any]) -> None:
    """Route every error of ``app`` through the one serializer."""
    app.set_error_serializer(_serialize)
    # Handlers are matched most specific first, whatever the order added.
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(ParamError, _param_error)
    app.add_error_handler(BadRequest, _bad_request)
    app.add_error_handler(EventNotFound, _not_found)
    app.add_error_handler(IndexUnavailable, _unavailable)
    app.add_error_handler(SearchTimeout, _timeout)
