"""The ``indexer`` command: rebuild, add, delete and stats.

Exit codes: 0 done, 1 failed (for a rebuild: nothing switched), 2 usage error.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from config import Config, ConfigError
from indexer import jobs
from indexer.formats import Reject
from indexer.formats.limits import Limits
from indexer.storage import IndexWriteFailed
from search import IndexStore, SearchError, SearchService, default_processes

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])


def _config(index_dir: Path | None) -> Config:
    try:
        config = Config.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return config.replace(index_dir=index_dir) if index_dir else config


def index_dir_option(func: F) -> F:
    return click.option(
        "--index-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Index directory (default: $EVENTSEARCH_INDEX_DIR or var/index).",
    )(func)


class _Bar:
    """A progress bar on a terminal (only: never in logs): files read, then events
    indexed, with the rate (events/s) and the time left, then the steps after."""

    def __init__(self, enabled: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self.clock = clock
        self.started: dict[str, float] = {}

    def on_reject(self, reject: Reject) -> None:
        self._clear()
        click.echo(f"rejected: {reject}", err=True)

    def on_file(self, done: int, total: int, events: int) -> None:
        self._draw("reading", done, total, f"{done}/{total} files  {events} events")

    def on_indexed(self, done: int, total: int) -> None:
        self._draw("indexing", done, total, f"{done}/{total} events")

    def on_stage(self, what: str) -> None:
        if self.enabled:
            click.echo(f"\n{what}...", nl=False, err=True)

    def _draw(self, phase: str, done: int, total: int, counts: str) -> None:
        if not self.enabled:
            return
        now = self.clock()
        elapsed = max(now - self.started.setdefault(phase, now), 1e-6)
        eta = (total - done) * elapsed / done if done else 0.0
        width = 24
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        click.echo(
            f"\r\x1b[K{phase:<9}[{bar}] {counts}  {done / elapsed:,.0f}/s  ETA {eta:,.0f}s",
            nl=False,
            err=True,
        )

    def _clear(self) -> None:
        if self.enabled:
            click.echo("\r\x1b[K", nl=False, err=True)

    def done(self) -> None:
        if self.enabled:
            click.echo(err=True)


def _progress(bar: _Bar) -> jobs.Progress:
    return jobs.Progress(
        on_reject=bar.on_reject,
        on_file=bar.on_file,
        on_indexed=bar.on_indexed,
        on_stage=bar.on_stage,
    )


def _report_lock(report: jobs.JobReport) -> None:
    if report.recovered_lock:
        click.echo(
            f"note: recovered the writer lock left by pid {report.recovered_lock.get('pid')}, "
            "which is no longer running",
            err=True,
        )


def _skipped(report: jobs.JobReport) -> str:
    """The summary's count of hidden paths skipped, when there were any."""
    return f", {report.hidden} hidden paths skipped" if report.hidden else ""


def _failed(exc: SearchError, unchanged: str) -> click.ClickException:
    """The error a job's failure exits 1 with; ``unchanged`` says what stayed as it was."""
    if isinstance(exc, IndexWriteFailed) and exc.committed:
        return click.ClickException(str(exc))
    return click.ClickException(f"{exc}; {unchanged}")


