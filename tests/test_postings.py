"""The postings arrays writers save (as they write new and merged segments) hold
exactly whoosh's postings, positions and term dictionary, read through whoosh's
public API; term-hash collisions are found when the arrays are written; and a
generation whose arrays are missing is not served."""

from __future__ import annotations

import itertools
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from config import Config
from indexer import jobs
from indexer.formats.wikitimes import parse_wikitimes
from search import IndexDamaged, IndexStore, SearchRequest, SearchService
from search.event import Event
from search.postings import (
    INDEXED_FIELDS,
    LENGTH_FIELDS,
    POSITION_FIELDS,
    POSTINGS_DIR,
    PostingsCollector,
    SegmentPostings,
    term_key,
)
from search.schema import create_index, document
from search.writer_hooks import EventCodec, decode_gaps
from tests.corpus import DEMO_DIR, corpus_file
from tests.support.indexes import whoosh_searcher


def _whoosh_postings(reader: Any, fieldname: str, term: bytes) -> list[tuple[int, float]]:
    matcher = reader.postings(fieldname, term)
    found = []
    while matcher.is_active():
        found.append((matcher.id(), matcher.weight()))
        matcher.next()
    return found


def _whoosh_positions(reader: Any, fieldname: str, term: bytes) -> list[tuple[int, int]]:
    matcher = reader.postings(fieldname, term)
    found = []
    while matcher.is_active():
        found += [(matcher.id(), p) for p in matcher.value_as("positions")]
        matcher.next()
    return found


def _check_every_term(arrays: SegmentPostings, reader: Any) -> int:
    """Assert the arrays hold whoosh's postings (and positions) of every term of the
    segment, and its sorted term dictionary; returns how many terms were checked.
    The segment has no deletions (whoosh's matchers skip deleted documents)."""
    assert not reader.has_deletions()
    checked = 0
    for fieldname in INDEXED_FIELDS:
        terms = list(reader.lexicon(fieldname))
        numbers = arrays.field_terms(fieldname)
        assert [arrays.term(n) for n in numbers] == terms, fieldname
        for term in terms:
            ids, weights = arrays.get(fieldname, term)
            assert list(zip(ids.tolist(), weights.tolist(), strict=True)) == _whoosh_postings(
                reader, fieldname, term
            ), (fieldname, term)
            if fieldname in POSITION_FIELDS:
                got = list(zip(*(a.tolist() for a in arrays.places(fieldname, term)), strict=True))
                assert got == _whoosh_positions(reader, fieldname, term), (fieldname, term)
            checked += 1
    return checked


@pytest.mark.slow  # every term of the corpus, through whoosh
def test_arrays_equal_whoosh_postings_for_every_term(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    jobs.rebuild(store, [corpus_file(), DEMO_DIR], keep=0, processes=2)
    service = SearchService(Config.from_env({}, index_dir=tmp_path))
    try:
        snap = service.live.snapshot()
        checked = 0
        with whoosh_searcher(snap) as searcher:
            for segment, (reader, _) in zip(
                snap.segments, searcher.reader().leaf_readers(), strict=True
            ):
                checked += _check_every_term(segment.postings, reader)
                assert segment.postings.get("body", b"no-such-term-anywhere")[0].size == 0
        assert checked > 10_000
    finally:
        service.close()


@pytest.mark.slow  # every word of the corpus
def test_lengths_count_every_indexed_word(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    jobs.rebuild(store, [corpus_file()], keep=0)
    service = SearchService(Config.from_env({}, index_dir=tmp_path))
    try:
        snap = service.live.snapshot()
        with whoosh_searcher(snap) as searcher:
            for index, segment in enumerate(snap.segments):
                base = int(snap.bases[index])
                for local in range(0, segment.doc_count, 7):
                    stored = searcher.stored_fields(base + local)
                    event = Event.from_dict(orjson.loads(stored["event"]))
                    fields = document(event, stored.get("mentions") or [])
                    for fieldname in LENGTH_FIELDS:
                        tokens = snap.analyzer.tokens(fields.get(fieldname) or "")
                        assert segment.lengths(fieldname)[local] == len(tokens), fieldname
    finally:
        service.close()


def test_the_writer_saves_arrays_for_new_and_merged_segments(tmp_path: Path) -> None:
    records = orjson.loads(corpus_file().read_bytes())[:60]
    events = [parse_wikitimes(record) for record in records]
    ix = create_index(tmp_path, "minimal")
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
        assert merged not in first
        assert _check_every_term(SegmentPostings.open(tmp_path, merged), reader) > 1_000


def _colliding_terms(bits: int) -> list[bytes]:
    """Body terms, in sorted order, two of which share a ``bits``-bit key at salt 0."""
    seen: dict[int, bytes] = {}
    for number in itertools.count():
        term = f"w{number:06d}".encode()
        key = term_key("body", term, 0, bits)
        if key in seen:
            return sorted({*seen.values(), term})
        seen[key] = term
    raise AssertionError("unreachable")


def test_a_term_hash_collision_is_resolved_with_another_salt(tmp_path: Path) -> None:
    terms = _colliding_terms(bits=16)
    collector = PostingsCollector(key_bits=16)
    value = b"\x00\x00\x00\x00" + pickle.dumps([0])
    items = [("body", term, doc, 1.0, value) for doc, term in enumerate(terms)]
    assert list(collector.tee(items, decode_gaps)) == items
    arrays = SegmentPostings(collector.save(tmp_path, "seg"))
    assert arrays.salt > 0
    for doc, term in enumerate(terms):
        ids, _ = arrays.get("body", term)
        assert ids.tolist() == [doc], term
    assert len(np.unique(arrays.keys)) == len(terms)


def test_a_generation_without_its_arrays_is_not_served(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    jobs.rebuild(store, [DEMO_DIR], keep=0)
    for directory in (store.current().path / POSTINGS_DIR).iterdir():
        (directory / "docs.npy").unlink()
    service = SearchService(Config.from_env({}, index_dir=tmp_path))
    try:
        with pytest.raises(IndexDamaged, match=r"docs\.npy"):
            service.search(SearchRequest(q="merkel"))
    finally:
        service.close()
