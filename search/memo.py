"""What is computed from a segment and remembered per process: a segment never
changes, so an answer computed from it (the documents where a phrase stands) stays
right for as long as the segment is read.  Bounded in bytes (a least-recently-used
cache from cachetools), shared by the threads of a process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import numpy.typing as npt
from cachetools import LRUCache

__all__ = ["SegmentMemo"]

IntArray = npt.NDArray[np.int64]


def _size(value: IntArray) -> int:
    return int(value.nbytes) + 100


class SegmentMemo:
    """Arrays computed from immutable segments, keyed by (segment key, ...)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._cache: LRUCache[tuple[Hashable, ...], IntArray] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=_size
        )
        self._lock = threading.Lock()

    def get_or_compute(
        self, key: tuple[Hashable, ...], compute: Callable[[], IntArray]
    ) -> IntArray:
        """The array remembered under ``key`` (whose first item is the segment's key),
        computed and remembered when it is not there (and fits)."""
        with self._lock:
            found = self._cache.get(key)
        if found is not None:
            return found
        found = compute()
        if _size(found) <= self._cache.maxsize:
            with self._lock:
                self._cache[key] = found
        return found

    def forget_segments(self, keep: set[str]) -> None:
        """Drop what was computed from segments no longer read."""
        with self._lock:
            for key in [k for k in self._cache if k[0] not in keep]:
                del self._cache[key]

    def segments(self) -> set[str]:
        """The keys of the segments something is remembered of."""
        with self._lock:
            return {str(key[0]) for key in self._cache}

    def __len__(self) -> int:
        return len(self._cache)

    def state(self) -> dict[str, Any]:
        """Entries and bytes held (for tests and metrics)."""
        with self._lock:
            return {"entries": len(self._cache), "bytes": int(self._cache.currsize)}
