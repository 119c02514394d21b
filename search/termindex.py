"""A segment's postings as plain arrays on disk, memory-mapped by every worker.

whoosh keeps postings in pickled, compressed blocks that are decoded in Python
at every read: at a million events a frequent term costs tens of milliseconds.
As a writer commits, each new segment's postings are also written here, once,
as flat numpy files that readers map into memory (shared between the workers
through the page cache) and slice in microseconds:

    postings/<segment id>/keys.npy     sorted 64-bit hashes of (field, term)
    postings/<segment id>/starts.npy   where each term's postings start
    postings/<segment id>/counts.npy   how many postings it has
    postings/<segment id>/docs.npy     document numbers (deleted ones included)
    postings/<segment id>/weights.npy  term frequencies
    postings/<segment id>/pstarts.npy  where each term's word positions start
                                       (-1 for fields without positions)
    postings/<segment id>/positions.npy  the positions of each posting in turn,
                                       as many as its frequency

A 64-bit hash stands for the term: two different terms of one segment sharing a
hash (odds about 10⁻⁸ for a segment of a million terms) would share postings.
Phrases are matched on the positions with array operations; whoosh keeps its
own copy, read where the arrays are missing.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import threading
from array import array
from collections.abc import Iterable, Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from search.postings import read_postings

__all__ = [
    "INDEXED_FIELDS",
    "POSITION_FIELDS",
    "PostingsCollector",
    "SegmentPostings",
    "build_segment_postings",
    "term_key",
]

#: The fields queries read postings of (the id and related fields go through whoosh).
INDEXED_FIELDS = (
    "title",
    "body",
    "entity",
    "source",
    "entity_value",
    "source_value",
    "source_domain",
    "category",
    "story",
)
#: The fields whose word positions are kept (whoosh's Positions format).
POSITION_FIELDS = frozenset({"title", "body", "entity", "source"})
POSTINGS_DIR = "postings"
_PARTS = ("keys", "starts", "counts", "docs", "weights")
_NO_POSITIONS = -1


def term_key(fieldname: str, term: bytes) -> int:
    """The 64-bit key of a term of a field."""
    digest = hashlib.blake2b(fieldname.encode() + b"\x00" + term, digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _directory(generation_path: Path, segment_id: str) -> Path:
    return generation_path / POSTINGS_DIR / segment_id


def _save(
    target: Path,
    keys: list[int],
    counts: npt.NDArray[np.int64],
    docs: npt.NDArray[np.int32],
    weights: npt.NDArray[np.float32],
    positions: tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]] | None = None,
) -> None:
    """Write the arrays atomically: a directory renamed into place once complete.
    ``positions`` are each term's start in the positions array, and that array."""
    starts = np.zeros(len(counts), dtype=np.int64)
    if len(counts):
        np.cumsum(counts[:-1], out=starts[1:])
    order = np.argsort(np.array(keys, dtype=np.uint64), kind="stable")
    arrays: dict[str, npt.NDArray[Any]] = {
        "keys": np.array(keys, dtype=np.uint64)[order],
        "starts": starts[order],
        "counts": counts[order],
        "docs": docs,
        "weights": weights,
    }
    if positions is not None:
        arrays["pstarts"] = positions[0][order]
        arrays["positions"] = positions[1]
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name, values in arrays.items():
        np.save(tmp / f"{name}.npy", values)
    try:
        tmp.rename(target)
    except OSError:  # another process got there first: its copy is the same
        shutil.rmtree(tmp, ignore_errors=True)


