"""The Falcon application.  ``create_app(config)`` wires everything in one place;
gunicorn calls it (``gunicorn 'api.app:create_app()'``), so importing this module
reads nothing: no settings, no files, no index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import falcon

from api import errors
from api.body import BodyReader, RelatedBody
from api.inflight import RequestsInFlight
from api.media import json_handlers
from api.metrics import METRICS_PATH, Metrics, OwnListener
from api.middleware import RequestMiddleware, json_log
from api.openapi import openapi_document
from api.page import add_page_routes
from api.params import (
    BoolParam,
    ChoiceParam,
    DateParam,
    IntParam,
    ListParam,
    Param,
    QueryParam,
    TextParam,
)
from api.resources import (
    EventResource,
    HealthResource,
    MetricsResource,
    OpenAPIResource,
    ReadyResource,
    RelatedResource,
    RelatedTextResource,
    SearchResource,
    StatsResource,
    SuggestResource,
)
from config import Config
from search import FACETS, INTERVALS, MATCHES, SORTS, SearchService

__all__ = ["App", "create_app", "related_params", "search_params", "suggest_params"]


def search_params(config: Config) -> list[Param]:
    """The parameters of ``GET /api/search``."""
    return [
        QueryParam(
            "q",
            'The query (README, "Query syntax"): words, AND/OR/NOT, -excluded, +required, '
            '"phrases", field:value (title, body, entity, source), prefix* and word~N. '
            "Empty matches every event.",
            default="",
            max_length=config.max_query_length,
        ),
        ChoiceParam(
            "match",
            "any (default): events matching more of the words rank first; all: every word "
            "must match.",
            default="any",
            choices=MATCHES,
        ),
        BoolParam(
            "expand",
            "With relevance sort, widen the query with the entities and key terms its first "
            "results share (query expansion); the response lists what was added.",
            default="true",
        ),
        DateParam("from", "First day, inclusive: YYYY, YYYY-MM or YYYY-MM-DD."),
        DateParam(
            "to", "Last day, inclusive: YYYY, YYYY-MM (to its last day) or YYYY-MM-DD.", end=True
        ),
        TextParam(
            "entity", "Only events with this entity; repeat it: all must match.", repeatable=True
        ),
        TextParam(
            "source",
            "Only events citing this source name or domain; repeat it: any may match.",
            repeatable=True,
        ),
        TextParam(
            "category", "Only events in this category; repeat it: any may match.", repeatable=True
        ),
        ChoiceParam(
            "sort",
            "relevance (default with q), newest (default without q) or oldest.",
            choices=SORTS,
        ),
        # page * size is bounded by the engine (result_window_too_large).
        IntParam("page", "Page number, from 1.", default="1", minimum=1),
        IntParam(
            "size", "Results per page; 0 returns facets only.", default="10", minimum=0, maximum=100
        ),
        ListParam(
            "facets",
            "Comma list of facets to count over all matches.",
            default="date,entity,source",
            choices=FACETS,
        ),
        IntParam(
            "facet_size",
            "Values per entity, source and category facet.",
            default=str(min(10, config.max_facet_size)),
            minimum=1,
            maximum=config.max_facet_size,
        ),
        ChoiceParam(
            "interval",
            "Date histogram bucket: auto picks few enough for a chart.",
            default="auto",
            choices=INTERVALS,
        ),
        BoolParam("highlight", "Mark query words in snippets with <mark>.", default="true"),
    ]


def related_params() -> list[Param]:
    """The parameters of ``GET /api/events/{id}/related``."""
    return [
        IntParam("size", "How many related events.", default="5", minimum=1, maximum=50),
        DateParam("from", "Only events from this day on: YYYY, YYYY-MM or YYYY-MM-DD."),
        DateParam("to", "Only events up to this day: YYYY, YYYY-MM or YYYY-MM-DD.", end=True),
    ]


def suggest_params() -> list[Param]:
    """The parameters of ``GET /api/suggest``."""
    return [
        TextParam("q", "What the person has typed so far.", default="", max_length=200),
        IntParam("size", "How many suggestions.", default="8", minimum=1, maximum=20),
    ]


class App(falcon.App[falcon.Request, falcon.Response]):
    """The Falcon app, with what the gunicorn worker (``api/worker.py``) uses: the table
    of the requests it is serving, for the time limits, and ``refused``, which logs and
    counts a request the worker answered itself and gives its request id."""

    def __init__(
        self,
        in_flight: RequestsInFlight,
        requests: RequestMiddleware,
        middleware: list[Any],
        service: SearchService,
    ) -> None:
        super().__init__(middleware=[requests, *middleware])
        self.in_flight = in_flight
        self.refused = requests.refused
        self.service = service

    def start(self) -> None:
        """Open and warm the index before the first request, and keep it current from
        a refresher thread (gunicorn's ``post_worker_init`` calls this in each worker;
        without it, the index is opened on first use and refreshed by requests)."""
        self.service.start()


class _CORS(falcon.CORSMiddleware[Any, Any]):
    """Falcon's CORS, plus ``Vary: Origin`` whenever the answer depends on the origin
    (an allow-list rather than ``*``), so that a cache keeps one copy per origin."""

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        super().process_response(req, resp, resource, req_succeeded)
        if self.allow_origins != "*":
            resp.append_header("Vary", "Origin")


def create_app(
    config: Config | None = None,
    service: SearchService | None = None,
    log: Callable[[dict[str, Any]], None] = json_log,
) -> App:
    """The API application for ``config`` (read from the environment when None); the
    index is opened by ``App.start()`` or on first use.  ``log`` receives one record
    per request."""
    config = config or Config.from_env()
    service = service or SearchService(config)
    metrics = Metrics()
    in_flight = RequestsInFlight()
    params = search_params(config)
    related = related_params()
    suggest = suggest_params()
    body = RelatedBody(max_text=config.max_related_text, fields=tuple(related))
    reader = BodyReader(config.max_body_bytes, config.body_timeout)
    requests = RequestMiddleware(metrics, log, in_flight=in_flight)
    middleware: list[Any] = []
    if config.metrics_port is not None:
        middleware.append(OwnListener(config.metrics_port))
    if config.cors_origins:
        middleware.append(
            _CORS(
                allow_origins="*" if "*" in config.cors_origins else list(config.cors_origins),
                expose_headers=["X-Request-ID"],
            )
        )
    app = App(in_flight, requests, middleware, service)
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.media_handlers = json_handlers()
    app.resp_options.media_handlers = json_handlers()
    errors.install(app)
    app.add_route("/api/search", SearchResource(service, params))
    app.add_route("/api/events/{event_id}", EventResource(service))
    app.add_route("/api/events/{event_id}/related", RelatedResource(service, related))
    app.add_route("/api/related", RelatedTextResource(service, body, reader))
    app.add_route("/api/suggest", SuggestResource(service, suggest))
    app.add_route("/api/stats", StatsResource(service))
    app.add_route("/healthz", HealthResource())
    app.add_route("/readyz", ReadyResource(service))
    if config.metrics_bind != "off":
        app.add_route(METRICS_PATH, MetricsResource(service, metrics))
    document = openapi_document(params, related, body, suggest, config.metrics_bind == "")
    app.add_route("/api/openapi.json", OpenAPIResource(document))
    add_page_routes(app)
    return app
