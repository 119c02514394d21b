"""The API's resources.  Each gets what it needs through ``__init__``.  HEAD answers
as GET does (``on_head = on_get``); Falcon leaves the body out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import falcon

from api.body import BodyReader, RelatedBody
from api.metrics import CONTENT_TYPE_LATEST, Metrics
from api.params import Param, parse_params
from api.wire import to_json
from search import BadRequest, IndexUnavailable, SearchRequest, SearchService

__all__ = [
    "EventResource",
    "HealthResource",
    "MetricsResource",
    "OpenAPIResource",
    "ReadyResource",
    "RelatedResource",
    "RelatedTextResource",
    "SearchResource",
    "StatsResource",
    "SuggestResource",
]


def _no_params(req: falcon.Request) -> None:
    parse_params(req.params, ())


def _started(req: falcon.Request) -> float | None:
    """When the request started (``time.perf_counter``, set by the request middleware):
    a route's deadline counts from its first byte's arrival, not from its handler."""
    started: float | None = getattr(req.context, "started", None)
    return started


def _check_range(date_from: dt.date | None, date_to: dt.date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise BadRequest("invalid_range", f"from ({date_from}) is after to ({date_to})", "from")


class SearchResource:
    """``GET /api/search``: ranked, filtered, faceted search."""

    def __init__(self, service: SearchService, params: list[Param]) -> None:
        self.service = service
        self.params = params

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        p = parse_params(req.params, self.params)
        _check_range(p["from"], p["to"])
        request = SearchRequest(
            q=p["q"],
            match=p["match"],
            expand=p["expand"],
            date_from=p["from"],
            date_to=p["to"],
            entities=p["entity"],
            sources=p["source"],
            categories=p["category"],
            sort=p["sort"],
            page=p["page"],
            size=p["size"],
            facets=p["facets"],
            facet_size=p["facet_size"],
            interval=p["interval"],
            highlight=p["highlight"],
        )
        resp.media = to_json(self.service.search(request, since=_started(req)))

    on_head = on_get


class RelatedResource:
    """``GET /api/events/{id}/related``: events related to an indexed one, with reasons."""

    def __init__(self, service: SearchService, params: list[Param]) -> None:
        self.service = service
        self.params = params

    def on_get(self, req: falcon.Request, resp: falcon.Response, event_id: str) -> None:
        p = parse_params(req.params, self.params)
        _check_range(p["from"], p["to"])
        resp.media = to_json(
            self.service.related(event_id, p["size"], p["from"], p["to"], since=_started(req))
        )

    on_head = on_get


class RelatedTextResource:
    """``POST /api/related``: events related to a text that is not in the index."""

    def __init__(self, service: SearchService, body: RelatedBody, reader: BodyReader) -> None:
        self.service = service
        self.body = body
        self.reader = reader

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        _no_params(req)
        p = self.body.parse(self.reader.read_json(req))
        _check_range(p["from"], p["to"])
        resp.media = to_json(
            self.service.related_to_text(
                p["text"], p["size"], p["from"], p["to"], since=_started(req)
            )
        )


class EventResource:
    """``GET /api/events/{id}``: one whole event."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response, event_id: str) -> None:
        _no_params(req)
        resp.media = to_json(self.service.event(event_id))

    on_head = on_get


class SuggestResource:
    """``GET /api/suggest``: suggestions for a search box, called on every keystroke."""

    def __init__(self, service: SearchService, params: list[Param]) -> None:
        self.service = service
        self.params = params

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        p = parse_params(req.params, self.params)
        resp.media = to_json(self.service.suggest(p["q"], p["size"]))

    on_head = on_get


class StatsResource:
    """``GET /api/stats``: what the live index holds."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _no_params(req)
        resp.media = to_json(self.service.stats())

    on_head = on_get


class HealthResource:
    """``GET /healthz``: the process is alive."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}

    on_head = on_get


class ReadyResource:
    """``GET /readyz``: an index is open; 503 ``index_unavailable`` with the reason when
    there is none."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.service.check_ready()
        resp.media = {"status": "ready"}

    on_head = on_get


class MetricsResource:
    """``GET /metrics``: Prometheus metrics of every worker."""

    def __init__(self, service: SearchService, metrics: Metrics) -> None:
        self.service = service
        self.metrics = metrics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _no_params(req)
        try:
            stats = self.service.stats()
        except IndexUnavailable:
            pass  # nothing to report about an index that is not there
        else:
            number = int(stats.generation.rsplit("-", 1)[-1])
            self.metrics.set_index(to_json(stats), number)
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = self.metrics.render()

    on_head = on_get


class OpenAPIResource:
    """``GET /api/openapi.json``: the OpenAPI document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.document

    on_head = on_get
