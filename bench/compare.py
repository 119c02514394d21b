"""``bench compare``: revisions of the product side by side, on the same corpus and log.

    python -m bench compare e7e332e HEAD --size 100000 --runs 3
    python -m bench compare HEAD WORKTREE --size 2000 --runs 1

Each revision is built from ``git archive`` with the Python dependencies its own
pyproject.toml pins (bench/revisions.py); ``WORKTREE`` is the working tree as it
is, changes included.  This tree's bench code drives every revision: the same
corpus (``--size`` events generated as ``bench generate`` does, or ``--corpus``),
the same query log (bench/queries.py), the same asyncio client
(bench/http_bench.py).  A run of a revision:

1. its ``indexer rebuild`` of the corpus into a fresh directory, as a child
   process: events/s, CPU ms per event and peak RSS (bench/index_bench.py);
2. its gunicorn, with its config file and its default settings but 2 workers
   (``EVENTSEARCH_WORKERS=2``), serving that index; the first search of the log
   is timed alone once ``/readyz`` answers (the first request after start);
3. a warm-up (the whole log twice, 2 clients), then phases of keep-alive
   clients: the log's searches at concurrency 1 (p50, p99) and at 8 (searches/s,
   workers' CPU per search from /proc of the worker pids), its suggest prefixes
   at 8 (suggest/s) and ``/healthz`` at 8 (/healthz/s);
4. the RSS of the largest worker, then gunicorn is stopped.

Runs interleave the revisions (A, B, A, B... for ``--runs 2``) so that what else
the machine does falls on all of them; each figure is the median over the runs,
and its ratio to the first revision's median is printed beside it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from bench.corpus import CorpusInfo, CorpusPath
from bench.generate import ensure_corpus
from bench.http_bench import load, probe_routes, run_phase
from bench.index_bench import rebuild
from bench.queries import SEARCH_KINDS, Query, build_log
from bench.results import print_table, results_dir, save_result
from bench.revisions import WORKTREE, Revision, RevisionError, prepare
from bench.stats import machine, median, rss_mb
from tests.support.gunicorn import Gunicorn

__all__ = ["FIGURES", "Figure", "main", "run_compare"]

WORKERS = 2
#: How long gunicorn may take to answer /readyz with every worker running.
READY_SECONDS = 600.0
#: Requests per phase unless ``--requests`` says: searches, two passes of the log's.
DEFAULT_REQUESTS = {"suggest": 300, "healthz": 2000}


@dataclass(frozen=True)
class Figure:
    """One figure of the comparison: its key in the result, its name, its unit,
    whether more is better, and how it is read from one run's measurement."""

    key: str
    name: str
    unit: str
    higher_is_better: bool
    read: Callable[[dict[str, Any]], float | None]


def _phase_figure(phase: str, *path: str) -> Callable[[dict[str, Any]], float | None]:
    """Reads ``phases[phase][path...]`` of a run; None when the phase was not run."""

    def read(run: dict[str, Any]) -> float | None:
        found: Any = run["phases"].get(phase)
        for part in path:
            if found is None:
                return None
            found = found[part]
        return None if found is None else float(found)

    return read


FIGURES: tuple[Figure, ...] = (
    Figure("searches_per_s_c8", "searches/s, c=8", "1/s", True, _phase_figure("search_c8", "rps")),
    Figure(
        "worker_cpu_ms_per_search_c8",
        "worker CPU per search, c=8",
        "ms",
        False,
        _phase_figure("search_c8", "worker_cpu_ms_per_request"),
    ),
    Figure(
        "search_p50_ms_c1",
        "search p50, c=1",
        "ms",
        False,
        _phase_figure("search_c1", "all", "p50_ms"),
    ),
    Figure(
        "search_p99_ms_c1",
        "search p99, c=1",
        "ms",
        False,
        _phase_figure("search_c1", "all", "p99_ms"),
    ),
    Figure("suggest_per_s_c8", "suggest/s, c=8", "1/s", True, _phase_figure("suggest_c8", "rps")),
    Figure("healthz_per_s_c8", "/healthz/s, c=8", "1/s", True, _phase_figure("healthz_c8", "rps")),
    Figure(
        "first_request_ms",
        "first request after start",
        "ms",
        False,
        lambda run: run["first_request_ms"],
    ),
    Figure(
        "largest_worker_rss_mb",
        "largest worker RSS after the run",
        "MB",
        False,
        lambda run: run["largest_worker_rss_mb"],
    ),
    Figure(
        "rebuild_events_per_s",
        "indexer rebuild, events/s",
        "1/s",
        True,
        lambda run: run["rebuild"]["events_per_s"],
    ),
    Figure(
        "rebuild_cpu_ms_per_event",
        "indexer rebuild, CPU per event",
        "ms",
        False,
        lambda run: run["rebuild"]["cpu_ms_per_event"],
    ),
    Figure(
        "rebuild_peak_rss_mb",
        "indexer rebuild, peak RSS",
        "MB",
        False,
        lambda run: run["rebuild"]["peak_rss_mb"],
    ),
)


