"""The OpenAPI document describes every route and parameter, and real responses match it."""

from __future__ import annotations

from typing import Any

import falcon.inspect
import falcon.testing
import jsonschema
import pytest

from api.app import App, create_app, search_params
from config import Config


@pytest.fixture(scope="module")
def document(client: falcon.testing.TestClient) -> dict[str, Any]:
    result = client.simulate_get("/api/openapi.json")
    assert result.status_code == 200
    body: dict[str, Any] = result.json
    return body


def _routes(app: App) -> set[str]:
    """Every route's URI template, as Falcon's public inspection module lists them."""
    return {route.path for route in falcon.inspect.inspect_routes(app)}


def test_every_route_is_documented(document: dict[str, Any], config: Config) -> None:
    app = create_app(config)
    assert _routes(app) == set(document["paths"])
    assert document["openapi"].startswith("3.1")


def test_search_parameters_match_what_is_accepted(document: dict[str, Any], config: Config) -> None:
    documented = {p["name"] for p in document["paths"]["/api/search"]["get"]["parameters"]}
    assert documented == {p.name for p in search_params(config)}


def test_document_is_valid_json_schema(document: dict[str, Any]) -> None:
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def _validate(document: dict[str, Any], path: str, status: str, body: Any) -> None:
    spec = document["paths"][path]["get"]["responses"][status]["content"]["application/json"]
    schema = {**spec["schema"], "components": document["components"]}
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("url", "path", "status"),
    [
        ("/api/search?q=refugees&facets=date,entity,source,category", "/api/search", "200"),
        ("/api/search?size=0", "/api/search", "200"),
        ("/api/search?size=banana", "/api/search", "400"),
        ("/api/events/cep-56657", "/api/events/{event_id}", "200"),
        ("/api/events/none", "/api/events/{event_id}", "404"),
        ("/api/stats", "/api/stats", "200"),
        ("/healthz", "/healthz", "200"),
        ("/readyz", "/readyz", "200"),
    ],
)
def test_responses_match_the_document(
    client: falcon.testing.TestClient, document: dict[str, Any], url: str, path: str, status: str
) -> None:
    result = client.simulate_get(url.split("?")[0], query_string=url.partition("?")[2])
    assert str(result.status_code) == status
    _validate(document, path, status, result.json)
