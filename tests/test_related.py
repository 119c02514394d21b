"""Related events: GET /api/events/{id}/related and POST /api/related, on real indexes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from tests.support.indexes import client_for


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


# Near-copies (issue 11, item 8).  Which events are copies is known by construction
# (each is an edit of another), not computed by the code under test.

QUAKE = (
    "A magnitude 7.8 earthquake strikes central Nepal near the town of Gorkha, "
    "destroying thousands of homes in Kathmandu and killing more than eight thousand "
    "people, the worst disaster to hit the country since 1934."
)
FLOOD = (
    "Monsoon floods in Bihar force two hundred thousand people from their homes as the "
    "Kosi river breaks its banks; the army rescues villagers stranded on rooftops near "
    "the border with Nepal."
)


def _record(event_id: str, day: str, title: str, body: str, entities: list[str]) -> dict[str, Any]:
    return {"id": event_id, "date": day, "title": title, "body": body, "entities": entities}


def near_copy_records() -> list[dict[str, Any]]:
    quake_entities = ["Nepal", "Kathmandu", "Gorkha"]
    flood_entities = ["Nepal", "Bihar", "Kosi River"]
    quake = _record("quake", "2015-04-25", "Earthquake in Nepal", QUAKE, quake_entities)
    flood = _record("flood", "2015-04-26", "Floods in Bihar", FLOOD, flood_entities)
    return [
        quake,
        # Near-copies of the quake under new ids.
        {**quake, "id": "quake-copy"},
        {**quake, "id": "quake-no-period", "body": QUAKE.removesuffix(".")},
        {**quake, "id": "quake-upper", "title": quake["title"].upper(), "body": QUAKE.upper()},
        {**quake, "id": "quake-spaces", "body": "  " + QUAKE.replace(" ", "  \n ")},
        {**quake, "id": "quake-one-word", "body": QUAKE.replace("thousands", "hundreds")},
        {**quake, "id": "quake-other-body", "body": "Rescue teams arrive in Kathmandu."},
        # Another event and two exact copies of it.
        flood,
        {**flood, "id": "flood-copy-1"},
        {**flood, "id": "flood-copy-2"},
        # Related, not copies: the same story, other events.
        _record(
            "aftershock",
            "2015-05-12",
            "Aftershock in Nepal",
            "A magnitude 7.3 aftershock strikes eastern Nepal between Kathmandu and Mount "
            "Everest, killing more than two hundred people and triggering landslides.",
            ["Nepal", "Kathmandu", "Mount Everest"],
        ),
        _record(
            "aid",
            "2015-04-27",
            "Aid reaches Nepal",
            "India and China fly aid to Kathmandu after the earthquake that struck central "
            "Nepal near Gorkha; thousands of homes were destroyed.",
            ["Nepal", "Kathmandu", "India", "China"],
        ),
    ]


QUAKE_COPIES = {
    "quake",
    "quake-copy",
    "quake-no-period",
    "quake-upper",
    "quake-spaces",
    "quake-one-word",
    "quake-other-body",
}
FLOODS = {"flood", "flood-copy-1", "flood-copy-2"}


def test_near_copies_are_never_listed_and_collapse_to_one(tmp_path: Path) -> None:
    client = client_for(tmp_path, near_copy_records())
    for source in sorted(QUAKE_COPIES):
        found = [item["id"] for item in related(client, source, size=10)]
        assert not set(found) & QUAKE_COPIES, (source, found)
        assert len(set(found) & FLOODS) == 1, (source, found)
        assert {"aftershock", "aid"} <= set(found), (source, found)
        assert len(found) == len(set(found)) == 3


def test_near_copies_of_a_posted_text(tmp_path: Path) -> None:
    client = client_for(tmp_path, near_copy_records())
    for text in (QUAKE, QUAKE.upper().removesuffix("."), f"Earthquake in Nepal\n{QUAKE}"):
        result = client.simulate_post("/api/related", json={"text": text, "size": 10})
        found = [item["id"] for item in result.json["results"]]
        assert not set(found) & (QUAKE_COPIES - {"quake-other-body"}), found
        assert len(set(found) & FLOODS) == 1 and {"aftershock", "aid"} <= set(found), found
