"""Per-segment columnar data for facets and date sorting, as numpy arrays.

A whoosh segment never changes once written (deletions are kept apart), so its
arrays are computed once, on first use, and cached per process under the
segment's id.  A new generation or an incremental write brings new segments and
so new cache entries; entries of segments no longer read are dropped when a
newer snapshot is built.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from search.postings import read_lengths
from search.schema import FACET_FIELDS

__all__ = ["ColumnCache", "FacetColumn", "SegmentColumns", "SnapshotColumns"]

IntArray = npt.NDArray[np.int64]
_SIGN_SHIFT = 1 << 31


@dataclass(frozen=True)
class FacetColumn:
    """The values of one facet field in one segment, per document (CSR layout)."""

    values: list[str]  # segment-local value ordinals -> value
    offsets: IntArray  # document d has ordinals ords[offsets[d]:offsets[d + 1]]
    ords: IntArray

    def ordinals_of(self, docs: IntArray) -> IntArray:
        """The value ordinals of every document in ``docs`` (segment-local docnums)."""
        starts = self.offsets[docs]
        lengths = self.offsets[docs + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        # Positions start..start+length of each document, laid end to end.
        shifts = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        result: IntArray = self.ords[np.arange(total, dtype=np.int64) + shifts]
        return result


@dataclass(frozen=True)
class SegmentColumns:
    """All columnar data of one segment.  Field lengths are read on first use."""

    doc_count: int
    days: IntArray
    facets: dict[str, FacetColumn] = field(default_factory=dict)
    lengths: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)


def _read_days(reader: Any, doc_count: int) -> IntArray:
    if doc_count == 0:
        return np.zeros(0, dtype=np.int64)
    column = reader.column_reader("date", translate=False)
    raw = getattr(column, "_dbfile", None)
    if raw is not None and hasattr(column, "_basepos") and column._count == doc_count:
        # Fixed-width big-endian ints in whoosh's sortable form (signed value + 2**31):
        # read the whole column at once.
        data = raw.get(column._basepos, doc_count * 4)
        return np.frombuffer(data, dtype=">u4").astype(np.int64) - _SIGN_SHIFT
    values = (column[d] for d in range(doc_count))
    return np.fromiter(values, dtype=np.int64, count=doc_count) - _SIGN_SHIFT


def _read_facet(reader: Any, fieldname: str, doc_count: int) -> FacetColumn:
    values: list[str] = []
    doc_parts: list[IntArray] = []
    ord_parts: list[IntArray] = []
    for term in reader.lexicon(fieldname):
        docs = np.fromiter(reader.postings(fieldname, term).all_ids(), dtype=np.int64)
        ord_parts.append(np.full(len(docs), len(values), dtype=np.int64))
        doc_parts.append(docs)
        values.append(term.decode("utf-8"))
    if values:
        docs = np.concatenate(doc_parts)
        ords = np.concatenate(ord_parts)
        order = np.argsort(docs, kind="stable")
        docs, ords = docs[order], ords[order]
    else:
        docs = ords = np.zeros(0, dtype=np.int64)
    offsets = np.zeros(doc_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(docs, minlength=doc_count), out=offsets[1:])
    return FacetColumn(values, offsets, ords)


def read_segment(reader: Any) -> SegmentColumns:
    """Compute a segment's columns from its column file and postings."""
    doc_count = reader.doc_count_all()
    return SegmentColumns(
        doc_count=doc_count,
        days=_read_days(reader, doc_count),
        facets={
            name: _read_facet(reader, fieldname, doc_count)
            for name, fieldname in FACET_FIELDS.items()
        },
    )


