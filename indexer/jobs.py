"""Index jobs: rebuild, add and delete, with their reports.

Every job holds the index directory's writer lock for its whole run.  A
rebuild writes a new generation and switches to it only when it is complete
and checked; add and delete change the live generation in place.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson

from indexer.formats import Reject, read_file
from indexer.formats.limits import Limits
from indexer.walk import input_files
from search import BuildFailed, GenerationBuilder, IndexStore, LiveUpdater
from search.event import Event
from search.mentions import MentionVocabulary
from search.store import temp_path

__all__ = ["JobReport", "Progress", "add", "delete", "rebuild"]


@dataclass
class Progress:
    """Callbacks a job reports through (the command draws a bar or stays quiet).

    ``on_file(done, total, events)`` while input files are read, then
    ``on_indexed(done, total)`` while the events read are written.
    """

    on_reject: Callable[[Reject], None] = lambda reject: None
    on_file: Callable[[int, int, int], None] = lambda done, total, events: None
    on_indexed: Callable[[int, int], None] = lambda done, total: None


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
    twice."""

    def __init__(self, directory: Path) -> None:
        self.path = temp_path(directory, "spool")
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

    def events(self, progress: Progress) -> Iterator[Event]:
        """The events to write: the last copy of each id, in the order read."""
        with open(self.path, "rb") as fh:
            for done, line in enumerate(fh, start=1):
                if done % 1000 == 0 or done == self.count:
                    progress.on_indexed(done, self.count)
                event = Event.from_dict(orjson.loads(line))
                if self.last_copy[event.id] == done:
                    yield event

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def _writing(store: IndexStore, report: JobReport) -> Iterator[None]:
    """Hold the writer lock for a job, note a lock recovered from a killed writer,
    and first clear what killed writers left behind."""
    with store.writer_lock(f"indexer {report.job}") as lock:
        report.recovered_lock = lock.recovered_from
        store.remove_leftovers()
        yield


def rebuild(
    store: IndexStore,
    paths: Iterable[Path],
    *,
    keep: int,
    strict: bool = False,
    progress: Progress | None = None,
    processes: int = 1,
    limits: Limits | None = None,
) -> JobReport:
    """Build a new generation from ``paths`` with ``processes`` writer processes, and
    switch to it.  Events beyond ``limits`` (default: the settings' defaults) are
    rejected.

    Raises IndexLocked when another writer runs, and BuildFailed (nothing switched)
    when no event was read, when ``strict`` and anything was rejected, or when the
    new generation fails its check.  An interrupt leaves the live index untouched.
    """
    progress = progress or Progress()
    limits = limits or Limits.defaults()
    report = JobReport("rebuild")
    started = time.monotonic()
    with _writing(store, report):
        builder = GenerationBuilder(store, processes)
        spool = _Spool(builder.generation.path)
        try:
            with open(builder.generation.path / "rejects.jsonl", "w", encoding="utf-8") as rejects:
                spool.fill(_events(paths, report, progress, rejects, limits))
            if spool.count == 0:
                raise BuildFailed("no events were read from the input")
            if strict and report.rejected:
                raise BuildFailed(f"{report.rejected} documents rejected and --strict is set")
            builder.learn(spool.vocabulary)
            for event in spool.events(progress):
                builder.add(event)
            spool.remove()
            report.indexed = builder.added
            report.duplicates = spool.duplicates
            report.events_with_mentions, report.mentions_added = builder.mentions
            builder.finish({"rejected": report.rejected, "files": report.files})
            report.generation = builder.generation.name
            report.pruned = builder.publish(keep)
        except BaseException:
            builder.abort()
            raise
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
        spool = _Spool(store.root)
        try:
            with open(live.path / "rejects.jsonl", "a", encoding="utf-8") as rejects:
                spool.fill(_events(paths, report, progress, rejects, limits))
            updater = LiveUpdater(store, spool.vocabulary)
            report.generation = updater.generation.name
            try:
                # Only the last copy of a repeated id is written, so one commit makes the
                # whole add visible and no moment holds two copies of an id.
                for event in spool.events(progress):
                    updater.upsert(event)
                report.duplicates = spool.duplicates
                updater.commit()
            except BaseException:
                updater.cancel()
                raise
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
        try:
            for event_id in ids:
                if updater.delete(event_id):
                    report.deleted += 1
                else:
                    report.missing.append(event_id)
            updater.commit()
        except BaseException:
            updater.cancel()
            raise
    report.seconds = time.monotonic() - started
    return report
