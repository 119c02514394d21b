"""The one error shape: every bad request gets a clear 4xx, never a 500, never a path."""

from __future__ import annotations

from pathlib import Path

import falcon.testing
import pytest

from api.app import create_app
from config import Config


def error_of(result: falcon.testing.Result) -> dict[str, object]:
    assert result.headers["content-type"].startswith("application/json")
    body = result.json
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "parameter"}
    error: dict[str, object] = body["error"]
    return error


@pytest.mark.parametrize(
    ("query", "code", "parameter", "message"),
    [
        ("size=abc", "invalid_parameter", "size", "size: must be a whole number, got 'abc'"),
        ("size=101", "invalid_parameter", "size", "size: must be from 0 to 100, got 101"),
        ("size=-1", "invalid_parameter", "size", "size: must be from 0 to 100, got -1"),
        ("page=0", "invalid_parameter", "page", "page: must be at least 1, got 0"),
        (
            "page=2000&size=10",
            "result_window_too_large",
            "page",
            "page * size is 20000; at most 10000 results can be paged through",
        ),
        (
            "facet_size=0",
            "invalid_parameter",
            "facet_size",
            "facet_size: must be from 1 to 100, got 0",
        ),
        (
            "facets=date,colour",
            "invalid_parameter",
            "facets",
            "facets: unknown value 'colour'; choose from date, entity, source, category",
        ),
        (
            "interval=week",
            "invalid_parameter",
            "interval",
            "interval: must be one of auto, year, month, day; got 'week'",
        ),
        (
            "sort=random",
            "invalid_parameter",
            "sort",
            "sort: must be one of relevance, newest, oldest; got 'random'",
        ),
        (
            "highlight=maybe",
            "invalid_parameter",
            "highlight",
            "highlight: must be true or false, got 'maybe'",
        ),
        (
            "from=2017-13-45",
            "invalid_parameter",
            "from",
            "from: '2017-13-45' is not a date: month 13 does not exist",
        ),
        (
            "to=2015-02-30",
            "invalid_parameter",
            "to",
            "to: '2015-02-30' is not a date: 2015-02 has no day 30",
        ),
        (
            "from=yesterday",
            "invalid_parameter",
            "from",
            "from: 'yesterday' is not a date: use YYYY, YYYY-MM or YYYY-MM-DD",
        ),
        (
            "from=2016&to=2015",
            "invalid_range",
            "from",
            "from (2016-01-01) is after to (2015-12-31)",
        ),
        ("q=a&q=b", "repeated_parameter", "q", "q is given 2 times; give it once"),
        (
            "colour=red",
            "unknown_parameter",
            "colour",
            "unknown parameter 'colour'; accepted: q, match, expand, from, to, entity, source, "
            "category, sort, page, "
            "size, facets, facet_size, interval, highlight",
        ),
        (
            "q=*gees",
            "wildcard_not_allowed",
            "q",
            "'*gees': a wildcard may only end a word, as in refug*",
        ),
        (
            "q=r%3Ffugee",
            "wildcard_not_allowed",
            "q",
            "'r?fugee': a wildcard may only end a word, as in refug*",
        ),
        ("entity=", "invalid_parameter", "entity", "entity: must not be empty"),
    ],
)
def test_bad_parameters(
    client: falcon.testing.TestClient, query: str, code: str, parameter: str, message: str
) -> None:
    result = client.simulate_get("/api/search", query_string=query)
    assert result.status_code == 400
    assert error_of(result) == {"code": code, "message": message, "parameter": parameter}