@click.group()
@click.version_option(package_name="eventsearch")
def cli() -> None:
    """Build and update the event search index."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_dir_option
@click.option(
    "--strict", is_flag=True, help="Fail, switching nothing, if any document is rejected."
)
def rebuild(paths: tuple[Path, ...], index_dir: Path | None, strict: bool) -> None:
    """Build a new index generation from PATHS and switch to it when it is complete.

    PATHS are files or directories (walked recursively); without PATHS the
    configured corpus paths are read.  The live index keeps serving throughout.
    """
    config = _config(index_dir)
    store = IndexStore(config.index_dir)
    damaged = store.current_problem()
    bar = _Bar(sys.stderr.isatty())
    try:
        report = jobs.rebuild(
            store,
            list(paths) or list(config.corpus_paths),
            keep=config.keep_generations,
            strict=strict,
            progress=_progress(bar),
            processes=config.index_processes or default_processes(),
            stemmer=config.stemmer,
            limits=Limits.from_config(config),
        )
    except KeyboardInterrupt:
        bar.done()
        raise click.ClickException("interrupted; the live index is unchanged") from None
    except SearchError as exc:
        bar.done()
        raise _failed(exc, "the live index is unchanged") from None
    bar.done()
    _report_lock(report)
    if report.prune_failed:
        click.echo(f"note: older generations were kept: {report.prune_failed}", err=True)
    if damaged:
        click.echo(f"note: replaced CURRENT, which was damaged: {damaged}", err=True)
    click.echo(
        f"indexed {report.indexed} events from {report.files} files into {report.generation}: "
        f"{report.rejected} rejected, {report.duplicates} duplicates{_skipped(report)}, "
        f"{report.seconds:.1f} s ({report.rate:,.0f} events/s); "
        f"{report.events_with_mentions} events gained {report.mentions_added} entities "
        "named in their text"
    )


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_dir_option
def add(paths: tuple[Path, ...], index_dir: Path | None) -> None:
    """Add or replace (by id) the events of PATHS in the live index."""
    config = _config(index_dir)
    store = IndexStore(config.index_dir)
    bar = _Bar(False)
    try:
        report = jobs.add(
            store, list(paths), progress=_progress(bar), limits=Limits.from_config(config)
        )
    except SearchError as exc:
        raise _failed(exc, "nothing was changed") from None
    _report_lock(report)
    click.echo(
        f"added {report.indexed} events and replaced {report.replaced} in {report.generation}: "
        f"{report.rejected} rejected, {report.duplicates} duplicates{_skipped(report)}, "
        f"{report.seconds:.1f} s"
    )


@cli.command()
@click.argument("ids", nargs=-1, required=True)
@index_dir_option
def delete(ids: tuple[str, ...], index_dir: Path | None) -> None:
    """Delete events by id from the live index."""
    store = IndexStore(_config(index_dir).index_dir)
    try:
        report = jobs.delete(store, ids)
    except SearchError as exc:
        raise _failed(exc, "nothing was changed") from None
    _report_lock(report)
    for missing in report.missing:
        click.echo(f"not found: {missing}", err=True)
    click.echo(f"deleted {report.deleted} events from {report.generation}")


@cli.command()
@index_dir_option
@click.option(
    "--verify",
    is_flag=True,
    help="First read every file of the live generation and check it against the "
    "checksum recorded when it was written; list every file that differs.",
)
def stats(index_dir: Path | None, verify: bool) -> None:
    """Documents, date range, generation and build time of the live index.

    The live generation is checked as a worker opens it: every file against its
    recorded checksum, the first bad one named.  With --verify every bad file is
    listed, and the figures of the check are printed.
    """
    config = _config(index_dir)
    if verify:
        _verify(IndexStore(config.index_dir))
    service = SearchService(config)
    try:
        data = service.stats()
    except SearchError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise click.ClickException(
            f"cannot read the index in {config.index_dir}{where}: {exc.strerror or exc}"
        ) from None
    finally:
        service.close()
    for key, value in dataclasses.asdict(data).items():
        click.echo(f"{key}: {value}")


def _verify(store: IndexStore) -> None:
    """Check every file of the live generation; exit 1 listing each bad one."""
    started = time.monotonic()
    try:
        generation = store.current()
        record = generation.record()
    except SearchError as exc:
        raise click.ClickException(str(exc)) from None
    problems = generation.verify(record)
    seconds = time.monotonic() - started
    for problem in problems:
        click.echo(f"damaged: {problem}", err=True)
    if problems:
        raise click.ClickException(
            f"{len(problems)} of the {len(record.files)} files of {generation.name} are not "
            "as written: run indexer rebuild"
        )
    size = sum(c.size for c in record.files.values())
    click.echo(
        f"verified: {len(record.files)} files of {generation.name} ({size / 1e6:,.1f} MB), "
        f"each as recorded at commit {record.commit}, in {seconds:.2f} s"
    )


def main() -> None:
    """Console-script entry point."""
    cli()
