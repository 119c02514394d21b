"""Engine-level comparison: our search layer, SQLite FTS5 and tantivy, in one process,
on the same corpus and the same query log.

    python -m bench peers --corpus bench/results/corpus/jsonl-n100000-s0.jsonl

Each search of the log runs in two modes: ``plain`` (the top 10 and the total)
and ``facets`` (the same plus the date histogram, entity and source facets, or
only the histogram for ``size=0`` entries).  Every round runs every query on
every engine, one after the other (the engines' order rotating), after one
warm-up round; a query's time is its median over the rounds.  Printed: each
engine's median and p95 over the queries, the sum over the log, medians per
kind, and the ratios ours/peer (of the sums, and the median of per-query
ratios).  How often each engine's totals and facets agree with ours is
recorded, so that a ratio never compares different work unnoticed.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from bench.corpus import CORPUS_OPTION, CorpusInfo, read_corpus_events
from bench.engines import Engine, OursEngine, Outcome, SqliteEngine, TantivyEngine
from bench.index_bench import rebuild
from bench.queries import Query, build_log
from bench.results import print_table, save_result
from bench.stats import machine, median, percentile

__all__ = ["MODES", "build_engines", "compare", "main", "measure", "run_peers"]

MODES = ("plain", "facets")
PEERS = ("sqlite", "tantivy")


def build_engines(
    info: CorpusInfo, index_dir: Path, workdir: Path, with_defaults: bool = True
) -> tuple[list[Engine], dict[str, float]]:
    """Our engine on ``index_dir`` (built if it holds no index) and the peers, built
    in ``workdir`` from the same events; and each one's build time in seconds."""
    seconds: dict[str, float] = {}
    if not (index_dir / "CURRENT").exists():
        seconds["ours"] = rebuild(info.path, index_dir)["seconds"]
    engines: list[Engine] = [OursEngine(index_dir)]
    if with_defaults:
        engines.append(OursEngine(index_dir, literal=False))
    started = time.perf_counter()
    engines.append(SqliteEngine.build(read_corpus_events(info.path), workdir / "fts5.sqlite"))
    seconds["sqlite"] = time.perf_counter() - started
    started = time.perf_counter()
    engines.append(TantivyEngine.build(read_corpus_events(info.path), workdir / "tantivy"))
    seconds["tantivy"] = time.perf_counter() - started
    return engines, {k: round(v, 2) for k, v in seconds.items()}


def _runs(log: Sequence[Query]) -> Iterator[tuple[int, Query, str]]:
    for i, query in enumerate(log):
        for mode in MODES:
            if mode == "plain" and query.size == 0:
                continue  # nothing to do without facets
            yield i, query, mode


def compare(ours: Outcome, other: Outcome) -> dict[str, bool]:
    """Whether another engine's totals and facets equal ours (facet lists: the same
    counts in order, and the same count for every value both list)."""
    same = {"total": ours.total == other.total and not (ours.timed_out or other.timed_out)}
    for name, value in ours.facets.items():
        theirs = other.facets.get(name)
        if name == "date":
            same[name] = value == theirs
        else:
            mine, their = dict(value), dict(theirs or [])
            same[name] = [c for _, c in value] == [c for _, c in theirs or []] and all(
                mine[v] == their[v] for v in mine.keys() & their.keys()
            )
    return same


def measure(
    engines: Sequence[Engine], log: Sequence[Query], rounds: int
) -> tuple[dict[str, dict[str, list[float]]], dict[str, dict[str, list[dict[str, bool]]]]]:
    """Per engine and mode, each run's median time in ms (in the order of ``_runs``);
    and per engine and mode, how each run's answer compares with ours."""
    runs = list(_runs(log))
    samples: dict[str, dict[str, list[list[float]]]] = {
        e.name: {m: [[] for _ in runs] for m in MODES} for e in engines
    }
    agreement: dict[str, dict[str, list[dict[str, bool]]]] = {
        e.name: {m: [] for m in MODES} for e in engines
    }
    for round_number in range(rounds + 1):  # round 0 warms up and checks answers
        shift = round_number % len(engines)
        order = [*engines[shift:], *engines[:shift]]
        for slot, (_, query, mode) in enumerate(runs):
            answers: dict[str, Outcome] = {}
            for engine in order:
                started = time.perf_counter_ns()
                answers[engine.name] = engine.run(query, mode == "facets")
                elapsed = (time.perf_counter_ns() - started) / 1e6
                if round_number:
                    samples[engine.name][mode][slot].append(elapsed)
            if round_number == 0:
                for engine in engines:
                    same = compare(answers["ours"], answers[engine.name])
                    agreement[engine.name][mode].append(same)
    medians = {
        name: {
            mode: [median(s) for (_, _, m), s in zip(runs, per_run, strict=True) if m == mode]
            for mode, per_run in modes.items()
        }
        for name, modes in samples.items()
    }
    return medians, agreement


def _summary(times: list[float], kinds: list[str]) -> dict[str, Any]:
    by_kind: dict[str, list[float]] = {}
    for kind, ms in zip(kinds, times, strict=True):
        by_kind.setdefault(kind, []).append(ms)
    return {
        "queries": len(times),
        "median_ms": round(median(times), 3),
        "p95_ms": round(percentile(times, 95), 3),
        "max_ms": round(max(times, default=0.0), 3),
        "sum_ms": round(sum(times), 2),
        "by_kind_median_ms": {k: round(median(v), 3) for k, v in by_kind.items()},
    }