class ColumnCache:
    """Segment columns of one process, shared by its threads (the arrays are read-only)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: dict[tuple[str, str], SegmentColumns] = {}

    def get(self, generation: str, reader: Any) -> SegmentColumns:
        key = (generation, reader.segment().segment_id())
        with self._lock:
            found = self._segments.get(key)
        if found is None:
            found = read_segment(reader)
            with self._lock:
                found = self._segments.setdefault(key, found)
        return found

    def keep_only(self, keys: set[tuple[str, str]]) -> None:
        """Forget segments no snapshot reads any more."""
        with self._lock:
            for key in list(self._segments):
                if key not in keys:
                    del self._segments[key]

    def __len__(self) -> int:
        return len(self._segments)


class SnapshotColumns:
    """The columns of every segment a searcher reads, addressed by global docnum."""

    def __init__(self, generation: str, searcher: Any, cache: ColumnCache) -> None:
        leaves = searcher.reader().leaf_readers()
        self.segment_keys = [f"{generation}/{r.segment().segment_id()}" for r, _ in leaves]
        self.keys = {(generation, r.segment().segment_id()) for r, _ in leaves}
        self.segments = [cache.get(generation, r) for r, _ in leaves]
        self.bases = np.array([base for _, base in leaves], dtype=np.int64)
        self._readers = [r for r, _ in leaves]
        self._vocab: dict[str, tuple[list[str], list[IntArray]]] = {}
        self._lock = threading.Lock()
        self._live: IntArray | None = None
        self._masks: dict[int, npt.NDArray[np.bool_] | None] = {}

    def live_mask(self, index: int) -> npt.NDArray[np.bool_] | None:
        """Which documents of segment ``index`` are not deleted; None when none is."""
        if index not in self._masks:
            reader = self._readers[index]
            mask = None
            if reader.has_deletions():
                mask = np.ones(self.segments[index].doc_count, dtype=bool)
                mask[np.fromiter(reader.deleted_docs_set, dtype=np.int64)] = False
            self._masks[index] = mask
        return self._masks[index]

    def lengths(self, index: int, fieldname: str) -> npt.NDArray[np.float64]:
        """Every document's length in a field, for segment ``index``."""
        segment = self.segments[index]
        found = segment.lengths.get(fieldname)
        if found is None:
            found = segment.lengths[fieldname] = read_lengths(self._readers[index], fieldname)
        return found

    def split(self, docs: IntArray) -> list[tuple[int, IntArray]]:
        """Sorted global docnums -> [(segment index, local docnums)]."""
        parts = []
        cuts = np.searchsorted(docs, self.bases)
        cuts = np.append(cuts, len(docs))
        for i, base in enumerate(self.bases):
            local = docs[cuts[i] : cuts[i + 1]] - base
            if len(local):
                parts.append((i, local))
        return parts

    def days(self, docs: IntArray) -> IntArray:
        """Day numbers of sorted global docnums."""
        if not len(docs):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([self.segments[i].days[local] for i, local in self.split(docs)])

    def live_docs(self) -> IntArray:
        """Every global docnum that is not deleted, sorted."""
        if self._live is None:
            parts = []
            for reader, segment, base in zip(self._readers, self.segments, self.bases, strict=True):
                local = np.arange(segment.doc_count, dtype=np.int64)
                if reader.has_deletions():
                    deleted = np.fromiter(reader.deleted_docs_set, dtype=np.int64)
                    local = np.setdiff1d(local, deleted, assume_unique=True)
                parts.append(local + base)
            self._live = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return self._live

    def _global_vocab(self, facet: str) -> tuple[list[str], list[IntArray]]:
        with self._lock:
            found = self._vocab.get(facet)
            if found is None:
                names = sorted({v for s in self.segments for v in s.facets[facet].values})
                index = {v: i for i, v in enumerate(names)}
                maps = [
                    np.array([index[v] for v in s.facets[facet].values], dtype=np.int64)
                    for s in self.segments
                ]
                found = self._vocab[facet] = (names, maps)
        return found

    def values_of(self, facet: str, docnum: int) -> list[str]:
        """The values of one facet that one document carries."""
        i = int(np.searchsorted(self.bases, docnum, side="right")) - 1
        column = self.segments[i].facets[facet]
        local = docnum - int(self.bases[i])
        ords = column.ords[column.offsets[local] : column.offsets[local + 1]]
        return [column.values[o] for o in ords]

    def facet_counts(self, facet: str, docs: IntArray) -> tuple[list[str], IntArray]:
        """Every value of a facet and how many of ``docs`` carry it."""
        names, maps = self._global_vocab(facet)
        counts = np.zeros(len(names), dtype=np.int64)
        for i, local in self.split(docs):
            ords = self.segments[i].facets[facet].ordinals_of(local)
            if len(ords):
                counts += np.bincount(maps[i][ords], minlength=len(names))
        return names, counts
