"""Index jobs: rebuild, add and delete, with their reports.

Every job holds the index directory's writer lock for its whole run.  A
rebuild writes a new generation and switches to it only when it is complete
and checked; add and delete change the live generation in place.  A job that
cannot write the index (no permission, a read-only file system, a full disk)
raises IndexWriteFailed and leaves nothing behind that stands in the way of
the next: a rebuild removes its new generation, an add or delete the files it
wrote before its commit, and the rejects it noted.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson

from indexer.formats import Reject, read_file
from indexer.formats.limits import Limits
from indexer.storage import IndexWriteFailed, write_errors
from indexer.walk import input_files
from search import (
    DEFAULT_STEMMER,
    BuildFailed,
    Event,
    GenerationBuilder,
    IndexStore,
    LiveUpdater,
    MentionVocabulary,
)

__all__ = ["JobReport", "Progress", "add", "delete", "rebuild"]


@dataclass
class Progress:
    """Callbacks a job reports through (the command draws a bar or stays quiet).

    ``on_file(done, total, events)`` while input files are read, then
    ``on_indexed(done, total)`` while the events read are analysed and written,
    then ``on_stage(what)`` when a rebuild moves on to a step that shows no counts
    (whoosh writing its segments, the tables kept beside them).
    """

    on_reject: Callable[[Reject], None] = lambda reject: None
    on_file: Callable[[int, int, int], None] = lambda done, total, events: None
    on_indexed: Callable[[int, int], None] = lambda done, total: None
    on_stage: Callable[[str], None] = lambda what: None


@dataclass
class JobReport:
    """What a job did."""

    job: str
    files: int = 0
    indexed: int = 0
    replaced: int = 0
    deleted: int = 0
    missing: list[str] = field(default_factory=list)
    rejected: int = 0
    duplicates: int = 0
    hidden: int = 0  # hidden entries of walked directories, skipped
    events_with_mentions: int = 0
    mentions_added: int = 0
    seconds: float = 0.0
    generation: str | None = None
    pruned: list[str] = field(default_factory=list)
    prune_failed: str | None = None  # why older generations could not be removed
    recovered_lock: dict[str, object] | None = None

    @property
    def rate(self) -> float:
        return self.indexed / self.seconds if self.seconds > 0 else 0.0


def _events(
    paths: Iterable[Path],
    report: JobReport,
    progress: Progress,
    rejects: IO[str] | None,
    limits: Limits,
) -> Iterator[Event]:
    hidden: list[Path] = []
    files = list(input_files(paths, hidden))
    report.hidden = len(hidden)
    total = sum(1 for f in files if isinstance(f, Path))
    read = 0
    for item in files:
        if isinstance(item, Reject):
            items: Iterable[Event | Reject] = [item]
        else:
            items = read_file(item, limits)
        for parsed in items:
            if isinstance(parsed, Reject):
                report.rejected += 1
                progress.on_reject(parsed)
                if rejects is not None:
                    rejects.write(json.dumps({"job": report.job, **parsed.to_dict()}) + "\n")
            else:
                read += 1
                yield parsed
        if isinstance(item, Path):
            report.files += 1
            progress.on_file(report.files, total, read)


class _Spool:
    """The first pass of a job: every input parsed once, kept as canonical JSON lines
    beside the index, while the vocabulary of entity mentions is learnt and the last
    copy of each id is noted.  The second pass reads the spool, so no input is parsed
    twice.  ``path`` is where the index store says a spool goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.vocabulary = MentionVocabulary()
        self.count = 0
        self.last_copy: dict[str, int] = {}  # id -> number of its last copy, from 1

    def fill(self, events: Iterable[Event]) -> None:
        with open(self.path, "wb") as out:
            for event in events:
                self.vocabulary.observe(event)
                out.write(orjson.dumps(event.to_dict()) + b"\n")
                self.count += 1
                self.last_copy[event.id] = self.count

    @property
    def duplicates(self) -> int:
        """Copies of an id that a later copy replaces."""
        return self.count - len(self.last_copy)

    def lines(self, progress: Progress) -> Iterator[bytes]:
        """The events to write, as the spool holds them (``Event.to_dict`` as JSON, one
        line each): the last copy of each id, in the order read, none decoded here."""
        last = set(self.last_copy.values())
        with open(self.path, "rb") as fh:
            for done, line in enumerate(fh, start=1):
                if done % 1000 == 0 or done == self.count:
                    progress.on_indexed(done, self.count)
                if done in last:
                    yield line

    def events(self, progress: Progress) -> Iterator[Event]:
        """The events to write: the last copy of each id, in the order read."""
        for line in self.lines(progress):
            yield Event.from_dict(orjson.loads(line))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def _writing(store: IndexStore, report: JobReport) -> Iterator[None]:
    """Hold the writer lock for a job, note a lock recovered from a killed writer,
    and first clear what killed writers left behind.  An OSError of the job is
    IndexWriteFailed."""
    with write_errors(store.root), store.writer_lock(f"indexer {report.job}") as lock:
        report.recovered_lock = lock.recovered_from
        _remove_leftovers(store)
        yield


def _remove_leftovers(store: IndexStore) -> None:
    """Remove what failed or killed writers left: temporary files, and generations
    whose build never finished (none is served; the writer lock is held)."""
    store.remove_leftovers()
    live = store.live_name()
    for generation in store.generations():
        if generation.name != live and not generation.complete:
            store.discard(generation)


