"""What a process reads of one commit of the live generation: its segments, and the
index-wide statistics scoring needs.  Immutable once opened, shared by every thread.

A segment (``Segment``) is read once per process and shared by its threads: its
postings arrays, stored events (both memory-mapped) and its columns never change.
A ``Snapshot`` adds what one commit decides: which segments are live, which of
their documents are deleted, and the statistics over all of them (document count,
average field lengths, document frequencies), and the per-commit tables built from
them (facet vocabularies, folded filter terms).  ``warm()`` builds those tables
before the snapshot is served; what is computed later (a term's document
frequency) goes into bounded caches whose single operations are atomic, where a
race between two threads only repeats work.  No whoosh object is held: whoosh is
read once, when the snapshot is opened, for the commit's segments and deletions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from search.columns import FacetColumn, SegmentColumns, fold_column, load, path_of
from search.dates import bucket_of_days
from search.postings import LENGTH_FIELDS, SegmentPostings, segment_directory
from search.schema import FACET_FIELDS
from search.store import Generation, Record
from search.stored import StoredEvents
from search.text import Analyzer, fold

__all__ = ["Segment", "SegmentCache", "Snapshot", "facet_key"]

T = TypeVar("T")
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_CACHED_FREQUENCIES = 200_000
#: The fields filters look values up in (``folded_terms``), warmed with the snapshot.
FILTER_FIELDS = ("entity_value", "source_value", "source_domain", "category")


def facet_key(value: str) -> str:
    """The form facet values are compared in, as filters compare them (case and
    accents ignored): values with one key filter together and count together."""
    return fold(value)


@dataclass
class Segment:
    """One segment's postings, stored events and columns.  Read-only once built."""

    id: str
    key: str  # "<generation>/<segment id>": unique across generations
    postings: SegmentPostings
    columns: SegmentColumns
    stored: StoredEvents
    _lengths: dict[str, FloatArray] = field(default_factory=dict)
    _folded: dict[str, tuple[FacetColumn, IntArray]] = field(default_factory=dict)

    @property
    def doc_count(self) -> int:
        return self.columns.doc_count

    def lengths(self, fieldname: str) -> FloatArray:
        """Every document's length of a field, in words."""
        found = self._lengths.get(fieldname)
        if found is None:
            found = self._lengths[fieldname] = self.postings.lengths(fieldname, self.doc_count)
        return found

    def folded(self, facet: str) -> tuple[FacetColumn, IntArray]:
        """The facet's column by folded value (``facet_key``), and each exact value's
        folded-value ordinal (columns.fold_column)."""
        found = self._folded.get(facet)
        if found is None:
            found = self._folded[facet] = fold_column(self.columns.facets[facet], facet_key)
        return found

    def total_length(self, fieldname: str) -> float:
        """The sum of every document's length of a field (deleted ones included)."""
        return float(self.lengths(fieldname).sum())


