"""The postings arrays writers save (as they write new and merged segments) equal
whoosh's postings, term by term; without them the engine reads whoosh and answers
the same."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from whoosh import index as whoosh_index

from config import Config
from indexer import jobs
from indexer.formats.wikitimes import parse_wikitimes
from search import IndexStore, SearchRequest, SearchService
from search.codec import EventCodec
from search.postings import read_positions, read_postings
from search.schema import build_schema, document
from search.termindex import INDEXED_FIELDS, POSITION_FIELDS, POSTINGS_DIR, SegmentPostings
from tests.corpus import CORPUS, DEMO_DIR


def _check_every_term(arrays: SegmentPostings, reader: Any) -> int:
    """Assert the arrays hold whoosh's postings (and positions) of every term of the
    segment; returns how many terms were checked."""
    checked = 0
    for fieldname in INDEXED_FIELDS:
        for term in reader.lexicon(fieldname):
            ids, weights = arrays.get(fieldname, term)
            want_ids, want_weights = read_postings(reader, fieldname, term)
            assert np.array_equal(ids, want_ids), (fieldname, term)
            assert np.array_equal(weights, want_weights), (fieldname, term)
            if fieldname in POSITION_FIELDS and arrays.has_positions:
                decode = reader.schema[fieldname].format.decode_positions
                docs, values = read_positions(reader, fieldname, term)
                want = [(d, p) for d, v in zip(docs, values, strict=True) for p in decode(v)]
                got = list(zip(*arrays.places(fieldname, term), strict=True))
                assert got == want, (fieldname, term)
            checked += 1
    return checked


def test_arrays_equal_whoosh_postings_for_every_term(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    jobs.rebuild(store, [CORPUS, DEMO_DIR], keep=0, processes=2)
    service = SearchService(Config.from_env({}, index_dir=tmp_path))
    try:
        snap = service.reader.snapshot()
        checked = 0
        for index, (reader, _) in enumerate(snap.searcher.reader().leaf_readers()):
            arrays = snap.columns.segments[index].postings
            assert isinstance(arrays, SegmentPostings)
            checked += _check_every_term(arrays, reader)
            assert arrays.get("body", b"no-such-term-anywhere")[0].size == 0
        assert checked > 10_000
    finally:
        service.close()


def test_without_the_arrays_the_answers_are_the_same(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    jobs.rebuild(store, [CORPUS], keep=0)

    def answers() -> list[object]:
        service = SearchService(Config.from_env({}, index_dir=tmp_path))
        try:
            out = []
            for q in ("syria", "refugees hungary", '"european union"', "refug*"):
                body = service.search(SearchRequest(q=q, size=20))
                out.append(([(r["id"], r["score"]) for r in body["results"]], body["facets"]))
            return out
        finally:
            service.close()

    with_arrays = answers()
    shutil.rmtree(store.current().path / POSTINGS_DIR)
    assert answers() == with_arrays


def test_the_writer_saves_arrays_for_new_and_merged_segments(tmp_path: Path) -> None:
    records = orjson.loads(CORPUS.read_bytes())[:60]
    events = [parse_wikitimes(record) for record in records]
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    for part in (events[:30], events[30:]):
        writer = ix.writer(codec=EventCodec())
        for event in part:
            writer.add_document(**document(event))
        writer.commit(merge=False)
    with ix.searcher() as searcher:
        first = {r.segment().segment_id() for r, _ in searcher.reader().leaf_readers()}
    assert len(first) == 2
    assert {p.name for p in (tmp_path / POSTINGS_DIR).iterdir()} == first

    ix.writer(codec=EventCodec()).commit(optimize=True)
    with ix.searcher() as searcher:
        [(reader, _)] = searcher.reader().leaf_readers()
        merged = reader.segment().segment_id()
        arrays = SegmentPostings.open(tmp_path, merged)
        assert arrays is not None
        assert arrays.has_positions
        assert _check_every_term(arrays, reader) > 1_000


def test_phrases_on_position_arrays_equal_phrases_read_from_whoosh(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    jobs.rebuild(store, [CORPUS, DEMO_DIR], keep=0, processes=2)
    records = orjson.loads(CORPUS.read_bytes())
    events = [parse_wikitimes(record) for record in records]
    names = sorted({name for event in events for name in event.entities if " " in name})
    pairs = sorted({" ".join(event.title.split()[i : i + 2]) for event in events for i in (0, 3)})
    phrases = [f'"{text}"' for text in [*names[:150], *pairs[:150]]]
    phrases += ['"the united nations"', 'entity:"bashar al-assad"', 'title:"prime minister"']

    def answers() -> list[object]:
        service = SearchService(Config.from_env({}, index_dir=tmp_path))
        try:
            out = []
            for q in phrases:
                body = service.search(SearchRequest(q=q, size=50, expand=False))
                out.append((q, body["total"], [r["id"] for r in body["results"]]))
            return out
        finally:
            service.close()

    on_arrays = answers()
    assert sum(1 for _, total, _ in on_arrays if total) > 100
    generation = store.current().path
    removed = 0
    for directory in (generation / POSTINGS_DIR).iterdir():
        for name in ("positions.npy", "pstarts.npy"):
            (directory / name).unlink()
            removed += 1
    assert removed
    assert answers() == on_arrays
