"""The API's resources.  Each gets what it needs through ``__init__``."""

from __future__ import annotations

from typing import Any

import falcon

from api.params import Param, ParamError, parse_params
from search import IndexUnavailable, SearchRequest, SearchService

__all__ = [
    "EventResource",
    "HealthResource",
    "OpenAPIResource",
    "ReadyResource",
    "SearchResource",
    "StatsResource",
]


def _no_params(req: falcon.Request) -> None:
    parse_params(req.params, ())


class SearchResource:
    """``GET /api/search``: ranked, filtered, faceted search."""

    def __init__(self, service: SearchService, params: list[Param]) -> None:
        self.service = service
        self.params = params

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        p = parse_params(req.params, self.params)
        date_from, date_to = p["from"], p["to"]
        if date_from and date_to and date_from > date_to:
            raise ParamError("from", f"from ({date_from}) is after to ({date_to})")
        request = SearchRequest(
            q=p["q"],
            date_from=date_from,
            date_to=date_to,
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
        resp.media = self.service.search(request)


class EventResource:
    """``GET /api/events/{id}``: one whole event."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response, event_id: str) -> None:
        _no_params(req)
        resp.media = self.service.event(event_id)


class StatsResource:
    """``GET /api/stats``: what the live index holds."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _no_params(req)
        resp.media = self.service.stats()


class HealthResource:
    """``GET /healthz``: the process is alive."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}


class ReadyResource:
    """``GET /readyz``: an index is open; 503 with the reason when there is none."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            self.service.check_ready()
        except IndexUnavailable as exc:
            resp.status = falcon.HTTP_503
            resp.media = {"status": "unavailable", "reason": str(exc)}
            return
        resp.media = {"status": "ready"}


class OpenAPIResource:
    """``GET /api/openapi.json``: the OpenAPI document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.document
