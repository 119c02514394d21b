"""The OpenAPI 3.1 document of the API, built from the same parameter specs that
validate requests, so the two cannot drift apart."""

from __future__ import annotations

from typing import Any

from api.body import RelatedBody
from api.errors import ERRORS
from api.page import page_openapi_paths
from api.params import Param
from api.wire import schema_of
from search import (
    ID_PATTERN,
    EventView,
    IndexStats,
    RelatedPage,
    SearchPage,
    Suggestions,
)

__all__ = ["openapi_document"]

_NULLABLE_STRING = {"type": ["string", "null"]}
_DATE = {"type": "string", "format": "date"}


_EVENT_ID = {
    "name": "event_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": f"^{ID_PATTERN.pattern}$"},
    "description": "The event's id: 1 to 200 letters, digits and . _ ~ : -",
}
_BAD_ENCODING = "A query string or path that is not valid UTF-8 or holds a NUL byte"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


_API_SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": _ref("ErrorCode"),
                    "message": {"type": "string"},
                    "parameter": _NULLABLE_STRING,
                }
            )
        }
    ),
    "ErrorCode": {
        "description": "What went wrong; each code is answered with one HTTP status.",
        "oneOf": [{"const": e.code, "description": f"{e.status}: {e.meaning}"} for e in ERRORS],
    },
    "Status": _object({"status": {"type": "string"}}),
}


_METRICS = {
    "get": {
        "operationId": "metrics",
        "summary": "Prometheus metrics: requests, latency, the live index, timeouts",
        "responses": {
            "200": {
                "description": "Prometheus text exposition format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "400": _error("An unknown parameter"),
        },
    }
}


def openapi_document(
    search_params: list[Param],
    related_params: list[Param],
    related_body: RelatedBody,
    suggest_params: list[Param],
    metrics: bool = True,
) -> dict[str, Any]:
    """The whole document; ``metrics``: whether ``/metrics`` is served on this address."""
    schemas = dict(_API_SCHEMAS)
    answers = {
        cls: schema_of(cls, schemas)
        for cls in (SearchPage, RelatedPage, EventView, Suggestions, IndexStats)
    }
    unavailable = _error("No index can be served")
    related_results = _json(
        answers[RelatedPage], "Related events, best first, each with the reasons it is related"
    )
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "Event search API",
            "version": "1.0.0",
            "description": "Full-text search over dated news events, with date histograms, "
            "entity, source and category facets, and filters.",
        },
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Ranked, filtered and faceted search",
                    "parameters": [p.openapi() for p in search_params],
                    "responses": {
                        "200": _json(answers[SearchPage], "Results and facets"),
                        "400": _error("A bad or unknown parameter"),
                        "503": unavailable,
                    },
                }
            },
            "/api/events/{event_id}": {
                "get": {
                    "operationId": "getEvent",
                    "summary": "One whole event in the canonical shape",
                    "parameters": [_EVENT_ID],
                    "responses": {
                        "200": _json(answers[EventView], "The event"),
                        "400": _error("An unknown parameter"),
                        "404": _error("No event has this id"),
                        "503": unavailable,
                    },
                }
            },
            "/api/events/{event_id}/related": {
                "get": {
                    "operationId": "relatedEvents",
                    "summary": "Events related to an indexed one (more like this)",
                    "parameters": [_EVENT_ID, *(p.openapi() for p in related_params)],
                    "responses": {
                        "200": related_results,
                        "400": _error("A bad or unknown parameter"),
                        "404": _error("No event has this id"),
                        "503": unavailable,
                    },
                }
            },
            "/api/related": {
                "post": {
                    "operationId": "relatedToText",
                    "summary": "Events related to a text that is not in the index",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": related_body.openapi()}},
                    },
                    "responses": {
                        "200": related_results,
                        "400": _error(
                            "A bad body: not JSON, a repeated key, no text, an unknown field"
                        ),
                        "408": _error("The body did not arrive in time"),
                        "413": _error("The text or the body is too long"),
                        "415": _error("The body is not sent as application/json"),
                        "503": unavailable,
                    },
                }
            },
            "/api/suggest": {
                "get": {
                    "operationId": "suggest",
                    "summary": "Entity names and title phrases for what has been typed",
                    "parameters": [p.openapi() for p in suggest_params],
                    "responses": {
                        "200": _json(answers[Suggestions], "Suggestions, most frequent first"),
                        "400": _error("A bad or unknown parameter"),
                        "503": unavailable,
                    },
                }
            },
            "/api/stats": {
                "get": {
                    "operationId": "stats",
                    "summary": "What the live index holds",
                    "responses": {
                        "200": _json(answers[IndexStats], "Documents, date range, generation"),
                        "400": _error("An unknown parameter"),
                        "503": unavailable,
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "The process is alive",
                    "responses": {"200": _json(_ref("Status"), "Alive")},
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "ready",
                    "summary": "An index is open for searching",
                    "responses": {
                        "200": _json(_ref("Status"), "Ready"),
                        "503": _error("Not ready, with the reason"),
                    },
                }
            },
            **({"/metrics": _METRICS} if metrics else {}),
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "The OpenAPI document")},
                }
            },
            **page_openapi_paths(),
        },
        "components": {"schemas": schemas},
    }
    # Every route's query string and path are checked before its resource runs.
    for item in document["paths"].values():
        for operation in item.values():
            operation["responses"].setdefault("400", _error(_BAD_ENCODING))
    return document
