"""Request ids, one JSON log line per request, Prometheus metrics, CORS, strict decoding."""

from __future__ import annotations

import re
from typing import Any

import falcon.testing
import pytest

from api.app import create_app
from config import Config


@pytest.fixture
def logged(config: Config) -> tuple[falcon.testing.TestClient, list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    return falcon.testing.TestClient(create_app(config, log=records.append)), records


def test_request_id_is_honoured_or_made_and_echoed(
    logged: tuple[falcon.testing.TestClient, list[dict[str, Any]]],
) -> None:
    client, records = logged
    given = client.simulate_get("/api/stats", headers={"X-Request-ID": "trace-42.a"})
    assert given.headers["x-request-id"] == "trace-42.a"
    assert records[-1]["request_id"] == "trace-42.a"
    made = client.simulate_get("/api/stats")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    hostile = client.simulate_get("/api/stats", headers={"X-Request-ID": "a b\tc" + "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])
    missing = client.simulate_get("/no/such/route")
    assert missing.headers["x-request-id"] == records[-1]["request_id"]


def test_one_json_log_record_per_request(
    logged: tuple[falcon.testing.TestClient, list[dict[str, Any]]],
) -> None:
    client, records = logged
    client.simulate_get("/api/search", params={"q": "refugees", "size": 3})
    client.simulate_get("/api/events/cep-56657/related")
    client.simulate_get("/api/search", params={"size": "x"})
    assert len(records) == 3
    search, related, bad = records
    assert set(search) == {
        "ts",
        "request_id",
        "method",
        "route",
        "path",
        "status",
        "error",
        "latency_ms",
        "results",
        "timed_out",
    }
    assert (search["method"], search["route"], search["status"]) == ("GET", "/api/search", 200)
    assert search["results"] > 3 and search["latency_ms"] >= 0
    assert related["route"] == "/api/events/{event_id}/related" and related["results"] == 5
    assert (bad["status"], bad["error"], bad["results"]) == (400, "invalid_parameter", None)
    assert search["error"] is None


def _metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if line.split("{")[0].split(" ")[0] == name and all(
            found.get(k) == v for k, v in labels.items()
        ):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in the metrics")


def test_metrics_count_requests_index_and_timeouts(config: Config) -> None:
    client = falcon.testing.TestClient(create_app(config))
    for _ in range(3):
        client.simulate_get("/api/search", params={"q": "syria"})
    client.simulate_get("/api/events/nope")
    result = client.simulate_get("/metrics")
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("text/plain")
    text = result.text
    assert _metric(text, "eventsearch_requests_total", route="/api/search", status="200") == 3
    assert (
        _metric(text, "eventsearch_requests_total", route="/api/events/{event_id}", status="404")
        == 1
    )
    assert (
        _metric(
            text, "eventsearch_request_duration_seconds_count", route="/api/search", status="200"
        )
        == 3
    )
    stats = client.simulate_get("/api/stats").json
    assert _metric(text, "eventsearch_index_documents") == stats["documents"]
    assert _metric(text, "eventsearch_index_generation") == 1
    assert _metric(text, "eventsearch_index_age_seconds") >= 0
    assert _metric(text, "eventsearch_search_timeouts_total") == 0

    hurried = falcon.testing.TestClient(create_app(config.replace(search_timeout=1e-9)))
    assert hurried.simulate_get("/api/search", params={"q": "syria"}).status_code == 503
    text = hurried.simulate_get("/metrics").text
    assert _metric(text, "eventsearch_search_timeouts_total") == 1


def test_cors_is_off_by_default_and_follows_the_allow_list(config: Config) -> None:
    origin = {"Origin": "https://news.example"}
    closed = falcon.testing.TestClient(create_app(config))
    assert (
        "access-control-allow-origin"
        not in closed.simulate_get("/api/stats", headers=origin).headers
    )
    open_ = falcon.testing.TestClient(
        create_app(config.replace(cors_origins=("https://news.example",)))
    )
    allowed = open_.simulate_get("/api/stats", headers=origin)
    assert allowed.headers["access-control-allow-origin"] == "https://news.example"
    other = open_.simulate_get("/api/stats", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_the_public_api_is_read_only(client: falcon.testing.TestClient) -> None:
    for path in ("/api/search", "/api/events/cep-56657", "/api/stats", "/api/suggest"):
        for method in ("simulate_put", "simulate_delete", "simulate_patch"):
            assert getattr(client, method)(path).status_code == 405


@pytest.mark.parametrize(
    ("query", "code", "parameter", "message"),
    [
        ("q=%ff", "invalid_encoding", "q", "q: not valid UTF-8"),
        ("q=caf%e9", "invalid_encoding", "q", "q: not valid UTF-8"),
        ("q=50%", "invalid_encoding", "q", "q: a % not followed by two hex digits"),
        ("q=%zz", "invalid_encoding", "q", "q: a % not followed by two hex digits"),
        ("q=a%00b", "invalid_parameter", "q", "q: contains a NUL byte"),
        ("entity=x&entity=%C0%AF", "invalid_encoding", "entity", "entity: not valid UTF-8"),
    ],
)
def test_bad_encodings_are_400_naming_the_parameter(
    client: falcon.testing.TestClient, query: str, code: str, parameter: str, message: str
) -> None:
    result = client.simulate_get("/api/search", query_string=query)
    assert result.status_code == 400
    assert result.json["error"] == {"code": code, "message": message, "parameter": parameter}


def test_good_encodings_pass(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/api/search", query_string="q=M%C3%BCnchen+Hauptbahnhof")
    assert result.status_code == 200 and result.json["total"] > 0
