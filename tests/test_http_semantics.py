"""HTTP as clients and caches expect it: HEAD wherever GET answers, duplicate JSON keys
refused, Vary: Origin on CORS answers, metrics labels with bounded values, and /metrics
turned off or moved to its own listener."""

from __future__ import annotations

import json
import re
from typing import Any

import falcon.testing
import pytest

from api.app import create_app
from api.page import StaticAssets
from config import Config

# Concrete paths for the route templates the OpenAPI document lists.
_PATH_VALUES = {
    "{event_id}": "cep-56657",
    "{version}": StaticAssets.load().version,
    "{name}": "app.js",
}


def _get_paths(document: dict[str, Any]) -> list[str]:
    paths = []
    for template, item in document["paths"].items():
        if "get" in item:
            for name, value in _PATH_VALUES.items():
                template = template.replace(name, value)
            paths.append(template)
    return paths


def test_head_answers_every_get_route_as_get_without_a_body(
    client: falcon.testing.TestClient,
) -> None:
    document = client.simulate_get("/api/openapi.json").json
    paths = _get_paths(document)
    assert {"/healthz", "/readyz", "/api/search", "/metrics", "/"} <= set(paths)
    for path in paths:
        got = client.simulate_get(path)
        head = client.simulate_head(path)
        again = client.simulate_get(path)
        assert (path, head.status_code) == (path, got.status_code)
        assert head.content == b""
        for name in ("content-type", "cache-control"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)
        if got.content == again.content:  # not a search's took_ms or the metrics
            assert head.headers["content-length"] == str(len(got.content)), path
    missing = client.simulate_head("/api/events/no-such-event")
    assert (missing.status_code, missing.content) == (404, b"")


@pytest.mark.parametrize(
    ("body", "key", "times"),
    [
        (b'{"text": "floods", "text": "fires"}', "text", 2),
        (b'{"size": 3, "text": "floods", "size": 4, "size": 5}', "size", 3),
        (b'{"text": "floods", "from": {"a": 1, "a": 2}}', "a", 2),
    ],
)
def test_a_repeated_key_in_a_body_is_refused_naming_it(
    client: falcon.testing.TestClient, body: bytes, key: str, times: int
) -> None:
    result = client.simulate_post(
        "/api/related", body=body, headers={"Content-Type": "application/json"}
    )
    assert result.status_code == 400
    assert result.json["error"] == {
        "code": "duplicate_key",
        "message": f"the body gives {key!r} {times} times; give it once",
        "parameter": key,
    }


def test_allowed_origins_answers_vary_by_origin(config: Config) -> None:
    app = create_app(config.replace(cors_origins=("https://news.example",)))
    client = falcon.testing.TestClient(app)
    allowed = client.simulate_get("/api/stats", headers={"Origin": "https://news.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://news.example"
    assert "Origin" in re.split(r",\s*", allowed.headers["vary"])
    # The answer to another origin (no CORS header) differs too: caches must tell them apart.
    other = client.simulate_get("/api/stats", headers={"Origin": "https://evil.example"})
    assert "Origin" in re.split(r",\s*", other.headers["vary"])
    anyone = falcon.testing.TestClient(create_app(config.replace(cors_origins=("*",))))
    star = anyone.simulate_get("/api/stats", headers={"Origin": "https://news.example"})
    assert star.headers["access-control-allow-origin"] == "*"
    assert "vary" not in star.headers or "Origin" not in star.headers["vary"]


def _series(text: str, name: str) -> list[dict[str, str]]:
    return [
        dict(re.findall(r'(\w+)="([^"]*)"', line))
        for line in text.splitlines()
        if line.startswith(name + "{")
    ]


@pytest.mark.filterwarnings("ignore:Unknown REQUEST_METHOD")
def test_made_up_methods_paths_and_statuses_add_no_series(config: Config) -> None:
    client = falcon.testing.TestClient(create_app(config))
    client.simulate_get("/api/stats")
    before = _series(client.simulate_get("/metrics").text, "eventsearch_requests_total")
    for i in range(200):
        client.simulate_request(f"M{i:04d}X", "/api/stats")
        client.simulate_get(f"/no/such/route/{i}")
        client.simulate_get("/api/search", query_string=f"size=x{i}")
    after = _series(client.simulate_get("/metrics").text, "eventsearch_requests_total")
    added = [s for s in after if s not in before]
    # 600 odd requests: one series each for an unknown method, an unknown route, a bad
    # parameter, and the /metrics scrape itself.
    assert len(added) <= 4, added
    assert {s["method"] for s in after} <= {"GET", "other"}
    assert {s["route"] for s in after} <= {"/api/stats", "/api/search", "/metrics", "unmatched"}
    histograms = _series(
        client.simulate_get("/metrics").text, "eventsearch_request_duration_seconds_count"
    )
    assert {s["route"] for s in histograms} <= {s["route"] for s in after}


def test_metrics_off_is_no_route_and_not_documented(config: Config) -> None:
    client = falcon.testing.TestClient(create_app(config.replace(metrics_bind="off")))
    result = client.simulate_get("/metrics")
    assert result.status_code == 404
    assert result.json["error"]["code"] == "not_found"
    assert "/metrics" not in client.simulate_get("/api/openapi.json").json["paths"]


def test_metrics_on_their_own_port_only(config: Config) -> None:
    app = create_app(config.replace(metrics_bind="127.0.0.1:9123"))
    client = falcon.testing.TestClient(app)
    assert client.simulate_get("/metrics", port=9123).status_code == 200
    assert client.simulate_get("/metrics", port=8000).status_code == 404
    assert client.simulate_get("/healthz", port=9123).status_code == 404
    assert client.simulate_get("/healthz", port=8000).status_code == 200
    # The listener decides, not the Host header a client sends.
    spoofed = client.simulate_get("/metrics", port=8000, headers={"Host": "127.0.0.1:9123"})
    assert spoofed.status_code == 404
    assert "/metrics" not in client.simulate_get("/api/openapi.json").json["paths"]


def test_metrics_bind_needs_a_port_of_its_own() -> None:
    with pytest.raises(ValueError, match="needs a port of its own"):
        Config.from_env(
            {"EVENTSEARCH_BIND": "0.0.0.0:8000", "EVENTSEARCH_METRICS_BIND": "127.0.0.1:8000"}
        )
    with pytest.raises(ValueError, match="must be empty, off, or HOST:PORT"):
        Config.from_env({"EVENTSEARCH_METRICS_BIND": "9100"})


def test_body_json_errors_keep_their_messages(client: falcon.testing.TestClient) -> None:
    # The repeated-key check reads the body a second time; it must not change what a
    # body that orjson refuses is told.
    result = client.simulate_post(
        "/api/related", body=b'{"text": NaN}', headers={"Content-Type": "application/json"}
    )
    assert result.status_code == 400
    assert result.json["error"]["code"] == "invalid_body"
    assert json.loads(result.text)["error"]["message"].startswith("the body is not valid JSON")