def _measure(
    revision: Revision,
    corpus: Path,
    log: Sequence[Query],
    requests: int | None,
    seconds: float,
    workdir: Path,
) -> dict[str, Any]:
    """One run of ``revision``: rebuild, serve, first request, warm-up, phases, memory."""
    index_dir = workdir / "index"
    metrics_dir = workdir / "metrics"
    metrics_dir.mkdir()
    environ = {**revision.environ(), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    indexed = rebuild(corpus, index_dir, indexer=revision.indexer, environ=environ)
    indexed["cpu_ms_per_event"] = round(indexed["cpu_s"] * 1000 / max(1, indexed["events"]), 3)
    server = Gunicorn(
        index_dir,
        WORKERS,
        log_path=workdir / "gunicorn.log",
        root=revision.source,
        gunicorn=revision.gunicorn,
        app=revision.app,
        environ=environ,
    )
    try:  # a busy machine may take longer than the usual minute to start it
        server.wait_ready(READY_SECONDS)
    except BaseException:
        server.stop(timeout=5.0)
        raise
    with server:
        host, port = server.host, server.port
        searches = [(q.kind, q.search_path()) for q in log if q.kind in SEARCH_KINDS]
        first, _ = load(host, port, searches[:1], 1, 1, 60.0, 60.0)
        suggest_route, related_route = probe_routes(server)
        every = [(q.kind, p) for q in log if (p := q.path(suggest_route, related_route))]
        suggests = [(kind, path) for kind, path in every if kind == "suggest"]
        load(host, port, every, WORKERS, 2 * len(every), 120.0)  # warm-up
        pids = server.worker_pids()
        plan = {
            "search_c1": (searches, 1, requests or 2 * len(searches)),
            "search_c8": (searches, 8, requests or 2 * len(searches)),
            "suggest_c8": (suggests, 8, requests or DEFAULT_REQUESTS["suggest"]),
            "healthz_c8": ([("healthz", "/healthz")], 8, requests or DEFAULT_REQUESTS["healthz"]),
        }
        phases: dict[str, dict[str, Any] | None] = {}
        for name, (entries, concurrency, most) in plan.items():
            phases[name] = (
                run_phase(server, entries, concurrency, most, seconds) if entries else None
            )
        replaced = server.worker_pids() != pids
        memory = [rss_mb(pid) for pid in server.worker_pids()]
    shutil.rmtree(index_dir, ignore_errors=True)
    return {
        "revision": revision.label,
        "rebuild": indexed,
        "routes": {"suggest": suggest_route, "related": related_route},
        "first_request_ms": round(first[0].ms, 1) if first and first[0].status == 200 else None,
        "phases": phases,
        # A worker recycled during the run took its CPU time with it: the CPU figure
        # of that run is then too low.
        "workers_replaced": replaced,
        "largest_worker_rss_mb": max((m for m in memory if m is not None), default=None),
    }


def _ratio(value: float | None, reference: float | None) -> float | None:
    if value is None or not reference:
        return None
    return round(value / reference, 3)


def summarize(
    revisions: Sequence[str], runs: Sequence[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Each figure's median over the runs per revision, and its ratio to the first's."""
    figures: dict[str, dict[str, Any]] = {}
    for figure in FIGURES:
        medians: dict[str, float | None] = {}
        for label in revisions:
            read = [figure.read(r) for r in runs if r["revision"] == label]
            values = [v for v in read if v is not None]
            medians[label] = round(median(values), 3) if values else None
        reference = medians[revisions[0]]
        figures[figure.key] = {
            "name": figure.name,
            "unit": figure.unit,
            "higher_is_better": figure.higher_is_better,
            "median": medians,
            "ratio": {label: _ratio(medians[label], reference) for label in revisions},
        }
    return figures


def run_compare(
    names: Sequence[str],
    corpus: CorpusInfo,
    runs: int = 1,
    requests: int | None = None,
    seconds: float = 120.0,
    results: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Measure the revisions ``names`` (git revisions or ``WORKTREE``) on ``corpus``
    (a ``bench.corpus.CorpusInfo``), ``runs`` interleaved runs each; the result, with
    the figures of FIGURES summarized by ``summarize``.  Sources and environments are
    cached under ``results`` (default: ``bench.results.results_dir()``)/compare/;
    RevisionError when a revision cannot be prepared."""
    results = (results or results_dir()).resolve()
    cache = results / "compare"
    cache.mkdir(parents=True, exist_ok=True)
    log = build_log(corpus.model(), corpus.count, corpus.seed)
    measured: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-compare-", dir=cache) as tmp:
        progress(f"preparing {', '.join(names)}")
        revisions = prepare(names, cache, Path(tmp))
        for number in range(runs):
            for revision in revisions:
                progress(f"run {number + 1}/{runs}: {revision.label}")
                workdir = Path(tmp) / f"run-{number}-{len(measured)}"
                workdir.mkdir()
                try:
                    run = _measure(revision, corpus.path, log, requests, seconds, workdir)
                except (RuntimeError, TimeoutError, OSError) as exc:
                    raise RevisionError(f"{revision.label}, run {number + 1}: {exc}") from exc
                run["run"] = number + 1
                measured.append(run)
                if run["workers_replaced"]:
                    progress(f"  {revision.label}: a worker was replaced during the run")
        labels = [r.label for r in revisions]
        described = [r.describe() for r in revisions]
    for item in described:
        if item["commit"] == WORKTREE:
            item["source"] = "(the working tree, copied)"
    return {
        "kind": "compare",
        "machine": machine(),
        "corpus": corpus.describe(),
        "revisions": described,
        "workers": WORKERS,
        "bounds": {
            "requests": requests
            or {"search": "two passes of the log's searches", **DEFAULT_REQUESTS},
            "seconds": seconds,
        },
        "runs": measured,
        "figures": summarize(labels, measured),
    }


def print_compare(result: dict[str, Any]) -> None:
    """The figures as a table: each revision's median, then its ratio to the first."""
    labels = [r["label"] for r in result["revisions"]]
    first = labels[0]
    rows = []
    for figure in result["figures"].values():
        better = "higher" if figure["higher_is_better"] else "lower"
        rows.append(
            [
                figure["name"],
                f"{figure['unit']} ({better} is better)",
                *(figure["median"][label] for label in labels),
                *(
                    None if figure["ratio"][label] is None else f"x{figure['ratio'][label]:.2f}"
                    for label in labels[1:]
                ),
            ]
        )
    commits = ", ".join(f"{r['label']} = {r['commit'][:10]}" for r in result["revisions"])
    runs = len(result["runs"]) // max(1, len(labels))
    others = [p["others_cpu_share"] for r in result["runs"] for p in _ran(r)]
    print_table(
        f"compare, {result['corpus']['count']} events, {result['workers']} workers, medians of "
        f"{runs} interleaved run(s) ({commits}; others' CPU up to "
        f"{max(others, default=0.0):.2f} cores)",
        ["figure", "unit", *labels, *(f"{label} / {first}" for label in labels[1:])],
        rows,
    )
    failed = {
        label: (
            sum(p["errors"] for r in result["runs"] if r["revision"] == label for p in _ran(r)),
            sum(p["timed_out"] for r in result["runs"] if r["revision"] == label for p in _ran(r)),
        )
        for label in labels
    }
    click.echo(
        "errors / partial answers: "
        + ", ".join(f"{label} {e} / {t}" for label, (e, t) in failed.items())
    )


def _ran(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in run["phases"].values() if p is not None]


@click.command("compare")
@click.argument("revisions", nargs=-1, required=True)
@click.option("--size", type=click.IntRange(min=1), help="Events to generate (bench generate).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --size's corpus.")
@click.option(
    "--corpus",
    "info",
    type=CorpusPath(),
    help="A corpus written by `python -m bench generate` (instead of --size).",
)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Runs of each revision, interleaved.",
)
@click.option(
    "--requests",
    type=click.IntRange(min=1),
    help="Most requests per phase (default: two passes of the log's searches; "
    f"{DEFAULT_REQUESTS['suggest']} suggest; {DEFAULT_REQUESTS['healthz']} /healthz).",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.1),
    default=120.0,
    show_default=True,
    help="Most seconds per phase.",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the result to this file.",
)
def main(
    revisions: tuple[str, ...],
    size: int | None,
    seed: int,
    info: CorpusInfo | None,
    runs: int,
    requests: int | None,
    seconds: float,
    json_out: Path | None,
) -> None:
    """Compare REVISIONS (git revisions; WORKTREE is the working tree with its changes)
    on the same corpus: rebuild, serving, searches, suggest, memory; ratios to the first."""
    if (size is None) == (info is None):
        raise click.UsageError("give either --size or --corpus")
    if info is None:
        info = ensure_corpus(results_dir() / "corpus", size or 0, seed)

    def progress(message: str) -> None:
        click.echo(message, err=True)

    try:
        result = run_compare(revisions, info, runs, requests, seconds, progress=progress)
    except RevisionError as exc:
        raise click.ClickException(str(exc)) from None
    print_compare(result)
    saved = save_result(result)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved, json_out)
    click.echo(f"saved {saved}")
