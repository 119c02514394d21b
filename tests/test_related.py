"""Related events: GET /api/events/{id}/related and POST /api/related, on real indexes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from bench.relevance import DEFAULT_CORPUS, TARGETS, measure
from tests.conftest import client_for
from tests.corpus import CORPUS


def related(
    client: falcon.testing.TestClient, event_id: str, **params: Any
) -> list[dict[str, Any]]:
    result = client.simulate_get(f"/api/events/{event_id}/related", params=params)
    assert result.status_code == 200, result.text
    found: list[dict[str, Any]] = result.json["results"]
    return found


def test_shape_and_reasons(client: falcon.testing.TestClient) -> None:
    found = related(client, "cep-56665")  # refugees arrive in München from Budapest
    assert len(found) == 5
    for item in found:
        assert set(item) >= {"id", "date", "title", "snippet", "entities", "score", "reasons"}
        assert set(item["reasons"]) == {"entities", "terms", "linked"}
        assert item["reasons"]["entities"] or item["reasons"]["terms"] or item["reasons"]["linked"]
    scores = [item["score"] for item in found]
    assert scores == sorted(scores, reverse=True)
    assert "cep-56665" not in {item["id"] for item in found}


def test_size_and_dates(client: falcon.testing.TestClient) -> None:
    assert len(related(client, "cep-56665", size=12)) == 12
    narrowed = related(client, "cep-56665", size=10, **{"from": "2015-09-20", "to": "2015-09-30"})
    assert narrowed and all("2015-09-20" <= item["date"] <= "2015-09-30" for item in narrowed)


def test_explicit_links_count_both_ways(client: falcon.testing.TestClient) -> None:
    source = (
        "2001-05-23-fc-bayern-munchen-win-the-uefa-champions-league-final-against-valencia-"
        "in-milan-after-a-penalty-shoot-out"
    )
    found = related(client, source)
    linked = [item for item in found if item["reasons"]["linked"]]
    assert linked, found
    target = linked[0]["id"]
    back = related(client, target, size=10)
    assert source in {item["id"] for item in back if item["reasons"]["linked"]}


def test_exact_duplicates_never_appear(tmp_path: Path) -> None:
    records = [
        {
            "id": "orig",
            "date": "2020-03-01",
            "title": "Floods hit Jakarta",
            "body": "Rivers burst.",
        },
        {
            "id": "copy",
            "date": "2020-03-01",
            "title": "Floods hit Jakarta",
            "body": "Rivers burst.",
        },
        {
            "id": "near",
            "date": "2020-03-02",
            "title": "Floods in Jakarta spread",
            "body": "Rivers.",
        },
    ]
    client = client_for(tmp_path, records)
    assert [item["id"] for item in related(client, "orig")] == ["near"]


def test_unknown_id_and_bad_parameters(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/api/events/no-such-event/related")
    assert result.status_code == 404
    assert result.json["error"] == {
        "code": "not_found",
        "message": "no event with id 'no-such-event'",
        "parameter": None,
    }
    for query, message in [
        ("size=0", "size: must be from 1 to 50, got 0"),
        ("size=51", "size: must be from 1 to 50, got 51"),
        ("from=2015-13", "from: '2015-13' is not a date: month 13 does not exist"),
        ("colour=red", "unknown parameter 'colour'; accepted: size, from, to"),
    ]:
        result = client.simulate_get("/api/events/cep-56665/related", query_string=query)
        assert result.status_code == 400
        assert result.json["error"]["message"] == message


def test_related_to_a_text(client: falcon.testing.TestClient) -> None:
    text = "Thousands of refugees reach Munich by train from Budapest as Hungary closes borders."
    result = client.simulate_post("/api/related", json={"text": text, "size": 3})
    assert result.status_code == 200
    found = result.json["results"]
    assert len(found) == 3
    assert any("Budapest" in item["reasons"]["entities"] for item in found)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (
            b'{"text": ""}',
            "application/json",
            400,
            {
                "code": "invalid_parameter",
                "message": "text: give the text to find related events for",
                "parameter": "text",
            },
        ),
        (
            b"{}",
            "application/json",
            400,
            {
                "code": "invalid_parameter",
                "message": "text: give the text to find related events for",
                "parameter": "text",
            },
        ),
        (b"not json", "application/json", 400, None),
        (
            b"",
            "application/json",
            400,
            {
                "code": "invalid_body",
                "message": "the body is empty; send a JSON object",
                "parameter": None,
            },
        ),
        (
            b'["a list"]',
            "application/json",
            400,
            {
                "code": "invalid_body",
                "message": "the body must be a JSON object with a text",
                "parameter": None,
            },
        ),
        (
            b'{"text": "x", "size": 99}',
            "application/json",
            400,
            {
                "code": "invalid_parameter",
                "message": "size: must be from 1 to 50, got 99",
                "parameter": "size",
            },
        ),
        (
            b'{"text": "x", "limit": 3}',
            "application/json",
            400,
            {
                "code": "unknown_parameter",
                "message": "unknown field 'limit'; accepted: from, size, text, to",
                "parameter": "limit",
            },
        ),
        (
            b'{"text": "x"}',
            "text/plain",
            415,
            {
                "code": "unsupported_media_type",
                "message": "send the body as application/json, not text/plain",
                "parameter": None,
            },
        ),
        (
            json.dumps({"text": "x" * 20001}).encode(),
            "application/json",
            413,
            {
                "code": "text_too_long",
                "message": "text has 20001 characters; at most 20000",
                "parameter": "text",
            },
        ),
        (
            b'{"text": "' + b"x" * 70000 + b'"}',
            "application/json",
            413,
            {
                "code": "body_too_large",
                "message": "the body has 70012 bytes; at most 65536",
                "parameter": None,
            },
        ),
    ],
)
def test_bad_bodies(
    client: falcon.testing.TestClient,
    body: bytes,
    content_type: str,
    status: int,
    error: dict[str, Any] | None,
) -> None:
    result = client.simulate_post("/api/related", body=body, headers={"content-type": content_type})
    assert result.status_code == status
    if error is None:
        assert result.json["error"]["code"] == "invalid_body"
        assert result.json["error"]["message"].startswith("the body is not valid JSON: ")
    else:
        assert result.json["error"] == error


def test_relevance_meets_its_targets_on_the_story_judgements() -> None:
    assert DEFAULT_CORPUS.resolve() == CORPUS.resolve() or CORPUS.exists()
    result = measure(CORPUS)
    assert result["ours"]["related_p5"] >= TARGETS["related_p5"], result
    assert result["ours"]["search_ndcg10"] >= TARGETS["search_ndcg10"], result
    assert result["ratio"]["related_p5"] > 1 and result["ratio"]["search_ndcg10"] > 1, result