@contextlib.contextmanager
def _updating(store: IndexStore, updater: LiveUpdater) -> Iterator[None]:
    """Changes to the live generation: cancelled, with the files written for them,
    unless committed.  A failure after the commit (saving what readers keep beside the
    index) is IndexWriteFailed saying that the changes are in."""
    try:
        yield
    except OSError as exc:
        if not updater.committed:
            _cancel(store, updater)
            raise
        raise IndexWriteFailed(store.root, exc, committed=True) from exc
    except BaseException:
        if not updater.committed:
            _cancel(store, updater)
        raise


def _cancel(store: IndexStore, updater: LiveUpdater) -> None:
    updater.cancel()
    with contextlib.suppress(OSError):  # already failing: clean up what can be
        _remove_leftovers(store)


@contextlib.contextmanager
def _rejects_file(path: Path, committed: Callable[[], bool]) -> Iterator[IO[str]]:
    """``path`` opened to append rejects to.  If the job fails before its changes are
    ``committed()``, what it appended is taken back, so that a retry does not note
    them twice and no half-written line stays."""
    size = path.stat().st_size if path.exists() else 0
    try:
        with open(path, "a", encoding="utf-8") as fh:
            yield fh
    except BaseException:
        if not committed():
            with contextlib.suppress(OSError):
                os.truncate(path, size)
        raise


def rebuild(
    store: IndexStore,
    paths: Iterable[Path],
    *,
    keep: int,
    strict: bool = False,
    progress: Progress | None = None,
    processes: int = 1,
    stemmer: str = DEFAULT_STEMMER,
    limits: Limits | None = None,
) -> JobReport:
    """Build a new generation from ``paths`` with ``processes`` writer processes, its
    text stemmed with ``stemmer``, and switch to it.  Events beyond ``limits``
    (default: the settings' defaults) are rejected.

    Raises IndexLocked when another writer runs, IndexWriteFailed when the index
    cannot be written, and BuildFailed (nothing switched) when no event was read,
    when ``strict`` and anything was rejected, or when the new generation fails its
    check.  An interrupt leaves the live index untouched.  Once the new generation
    is live, failing to remove older ones is noted in ``prune_failed``.
    """
    progress = progress or Progress()
    limits = limits or Limits.defaults()
    report = JobReport("rebuild")
    started = time.monotonic()
    with _writing(store, report):
        try:
            builder = GenerationBuilder(store, processes, stemmer)
        except BaseException:
            with contextlib.suppress(OSError):  # already failing: clean up what can be
                _remove_leftovers(store)
            raise
        spool = _Spool(builder.generation.spool_path())
        try:
            with open(builder.generation.rejects_path(), "w", encoding="utf-8") as rejects:
                spool.fill(_events(paths, report, progress, rejects, limits))
            if spool.count == 0:
                raise BuildFailed("no events were read from the input")
            if strict and report.rejected:
                raise BuildFailed(f"{report.rejected} documents rejected and --strict is set")
            builder.learn(spool.vocabulary)
            for line in spool.lines(progress):
                builder.add_encoded(line)
            spool.remove()
            report.indexed = builder.added
            report.duplicates = spool.duplicates
            progress.on_stage("writing the segments and the suggestion table")
            builder.finish({"rejected": report.rejected, "files": report.files})
            report.events_with_mentions, report.mentions_added = builder.mentions
            report.generation = builder.generation.name
            store.publish(builder.generation)
        except BaseException:
            if store.current_name() != builder.generation.name:  # never the live one
                builder.abort()
                with contextlib.suppress(OSError):  # already failing: clean up what can be
                    _remove_leftovers(store)
            raise
        try:
            report.pruned = store.prune(keep)
        except OSError as exc:  # the new generation is live: the job is done
            report.prune_failed = str(IndexWriteFailed(store.root, exc))
    report.seconds = time.monotonic() - started
    return report


def add(
    store: IndexStore,
    paths: Iterable[Path],
    *,
    progress: Progress | None = None,
    limits: Limits | None = None,
) -> JobReport:
    """Upsert the events of ``paths`` into the live generation, by id.  Copies of an
    id that a later copy in the input replaces are counted in ``duplicates``, events
    that replace one already in the index in ``replaced``."""
    progress = progress or Progress()
    limits = limits or Limits.defaults()
    report = JobReport("add")
    started = time.monotonic()
    with _writing(store, report):
        live = store.current()
        spool = _Spool(store.spool_path())
        updater: LiveUpdater | None = None
        try:
            with _rejects_file(
                live.rejects_path(), lambda: updater is not None and updater.committed
            ) as rejects:
                spool.fill(_events(paths, report, progress, rejects, limits))
                updater = LiveUpdater(store, spool.vocabulary)
                report.generation = updater.generation.name
                with _updating(store, updater):
                    # Only the last copy of a repeated id is written, so one commit makes
                    # the whole add visible and no moment holds two copies of an id.
                    for event in spool.events(progress):
                        updater.upsert(event)
                    report.duplicates = spool.duplicates
                    updater.commit()
        finally:
            spool.remove()
        report.indexed = updater.added
        report.replaced = updater.replaced
        report.events_with_mentions, report.mentions_added = updater.mentions
    report.seconds = time.monotonic() - started
    return report


def delete(store: IndexStore, ids: Iterable[str]) -> JobReport:
    """Delete events from the live generation by id."""
    report = JobReport("delete")
    started = time.monotonic()
    with _writing(store, report):
        updater = LiveUpdater(store)
        report.generation = updater.generation.name
        with _updating(store, updater):
            for event_id in ids:
                if updater.delete(event_id):
                    report.deleted += 1
                else:
                    report.missing.append(event_id)
            updater.commit()
    report.seconds = time.monotonic() - started
    return report
