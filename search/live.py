"""The live index: one snapshot per thread, refreshed when the index changes.

Each thread holds its own whoosh searcher (whoosh searchers are not shared
between threads) inside its own ``Snapshot``.  At most every
``refresh_interval`` seconds a thread checks whether CURRENT names a new
generation (then it opens that one and lets the old one go) or whether the live
generation got new commits (then it opens a new snapshot).  Segments are read
once per process and shared (``SegmentCache``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from search.memo import SegmentMemo
from search.schema import open_index
from search.snapshot import SegmentCache, Snapshot, open_snapshot
from search.store import Generation, IndexStore, ReaderLease

__all__ = ["LiveIndex"]


class _ThreadState:
    def __init__(self, ix: Any, lease: ReaderLease, snapshot: Snapshot) -> None:
        self.ix = ix
        self.lease = lease
        self.snapshot = snapshot
        self.checked_at = 0.0

    def close(self) -> None:
        self.snapshot.searcher.close()
        self.ix.close()
        self.lease.release()


class LiveIndex:
    """Hands each thread an up-to-date Snapshot of the live generation."""

    def __init__(
        self,
        store: IndexStore,
        refresh_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        memo_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        """``memo_bytes`` bounds what the process remembers of its segments (phrase
        matches), shared by its threads."""
        self.store = store
        self.refresh_interval = refresh_interval
        self.clock = clock
        self.segments = SegmentCache()
        self.memo = SegmentMemo(memo_bytes)
        self._local = threading.local()
        self._states: list[_ThreadState] = []
        self._lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        """The calling thread's snapshot.  IndexUnavailable when nothing is built yet,
        RebuildNeeded or IndexDamaged when the live generation cannot be served."""
        state: _ThreadState | None = getattr(self._local, "state", None)
        now = self.clock()
        if state is not None and now - state.checked_at < self.refresh_interval:
            return state.snapshot
        name = self.store.current_name()
        if state is None or name != state.snapshot.generation.name:
            state = self._open(state)
        elif not state.snapshot.searcher.up_to_date():
            # A new searcher, not Searcher.refresh(): that reuses segment readers by
            # segment id and so keeps serving documents deleted since.
            old = state.snapshot.searcher
            state.snapshot = self._snapshot(state.snapshot.generation, state.ix.searcher())
            old.close()
        state.checked_at = now
        return state.snapshot

    def _open(self, old: _ThreadState | None) -> _ThreadState:
        while True:
            generation = self.store.current()
            try:
                lease = self.store.lease(generation)
            except FileNotFoundError:  # pruned since CURRENT was read: read it again
                continue
            if generation.complete:  # still there once leased: it cannot be pruned now
                break
            lease.release()
        if old is not None:
            # This thread is done with its old generation: let it go first, so that
            # the new snapshot does not keep the old one's caches alive.
            with self._lock:
                self._states.remove(old)
            old.close()
            self._local.state = None
        try:
            generation.check_format()
            ix = open_index(generation.path)
            state = _ThreadState(ix, lease, self._snapshot(generation, ix.searcher()))
        except BaseException:
            lease.release()
            raise
        self._local.state = state
        with self._lock:
            self._states.append(state)
        return state

    def _snapshot(self, generation: Generation, searcher: Any) -> Snapshot:
        try:
            snapshot = open_snapshot(
                generation, searcher, self.segments, int(searcher.reader().generation())
            )
        except BaseException:
            searcher.close()
            raise
        # Done now, not inside the first search's time limit: the live documents,
        # and whoosh's index of stored documents (its first lookup reads it whole).
        snapshot.live_docs()
        if snapshot.doc_count_all:
            snapshot.event(0)
        with self._lock:
            wanted = snapshot.keys
            for state in self._states:
                wanted |= state.snapshot.keys
        self.segments.keep_only(wanted)
        self.memo.forget_segments(wanted)
        return snapshot

    def close(self) -> None:
        """Close every thread's searcher and release every lease."""
        with self._lock:
            for state in self._states:
                state.close()
            self._states.clear()
        self._local = threading.local()
