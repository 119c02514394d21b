"""The array engine against the slow, obvious computation of the same model, and its
facet counts against counting stored events, on the real corpus and on a generated
one with several segments and deletions."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pytest

from config import Config
from indexer import jobs
from search import IndexStore, SearchRequest, SearchService
from search.evaluate import Evaluator
from search.lexicon import field_terms
from search.parse import date_filter, values_filter
from search.query import And, Query
from search.snapshot import Snapshot
from search.text import fold
from tests.reference import Reference
from tests.support.generate import generate_events, write_events
from tests.support.indexes import whoosh_searcher
from tests.support.model import builtin_model

QUERIES = [
    '"temple of bel"',
    '"united states"~2',
    '"refugees hungary"~6',
    '"islamic state syria"~12',
    '"president election"~1000',
    '"war in syria"',
    "",
    "syria",
    "refugees hungary",
    '"european union"',
    "merkel NOT refugees",
    "refug*",
    "syrai~1",
    "(putin OR assad) AND russia",
    "title:hungary body:border",
    "entity:putin",
    "source:bbc",
    "war OR conflict OR crisis",
    "zzzznothing",
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
    """2,000 generated events in one rebuild, 200 more added as a second segment, 134
    of the first deleted."""
    root = tmp_path_factory.mktemp("generated")
    events = list(generate_events(builtin_model(seed=1), 2200, seed=1))
    first, second = root / "first.jsonl", root / "second.jsonl"
    write_events(events[:2000], first)
    write_events(events[2000:], second)
    store = IndexStore(root / "index")
    jobs.rebuild(store, [first], keep=0)
    jobs.add(store, [second])
    jobs.delete(store, [e.id for e in events[:2000:15]])
    service = SearchService(Config.from_env({}, index_dir=root / "index"))
    yield service
    service.close()


def _words_of(service: SearchService) -> list[str]:
    """Queries made of the generated corpus's own frequent words and entities."""
    with whoosh_searcher(service.live.snapshot()) as searcher:
        reader = searcher.reader()
        words = [t.decode() for _, t in reader.most_frequent_terms("body", 12)]
        entities = [t.decode() for _, t in reader.most_frequent_terms("entity_value", 3)]
    return [
        words[0],
        f"{words[3]} {words[7]}",
        f'"{words[1]} {words[2]}"',
        f"{words[5][:3]}*",
        f"{words[4]} NOT {words[6]}",
        f"{words[8]}~1",
        f'entity:"{entities[0]}"',
        f"{words[9]} OR {words[10]} OR {words[11]}",
    ]


def _evaluator(service: SearchService) -> Evaluator:
    return Evaluator(service.live.snapshot(), service.similarity, service.live.memo)


def _parse(service: SearchService, text: str, match: str) -> Query:
    return service.parser(service.live.snapshot()).parse(text, match)


def _combined(query: Query, filters: list[Query]) -> Query:
    return And((query, *filters))


def _lexicons(snap: Snapshot) -> dict[str, dict[str, list[str]]]:
    found: dict[str, dict[str, list[str]]] = {}
    for name in ("entity_value", "source_value", "source_domain"):
        for value in field_terms(snap, name):
            found.setdefault(name, {}).setdefault(fold(value), []).append(value)
    return found


def _compare(service: SearchService, query: Query) -> int:
    snap = service.live.snapshot()
    fast, complete = _evaluator(service).run_by_segment(query)
    assert complete
    with whoosh_searcher(snap) as searcher:
        slow = Reference(searcher, service.similarity, snap.analyzer).run(query)
    assert fast.docs.tolist() == sorted(slow), str(query)
    expected = np.array([slow[d][0] for d in fast.docs.tolist()])
    assert np.allclose(fast.scores, expected, rtol=1e-9, atol=1e-12), str(query)
    ranked = sorted(slow, key=lambda d: (-round(slow[d][0], 9), d))[:10]
    assert [d for d, _ in fast.top(10)] == ranked, str(query)
    return len(fast.docs)


@pytest.mark.parametrize("match", ["any", "all"])
def test_real_corpus(service: SearchService, match: str) -> None:
    sizes = [_compare(service, _parse(service, q, match)) for q in QUERIES]
    assert max(sizes) > 100 and 0 in sizes


def test_real_corpus_with_filters(service: SearchService) -> None:
    lexicons = _lexicons(service.live.snapshot())
    dates = date_filter(dt.date(2015, 9, 10), dt.date(2015, 9, 20))
    assert dates is not None
    filters: list[Query] = [
        dates,
        values_filter(["entity_value"], ["Syria"], lexicons),
        values_filter(["source_value", "source_domain"], ["BBC", "reuters.com"], lexicons),
    ]
    for q in ("syria", "", "refugees OR war"):
        user = _parse(service, q, "any")
        combined = _combined(user, filters)
        assert _compare(service, combined) >= 0


@pytest.mark.slow  # a generated corpus, several segments
@pytest.mark.parametrize("match", ["any", "all"])
def test_generated_corpus_with_segments_and_deletions(generated: SearchService, match: str) -> None:
    snap = generated.live.snapshot()
    assert len(snap.segments) == 2
    with whoosh_searcher(snap) as searcher:
        assert searcher.reader().has_deletions()
    sizes = [_compare(generated, _parse(generated, q, match)) for q in _words_of(generated)]
    assert max(sizes) > 200


@pytest.mark.slow  # a generated corpus, several segments
def test_generated_corpus_date_filters_with_segments_and_deletions(
    generated: SearchService,
) -> None:
    snap = generated.live.snapshot()
    days = np.unique(snap.days(snap.live_docs()))
    # Bounds on days that have events, so that an off-by-one at either end shows.
    on = [dt.date.fromordinal(int(days[len(days) * k // 10])) for k in (2, 6, 9)]
    ranges = [(on[0], on[1]), (on[2], None), (None, on[0])]
    sizes = []
    for low, high in ranges:
        for q in ["", *_words_of(generated)]:
            user = _parse(generated, q, "any")
            dates = date_filter(low, high)
            assert dates is not None
            sizes.append(_compare(generated, _combined(user, [dates])))
    assert max(sizes) > 500 and min(sizes) < max(sizes)


def _stored(service: SearchService, docnum: int) -> dict[str, Any]:
    snap = service.live.snapshot()
    with whoosh_searcher(snap) as searcher:
        stored = searcher.stored_fields(docnum)
    event: dict[str, Any] = orjson.loads(stored["event"])
    event["entities"] = event["entities"] + list(stored.get("mentions") or [])
    return event


@pytest.mark.slow  # a generated corpus, several segments
def test_generated_facets_match_counting_stored_events(generated: SearchService) -> None:
    for q in ["", *_words_of(generated)[:4]]:
        body = generated.search(
            SearchRequest(
                q=q,
                expand=False,
                size=0,
                facets=("date", "entity", "source"),
                facet_size=20,
                interval="year",
            )
        )
        query = _parse(generated, q, "any")
        docs = _evaluator(generated).run(query).docs.tolist()
        assert body.total == len(docs)
        events = [_stored(generated, d) for d in docs]
        entities = Counter(x for e in events for x in set(e["entities"]))
        sources = Counter(x for e in events for x in {s["name"] for s in e["sources"]})
        for facet, counts in (("entity", entities), ("source", sources)):
            expected = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
            assert [(v.value, v.count) for v in getattr(body.facets, facet)] == expected
        years = Counter(e["date"][:4] for e in events)
        assert body.facets.date is not None
        buckets = body.facets.date.buckets
        assert {b.key: b.count for b in buckets if b.count} == dict(years)
