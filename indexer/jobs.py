"""Index jobs: rebuild, add and delete, with their reports.

Every job holds the index directory's writer lock for its whole run.  A
rebuild writes a new generation and switches to it only when it is complete
and checked; add and delete change the live generation in place.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from indexer.formats import Reject, read_file
from indexer.walk import input_files
from search import BuildFailed, GenerationBuilder, IndexStore, LiveUpdater
from search.event import Event

__all__ = ["JobReport", "Progress", "add", "delete", "rebuild"]


@dataclass
class Progress:
    """Callbacks a job reports through (the command draws a bar or stays quiet)."""

    on_reject: Callable[[Reject], None] = lambda reject: None
    on_file: Callable[[int, int, int], None] = lambda done, total, events: None


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
    seconds: float = 0.0
    generation: str | None = None
    pruned: list[str] = field(default_factory=list)
    recovered_lock: dict[str, object] | None = None

    @property
    def rate(self) -> float:
        return self.indexed / self.seconds if self.seconds > 0 else 0.0


def _events(
    paths: Iterable[Path], report: JobReport, progress: Progress, rejects: IO[str] | None
) -> Iterator[Event]:
    files = list(input_files(paths))
    total = sum(1 for f in files if isinstance(f, Path))
    for item in files:
        if isinstance(item, Reject):
            items: Iterable[Event | Reject] = [item]
        else:
            items = read_file(item)
        for parsed in items:
            if isinstance(parsed, Reject):
                report.rejected += 1
                progress.on_reject(parsed)
                if rejects is not None:
                    rejects.write(json.dumps({"job": report.job, **parsed.to_dict()}) + "\n")
            else:
                yield parsed
        if isinstance(item, Path):
            report.files += 1
            progress.on_file(report.files, total, report.indexed)


def rebuild(
    store: IndexStore,
    paths: Iterable[Path],
    *,
    keep: int,
    strict: bool = False,
    progress: Progress | None = None,
) -> JobReport:
    """Build a new generation from ``paths`` and switch to it.

    Raises IndexLocked when another writer runs, and BuildFailed (nothing switched)
    when no event was read, when ``strict`` and anything was rejected, or when the
    new generation fails its check.  An interrupt leaves the live index untouched.
    """
    progress = progress or Progress()
    report = JobReport("rebuild")
    started = time.monotonic()
    with store.writer_lock("indexer rebuild") as lock:
        report.recovered_lock = lock.recovered_from
        builder = GenerationBuilder(store)
        try:
            with open(builder.generation.path / "rejects.jsonl", "w", encoding="utf-8") as rejects:
                for event in _events(paths, report, progress, rejects):
                    if builder.add(event):
                        report.indexed += 1
            report.duplicates = builder.duplicates
            if report.indexed == 0:
                raise BuildFailed("no events were read from the input")
            if strict and report.rejected:
                raise BuildFailed(f"{report.rejected} documents rejected and --strict is set")
            builder.finish({"rejected": report.rejected, "files": report.files})
            report.generation = builder.generation.name
            report.pruned = builder.publish(keep)
        except BaseException:
            builder.abort()
            raise
    report.seconds = time.monotonic() - started
    return report


def add(store: IndexStore, paths: Iterable[Path], *, progress: Progress | None = None) -> JobReport:
    """Upsert the events of ``paths`` into the live generation, by id."""
    progress = progress or Progress()
    report = JobReport("add")
    started = time.monotonic()
    with store.writer_lock("indexer add") as lock:
        report.recovered_lock = lock.recovered_from
        updater = LiveUpdater(store)
        report.generation = updater.generation.name
        try:
            with open(updater.generation.path / "rejects.jsonl", "a", encoding="utf-8") as rejects:
                for event in _events(paths, report, progress, rejects):
                    updater.upsert(event)
            updater.commit()
        except BaseException:
            updater.cancel()
            raise
        report.indexed = updater.added
        report.replaced = updater.replaced
    report.seconds = time.monotonic() - started
    return report


def delete(store: IndexStore, ids: Iterable[str]) -> JobReport:
    """Delete events from the live generation by id."""
    report = JobReport("delete")
    started = time.monotonic()
    with store.writer_lock("indexer delete") as lock:
        report.recovered_lock = lock.recovered_from
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
