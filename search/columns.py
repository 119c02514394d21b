"""Per-segment columnar data for facets, dates and scoring, as numpy arrays.

A whoosh segment never changes once written (deletions are kept apart), so its
arrays are computed once and kept twice: on disk beside the index, as
``columns/<segment id>.npz`` (the writers compute them when they commit, so no
worker pays for it), and in each process's memory under the segment's id.  A
new generation or an incremental write brings new segments and so new entries;
entries of segments no longer read are dropped when a newer snapshot is built.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from search.dates import bucket_of_days
from search.postings import read_lengths, read_postings
from search.schema import DEFAULT_FIELDS, FACET_FIELDS
from search.termindex import SegmentPostings

__all__ = ["ColumnCache", "FacetColumn", "SegmentColumns", "SnapshotColumns"]

IntArray = npt.NDArray[np.int64]


@dataclass
class FacetColumn:
    """The values of one facet field in one segment, per document (CSR layout)."""

    values: list[str]  # segment-local value ordinals -> value
    offsets: IntArray  # document d has ordinals ords[offsets[d]:offsets[d + 1]]
    ords: IntArray
    _rows: IntArray | None = None  # the document of each entry of ords

    def counts(self, docs: IntArray) -> IntArray:
        """How many of ``docs`` (segment-local, sorted) carry each value."""
        size = len(self.offsets) - 1
        if len(docs) * 3 < size:
            # Few documents: gather their values.
            picked = self.ordinals_of(docs)
        else:
            # Many: one pass over every entry, keeping those of the documents wanted.
            if self._rows is None:
                self._rows = np.repeat(np.arange(size, dtype=np.int64), np.diff(self.offsets))
            wanted = np.zeros(size, dtype=bool)
            wanted[docs] = True
            picked = self.ords[wanted[self._rows]]
        return np.bincount(picked, minlength=len(self.values))

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
    buckets: dict[str, IntArray] = field(default_factory=dict)  # by interval, on first use
    postings: SegmentPostings | None = None  # the arrays writers saved, memory-mapped


def _read_days(reader: Any, doc_count: int) -> IntArray:
    if doc_count == 0:
        return np.zeros(0, dtype=np.int64)
    column = reader.column_reader("date", translate=False)
    raw = getattr(column, "_dbfile", None)
    if raw is not None and hasattr(column, "_basepos") and column._count == doc_count:
        # Fixed-width big-endian signed ints: read the whole column at once.
        data = raw.get(column._basepos, doc_count * 4)
        return np.frombuffer(data, dtype=">i4").astype(np.int64)
    values = (column[d] for d in range(doc_count))
    return np.fromiter(values, dtype=np.int64, count=doc_count)


def _read_facet(
    reader: Any, fieldname: str, doc_count: int, postings: SegmentPostings | None
) -> FacetColumn:
    values: list[str] = []
    doc_parts: list[IntArray] = []
    ord_parts: list[IntArray] = []
    for term in reader.lexicon(fieldname):
        # Deleted documents included.
        if postings is not None:
            docs = postings.get(fieldname, term)[0]
        else:
            docs = read_postings(reader, fieldname, term)[0]
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


def read_segment(reader: Any, postings: SegmentPostings | None = None) -> SegmentColumns:
    """Compute a segment's columns from its column files and postings (read from
    the segment's postings arrays when given)."""
    doc_count = reader.doc_count_all()
    return SegmentColumns(
        doc_count=doc_count,
        days=_read_days(reader, doc_count),
        facets={
            name: _read_facet(reader, fieldname, doc_count, postings)
            for name, fieldname in FACET_FIELDS.items()
        },
        lengths={name: read_lengths(reader, name) for name in DEFAULT_FIELDS},
    )


COLUMNS_DIR = "columns"


def _file(generation_path: Path, segment_id: str) -> Path:
    return generation_path / COLUMNS_DIR / f"{segment_id}.npz"


