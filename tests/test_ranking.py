"""Ranking invariants on the real corpus: an event holding every query word ranks
above one that lacks one, with or without query expansion; expansion never
changes what matched (total, facets).

Which words an event holds is found by analysing its stored text again (title,
body and entity names), not from the engine's own counts."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import falcon.testing
import orjson
import pytest

from search.event import Event
from search.schema import TEXT_FIELDS, document
from search.scoring import Similarity
from search.text import DEFAULT_STEMMER, FUNCTION_WORDS, Analyzer
from tests.support.indexes import client_for
from tests.truth import all_events

_LETTERS = re.compile(r"[^\W\d_]+")
#: Queries of up to this many words rank events by how many of them they hold.
STRICT_WORDS = Similarity().strict_words


def _title_queries(words: int, count: int, seed: int) -> list[str]:
    """``count`` queries of ``words`` distinct content words drawn from event titles."""
    rng = random.Random(seed)
    queries = []
    for event in rng.sample(list(all_events()), len(all_events())):
        candidates = list(
            dict.fromkeys(
                w.lower()
                for w in _LETTERS.findall(event.title)
                if len(w) >= 3 and w.lower() not in FUNCTION_WORDS
            )
        )
        if len(candidates) >= words:
            queries.append(" ".join(rng.sample(candidates, words)))
        if len(queries) == count:
            break
    return queries


def _held(service_client: falcon.testing.TestClient, ids: list[str], query: str) -> list[int]:
    """How many of the query's words each event's text holds."""
    analyzer = Analyzer(DEFAULT_STEMMER)
    wanted = {t.term for t in analyzer.query_tokens(query)}
    counts = []
    for event_id in ids:
        body = service_client.simulate_get(f"/api/events/{event_id}").json
        event = Event.from_dict({k: v for k, v in body.items() if k != "mentions"})
        fields = document(event, body["mentions"])
        terms = {t.term for f in TEXT_FIELDS for t in analyzer.tokens(fields.get(f) or "")}
        counts.append(len(wanted & terms))
    return counts


def _search(client: falcon.testing.TestClient, **params: Any) -> dict[str, Any]:
    result = client.simulate_get("/api/search", params=params)
    assert result.status_code == 200, result.text
    body: dict[str, Any] = orjson.loads(result.content)
    return body


@pytest.mark.slow  # a query per event of the corpus
def test_events_with_every_word_rank_first(client: falcon.testing.TestClient) -> None:
    checked = 0
    for words in (2, 3):
        for query in _title_queries(words, 40, seed=words):
            for expand in ("false", "true"):
                body = _search(client, q=query, expand=expand, size=100, facets="")
                ids = [r["id"] for r in body["results"]]
                held = _held(client, ids, query)
                # Every event holding all the words comes before any that does not...
                complete = [h == words for h in held]
                assert complete == sorted(complete, reverse=True), (query, expand, held)
                # ...and, short queries, more words before fewer.
                if words <= STRICT_WORDS:
                    assert held == sorted(held, reverse=True), (query, expand, held)
                checked += 1
    assert checked == 160


def test_expansion_changes_neither_the_matches_nor_the_facets(
    client: falcon.testing.TestClient,
) -> None:
    queries = [*_title_queries(1, 15, seed=11), *_title_queries(2, 15, seed=12)]
    queries += ["refugees hungary", "boko haram insurgency", '"european union"', "merkel"]
    for query in queries:
        both = [
            _search(client, q=query, expand=expand, size=100, facets="date,entity,source,category")
            for expand in ("false", "true")
        ]
        assert both[0]["total"] == both[1]["total"], query
        assert both[0]["facets"] == both[1]["facets"], query
        assert {r["id"] for r in both[0]["results"]} == {r["id"] for r in both[1]["results"]}


def test_a_hyphen_joined_word_is_its_words(tmp_path: Path) -> None:
    """The parts of a hyphen-joined word of words match apart (Lucene's query parser
    without automatic phrases), side by side first; a quoted one is a phrase; a score
    of numbers and a word with a numeric part keep their order."""
    records = [
        ("joined", "Arab-Israeli talks resume in Cairo"),
        ("apart", "Israeli ministers meet Arab envoys in Cairo"),
        ("arab", "Arab league meets in Cairo"),
        ("score", "United won 5-4 on penalties"),
        ("reversed", "United won 4-5 on penalties"),
        ("covid", "COVID cases in 2019 and 19 new wards"),
    ]
    client = client_for(
        tmp_path,
        [{"id": i, "date": "2020-01-01", "title": t, "body": t} for i, t in records],
    )

    def ids(q: str, match: str = "all") -> list[str]:
        found = _search(client, q=q, match=match, expand="false", facets="")
        return [r["id"] for r in found["results"]]

    assert ids("Arab-Israeli") == ["joined", "apart"]
    assert ids("arab\u2013israeli cairo") == ["joined", "apart"]  # an en dash joins too
    assert ids("Arab-Israeli", match="any") == ["joined", "apart", "arab"]
    assert ids('"Arab-Israeli"') == ["joined"]
    assert ids("5-4") == ids("5-4", match="any") == ["score"]
    assert ids("COVID-19", match="any") == []
