"""The whole suite at one corpus size: generate, index, HTTP, peers, against the targets.

    python -m bench run --size 100000

The corpus is generated under bench/results/corpus/ unless it is there already;
the index benchmark keeps its last index for the HTTP and peers benchmarks.
One JSON file holds every part's result, and a table compares the figures with
the targets of BENCHMARKS.md.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bench.generate import ensure_corpus
from bench.http_bench import print_http, run_http_bench
from bench.index_bench import print_index, run_index_bench
from bench.peers import print_peers, run_peers
from bench.results import print_table, save_result
from bench.results import results_dir as default_results_dir
from bench.stats import machine
from bench.targets import evaluate
from tests.support.generate import FORMATS

__all__ = ["main", "print_targets", "run_suite"]

PARTS = ("index", "http", "peers")


def run_suite(
    size: int,
    *,
    seed: int = 0,
    fmt: str = "jsonl",
    learn_from: Path | None = None,
    runs: int = 3,
    requests: int | None = None,
    seconds: float = 120.0,
    rounds: int = 5,
    parts: tuple[str, ...] = PARTS,
    results_dir: Path | None = None,
    keep_index: Path | None = None,
) -> dict[str, Any]:
    """Run the chosen parts at ``size`` events, the corpus generated under ``results_dir``
    (default: ``bench.results.results_dir()``); the combined result."""
    results_dir = results_dir or default_results_dir()
    info = ensure_corpus(results_dir / "corpus", size, seed, fmt, learn_from)
    result: dict[str, Any] = {"kind": "suite", "machine": machine(), "corpus": info.describe()}
    with tempfile.TemporaryDirectory(prefix="bench-suite-", dir=results_dir) as tmp:
        index_dir = Path(tmp) / "index"
        steps: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[dict[str, Any]], None]]] = {
            "index": (
                lambda: run_index_bench(info, runs, keep_index=index_dir, workdir=Path(tmp)),
                print_index,
            ),
            "http": (
                lambda: run_http_bench(info, index_dir, runs, requests, seconds, workdir=Path(tmp)),
                print_http,
            ),
            "peers": (lambda: run_peers(info, index_dir, rounds, workdir=Path(tmp)), print_peers),
        }
        for part in PARTS:
            if part not in parts:
                continue
            run, show = steps[part]
            try:
                result[part] = run()
            except Exception as exc:  # noqa: BLE001 - one part failing must not lose the others
                result[part] = {"error": f"{type(exc).__name__}: {exc}"}
                click.echo(f"\n{part} failed: {result[part]['error']}", err=True)
                continue
            show(result[part])
        if keep_index is not None and index_dir.exists():
            shutil.rmtree(keep_index, ignore_errors=True)
            shutil.move(index_dir, keep_index)
        shutil.rmtree(index_dir, ignore_errors=True)
    result["targets"] = evaluate(result, size)
    return result


def print_targets(result: dict[str, Any]) -> None:
    """The figures against the targets."""
    rows = []
    for row in result["targets"]:
        if row["value"] is None and row["target"] is None:
            continue
        status = {True: "met", False: f"missed x{row['missed_by_x']}", None: "-"}[row["met"]]
        rows.append([row["figure"], row["value"], row["unit"], row["target"], status])
    print_table(
        f"targets at {result['corpus']['count']} events",
        ["figure", "value", "", "target", ""],
        rows,
    )


@click.command("run")
@click.option("--size", type=click.IntRange(min=1), required=True, help="Events in the corpus.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True)
@click.option(
    "--learn-from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Learn the corpus model from this WikiTimes export.",
)
@click.option(
    "--runs", type=click.IntRange(min=1), default=3, show_default=True, help="Index and HTTP runs."
)
@click.option(
    "--requests",
    type=click.IntRange(min=1),
    help="Most requests per HTTP phase (default: one pass over the query log).",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.1),
    default=120.0,
    show_default=True,
    help="Most seconds per HTTP phase.",
)
@click.option(
    "--rounds", type=click.IntRange(min=1), default=5, show_default=True, help="Peers rounds."
)
@click.option("--only", type=click.Choice(PARTS), multiple=True, help="Run only these parts.")
@click.option(
    "--keep-index",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the index built by the index part here (for `bench profile`).",
)
def main(
    size: int,
    seed: int,
    fmt: str,
    learn_from: Path | None,
    runs: int,
    requests: int | None,
    seconds: float,
    rounds: int,
    only: tuple[str, ...],
    keep_index: Path | None,
) -> None:
    """Run the benchmark suite at SIZE events."""
    result = run_suite(
        size,
        seed=seed,
        fmt=fmt,
        learn_from=learn_from,
        runs=runs,
        requests=requests,
        seconds=seconds,
        rounds=rounds,
        parts=only or PARTS,
        keep_index=keep_index,
    )
    print_targets(result)
    click.echo(f"saved {save_result(result)}")
