"""Reading the live generation: one searcher per thread, refreshed when the index changes.

Each thread holds its own whoosh searcher (whoosh searchers are not shared
between threads).  At most every ``refresh_interval`` seconds a thread checks
whether CURRENT names a new generation (then it opens that one and lets the old
one go) or whether the live generation got new commits (then it refreshes its
searcher).  Column data is shared per process through a ColumnCache.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from whoosh import index as whoosh_index

from search.analysis import fold
from search.columns import ColumnCache, SnapshotColumns
from search.postings import PostingsCache
from search.store import Generation, IndexStore, ReaderLease

__all__ = ["IndexReader", "Snapshot"]


_CACHED_FREQUENCIES = 200_000
_CACHED_EVENTS = 5_000


@dataclass
class Snapshot:
    """What one thread reads: a searcher over one generation, and its columns.

    It also remembers, for as long as it lives, the document frequencies and the
    stored events it has looked up: whoosh computes the first over every segment
    and unpickles the second each time."""

    generation: Generation
    searcher: Any
    columns: SnapshotColumns
    lexicons: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    _frequencies: dict[tuple[str, Any], int] = field(default_factory=dict)
    _events: OrderedDict[int, tuple[dict[str, Any], list[str]]] = field(default_factory=OrderedDict)

    def doc_frequency(self, fieldname: str, text: Any) -> int:
        """How many documents have the term (deleted ones included, as whoosh counts)."""
        key = (fieldname, text)
        found = self._frequencies.get(key)
        if found is None:
            if len(self._frequencies) >= _CACHED_FREQUENCIES:
                self._frequencies.clear()
            found = self._frequencies[key] = int(
                self.searcher.reader().doc_frequency(fieldname, text)
            )
        return found

    def event(self, docnum: int) -> tuple[dict[str, Any], list[str]]:
        """The stored event (canonical shape) and the entity names its text mentions."""
        found = self._events.get(docnum)
        if found is None:
            stored = self.searcher.stored_fields(docnum)
            found = (orjson.loads(stored["event"]), list(stored.get("mentions") or []))
            self._events[docnum] = found
            if len(self._events) > _CACHED_EVENTS:
                self._events.popitem(last=False)
        return found

    @property
    def version(self) -> tuple[str, int]:
        """Changes with every new generation and every commit to it."""
        return self.generation.name, int(self.searcher.reader().generation())

    def folded_lexicon(self, fieldname: str) -> dict[str, list[str]]:
        """Exact values of a field keyed by their folded form (case and accents dropped)."""
        found = self.lexicons.get(fieldname)
        if found is None:
            found = {}
            for term in self.searcher.reader().lexicon(fieldname):
                value = term.decode("utf-8")
                found.setdefault(fold(value), []).append(value)
            self.lexicons[fieldname] = found
        return found


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


class IndexReader:
    """Hands each thread an up-to-date Snapshot of the live generation."""

    def __init__(
        self,
        store: IndexStore,
        refresh_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        postings_cache_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.store = store
        self.refresh_interval = refresh_interval
        self.clock = clock
        self.cache = ColumnCache()
        self.postings = PostingsCache(postings_cache_bytes)
        self._local = threading.local()
        self._states: list[_ThreadState] = []
        self._lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        """The calling thread's snapshot; IndexUnavailable when nothing is built yet."""
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
        ix = whoosh_index.open_dir(str(generation.path))
        state = _ThreadState(ix, lease, self._snapshot(generation, ix.searcher()))
        self._local.state = state
        with self._lock:
            self._states.append(state)
        return state

    def _snapshot(self, generation: Generation, searcher: Any) -> Snapshot:
        columns = SnapshotColumns(generation.path, searcher, self.cache)
        # Done now, not inside the first search's time limit: the live documents,
        # and whoosh's index of stored documents (its first lookup reads it whole).
        columns.live_docs()
        if searcher.doc_count_all():
            searcher.stored_fields(0)
        with self._lock:
            wanted = set(columns.keys)
            for state in self._states:
                wanted |= state.snapshot.columns.keys
        self.cache.keep_only(wanted)
        self.postings.forget_segments({f"{g}/{s}" for g, s in wanted})
        return Snapshot(generation, searcher, columns)

    def close(self) -> None:
        """Close every thread's searcher and release every lease."""
        with self._lock:
            for state in self._states:
                state.close()
            self._states.clear()
        self._local = threading.local()
