"""The live index: one snapshot per thread, refreshed when the index changes.

Each thread holds its own whoosh searcher (whoosh searchers are not shared
between threads) inside its own ``Snapshot``.  At most every
``refresh_interval`` seconds a thread checks whether CURRENT names a new
generation (then it opens that one and lets the old one go), whether the live
generation got a new recorded commit (then it opens a new snapshot), and whether
the files it reads still hold what was recorded.  Segments are read once per
process and shared (``SegmentCache``).

A commit is served once it is recorded (``store.Record``): the files it reads
all hold their recorded checksums and whoosh's newest commit is the one recorded.
Writers record a commit after whoosh has written it, so between the two a thread
keeps serving the commit it has; a thread that has none yet (a new worker) waits
up to ``commit_wait`` seconds for the record.  What fails the check is not
served: IndexDamaged names the first bad file.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from search.checksums import Verifier, summary
from search.errors import IndexDamaged, IndexUnavailable
from search.memo import SegmentMemo
from search.schema import latest_commit, open_index
from search.snapshot import SegmentCache, Snapshot, open_snapshot
from search.store import META, Generation, IndexStore, ReaderLease, Record

__all__ = ["COMMIT_WAIT", "LiveIndex"]

#: Seconds a thread without a snapshot waits for a commit in progress to be recorded.
COMMIT_WAIT = 10.0
_POLL = 0.05

_MetaKey = tuple[int, int, int, int] | None


def _meta_key(generation: Generation) -> _MetaKey:
    """meta.json's inode, size and times: a new record replaces the file."""
    try:
        st = os.stat(generation.path / META)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class _InFlux(Exception):
    """A writer is between whoosh's commit and its record: not damage, not servable yet."""


class _Opened:
    """A recorded commit of a generation, checked and open."""

    def __init__(self, ix: Any, record: Record, meta_key: _MetaKey, snapshot: Snapshot) -> None:
        self.ix = ix
        self.record = record
        self.meta_key = meta_key
        self.snapshot = snapshot

    def close(self) -> None:
        self.snapshot.searcher.close()
        self.ix.close()


class _ThreadState:
    def __init__(self, lease: ReaderLease, opened: _Opened) -> None:
        self.lease = lease
        self.opened = opened
        self.checked_at = 0.0

    @property
    def snapshot(self) -> Snapshot:
        return self.opened.snapshot

    def close(self) -> None:
        self.opened.close()
        self.lease.release()


