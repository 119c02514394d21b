"""What checking a generation's files costs a worker: ``python -m bench.verify INDEX_DIR``.

Each run is a new process (so no file is known good yet), on a warm page cache:

- ``hash``: every recorded file read whole and hashed (``Generation.verify``);
- ``open``: a worker's first snapshot of the live generation, check included
  (``LiveIndex.snapshot``), and within it the check alone;
- ``refresh``: the check a worker makes at each refresh once its files are known
  good (each file's inode, size and times).

Prints the median of ``--runs`` runs of each, in milliseconds (BENCHMARKS.md,
"Verifying a generation").
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from search import IndexStore, LiveIndex
from search.checksums import Verifier

__all__ = ["main"]


def _timed(step: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU milliseconds of one call (CPU time tells the cost on a busy machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _one_run(index_dir: Path) -> dict[str, float]:
    store = IndexStore(index_dir)
    generation = store.current()
    record = generation.record()
    results: dict[str, float] = {
        "files": float(len(record.files)),
        "megabytes": sum(c.size for c in record.files.values()) / 1e6,
    }
    steps: dict[str, Callable[[], object]] = {
        "hash": lambda: generation.verify(record),
    }
    live = LiveIndex(store)
    steps["open"] = live.snapshot
    # The check alone, as the open ran it: a new verifier over the same files.
    steps["check_at_open"] = lambda: Verifier().problems(generation.path, record.files)
    steps["refresh_check"] = lambda: live.verifier.problems(generation.path, record.files)
    for name, step in steps.items():
        results[f"{name}_ms"], results[f"{name}_cpu_ms"] = _timed(step)
    results["documents"] = float(live.snapshot().doc_count_all)
    live.close()
    return results


@click.command()
@click.argument("index_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--runs", default=5, show_default=True, help="Runs, each in a new process.")
@click.option("--one", is_flag=True, hidden=True)
def main(index_dir: Path, runs: int, one: bool) -> None:
    """Time checking the live generation of INDEX_DIR against its recorded checksums."""
    if one:
        click.echo(json.dumps(_one_run(index_dir)))
        return
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-m", "bench.verify", str(index_dir), "--one"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results.append(json.loads(out.splitlines()[-1]))
    for key in results[0]:
        values = [r[key] for r in results]
        each = ", ".join(f"{v:,.1f}" for v in values)
        click.echo(f"{key}: {statistics.median(values):,.1f} (runs: {each})")


if __name__ == "__main__":
    main()
