"""Index benchmark: the real ``indexer rebuild`` command on a generated corpus.

    python -m bench index --corpus bench/results/corpus/jsonl-n100000-s0.jsonl --runs 3

Each run rebuilds into a fresh index directory, as a child process; reported:
wall time, events per second, CPU time, peak RSS (the child's ``ru_maxrss``,
from ``wait4``) and the size of the generation on disk.  Medians over the runs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from bench.corpus import CORPUS_OPTION, CorpusInfo
from bench.results import print_table, save_result
from bench.stats import cpu_busy_seconds, machine, median
from tests.support.indexes import INDEXER

__all__ = ["index_size", "main", "rebuild", "run_index_bench"]

_SUMMARY = re.compile(r"indexed (\d+) events")


def index_size(index_dir: Path) -> int:
    """Bytes on disk of the live generation of ``index_dir``."""
    live = index_dir / (index_dir / "CURRENT").read_text().strip()
    return sum(p.stat().st_size for p in live.rglob("*") if p.is_file())


def rebuild(
    corpus: Path,
    index_dir: Path,
    timeout: float = 3600.0,
    *,
    indexer: Sequence[str] = (str(INDEXER),),
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``indexer rebuild CORPUS --index-dir INDEX_DIR``; what it took.

    ``indexer`` is the command that runs the indexer (default: this environment's
    console script) and ``environ`` its environment (default: ``os.environ``), so
    that another revision's copy can be timed the same way."""
    command = [*indexer, "rebuild", str(corpus), "--index-dir", str(index_dir)]
    env = {**(os.environ if environ is None else environ), "EVENTSEARCH_KEEP_GENERATIONS": "0"}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        busy_before = cpu_busy_seconds()
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, text=True)
        while True:  # wait4 gives this child's own resource usage, peak RSS included
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                process.kill()
                _, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        busy = cpu_busy_seconds() - busy_before
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"indexer rebuild exited {process.returncode}: {stderr[-2000:]}")
    found = _SUMMARY.search(stdout)
    events = int(found.group(1)) if found else 0
    return {
        "seconds": round(seconds, 2),
        "events": events,
        "events_per_s": round(events / seconds, 1),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        # CPU other processes used meanwhile, in cores (a busy machine slows the run).
        "others_cpu_share": round(max(0.0, busy - usage.ru_utime - usage.ru_stime) / seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "index_mb": round(index_size(index_dir) / 1e6, 1),
        "summary": stdout.strip(),
    }


def run_index_bench(
    info: CorpusInfo, runs: int = 3, keep_index: Path | None = None, workdir: Path | None = None
) -> dict[str, Any]:
    """``runs`` rebuilds of the corpus; the last index is moved to ``keep_index`` if given."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-index-", dir=workdir) as tmp:
        for number in range(runs):
            index_dir = Path(tmp) / f"run-{number}"
            results.append(rebuild(info.path, index_dir))
            if keep_index is not None and number == runs - 1:
                shutil.rmtree(keep_index, ignore_errors=True)
                keep_index.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(index_dir, keep_index)
            else:
                shutil.rmtree(index_dir, ignore_errors=True)
    keys = ("seconds", "events_per_s", "cpu_s", "peak_rss_mb", "index_mb", "others_cpu_share")
    return {
        "kind": "index",
        "machine": machine(),
        "corpus": info.describe(),
        "runs": results,
        "median": {k: median([r[k] for r in results]) for k in keys},
    }


def print_index(result: dict[str, Any]) -> None:
    """The result as a table."""
    keys = ("seconds", "events_per_s", "cpu_s", "peak_rss_mb", "index_mb", "others_cpu_share")
    rows = [[f"run {i + 1}", *(r[k] for k in keys)] for i, r in enumerate(result["runs"])]
    rows.append(["median", *(result["median"][k] for k in keys)])
    print_table(
        f"indexer rebuild, {result['corpus']['count']} events ({result['corpus']['format']})",
        ["", "seconds", "events/s", "CPU s", "peak RSS MB", "index MB", "others' CPU"],
        rows,
    )


@click.command("index")
@CORPUS_OPTION
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option(
    "--keep-index",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the last run's index here (for the http and peers benchmarks).",
)
def main(info: CorpusInfo, runs: int, keep_index: Path | None) -> None:
    """Time `indexer rebuild` on CORPUS."""
    result = run_index_bench(info, runs, keep_index)
    print_index(result)
    click.echo(f"saved {save_result(result)}")
