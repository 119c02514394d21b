"""Postings and field lengths of whoosh segments, read whole into numpy arrays.

whoosh hands postings out one document at a time through matchers; reading a
term's blocks directly gives its document numbers and term frequencies as
arrays, which numpy can then intersect, unite and score in bulk.  A segment
never changes once written, so its postings are cached under the segment's id
(a process-wide LRU bounded in bytes); deletions are applied per snapshot.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.util.numeric import _length_byte_cache

__all__ = ["PostingsCache", "read_lengths", "read_positions", "read_postings"]

IdArray = npt.NDArray[np.int64]
WeightArray = npt.NDArray[np.float64]

# byte -> field length, as whoosh quantises lengths into one byte per document.
_BYTE_TO_LENGTH = np.array(_length_byte_cache, dtype=np.float64)


def _leaf_matcher(matcher: Any) -> Any:
    """The on-disk matcher under whoosh's wrapper that hides deleted documents."""
    while not isinstance(matcher, W3LeafMatcher) and hasattr(matcher, "child"):
        matcher = matcher.child
    return matcher


def _read(reader: Any, fieldname: str, term: bytes, part: str) -> tuple[IdArray, list[Any]]:
    """A term's document numbers in one segment (deleted ones included), and the
    documents' ``weight`` or ``value`` (``part``) as a list of blocks."""
    if (fieldname, term) not in reader:
        return np.zeros(0, dtype=np.int64), []
    matcher = _leaf_matcher(reader.postings(fieldname, term))
    if not isinstance(matcher, W3LeafMatcher):  # another codec: the slow, general way
        ids, parts = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            parts.append(getattr(matcher, part)())
            matcher.next()
        return np.array(ids, dtype=np.int64), [parts]
    # The wrapper may have moved past deleted documents already: start over.
    matcher.reset()
    id_parts, parts = [], []
    while not matcher._atend:
        # Whole blocks at once, through the reader's own decoding.
        matcher._read_ids()
        getattr(matcher, f"_read_{part}s")()
        id_parts.append(np.asarray(matcher._ids, dtype=np.int64))
        parts.append(getattr(matcher, f"_{part}s"))
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)
    return np.concatenate(id_parts), parts


def read_postings(reader: Any, fieldname: str, term: bytes) -> tuple[IdArray, WeightArray]:
    """Document numbers (segment-local, deleted ones included) and weights (term
    frequencies) of one term in one segment."""
    ids, blocks = _read(reader, fieldname, term, "weight")
    if not blocks:
        return ids, np.zeros(0, dtype=np.float64)
    return ids, np.concatenate([np.asarray(b, dtype=np.float64) for b in blocks])


def read_positions(reader: Any, fieldname: str, term: bytes) -> tuple[IdArray, list[bytes]]:
    """Document numbers of one term in one segment and, for each, its encoded positions
    (decode with the field format's ``decode_positions``)."""
    ids, blocks = _read(reader, fieldname, term, "value")
    return ids, [value for block in blocks for value in block]


def read_lengths(reader: Any, fieldname: str) -> WeightArray:
    """Every document's length in a field (0 where the field is empty)."""
    count = reader.doc_count_all()
    perdoc = reader._perdoc
    lenfield = _lenfield(fieldname)
    if not perdoc.has_column(lenfield):
        return np.zeros(count, dtype=np.float64)
    column = perdoc.column_reader(lenfield, LENGTHS_COLUMN)
    raw = getattr(column, "_dbfile", None)
    stored = getattr(column, "_count", 0)
    if raw is not None and hasattr(column, "_basepos"):
        codes = np.zeros(count, dtype=np.uint8)
        data = raw.get(column._basepos, stored)
        codes[:stored] = np.frombuffer(data, dtype=np.uint8)
    else:
        codes = np.fromiter((column[d] for d in range(count)), dtype=np.uint8, count=count)
    lengths: WeightArray = _BYTE_TO_LENGTH[codes]
    lengths[codes == 0] = 0.0
    return lengths


def _size(item: tuple[IdArray, Any]) -> int:
    ids, second = item
    if isinstance(second, np.ndarray):
        return int(ids.nbytes + second.nbytes)
    return int(ids.nbytes + sum(len(v) + 40 for v in second))


class PostingsCache:
    """Per-process cache of segment postings, keyed by segment id, bounded in bytes."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, str, bytes], Any] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(
        self, segment_key: str, reader: Any, fieldname: str, term: bytes
    ) -> tuple[IdArray, WeightArray]:
        """A term's postings in a segment."""
        found: tuple[IdArray, WeightArray] = self.get_or_compute(
            (segment_key, fieldname, term), lambda: read_postings(reader, fieldname, term)
        )
        return found

    def positions(
        self, segment_key: str, reader: Any, fieldname: str, term: bytes
    ) -> tuple[IdArray, list[bytes]]:
        """A term's documents in a segment and their encoded positions."""
        found: tuple[IdArray, list[bytes]] = self.get_or_compute(
            (segment_key, f"positions:{fieldname}", term),
            lambda: read_positions(reader, fieldname, term),
        )
        return found

    def get_or_compute(self, key: tuple[str, str, bytes], compute: Callable[[], Any]) -> Any:
        """Arrays computed once from an immutable segment (``key`` starts with the
        segment's key), kept while they fit."""
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = compute()
        size = _size(found)
        with self._lock:
            if key not in self._items and size <= self.max_bytes:
                self._items[key] = found
                self._bytes += size
                while self._bytes > self.max_bytes:
                    _, old = self._items.popitem(last=False)
                    self._bytes -= _size(old)
        return found

    def forget_segments(self, keep: set[str]) -> None:
        """Drop the postings of segments no longer read."""
        with self._lock:
            for key in [k for k in self._items if k[0] not in keep]:
                self._bytes -= _size(self._items.pop(key))