class SegmentCache:
    """The segments of one process, shared by its threads, by generation and segment id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: dict[str, Segment] = {}

    def get(self, generation: Generation, segment_id: str) -> Segment:
        """The segment, read on first use; IndexDamaged when its files cannot be read."""
        key = f"{generation.name}/{segment_id}"
        with self._lock:
            found = self._segments.get(key)
        if found is None:
            found = Segment(
                segment_id,
                key,
                SegmentPostings.open(generation.path, segment_id),
                load(path_of(generation.path, segment_id)),
                StoredEvents(segment_directory(generation.path, segment_id)),
            )
            with self._lock:
                found = self._segments.setdefault(key, found)
        return found

    def keep_only(self, keys: set[str]) -> None:
        """Forget segments no snapshot reads any more."""
        with self._lock:
            for key in list(self._segments):
                if key not in keys:
                    del self._segments[key]

    def held(self) -> set[str]:
        """The keys (``<generation>/<segment id>``) of the segments held."""
        with self._lock:
            return set(self._segments)

    def __len__(self) -> int:
        return len(self._segments)


class Snapshot:
    """One commit of a generation, shared by every thread of the process.

    Document numbers are global: segment i's documents are ``bases[i]`` to
    ``bases[i] + segments[i].doc_count - 1``.  ``record`` is the generation's record
    of the commit, as checked when the snapshot was opened (None only for a writer's
    own snapshot of a commit not recorded yet).  ``extras`` holds what the service
    builds per commit (its suggestion table, mention finder, name index and speller),
    set once while the snapshot is warmed, before it is served.
    """

    def __init__(
        self,
        generation: Generation,
        segments: list[Segment],
        deleted: list[frozenset[int]],
        version: int,
        record: Record | None = None,
        stemmer: str | None = None,
    ) -> None:
        """``stemmer``: the one the generation was built with, when ``record`` (which
        says it) is None."""
        self.generation = generation
        self.extras: Any = None
        #: How the generation's text was analysed: queries are analysed alike.
        if stemmer is None:
            if record is None:
                raise ValueError("a snapshot needs the generation's record or its stemmer")
            stemmer = record.stemmer
        self.analyzer = Analyzer(stemmer)
        self.segments = segments
        self.record = record
        self.version = (generation.name, version)
        counts = np.array([s.doc_count for s in segments], dtype=np.int64)
        self.bases = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.doc_count_all = int(counts.sum())
        self._masks: list[BoolArray | None] = []
        for segment, gone in zip(segments, deleted, strict=True):
            mask = None
            if gone:
                mask = np.ones(segment.doc_count, dtype=bool)
                mask[np.fromiter(gone, dtype=np.int64, count=len(gone))] = False
            self._masks.append(mask)
        self._live: IntArray | None = None
        self._frequencies: dict[tuple[str, bytes], int] = {}
        self._averages: dict[str, float] = {}
        self._vocab: dict[str, tuple[list[str], list[str], list[IntArray]]] = {}
        self._exact: dict[str, list[str]] = {}
        self._folded: dict[str, dict[str, list[str]]] = {}
        self._computed: dict[str, Any] = {}

    def warm(self) -> None:
        """Build the per-commit tables a search reads (live documents, statistics,
        facet vocabularies, filter terms), so that no request pays for them."""
        self.live_docs()
        for name in LENGTH_FIELDS:
            self.average_length(name)
        for facet in FACET_FIELDS:
            self._keys(facet)
            self.facet_values(facet)
        for name in FILTER_FIELDS:
            self.folded_terms(name)

    def computed(self, key: str, build: Callable[[], T]) -> T:
        """What ``build`` computes from this commit, computed once and kept with the
        snapshot (``key`` names it, by the module that owns it)."""
        if key not in self._computed:
            self._computed[key] = build()
        found: T = self._computed[key]
        return found

    @property
    def keys(self) -> set[str]:
        """The cache keys of the segments this snapshot reads."""
        return {s.key for s in self.segments}

    def sidecar(self, name: str) -> Path:
        """The file holding sidecar table ``name`` (``suggest.bin``) for this commit."""
        if self.record is None:
            raise ValueError("a snapshot of an unrecorded commit has no sidecar tables")
        return self.generation.path / self.record.sidecars[name]

    # Documents

    def live_mask(self, index: int) -> BoolArray | None:
        """Which documents of segment ``index`` are not deleted; None when none is."""
        return self._masks[index]

    def live_docs(self) -> IntArray:
        """Every global docnum that is not deleted, sorted."""
        if self._live is None:
            parts = []
            for index, base in enumerate(self.bases.tolist()):
                parts.append(self.live_in(index) + base)
            self._live = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return self._live

    def live_in(self, index: int) -> IntArray:
        """Live segment-local docnums of segment ``index``."""
        mask = self._masks[index]
        if mask is None:
            return np.arange(self.segments[index].doc_count, dtype=np.int64)
        return np.flatnonzero(mask).astype(np.int64)

    def split(self, docs: IntArray) -> list[tuple[int, IntArray]]:
        """Sorted global docnums -> [(segment index, local docnums)]."""
        parts = []
        cuts = np.append(np.searchsorted(docs, self.bases), len(docs))
        for i, base in enumerate(self.bases.tolist()):
            local = docs[cuts[i] : cuts[i + 1]] - base
            if len(local):
                parts.append((i, local))
        return parts

    def docnum(self, event_id: str) -> int | None:
        """The live document with this id, or None."""
        docs = self.term_docs("id", event_id.encode("utf-8"))
        return int(docs[0]) if len(docs) else None

    def term_docs(self, fieldname: str, term: bytes) -> IntArray:
        """Every live global docnum with the term, sorted."""
        parts = []
        for index, segment in enumerate(self.segments):
            local, _ = segment.postings.get(fieldname, term)
            mask = self._masks[index]
            if mask is not None and len(local):
                local = local[mask[local]]
            if len(local):
                parts.append(local + int(self.bases[index]))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def has_term(self, fieldname: str, term: bytes, docnum: int) -> bool:
        """Whether document ``docnum`` has the term in the field."""
        index = int(np.searchsorted(self.bases, docnum, side="right")) - 1
        docs, _ = self.segments[index].postings.get(fieldname, term)
        local = docnum - int(self.bases[index])
        at = int(np.searchsorted(docs, local))
        return at < len(docs) and int(docs[at]) == local

    def event(self, docnum: int) -> tuple[dict[str, Any], list[str]]:
        """The stored event (canonical shape) and the entity names its text mentions."""
        index = int(np.searchsorted(self.bases, docnum, side="right")) - 1
        return self.segments[index].stored.get(docnum - int(self.bases[index]))

    # Statistics (over every document of the index, deleted ones included, as
    # whoosh counts them: they stay until their segment is merged)

    def doc_frequency(self, fieldname: str, term: bytes) -> int:
        """How many documents have the term."""
        key = (fieldname, term)
        found = self._frequencies.get(key)
        if found is None:
            found = 0
            for segment in self.segments:
                number = segment.postings.number(fieldname, term)
                if number is not None:
                    found += segment.postings.frequency(number)
            if len(self._frequencies) >= _CACHED_FREQUENCIES:
                self._frequencies.clear()
            self._frequencies[key] = found
        return found

    def average_length(self, fieldname: str) -> float:
        """The average length of a LENGTH_FIELDS field over every document, in words."""
        found = self._averages.get(fieldname)
        if found is None:
            total = sum(s.total_length(fieldname) for s in self.segments)
            found = self._averages[fieldname] = total / max(self.doc_count_all, 1)
        return found

    def lengths(self, index: int, fieldname: str) -> FloatArray:
        """Every document's length of a field in segment ``index``."""
        if fieldname not in LENGTH_FIELDS:
            raise ValueError(f"no lengths are kept for {fieldname}")
        return self.segments[index].lengths(fieldname)

    # Columns

    def days(self, docs: IntArray) -> IntArray:
        """Day numbers of sorted global docnums."""
        if not len(docs):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(
            [self.segments[i].columns.days[local] for i, local in self.split(docs)]
        )

    def buckets(self, docs: IntArray, interval: str) -> IntArray:
        """Histogram bucket numbers (``dates.bucket_of_days``) of sorted global docnums."""
        if not len(docs):
            return np.zeros(0, dtype=np.int64)
        parts = []
        for i, local in self.split(docs):
            columns = self.segments[i].columns
            found = columns.buckets.get(interval)
            if found is None:
                found = columns.buckets[interval] = bucket_of_days(columns.days, interval)
            parts.append(found[local])
        return np.concatenate(parts)

    def facet_values(self, facet: str) -> list[str]:
        """Every value of a facet in the index, as written, sorted."""
        found = self._exact.get(facet)
        if found is None:
            found = sorted({v for s in self.segments for v in s.columns.facets[facet].values})
            self._exact[facet] = found
        return found

    def values_of(self, facet: str, docnum: int) -> list[str]:
        """The values of one facet that one document carries."""
        i = int(np.searchsorted(self.bases, docnum, side="right")) - 1
        column = self.segments[i].columns.facets[facet]
        local = docnum - int(self.bases[i])
        ords = column.ords[column.offsets[local] : column.offsets[local + 1]]
        return [column.values[o] for o in ords]

    def _keys(self, facet: str) -> tuple[list[str], list[str], list[IntArray]]:
        """The facet's folded values (sorted), the form each is shown in (its most
        common written form among live documents; of equals, the first in code-point
        order), and per segment its folded-value ordinals -> global ones."""
        found = self._vocab.get(facet)
        if found is None:
            folded = [s.folded(facet) for s in self.segments]
            keys = sorted({k for column, _ in folded for k in column.values})
            index = {k: i for i, k in enumerate(keys)}
            maps = [np.array([index[k] for k in c.values], dtype=np.int64) for c, _ in folded]
            # Events carrying each written form, summed over segments, by key.
            written: dict[str, int] = {}
            key_of: dict[str, int] = {}
            for i, segment in enumerate(self.segments):
                column = segment.columns.facets[facet]
                counts = column.counts(self.live_in(i))
                groups = maps[i][folded[i][1]] if len(folded[i][1]) else folded[i][1]
                for value, count, key in zip(
                    column.values, counts.tolist(), groups.tolist(), strict=True
                ):
                    written[value] = written.get(value, 0) + count
                    key_of[value] = key
            shown = [""] * len(keys)
            best = [-1] * len(keys)
            for value in sorted(written):
                key = key_of[value]
                if written[value] > best[key]:
                    shown[key], best[key] = value, written[value]
            found = self._vocab[facet] = (keys, shown, maps)
        return found

    def facet_keys(self, facet: str) -> list[str]:
        """Every folded value of a facet (``facet_key``), sorted."""
        return self._keys(facet)[0]

    def facet_counts(self, facet: str, docs: IntArray) -> tuple[list[str], IntArray]:
        """Every folded value of a facet, in the form it is shown in, and how many of
        ``docs`` carry it (an event with two written forms of one value counts once);
        aligned with ``facet_keys``."""
        keys, shown, maps = self._keys(facet)
        counts = np.zeros(len(keys), dtype=np.int64)
        for i, local in self.split(docs):
            counts[maps[i]] += self.segments[i].folded(facet)[0].counts(local)
        return shown, counts

    def folded_terms(self, fieldname: str) -> dict[str, list[str]]:
        """A field's exact terms by folded form (``facet_key``), as filters look them up."""
        found = self._folded.get(fieldname)
        if found is None:
            terms: set[bytes] = set()
            for segment in self.segments:
                postings = segment.postings
                terms.update(postings.term(n) for n in postings.field_terms(fieldname))
            found = {}
            for term in sorted(terms):
                value = term.decode("utf-8")
                found.setdefault(facet_key(value), []).append(value)
            self._folded[fieldname] = found
        return found


def segment_ids(searcher: Any) -> list[tuple[str, frozenset[int]]]:
    """(segment id, deleted local docnums) of every segment a whoosh searcher reads,
    in docnum order (whoosh's public reader API)."""
    found = []
    for reader, _ in searcher.reader().leaf_readers():
        deleted = reader.deleted_docs_set if reader.has_deletions() else frozenset()
        found.append((reader.segment().segment_id(), frozenset(deleted)))
    return found


def open_snapshot(
    generation: Generation,
    searcher: Any,
    cache: SegmentCache,
    version: int,
    record: Record | None = None,
    stemmer: str | None = None,
) -> Snapshot:
    """The snapshot of a whoosh searcher's commit, its segments read through ``cache``.
    The searcher is read only here: it may be closed once this returns."""
    ids = segment_ids(searcher)
    segments = [cache.get(generation, segment_id) for segment_id, _ in ids]
    deleted = [gone for _, gone in ids]
    return Snapshot(generation, segments, deleted, version, record, stemmer)