def test_query_too_long(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/api/search", params={"q": "x" * 1001})
    assert result.status_code == 400
    assert error_of(result) == {
        "code": "query_too_long",
        "message": "the query has 1001 characters; at most 1000 are allowed",
        "parameter": "q",
    }


def test_too_many_terms(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/api/search", params={"q": " ".join(["word"] * 65)})
    assert result.status_code == 400
    assert error_of(result)["code"] == "too_many_terms"


def test_prefix_expanding_to_too_many_words(config: Config, corpus_index: Path) -> None:
    client = falcon.testing.TestClient(create_app(config.replace(max_expansions=5)))
    result = client.simulate_get("/api/search", params={"q": "s*"})
    assert result.status_code == 400
    assert error_of(result) == {
        "code": "too_many_expansions",
        "message": "s* matches more than 5 words; type more letters",
        "parameter": "q",
    }
    assert client.simulate_get("/api/search", params={"q": "refug*"}).status_code == 200


def test_unknown_event_and_route(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/api/events/no-such-event")
    assert result.status_code == 404
    assert error_of(result) == {
        "code": "not_found",
        "message": "no event with id 'no-such-event'",
        "parameter": None,
    }
    result = client.simulate_get("/api/nothing-here")
    assert result.status_code == 404
    assert error_of(result) == {
        "code": "not_found",
        "message": "no route /api/nothing-here",
        "parameter": None,
    }


def test_unknown_parameter_on_other_routes(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/api/stats", query_string="verbose=1")
    assert result.status_code == 400
    assert error_of(result)["code"] == "unknown_parameter"


def test_wrong_method(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post("/api/search", json={"q": "x"})
    assert result.status_code == 405
    assert error_of(result) == {
        "code": "method_not_allowed",
        "message": "POST is not allowed on /api/search; allowed: GET, HEAD, OPTIONS",
        "parameter": None,
    }
    assert client.simulate_delete("/api/events/cep-56657").status_code == 405


def test_no_index_is_503_without_a_path(tmp_path: Path) -> None:
    config = Config.from_env({}, index_dir=tmp_path / "secret-location")
    client = falcon.testing.TestClient(create_app(config))
    result = client.simulate_get("/api/search", params={"q": "x"})
    assert result.status_code == 503
    assert result.headers["retry-after"] == "5"
    error = error_of(result)
    assert error["code"] == "index_unavailable"
    assert "secret-location" not in str(error["message"]) and str(tmp_path) not in result.text
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["retry-after"] == "5"
    assert error_of(ready) == {
        "code": "index_unavailable",
        "message": "no index has been built yet: run indexer rebuild",
        "parameter": None,
    }
    assert client.simulate_get("/healthz").status_code == 200


ODD_QUERIES = [
    "",
    " ",
    '"',
    "((((",
    "))))",
    "AND",
    "OR OR OR",
    "NOT",
    "title:",
    ":",
    "field:value",
    "entity:",
    '"unclosed phrase',
    "a AND (b OR",
    "refug* AND",
    "\\",
    "%",
    "🙂 émoji",
    "\u200b",
    "x" * 999,
    "NOT NOT NOT putin",
    "date:[2015 TO 2016]",
    "putin^5",
    "putin~2",
    "/regex.*/",
    "<script>alert(1)</script>",
    "title:(a OR b)",
    "*",
    "**",
    "?",
    "a*b",
    "'single'",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_queries_never_fail_the_server(client: falcon.testing.TestClient, query: str) -> None:
    result = client.simulate_get("/api/search", params={"q": query})
    assert result.status_code in (200, 400), result.text
    if result.status_code == 400:
        assert error_of(result)["parameter"] == "q"


def test_unexpected_failure_is_a_clean_500(config: Config) -> None:
    class Broken:
        def stats(self) -> dict[str, object]:
            raise RuntimeError("/var/secret/path exploded")

    app = create_app(config, service=Broken())  # type: ignore[arg-type]
    result = falcon.testing.TestClient(app).simulate_get("/api/stats")
    assert result.status_code == 500
    assert error_of(result) == {
        "code": "internal_error",
        "message": "the server failed to answer; the error was logged",
        "parameter": None,
    }
    assert "secret" not in result.text and "Traceback" not in result.text