def run_peers(
    info: CorpusInfo,
    index_dir: Path | None = None,
    rounds: int = 5,
    with_defaults: bool = True,
    workdir: Path | None = None,
    sample: int | None = None,
) -> dict[str, Any]:
    """Build the engines, measure them on the corpus's query log (or on ``sample``
    of its searches, evenly spread, so every kind keeps its share), and summarise."""
    log = [q for q in build_log(info.model(), info.count, info.seed) if q.is_search]
    if sample and sample < len(log):
        log = [log[i * len(log) // sample] for i in range(sample)]
    with tempfile.TemporaryDirectory(prefix="bench-peers-", dir=workdir) as tmp:
        work = Path(tmp)
        engines, build_seconds = build_engines(
            info, index_dir or work / "index", work, with_defaults
        )
        try:
            times, agreement = measure(engines, log, rounds)
        finally:
            for engine in engines:
                engine.close()
    runs = list(_runs(log))
    result: dict[str, Any] = {
        "kind": "peers",
        "machine": machine(),
        "corpus": info.describe(),
        "rounds": rounds,
        "searches": len(log),
        "build_seconds": build_seconds,
        "modes": {},
        "ratios": {},
        "agreement": {},
    }
    for mode in MODES:
        kinds = [q.kind for _, q, m in runs if m == mode]
        result["modes"][mode] = {name: _summary(t[mode], kinds) for name, t in times.items()}
        ours = times["ours"][mode]
        result["ratios"][mode] = {}
        for name, t in times.items():
            if name == "ours":
                continue
            per_query = [a / b for a, b in zip(ours, t[mode], strict=True) if b > 0]
            result["ratios"][mode][name] = {
                "sum": round(sum(ours) / sum(t[mode]), 2) if sum(t[mode]) else None,
                "median": round(median(per_query), 2),
            }
        result["agreement"][mode] = {
            name: {
                part: sum(1 for a in checks if a.get(part, True))
                for part in ("total", "date", "entity", "source")
            }
            | {"of": len(checks)}
            for name, per_mode in agreement.items()
            for checks in [per_mode[mode]]
        }
    # Which answers differ from ours (not counting ours with the service's defaults,
    # which widens queries on purpose).
    result["disagreements"] = [
        {"engine": name, "mode": mode, "query": query.describe(), "differs": sorted(differs)}
        for name, per_mode in agreement.items()
        if name not in ("ours", "ours-default")
        for mode in MODES
        for query, same in zip([q for _, q, m in runs if m == mode], per_mode[mode], strict=True)
        if (differs := {part for part, ok in same.items() if not ok})
    ]
    faceted = [q for _, q, m in runs if m == "facets"]
    half = [i for i, q in enumerate(faceted) if q.kind == "half"]
    result["half_facets_ms"] = {
        name: round(median([t["facets"][i] for i in half]), 3) for name, t in times.items()
    }
    return result


def print_peers(result: dict[str, Any]) -> None:
    """The result as tables, and the answers that differ from ours."""
    for mode in MODES:
        rows = []
        for name, s in result["modes"][mode].items():
            ratio = result["ratios"][mode].get(name, {})
            agree = result["agreement"][mode][name]
            rows.append(
                [
                    name,
                    s["median_ms"],
                    s["p95_ms"],
                    s["sum_ms"],
                    ratio.get("sum", "-"),
                    ratio.get("median", "-"),
                    f"{agree['total']}/{agree['of']}",
                ]
            )
        print_table(
            f"peers, {mode} ({result['corpus']['count']} events, {result['rounds']} rounds)",
            [
                "engine",
                "median ms",
                "p95 ms",
                "log sum ms",
                "ours/it (sum)",
                "ours/it (median)",
                "totals = ours",
            ],
            rows,
        )
        kinds = list(next(iter(result["modes"][mode].values()))["by_kind_median_ms"])
        print_table(
            f"median ms by kind, {mode}",
            ["engine", *kinds],
            [
                [name, *(s["by_kind_median_ms"][k] for k in kinds)]
                for name, s in result["modes"][mode].items()
            ],
        )

    for item in result.get("disagreements", []):
        click.echo(
            f"differs from ours: {item['engine']} {item['mode']} {item['query']} "
            f"({', '.join(item['differs'])})"
        )


@click.command("peers")
@CORPUS_OPTION
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Our index of that corpus (default: built in a temporary directory).",
)
@click.option("--rounds", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--no-defaults", is_flag=True, help="Leave out ours with the service's defaults.")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    help="Measure only this many searches of the log, evenly spread (for large corpora, "
    "where SQLite FTS5 takes seconds per faceted search).",
)
def main(
    info: CorpusInfo, index_dir: Path | None, rounds: int, no_defaults: bool, sample: int | None
) -> None:
    """Compare our search layer with SQLite FTS5 and tantivy on CORPUS."""
    result = run_peers(info, index_dir, rounds, not no_defaults, sample=sample)
    print_peers(result)
    click.echo(f"saved {save_result(result)}")
