"""Facet values that filter together count together (issue 11, item 7): one entry per
folded value, shown in its most common written form, its count the total of
filtering on it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from api.app import create_app
from config import Config
from search.text import fold
from tests.support.indexes import client_for
from tests.truth import all_events, facet_values_of, shown_forms

FACETS = ("entity", "source", "category")


@pytest.fixture(scope="module")
def wide_client(corpus_index: Path) -> falcon.testing.TestClient:
    """The real corpus's index, with every value of a facet in one answer."""
    config = Config.from_env({}, index_dir=corpus_index, max_facet_size=100_000)
    return falcon.testing.TestClient(create_app(config))


def every_value(client: falcon.testing.TestClient, facet: str) -> list[dict[str, Any]]:
    result = client.simulate_get(
        "/api/search", params={"size": 0, "facets": facet, "facet_size": 100_000}
    )
    assert result.status_code == 200, result.text
    found: list[dict[str, Any]] = result.json["facets"][facet]
    return found


def total(client: falcon.testing.TestClient, facet: str, value: str) -> int:
    result = client.simulate_get("/api/search", params={"size": 0, "facets": "date", facet: value})
    assert result.status_code == 200, result.text
    count: int = result.json["total"]
    return count


@pytest.mark.parametrize("facet", FACETS)
def test_every_value_counts_what_filtering_on_it_finds(
    wide_client: falcon.testing.TestClient, facet: str
) -> None:
    entries = every_value(wide_client, facet)
    # Every value of the corpus is listed, once per folded form, in its most common form.
    expected = {fold(v) for e in all_events() for v in facet_values_of(facet, e)}
    keys = [fold(entry["value"]) for entry in entries]
    assert len(keys) == len(set(keys)) == len(expected)
    assert set(keys) == expected
    shown = shown_forms(facet)
    assert all(entry["value"] == shown[fold(entry["value"])] for entry in entries)
    wrong = [
        (entry["value"], entry["count"], found)
        for entry in entries
        if (found := total(wide_client, facet, entry["value"])) != entry["count"]
    ]
    assert not wrong, wrong[:10]


def test_the_corpus_spellings_of_one_source_are_one_entry(
    wide_client: falcon.testing.TestClient,
) -> None:
    entries = {e["value"]: e["count"] for e in every_value(wide_client, "source")}
    cited = Counter(
        fold(s.name) for e in all_events() for s in {x.name: x for x in e.sources}.values()
    )
    for spellings in (
        ("AccuWeather", "Accuweather"),
        ("USA Today", "USA TODAY"),
        ("Euronews", "EuroNews"),
    ):
        listed = [s for s in spellings if s in entries]
        assert len(listed) == 1, (spellings, listed)
        assert (
            entries[listed[0]]
            == cited[fold(spellings[0])]
            == total(wide_client, "source", spellings[1])
        )


def _event(i: int, sources: list[tuple[str, str | None]], entities: list[str]) -> dict[str, Any]:
    return {
        "id": f"e{i}",
        "date": "2020-01-01",
        "title": f"Event {i}",
        "sources": [{"name": n, "url": u} for n, u in sources],
        "entities": entities,
    }


def test_spellings_count_once_per_event(tmp_path: Path) -> None:
    records = [
        _event(1, [("Société Générale", None)], ["São Paulo"]),
        _event(2, [("Societe Generale", None)], ["SAO PAULO"]),
        _event(3, [("SOCIÉTÉ GÉNÉRALE", None), ("Société générale", None)], ["São Paulo"]),
        _event(4, [("weather.com", None)], []),
        _event(5, [("The Weather Channel", "https://www.weather.com/story")], []),
        _event(6, [("Société Générale", "https://www.reuters.com/x")], ["Sao Paulo", "São Paulo"]),
    ]
    client = client_for(tmp_path, records)
    body = client.simulate_get(
        "/api/search", params={"size": 0, "facets": "entity,source", "facet_size": 100}
    ).json["facets"]
    sources = {e["value"]: e["count"] for e in body["source"]}
    entities = {e["value"]: e["count"] for e in body["entity"]}
    # Four events carry the bank, one of them under two spellings; the form most
    # events carry is shown.
    assert sources["Société Générale"] == 4
    assert not {"Societe Generale", "SOCIÉTÉ GÉNÉRALE", "Société générale"} & set(sources)
    assert entities == {"São Paulo": 4}
    # A source named like a domain counts the events citing that domain, as its filter does.
    assert sources["weather.com"] == 2 == total(client, "source", "weather.com")
    for value, count in [*sources.items()]:
        assert total(client, "source", value) == count, value


def test_suggested_entity_counts_follow_the_facet(wide_client: falcon.testing.TestClient) -> None:
    facet = {fold(e["value"]): e for e in every_value(wide_client, "entity")}
    checked = 0
    for key, entry in facet.items():
        found = wide_client.simulate_get(
            "/api/suggest", params={"q": entry["value"], "size": 20}
        ).json["suggestions"]
        entities = [s for s in found if s["kind"] == "entity"]
        folded = [fold(s["text"]) for s in entities]
        assert len(folded) == len(set(folded)), entities
        same = [s for s in entities if fold(s["text"]) == key]
        assert same == [{"text": entry["value"], "kind": "entity", "count": entry["count"]}], (
            entry,
            found,
        )
        checked += 1
    assert checked == len(facet) > 1000