class LiveIndex:
    """Hands each thread an up-to-date Snapshot of the live generation."""

    def __init__(
        self,
        store: IndexStore,
        refresh_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        memo_bytes: int = 64 * 1024 * 1024,
        commit_wait: float = COMMIT_WAIT,
    ) -> None:
        """``memo_bytes`` bounds what the process remembers of its segments (phrase
        matches), shared by its threads."""
        self.store = store
        self.refresh_interval = refresh_interval
        self.clock = clock
        self.commit_wait = commit_wait
        self.segments = SegmentCache()
        self.memo = SegmentMemo(memo_bytes)
        self.verifier = Verifier()
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
        try:
            name = self.store.current_name()
            if state is None or name != state.snapshot.generation.name:
                state = self._open(state)
            else:
                self._refresh(state)
        except IndexUnavailable:
            self._drop()
            raise
        state.checked_at = now
        return state.snapshot

    def _drop(self) -> None:
        """Let go of the thread's generation: it is not to be served any more."""
        state: _ThreadState | None = getattr(self._local, "state", None)
        if state is not None:
            with self._lock:
                self._states.remove(state)
            state.close()
            self._local.state = None

    def _open(self, old: _ThreadState | None) -> _ThreadState:
        if old is not None:
            # This thread is done with its old generation: let it go first, so that
            # the new snapshot does not keep the old one's caches alive.
            self._drop()
        deadline = time.monotonic() + self.commit_wait
        while True:
            generation = self.store.current()
            try:
                lease = self.store.lease(generation)
            except FileNotFoundError:  # pruned since CURRENT was read: read it again
                continue
            if not generation.complete:  # pruned meanwhile
                lease.release()
                continue
            # Leased and complete: it cannot be pruned now.
            try:
                opened = self._load(generation)
            except _InFlux:
                lease.release()
                if time.monotonic() >= deadline:
                    raise IndexUnavailable(
                        f"{generation.name}: its newest commit is not recorded yet (a writer "
                        "is committing, or was stopped while committing: the next indexer "
                        "job completes it)"
                    ) from None
                time.sleep(_POLL)
                continue
            except BaseException:
                lease.release()
                raise
            break
        state = _ThreadState(lease, opened)
        self._local.state = state
        with self._lock:
            self._states.append(state)
        self._forget_others()
        return state

    def _refresh(self, state: _ThreadState) -> None:
        """Open the generation's newest recorded commit if it has one, and check that
        the files of the commit served still hold what was recorded."""
        opened = state.opened
        generation = opened.snapshot.generation
        problems = self.verifier.problems(generation.path, opened.record.files)
        try:
            newer = latest_commit(generation.path) != opened.record.commit
        except OSError:
            newer = True
        if not problems and not newer and _meta_key(generation) == opened.meta_key:
            return
        try:
            replacement = self._load(generation)
        except _InFlux:
            return  # keep serving the recorded commit until the new one is recorded
        state.opened = replacement
        opened.close()
        self._forget_others()

    def _load(self, generation: Generation) -> _Opened:
        """Check and open the recorded commit of a generation.  _InFlux while a writer
        is between whoosh's commit and its record; IndexDamaged when a file is not as
        recorded; RebuildNeeded for another index format."""
        meta_key = _meta_key(generation)
        record = generation.record()
        path = generation.path

        def in_flux_or(problem: str) -> IndexDamaged:
            """_InFlux if a writer has moved on since the record was read (a file
            found missing or different may then be one it replaced), else the damage."""
            try:
                moved = latest_commit(path) > record.commit or _meta_key(generation) != meta_key
            except OSError:
                moved = False
            if moved:
                raise _InFlux
            return IndexDamaged(f"{problem}: run indexer rebuild")

        try:
            if latest_commit(path) > record.commit:
                raise _InFlux
        except OSError as exc:
            raise in_flux_or(f"{generation.name} cannot be listed ({exc.strerror})") from None
        problems = self.verifier.problems(path, record.files)
        if problems:
            raise in_flux_or(summary(generation.name, problems))
        try:
            ix = open_index(path)
        except OSError as exc:
            raise in_flux_or(f"{generation.name} cannot be opened ({exc.strerror})") from None
        try:
            searcher = ix.searcher()
        except OSError as exc:
            ix.close()
            raise in_flux_or(f"{generation.name} cannot be opened ({exc.strerror})") from None
        if int(searcher.reader().generation()) != record.commit:
            searcher.close()
            ix.close()
            raise in_flux_or(f"{generation.name} holds another commit than its record")
        try:
            snapshot = self._snapshot(generation, searcher, record)
        except IndexDamaged as exc:
            ix.close()
            raise in_flux_or(str(exc).removesuffix(": run indexer rebuild")) from None
        except BaseException:
            ix.close()
            raise
        return _Opened(ix, record, meta_key, snapshot)

    def _snapshot(self, generation: Generation, searcher: Any, record: Record) -> Snapshot:
        try:
            snapshot = open_snapshot(
                generation, searcher, self.segments, int(searcher.reader().generation()), record
            )
            # Done now, not inside the first search's time limit: the live documents,
            # and whoosh's index of stored documents (its first lookup reads it whole).
            snapshot.live_docs()
            if snapshot.doc_count_all:
                snapshot.event(0)
        except BaseException:
            searcher.close()
            raise
        return snapshot

    def _forget_others(self) -> None:
        """Forget the segments and checked files no thread's snapshot reads."""
        with self._lock:
            opened = [state.opened for state in self._states]
        wanted: set[str] = set()
        files: set[Path] = set()
        for item in opened:
            wanted |= item.snapshot.keys
            root = item.snapshot.generation.path
            files |= {root / name for name in item.record.files}
        self.segments.keep_only(wanted)
        self.memo.forget_segments(wanted)
        self.verifier.keep_only(files)

    def close(self) -> None:
        """Close every thread's searcher and release every lease."""
        with self._lock:
            for state in self._states:
                state.close()
            self._states.clear()
        self._local = threading.local()