class PostingsCollector:
    """Gathers a segment's postings while whoosh writes them (in the writer process,
    so that parallel writers do it in parallel), then saves them as arrays.

    whoosh hands its field writer every posting once, sorted by field, term and
    document: ``tee`` passes them through and keeps those of INDEXED_FIELDS, with
    the word positions of POSITION_FIELDS (whoosh's Positions format encodes them
    as a 4-byte count and a pickled list of gaps)."""

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.counts: list[int] = []
        self.pstarts: list[int] = []
        self.docs = array("i")
        self.weights = array("f")
        self.positions = array("i")
        # False when a posting's frequency is not its number of positions (a boosted
        # token): readers then fall back to whoosh for phrases.
        self.positions_usable = True

    def tee(self, items: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """Yield ``items`` (fieldname, term, docnum, weight, value) unchanged."""
        wanted = frozenset(INDEXED_FIELDS)
        keys, counts, pstarts = self.keys, self.counts, self.pstarts
        add_doc, add_weight = self.docs.append, self.weights.append
        positions = self.positions
        add_positions = positions.extend
        field, text, count, placed = "", b"", 0, False
        for item in items:
            if item[0] in wanted:
                if item[1] != text or item[0] != field:
                    if count:
                        keys.append(term_key(field, text))
                        counts.append(count)
                    field, text, count = item[0], item[1], 0
                    placed = field in POSITION_FIELDS
                    pstarts.append(len(positions) if placed else _NO_POSITIONS)
                add_doc(item[2])
                add_weight(item[3])
                count += 1
                if placed:
                    encoded = item[4][4:]
                    gaps = pickle.loads(encoded if encoded[-1:] == b"." else encoded + b".")
                    if len(gaps) != item[3]:
                        self.positions_usable = False
                    add_positions(accumulate(gaps))
            yield item
        if count:
            keys.append(term_key(field, text))
            counts.append(count)

    def save(self, generation_path: Path, segment_id: str) -> Path:
        """Write the arrays of segment ``segment_id``; returns their directory."""
        target = _directory(generation_path, segment_id)
        positions = None
        if self.positions_usable:
            positions = (
                np.array(self.pstarts, dtype=np.int64),
                np.frombuffer(self.positions, dtype=np.int32).copy(),
            )
        _save(
            target,
            self.keys,
            np.array(self.counts, dtype=np.int64),
            np.frombuffer(self.docs, dtype=np.int32).copy(),
            np.frombuffer(self.weights, dtype=np.float32).copy(),
            positions,
        )
        return target


def build_segment_postings(generation_path: Path, reader: Any) -> Path:
    """Write one segment's postings as arrays, read back from whoosh (for segments
    whose writer did not collect them); returns the directory."""
    target = _directory(generation_path, reader.segment().segment_id())
    if target.is_dir():
        return target
    keys: list[int] = []
    doc_parts: list[npt.NDArray[np.int32]] = []
    weight_parts: list[npt.NDArray[np.float32]] = []
    for fieldname in INDEXED_FIELDS:
        if fieldname not in reader.schema:
            continue
        for term in reader.lexicon(fieldname):
            ids, weights = read_postings(reader, fieldname, term)
            keys.append(term_key(fieldname, term))
            doc_parts.append(ids.astype(np.int32))
            weight_parts.append(weights.astype(np.float32))
    _save(
        target,
        keys,
        np.array([len(p) for p in doc_parts], dtype=np.int64),
        np.concatenate(doc_parts) if doc_parts else np.zeros(0, np.int32),
        np.concatenate(weight_parts) if weight_parts else np.zeros(0, np.float32),
    )
    return target


def remove_unused(generation_path: Path, segment_ids: set[str]) -> None:
    """Remove the arrays of segments the index no longer has (merged away)."""
    directory = generation_path / POSTINGS_DIR
    if directory.is_dir():
        for entry in directory.iterdir():
            if entry.name not in segment_ids and not entry.name.startswith("."):
                shutil.rmtree(entry, ignore_errors=True)


class SegmentPostings:
    """One segment's postings, memory-mapped."""

    def __init__(self, directory: Path) -> None:
        arrays = {name: np.load(directory / f"{name}.npy", mmap_mode="r") for name in _PARTS}
        self.keys = arrays["keys"]
        self.starts = arrays["starts"]
        self.counts = arrays["counts"]
        self.docs = arrays["docs"]
        self.weights = arrays["weights"]
        self.pstarts: npt.NDArray[np.int64] | None = None
        self.positions: npt.NDArray[np.int32] | None = None
        if (directory / "positions.npy").exists():
            self.pstarts = np.load(directory / "pstarts.npy", mmap_mode="r")
            self.positions = np.load(directory / "positions.npy", mmap_mode="r")

    @classmethod
    def open(cls, generation_path: Path, segment_id: str) -> SegmentPostings | None:
        """The segment's arrays, or None when they were not written."""
        directory = _directory(generation_path, segment_id)
        if not (directory / "weights.npy").exists():
            return None
        try:
            return cls(directory)
        except (OSError, ValueError):
            return None

    def _find(self, fieldname: str, term: bytes) -> int | None:
        key = np.uint64(term_key(fieldname, term))
        at = int(np.searchsorted(self.keys, key))
        if at >= len(self.keys) or self.keys[at] != key:
            return None
        return at

    def get(
        self, fieldname: str, term: bytes
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The term's document numbers and weights (empty when it is not here)."""
        at = self._find(fieldname, term)
        if at is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        start, count = int(self.starts[at]), int(self.counts[at])
        return (
            np.asarray(self.docs[start : start + count], dtype=np.int64),
            np.asarray(self.weights[start : start + count], dtype=np.float64),
        )

    @property
    def has_positions(self) -> bool:
        """Whether word positions were saved (else phrases read whoosh)."""
        return self.positions is not None

    def places(
        self, fieldname: str, term: bytes
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Every (document, word position) of the term, as two aligned arrays sorted
        by document then position (empty when it is not here)."""
        at = self._find(fieldname, term)
        empty = np.zeros(0, dtype=np.int64)
        if at is None or self.pstarts is None or self.positions is None:
            return empty, empty
        pstart = int(self.pstarts[at])
        if pstart == _NO_POSITIONS:
            return empty, empty
        start, count = int(self.starts[at]), int(self.counts[at])
        frequencies = np.asarray(self.weights[start : start + count], dtype=np.int64)
        docs = np.repeat(np.asarray(self.docs[start : start + count], dtype=np.int64), frequencies)
        places = np.asarray(self.positions[pstart : pstart + len(docs)], dtype=np.int64)
        return docs, places
