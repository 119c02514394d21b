"""Per-segment columns for dates and facets, as numpy arrays.

A whoosh segment never changes once written (deletions are kept apart), so its
columns are computed once, by the writer that commits it, and saved beside the
index as ``columns/<segment id>.npz``:

- ``days``: every document's day number (``date.toordinal()``), shape (documents,);
- per facet (entity, source, category), the values the segment's documents carry,
  in CSR layout: document d carries ``values[ords[offsets[d]:offsets[d + 1]]]``;
- ``phrases``: the title phrases of every document (search/suggest.py's
  ``title_phrases``), in the same layout, which writers count the suggestion table
  from (``load_phrases``); readers never load them.

Readers load them once per process and share them between threads.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from search.errors import IndexDamaged
from search.postings import SegmentPostings
from search.schema import FACET_FIELDS

__all__ = [
    "COLUMNS_DIR",
    "FacetColumn",
    "SegmentColumns",
    "facet_column",
    "fold_column",
    "load",
    "load_phrases",
    "save",
    "shown_counts",
    "value_column",
    "value_counts",
]

IntArray = npt.NDArray[np.int64]
COLUMNS_DIR = "columns"


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
    """The columns of one segment."""

    doc_count: int
    days: IntArray
    facets: dict[str, FacetColumn] = field(default_factory=dict)
    buckets: dict[str, IntArray] = field(default_factory=dict)  # by interval, on first use
    phrases: FacetColumn | None = None  # the documents' title phrases (writers only)


def facet_column(postings: SegmentPostings, fieldname: str, doc_count: int) -> FacetColumn:
    """A facet field's column, from the segment's postings (deleted documents included)."""
    terms = postings.field_terms(fieldname)
    values = [postings.term(t).decode("utf-8") for t in terms]
    if len(terms):
        counts = np.asarray(postings.counts[terms.start : terms.stop], dtype=np.int64)
        first = int(postings.starts[terms.start])
        docs = np.asarray(postings.docs[first : first + int(counts.sum())], dtype=np.int64)
        ords = np.repeat(np.arange(len(terms), dtype=np.int64), counts)
        order = np.argsort(docs, kind="stable")
        docs, ords = docs[order], ords[order]
    else:
        docs = ords = np.zeros(0, dtype=np.int64)
    offsets = np.zeros(doc_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(docs, minlength=doc_count), out=offsets[1:])
    return FacetColumn(values, offsets, ords)


def value_column(values: list[str], rows: Sequence[Sequence[int]]) -> FacetColumn:
    """A column from each document's value ordinals (``rows[d]``: ordinals into
    ``values``)."""
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, rows), dtype=np.int64, count=len(rows)), out=offsets[1:])
    ords = np.fromiter((o for row in rows for o in row), dtype=np.int64, count=int(offsets[-1]))
    return FacetColumn(values, offsets, ords)


def fold_column(column: FacetColumn, key: Callable[[str], str]) -> tuple[FacetColumn, IntArray]:
    """The column by ``key`` of its values (values that filter together, such as
    ``AccuWeather`` and ``Accuweather``, become one): its values are the sorted
    keys, each document carries a key once.  Also returns each value's key
    ordinal."""
    keys = sorted({key(v) for v in column.values})
    ordinal = {k: i for i, k in enumerate(keys)}
    groups = np.array([ordinal[key(v)] for v in column.values], dtype=np.int64)
    size = len(column.offsets) - 1
    if not len(column.ords):
        return FacetColumn(keys, column.offsets, column.ords), groups
    rows = np.repeat(np.arange(size, dtype=np.int64), np.diff(column.offsets))
    # One (document, key) pair per document and key, in document order.
    pairs = np.unique(rows * len(keys) + groups[column.ords])
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(pairs // len(keys), minlength=size), out=offsets[1:])
    return FacetColumn(keys, offsets, pairs % len(keys)), groups


def value_counts(parts: Iterable[tuple[FacetColumn, IntArray]]) -> dict[str, int]:
    """Value -> how many of the documents given carry it, over ``parts``: (a
    segment's column, local docnums of the documents wanted, sorted)."""
    found: dict[str, int] = {}
    get = found.get
    for column, docs in parts:
        counts = column.counts(docs)
        for i in np.flatnonzero(counts).tolist():
            value = column.values[i]
            found[value] = get(value, 0) + int(counts[i])
    return found


def shown_counts(
    parts: Iterable[tuple[FacetColumn, IntArray]], key: Callable[[str], str]
) -> list[tuple[str, int]]:
    """The values of ``parts`` (as in ``value_counts``) grouped by ``key``: each group
    in the form it is shown in (its most common written form among the documents
    given; of equals, the first in code-point order) with how many of them carry it
    (a document with two written forms counts once), groups none carries left out."""
    groups: dict[str, int] = {}
    written: dict[str, int] = {}
    for column, docs in parts:
        folded, _ = fold_column(column, key)
        counts = folded.counts(docs)
        for i in np.flatnonzero(counts).tolist():
            group = folded.values[i]
            groups[group] = groups.get(group, 0) + int(counts[i])
        counts = column.counts(docs)
        for i in np.flatnonzero(counts).tolist():
            value = column.values[i]
            written[value] = written.get(value, 0) + int(counts[i])
    shown: dict[str, tuple[str, int]] = {}
    for value in sorted(written):
        group = key(value)
        best = shown.get(group)
        if best is None or written[value] > best[1]:
            shown[group] = (value, written[value])
    return [(shown[group][0], count) for group, count in sorted(groups.items())]


def path_of(generation_path: Path, segment_id: str) -> Path:
    """Where a segment's columns are kept."""
    return generation_path / COLUMNS_DIR / f"{segment_id}.npz"


def _arrays(prefix: str, column: FacetColumn) -> dict[str, Any]:
    return {
        f"{prefix}.values": np.frombuffer(
            json.dumps(column.values, ensure_ascii=False).encode(), dtype=np.uint8
        ),
        f"{prefix}.offsets": column.offsets,
        f"{prefix}.ords": column.ords.astype(np.int32),
    }


def _column(data: Any, prefix: str) -> FacetColumn:
    return FacetColumn(
        json.loads(data[f"{prefix}.values"].tobytes().decode()),
        data[f"{prefix}.offsets"].astype(np.int64),
        data[f"{prefix}.ords"].astype(np.int64),
    )


def save(path: Path, columns: SegmentColumns) -> None:
    """Write a segment's columns, atomically (a reader sees all of the file or none)."""
    arrays: dict[str, Any] = {
        "doc_count": np.array([columns.doc_count]),
        "days": columns.days.astype(np.int32),
    }
    for name, facet in columns.facets.items():
        arrays.update(_arrays(f"facet.{name}", facet))
    if columns.phrases is not None:
        arrays.update(_arrays("phrases", columns.phrases))
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, path)


def load(path: Path) -> SegmentColumns:
    """Read what ``save`` wrote; IndexDamaged when it is missing or unreadable."""
    try:
        with np.load(path) as data:
            facets = {name: _column(data, f"facet.{name}") for name in FACET_FIELDS}
            return SegmentColumns(
                doc_count=int(data["doc_count"][0]),
                days=data["days"].astype(np.int64),
                facets=facets,
            )
    except OSError as exc:
        raise IndexDamaged(f"columns/{path.name} cannot be read ({exc.strerror})") from None
    except (KeyError, ValueError):  # its text may quote the file: named, not shown
        raise IndexDamaged(f"columns/{path.name} does not hold a segment's columns") from None


def load_phrases(path: Path) -> FacetColumn:
    """The title phrases ``save`` wrote with a segment's columns; IndexDamaged when the
    file is missing, unreadable or has none."""
    try:
        with np.load(path) as data:
            return _column(data, "phrases")
    except OSError as exc:
        raise IndexDamaged(f"columns/{path.name} cannot be read ({exc.strerror})") from None
    except (KeyError, ValueError):  # its text may quote the file: named, not shown
        raise IndexDamaged(f"columns/{path.name} does not hold a segment's phrases") from None
