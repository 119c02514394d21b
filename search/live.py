"""The live index: one snapshot per process per commit, shared by every thread,
refreshed by one, as Lucene's ``SearcherManager`` and tantivy's ``IndexReader`` do.

A request leases the current snapshot (``with live.acquire() as snap:``) and lets it
go when it is done.  At most every ``refresh_interval`` seconds one thread (the
refresher started by ``start()``, or else the first request past the interval, under
a lock the others do not wait for) checks whether CURRENT names a new generation,
whether the live generation got a new recorded commit, and whether the files the
served commit reads still hold what was recorded.  A new commit is opened, checked
and warmed (``Snapshot.warm`` and the ``warm`` hook the service gives) before it is
swapped in, so no request pays for it; the snapshot it replaces is closed when its
last lease is let go.  The process holds one reader lease on each generation a
snapshot it serves belongs to, never one per thread.  Segments are read once per
process and shared (``SegmentCache``).

A commit is served once it is recorded (``store.Record``): the files it reads
all hold their recorded checksums and whoosh's newest commit is the one recorded.
Writers record a commit after whoosh has written it, so between the two the process
keeps serving the commit it has; a process that has none yet (a new worker) waits
up to ``commit_wait`` seconds for the record.  What fails the check is not
served: IndexDamaged names the first bad file, and every request gets it until a
refresh finds the index servable again.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from search.checksums import Verifier, summary
from search.errors import IndexDamaged, IndexUnavailable, SearchError
from search.memo import SegmentMemo
from search.schema import latest_commit, open_index
from search.snapshot import SegmentCache, Snapshot, open_snapshot
from search.store import META, Generation, IndexStore, ReaderLease, Record

__all__ = ["COMMIT_WAIT", "LiveIndex"]

#: Seconds a process without a snapshot waits for a commit in progress to be recorded.
COMMIT_WAIT = 10.0
_POLL = 0.05

_log = logging.getLogger(__name__)

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
    """A recorded commit of a generation, checked, open and warmed; counted leases."""

    def __init__(self, lease: ReaderLease, record: Record, meta_key: _MetaKey, snap: Snapshot):
        self.lease = lease
        self.record = record
        self.meta_key = meta_key
        self.snapshot = snap
        self.users = 0
        self.retired = False
        self.closed = False


class LiveIndex:
    """Hands every thread the process's up-to-date Snapshot of the live generation."""

    def __init__(
        self,
        store: IndexStore,
        refresh_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        memo_bytes: int = 64 * 1024 * 1024,
        commit_wait: float = COMMIT_WAIT,
        warm: Callable[[Snapshot], None] | None = None,
    ) -> None:
        """``memo_bytes`` bounds what the process remembers of its segments (phrase
        matches), shared by its threads.  ``warm`` is called with every snapshot
        before it is served (it may set ``snapshot.extras``)."""
        self.store = store
        self.refresh_interval = refresh_interval
        self.clock = clock
        self.commit_wait = commit_wait
        self.warm = warm
        self.segments = SegmentCache()
        self.memo = SegmentMemo(memo_bytes)
        self.verifier = Verifier()
        self._current: _Opened | None = None
        self._failure: SearchError | None = None
        self._checked_at = 0.0
        self._opened: list[_Opened] = []  # every snapshot not closed yet
        self._lock = threading.Lock()  # guards the fields above
        self._refreshing = threading.Lock()  # held by the one thread refreshing
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None

    # Leasing

    @contextlib.contextmanager
    def acquire(self) -> Iterator[Snapshot]:
        """The current snapshot, leased for the ``with`` block: it stays open until
        every lease on it is let go.  IndexUnavailable when nothing is built yet,
        RebuildNeeded or IndexDamaged when the live generation cannot be served."""
        opened = self._lease()
        try:
            yield opened.snapshot
        finally:
            self._let_go(opened)

    def snapshot(self) -> Snapshot:
        """The current snapshot, without a lease (for callers that hold it briefly;
        its arrays stay readable after it is replaced)."""
        opened = self._lease()
        self._let_go(opened)
        return opened.snapshot

    def _lease(self) -> _Opened:
        if self._refresher is None and self.clock() - self._checked_at >= self.refresh_interval:
            self._refresh_in_request()
        opened, failure = self._take()
        if opened is not None:
            return opened
        if failure is not None:
            raise copy.copy(failure) from None  # one object per raise: threads share it
        # Nothing open yet (a new process, or the index was unavailable): open it
        # now, every waiting thread behind the first.
        with self._refreshing:
            with self._lock:
                current = self._current
            if current is None or self._failure is not None:
                self._check()
        opened, failure = self._take()
        if opened is not None:
            return opened
        raise copy.copy(failure) if failure else IndexUnavailable("no index is open")

    def _take(self) -> tuple[_Opened | None, SearchError | None]:
        """The current snapshot, leased, or why there is none to lease."""
        with self._lock:
            current, failure = self._current, self._failure
            if failure is None and current is not None:
                current.users += 1
                return current, None
            return None, failure

    def _let_go(self, opened: _Opened) -> None:
        with self._lock:
            opened.users -= 1
        self._close_if_done(opened)

    def _close_if_done(self, opened: _Opened) -> None:
        """Close a retired snapshot once no request leases it (once)."""
        with self._lock:
            close = opened.retired and opened.users == 0 and not opened.closed
            if close:
                opened.closed = True
        if close:
            self._close(opened)

    # Refreshing

    def start(self) -> None:
        """Open the live commit now if there is one, and start the refresher thread
        that keeps it current.  Failures are kept and answered to requests, not
        raised here (a service may start before its first index is built)."""
        if self._refresher is not None:
            return
        with self._refreshing:
            self._check()
        self._stop.clear()
        self._refresher = threading.Thread(
            target=self._refresh_loop, name="index-refresher", daemon=True
        )
        self._refresher.start()

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self.refresh_interval):
            with self._refreshing:
                try:
                    self._check()
                except Exception:  # noqa: BLE001 (the refresher must outlive any one failure)
                    _log.exception("refreshing the index failed; the snapshot served is kept")

    def _refresh_in_request(self) -> None:
        """Refresh in the calling request when no refresher thread runs: one thread
        does it, the others go on with the snapshot they have."""
        if not self._refreshing.acquire(blocking=False):
            return
        try:
            self._check()
        finally:
            self._refreshing.release()
        with self._lock:
            failure = self._failure
        if failure is not None:
            raise copy.copy(failure) from None

    def _check(self) -> None:
        """Bring the current snapshot up to date, or record why it cannot be served.
        Called by one thread at a time (under ``_refreshing``)."""
        self._checked_at = self.clock()
        try:
            name = self.store.current_name()
            with self._lock:
                current = self._current
            if current is None or name != current.snapshot.generation.name:
                replacement: _Opened | None = self._open()
            else:
                replacement = self._refresh(current)
        except IndexUnavailable as exc:  # RebuildNeeded and IndexDamaged too
            # Not to be served any more: requests get the reason until a refresh
            # finds the index servable again.
            with self._lock:
                self._failure = exc
                old, self._current = self._current, None
            if old is not None:
                self._retire(old)
            return
        with self._lock:
            self._failure = None
            old = self._current
            if replacement is not None:
                self._current = replacement
        if replacement is not None and old is not None and old is not replacement:
            self._retire(old)

    def _retire(self, opened: _Opened) -> None:
        with self._lock:
            opened.retired = True
        self._close_if_done(opened)

    def _close(self, opened: _Opened) -> None:
        """Let a snapshot no request uses go: its lease, and the segments and checked
        files only it read."""
        opened.lease.release()
        with self._lock:
            if opened in self._opened:
                self._opened.remove(opened)
        self._forget_others()

    def _open(self) -> _Opened:
        """Lease, check, open and warm the live generation's recorded commit."""
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
                return self._load(generation, lease)
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

    def _refresh(self, opened: _Opened) -> _Opened | None:
        """The generation's newest recorded commit if it has one, else None; and check
        that the files of the commit served still hold what was recorded."""
        generation = opened.snapshot.generation
        problems = self.verifier.problems(generation.path, opened.record.files)
        try:
            newer = latest_commit(generation.path) != opened.record.commit
        except OSError:
            newer = True
        if not problems and not newer and _meta_key(generation) == opened.meta_key:
            return None
        lease = self.store.lease(generation)
        try:
            return self._load(generation, lease)
        except _InFlux:
            lease.release()
            return None  # keep serving the recorded commit until the new one is recorded
        except BaseException:
            lease.release()
            raise

    def _load(self, generation: Generation, lease: ReaderLease) -> _Opened:
        """Check, open and warm the recorded commit of a generation (``lease`` held on
        it).  _InFlux while a writer is between whoosh's commit and its record;
        IndexDamaged when a file is not as recorded; RebuildNeeded for another index
        format."""
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
            snapshot = open_snapshot(generation, searcher, self.segments, record.commit, record)
        except IndexDamaged as exc:
            raise in_flux_or(str(exc).removesuffix(": run indexer rebuild")) from None
        finally:
            # whoosh is read only for the commit's segments and deletions.
            searcher.close()
            ix.close()
        # Warmed before it is served: no request pays for the per-commit tables.
        snapshot.warm()
        if self.warm is not None:
            self.warm(snapshot)
        opened = _Opened(lease, record, meta_key, snapshot)
        with self._lock:
            self._opened.append(opened)
        return opened

    def _forget_others(self) -> None:
        """Forget the segments and checked files no open snapshot reads."""
        with self._lock:
            opened = list(self._opened)
        wanted: set[str] = set()
        files: set[Path] = set()
        for item in opened:
            wanted |= item.snapshot.keys
            root = item.snapshot.generation.path
            files |= {root / name for name in item.record.files}
        self.segments.keep_only(wanted)
        self.memo.forget_segments(wanted)
        self.verifier.keep_only(files)

    def open_snapshots(self) -> list[tuple[str, int]]:
        """(generation, commit) of every snapshot the process holds open: the one
        served, and replaced ones that requests still lease."""
        with self._lock:
            return [(o.snapshot.generation.name, o.record.commit) for o in self._opened]

    def close(self) -> None:
        """Stop the refresher and release every snapshot's lease."""
        self._stop.set()
        refresher, self._refresher = self._refresher, None
        if refresher is not None and refresher is not threading.current_thread():
            refresher.join(timeout=10)
        with self._lock:
            opened, self._opened = list(self._opened), []
            self._current = None
            for item in opened:
                item.closed = True
        for item in opened:
            item.lease.release()
