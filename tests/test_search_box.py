"""The search box: suggestions as a person types, and "did you mean"."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from indexer import jobs
from search import IndexStore
from search.lexicon import edit_distance
from search.suggest import Suggester
from search.text import Analyzer, fold
from tests.support.indexes import client_for
from tests.truth import all_events, entities_of


def suggest(client: falcon.testing.TestClient, q: str, **params: Any) -> list[dict[str, Any]]:
    result = client.simulate_get("/api/suggest", params={"q": q, **params})
    assert result.status_code == 200, result.text
    found: list[dict[str, Any]] = result.json["suggestions"]
    return found


def entity_count(name: str) -> int:
    return sum(1 for e in all_events() if name in entities_of(e))


def test_several_words_case_and_accents(client: falcon.testing.TestClient) -> None:
    found = suggest(client, "vladimir pu")
    assert found[0] == {
        "text": "Vladimir Putin",
        "kind": "entity",
        "count": entity_count("Vladimir Putin"),
    }
    assert suggest(client, "VLADIMIR PU")[0]["text"] == "Vladimir Putin"
    assert suggest(client, "putin")[0]["text"] == "Vladimir Putin"  # any word of the name
    munich = [s["text"] for s in suggest(client, "mun", size=20)]
    assert "München Hauptbahnhof" in munich and "Bayern München" in munich
    assert suggest(client, "sao pa")[0]["text"] == "São Paulo"


def test_most_frequent_first_and_size(client: falcon.testing.TestClient) -> None:
    found = suggest(client, "s", size=20)
    assert len(found) == 20
    counts = [s["count"] for s in found]
    assert counts == sorted(counts, reverse=True)
    assert {s["kind"] for s in found} == {"entity", "phrase"}
    assert len(suggest(client, "s", size=3)) == 3
    assert suggest(client, "") == [] and suggest(client, "zzzzqx") == []


def test_entity_counts_are_events_carrying_the_name(client: falcon.testing.TestClient) -> None:
    for item in suggest(client, "united", size=20):
        if item["kind"] == "entity":
            assert item["count"] == entity_count(item["text"]), item


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("size=0", "size: must be from 1 to 20, got 0"),
        ("size=21", "size: must be from 1 to 20, got 21"),
        ("q=a&q=b", "q is given 2 times; give it once"),
    ],
)
def test_bad_parameters(client: falcon.testing.TestClient, query: str, message: str) -> None:
    result = client.simulate_get("/api/suggest", query_string=query)
    assert result.status_code == 400
    assert result.json["error"]["message"] == message


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("refugess", "refugees"),
        ("Hungray refugess", "Hungary refugees"),
        ("merkle", "merkel"),
        ("Syrai", "Syria"),
        ("refugees", None),
        ("Putin Syria", None),
        ("", None),
    ],
)
def test_did_you_mean(client: falcon.testing.TestClient, typed: str, offered: str | None) -> None:
    body = client.simulate_get("/api/search", params={"q": typed, "size": 1}).json
    assert body["did_you_mean"] == offered


def test_did_you_mean_never_rewrites_the_query(client: falcon.testing.TestClient) -> None:
    body = client.simulate_get("/api/search", params={"q": "refugess", "expand": "false"}).json
    assert body["did_you_mean"] == "refugees"
    assert body["total"] == 0


def test_suggestions_follow_index_changes(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = [
        {
            "id": "a",
            "date": "2020-01-01",
            "title": "Zanzibar ferry sinks",
            "entities": ["Zanzibar"],
        },
        {"id": "b", "date": "2020-01-02", "title": "Zanzibar votes"},
    ]
    client = client_for(tmp_path, records, refresh_interval=0.01)
    assert suggest(client, "zanz")[0] == {"text": "Zanzibar", "kind": "entity", "count": 2}
    more = tmp_path / "more.jsonl"
    more.write_text('{"id": "c", "date": "2020-01-03", "title": "Storm hits Zanzibar"}\n')
    jobs.add(IndexStore(tmp_path / "ix"), [more])
    jobs.delete(IndexStore(tmp_path / "ix"), ["a"])
    time.sleep(0.05)  # past the refresh interval: the next request sees the commits
    assert suggest(client, "zanz")[0] == {"text": "Zanzibar", "kind": "entity", "count": 2}
    assert "Storm hits Zanzibar" in {s["text"] for s in suggest(client, "storm")}


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("syria", "syrai", 1), ("refugess", "refugees", 1), ("kitten", "sitting", 3), ("", "ab", 2)],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance


# Did you mean leaves alone what is not a misspelt word (issue 11, item 9).  Each
# case is also checked with a misspelt word beside it, which is still corrected.
@pytest.mark.parametrize(
    "kept",
    [
        "bbc.com",  # domains
        "nasa.gov",
        "news.bbc.co.uk",
        "reuters.com",
        "https://www.bbc.com/news/world-34185371",  # URLs
        "http://nasa.gov/press",
        "press@nasa.gov",  # e-mail addresses
        "editor@bbc.co.uk",
        "1934",  # numbers, words with digits
        "7.8",
        "5-4",
        "covid19",
        "g20",
    ],
)
def test_did_you_mean_leaves_alone(client: falcon.testing.TestClient, kept: str) -> None:
    alone = client.simulate_get("/api/search", params={"q": kept, "size": 1}).json
    assert alone["did_you_mean"] is None
    beside = client.simulate_get("/api/search", params={"q": f"{kept} refugess", "size": 1}).json
    assert beside["did_you_mean"] == f"{kept} refugees"


def test_did_you_mean_leaves_known_names_alone(tmp_path: Path) -> None:
    records = [
        {
            "id": f"k{i}",
            "date": "2020-01-01",
            "title": f"Fighting in Kabul {i}",
            "body": "Fighting goes on in Kabul.",
            "sources": [{"name": "The Times"}],
        }
        for i in range(6)
    ]
    records.append(
        {
            "id": "name",
            "date": "2020-01-02",
            "title": "A visit",
            "body": "A visit.",
            "entities": ["Kabil Sibal"],
            "sources": [{"name": "Tims Weekly"}],
        }
    )
    client = client_for(tmp_path, records)

    def offered(q: str) -> str | None:
        body = client.simulate_get("/api/search", params={"q": q, "size": 1}).json
        found: str | None = body["did_you_mean"]
        return found

    assert offered("kabol") == "kabul"  # a misspelling is corrected
    assert offered("kabil") is None  # an entity's name is not
    assert offered("Kabil Sibal") is None
    assert offered("tims") is None  # nor a source's
    assert offered("tims kabol") == "tims kabul"


# Punctuation in names, typed as far as the prefix goes (issue 11, item 10).
PUNCTUATED = {
    "hyphen": ["Paris Saint-Germain", "Notre-Dame de Paris", "COVID-19", "Nagorno-Karabakh"],
    "apostrophe": ["People's Liberation Army", "Côte d’Ivoire", "Sana'a", "O’Hare Airport"],
    "period": ["U.S. Open", "St. Louis", "Apple Inc.", "David A. Granger"],
    "slash": ["9/11 Commission", "AC/DC", "Israel/Palestine"],
    "ampersand": ["AT&T", "Procter & Gamble", "Marks & Spencer", "R&B"],
}
APOSTROPHES = str.maketrans({"'": "’", "’": "'"})


def plain(text: str) -> str:
    """Folded, with one kind of apostrophe."""
    return fold(text).replace("’", "'")


@pytest.fixture(scope="module", params=["entities", "titles"])
def punctuated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> falcon.testing.TestClient:
    """An index where the names are entities, or one where they are title phrases."""
    names = [name for group in PUNCTUATED.values() for name in group]
    if request.param == "entities":
        records = [
            {"id": f"n{i}", "date": "2020-01-01", "title": f"News {i}", "entities": [name]}
            for i, name in enumerate(names)
        ]
    else:
        records = [
            {"id": f"n{i}", "date": "2020-01-01", "title": f"{name} makes news"}
            for i, name in enumerate(names)
        ]
    records += [
        {"id": "k1", "date": "2020-01-02", "title": "Kenya’s election is disputed"},
        {"id": "k2", "date": "2020-01-03", "title": "Kenya's election goes to court"},
    ]
    return client_for(tmp_path_factory.mktemp("punctuated"), records)


@pytest.mark.parametrize("kind", sorted(PUNCTUATED))
def test_names_are_found_as_far_as_they_are_typed(
    punctuated: falcon.testing.TestClient, kind: str
) -> None:
    for name in PUNCTUATED[kind]:
        # From the first punctuation mark on (shorter prefixes are ranked among many).
        first = next(i for i, c in enumerate(name) if not (c.isalnum() or c == " "))
        for end in range(max(1, first), len(name) + 1):
            for typed in {name[:end], name[:end].lower(), name[:end].translate(APOSTROPHES)}:
                found = [s["text"] for s in suggest(punctuated, typed, size=20)]
                # The name, or a title phrase it begins (a period ends a phrase's word).
                assert any(plain(f).startswith(plain(name).rstrip(".")) for f in found), (
                    typed,
                    found,
                )


def test_straight_and_typographic_apostrophes_are_the_same(
    punctuated: falcon.testing.TestClient,
) -> None:
    straight = suggest(punctuated, "kenya's", size=20)
    typographic = suggest(punctuated, "kenya’s", size=20)
    assert straight == typographic
    phrases = [s for s in straight if s["kind"] == "phrase"]
    assert {"text": "Kenya's election", "kind": "phrase", "count": 2} in phrases, phrases


def test_a_saved_table_answers_as_the_built_one_and_a_damaged_one_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "suggest.bin"
    entries = [("Paris Saint-Germain", "entity", 3), ("Paris attacks", "phrase", 5)]
    built = Suggester.build(entries, Analyzer())
    built.save(path)
    loaded = Suggester.load(path)
    for typed in ("paris", "paris saint-g", "germ", "att", "p", "x"):
        assert loaded.suggest(typed, 5) == built.suggest(typed, 5), typed
    assert [s.text for s in loaded.suggest("paris", 5)] == ["Paris attacks", "Paris Saint-Germain"]
    for damage in (b"", b"EVSUGGST", b"not a table at all", path.read_bytes()[:40]):
        path.write_bytes(damage)
        with pytest.raises(ValueError, match=r"suggest\.bin"):
            Suggester.load(path)


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def test_suggestions_follow_deletes_and_replacements(tmp_path: Path) -> None:
    """Once a commit that deletes or replaces an event is served, its names and title
    phrases are suggested only as far as live events still carry them."""
    records: list[dict[str, Any]] = [
        {"id": "z1", "date": "2020-01-01", "title": "Zorblax Consortium wins contract"},
        {"id": "z2", "date": "2020-01-02", "title": "Zorblax Consortium loses appeal"},
        {"id": "q1", "date": "2020-01-03", "title": "Harbour bridge reopens"},
        {
            "id": "q2",
            "date": "2020-01-04",
            "title": "Ferry strike ends",
            "entities": ["Quuxford Ferries"],
        },
    ]
    client = client_for(tmp_path, records, refresh_interval=0.01)
    store = IndexStore(tmp_path / "ix")

    def shown(typed: str) -> list[tuple[str, int]]:
        return [(s["text"], s["count"]) for s in suggest(client, typed, size=20)]

    # Counted from the titles above: two titles hold "Zorblax Consortium", one "wins".
    assert ("Zorblax Consortium", 2) in shown("zorblax")
    assert shown("zorblax consortium w") == [("Zorblax Consortium wins", 1)]
    assert shown("quuxf") == [("Quuxford Ferries", 1)]

    jobs.delete(store, ["z1", "q2"])
    time.sleep(0.05)  # past the refresh interval: the next request sees the commit
    assert shown("zorblax consortium w") == []
    assert ("Zorblax Consortium", 1) in shown("zorblax")
    assert ("Zorblax Consortium wins", 1) not in shown("zorblax")
    assert shown("quuxf") == []

    jobs.add(store, [_write(tmp_path / "z2.jsonl", [{**records[1], "title": "Harbour cranes"}])])
    time.sleep(0.05)
    assert shown("zorblax") == []
    assert ("Harbour", 2) in shown("harbour")
    assert ("Harbour cranes", 1) in shown("harbour c")