def save_segment(path: Path, columns: SegmentColumns) -> None:
    """Write a segment's columns, atomically (a reader sees all of the file or none)."""
    arrays: dict[str, Any] = {
        "doc_count": np.array([columns.doc_count]),
        "days": columns.days.astype(np.int32),
    }
    for name, facet in columns.facets.items():
        arrays[f"facet.{name}.values"] = np.frombuffer(
            json.dumps(facet.values, ensure_ascii=False).encode(), dtype=np.uint8
        )
        arrays[f"facet.{name}.offsets"] = facet.offsets
        arrays[f"facet.{name}.ords"] = facet.ords.astype(np.int32)
    for name, lengths in columns.lengths.items():
        arrays[f"length.{name}"] = lengths.astype(np.float32)
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)


def load_segment(path: Path) -> SegmentColumns:
    """Read what ``save_segment`` wrote."""
    with np.load(path) as data:
        facets = {}
        for name in FACET_FIELDS:
            values = json.loads(data[f"facet.{name}.values"].tobytes().decode())
            facets[name] = FacetColumn(
                values,
                data[f"facet.{name}.offsets"].astype(np.int64),
                data[f"facet.{name}.ords"].astype(np.int64),
            )
        return SegmentColumns(
            doc_count=int(data["doc_count"][0]),
            days=data["days"].astype(np.int64),
            facets=facets,
            lengths={
                key.split(".", 1)[1]: data[key].astype(np.float64)
                for key in data.files
                if key.startswith("length.")
            },
        )


def warm(generation_path: Path, searcher: Any) -> None:
    """Compute and save the columns of every segment that has none, and remove the
    files of segments the index no longer has (merged away).  Writers call it after
    committing, so that workers find the columns ready."""
    wanted = set()
    for reader, _ in searcher.reader().leaf_readers():
        segment_id = reader.segment().segment_id()
        wanted.add(f"{segment_id}.npz")
        path = _file(generation_path, segment_id)
        if not path.exists():
            postings = SegmentPostings.open(generation_path, segment_id)
            save_segment(path, read_segment(reader, postings))
    directory = generation_path / COLUMNS_DIR
    if directory.is_dir():
        for old in directory.iterdir():
            if old.name not in wanted and not old.name.startswith("."):
                old.unlink(missing_ok=True)


class ColumnCache:
    """Segment columns of one process, shared by its threads (the arrays are read-only)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._segments: dict[tuple[str, str], SegmentColumns] = {}

    def get(self, generation_path: Path, reader: Any) -> SegmentColumns:
        segment_id = reader.segment().segment_id()
        key = (generation_path.name, segment_id)
        with self._lock:
            found = self._segments.get(key)
        if found is None:
            path = _file(generation_path, segment_id)
            postings = SegmentPostings.open(generation_path, segment_id)
            try:
                found = load_segment(path)
            except (OSError, KeyError, ValueError):
                # Not warmed (or a file of an older layout): compute, and keep it for
                # the other workers.
                found = read_segment(reader, postings)
                with contextlib.suppress(OSError):  # a read-only index serves from memory
                    save_segment(path, found)
            found = dataclasses.replace(found, postings=postings)
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

    def __init__(self, generation_path: Path, searcher: Any, cache: ColumnCache) -> None:
        generation = generation_path.name
        leaves = searcher.reader().leaf_readers()
        self.segment_keys = [f"{generation}/{r.segment().segment_id()}" for r, _ in leaves]
        self.keys = {(generation, r.segment().segment_id()) for r, _ in leaves}
        self.segments = [cache.get(generation_path, r) for r, _ in leaves]
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
            counts[maps[i]] += self.segments[i].facets[facet].counts(local)
        return names, counts

    def buckets(self, docs: IntArray, interval: str) -> IntArray:
        """Histogram bucket numbers (``dates.bucket_of_days``) of sorted global docnums."""
        if not len(docs):
            return np.zeros(0, dtype=np.int64)
        parts = []
        for i, local in self.split(docs):
            segment = self.segments[i]
            found = segment.buckets.get(interval)
            if found is None:
                found = segment.buckets[interval] = bucket_of_days(segment.days, interval)
            parts.append(found[local])
        return np.concatenate(parts)
