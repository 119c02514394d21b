"""The benchmark commands, run once at a tiny size as a developer runs them
(``python -m bench ...``): they work and their figures have the right shape.  No
timing is asserted; speed is what the benchmark commands report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from indexer.formats import read_file
from search import Event
from tests.corpus import ROOT, corpus_file

pytestmark = pytest.mark.slow  # runs the benchmark suite

SIZE = 300
#: The searches of the query log (BENCHMARKS.md, "What is measured").
SEARCH_KINDS = {"word", "and2", "phrase", "date", "entity", "histogram", "half"}


def bench(results: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m bench ARGS`` from the repository root, its results kept in ``results``."""
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        env={**os.environ, "BENCH_RESULTS_DIR": str(results)},
        capture_output=True,
        text=True,
        timeout=1800,
    )


def saved(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The result file a command said it saved (its last line: ``saved PATH``)."""
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("saved "), run.stdout[-3000:]
    result: dict[str, Any] = json.loads(Path(last.removeprefix("saved ")).read_text())
    return result


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``bench run`` at SIZE events: one index run, short HTTP phases, one peers round."""
    results = tmp_path_factory.mktemp("bench-results")
    return saved(
        bench(
            results,
            *("run", "--size", str(SIZE), "--seed", "3", "--runs", "1", "--requests", "80"),
            *("--seconds", "5", "--rounds", "1"),
        )
    )


def _events(path: Path) -> list[Event]:
    files = sorted(path.rglob("*.md")) if path.is_dir() else [path]
    return [e for f in files for e in read_file(f) if isinstance(e, Event)]


def test_generate_writes_the_same_corpus_for_a_seed_in_either_format(tmp_path: Path) -> None:
    def generate(out: str, *args: str) -> Path:
        run = bench(tmp_path, "generate", "--count", "120", "--out", str(tmp_path / out), *args)
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith(f"wrote 120 events to {tmp_path / out}")
        return tmp_path / out

    first, again = generate("a.jsonl", "--seed", "5"), generate("b.jsonl", "--seed", "5")
    other = generate("c.jsonl", "--seed", "6")
    assert first.read_bytes() == again.read_bytes() != other.read_bytes()
    pages = generate("pages", "--seed", "5", "--format", "seed")
    assert len(_events(first)) == 120
    assert _events(pages) == _events(first)


def test_a_generated_corpus_is_what_the_other_commands_take(tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl"
    assert bench(tmp_path, "generate", "--count", "25", "--out", str(out)).returncode == 0
    assert len(out.read_text().splitlines()) == 25
    index = saved(bench(tmp_path, "index", "--corpus", str(out), "--runs", "1"))
    assert index["corpus"]["count"] == 25 and index["runs"][0]["events"] == 25
    bad = bench(tmp_path, "generate", "--count", "0", "--out", str(out))
    assert bad.returncode == 2 and "--count" in bad.stderr
    unknown = bench(tmp_path, "index", "--corpus", str(tmp_path))
    assert unknown.returncode == 2 and "not written by" in unknown.stderr


def test_the_suite_generates_its_corpus_once(suite: dict[str, Any]) -> None:
    corpus = Path(suite["corpus"]["path"])
    assert suite["corpus"]["count"] == SIZE and suite["corpus"]["seed"] == 3
    assert len(_events(corpus)) == SIZE


def test_index_benchmark_reports_rate_memory_and_size(suite: dict[str, Any]) -> None:
    index = suite["index"]
    (run,) = index["runs"]
    assert run["events"] == SIZE
    assert run["seconds"] > 0 and run["events_per_s"] > 0 and run["cpu_s"] > 0
    assert run["peak_rss_mb"] > 10 and run["index_mb"] > 0
    assert index["median"]["events_per_s"] == run["events_per_s"]


def test_http_benchmark_loads_real_gunicorn(suite: dict[str, Any]) -> None:
    http = suite["http"]
    assert http["log_entries"] > 0
    assert set(http["median"]) == {"1", "8"}
    for phase in http["median"].values():
        assert phase["requests"] > 0 and phase["errors"] == phase["timed_out"] == 0
        assert phase["rps"] > 0
        for part in ("all", "search"):
            p = phase[part]
            assert 0 < p["p50_ms"] <= p["p95_ms"] <= p["p99_ms"]
        assert set(phase["by_kind"]) >= SEARCH_KINDS
    assert len(http["workers_memory"]) == 2
    for memory in http["workers_memory"]:
        assert memory["rss_mb"] > 10 and memory["peak_rss_mb"] >= memory["rss_mb"]
        assert 0 < memory["pss_mb"] <= memory["rss_mb"]
        assert 0 < memory["private_mb"] <= memory["rss_mb"]
    if http["routes"]["related"]:
        assert "related" in http["median"]["1"]["by_kind"]


def test_peers_do_the_same_work_as_ours(suite: dict[str, Any]) -> None:
    peers = suite["peers"]
    for mode in ("plain", "facets"):
        for name in ("sqlite", "tantivy"):
            agreement = peers["agreement"][mode][name]
            # Built-in words are stemmed alike by every engine: every answer agrees.
            assert agreement["of"] > 100
            assert all(agreement[part] == agreement["of"] for part in agreement)
            ratio = peers["ratios"][mode][name]
            assert ratio["sum"] > 0 and ratio["median"] > 0
    assert peers["half_facets_ms"]["ours"] > 0


def test_targets_are_read_from_a_suite_result(suite: dict[str, Any]) -> None:
    rows = suite["targets"]
    assert rows and all(row["target"] is None for row in rows)  # no target at this size
    by_figure = {row["figure"]: row for row in rows}
    assert (
        by_figure["indexer rebuild throughput"]["value"]
        == (suite["index"]["median"]["events_per_s"])
    )


def test_highlight_benchmark_at_a_tiny_size(tmp_path: Path) -> None:
    """bench highlight's two parts run and give a figure per case (none is asserted)."""
    result = saved(
        bench(
            tmp_path,
            *("highlight", "--corpus", str(corpus_file()), "--sizes", "5000", "--runs", "1"),
        )
    )
    snippets, searches = result["snippets"], result["searches"]
    assert len(snippets) == 9 and all(r["ms"] >= 0 and r["cpu_ms"] >= 0 for r in snippets)
    assert all(r["size"] >= 5_000 for r in snippets)  # bodies of the size asked for, or more
    assert [r["query"] for r in searches] == ["harbour", '"rail link"']
    assert all(r["took_ms"] > 0 for r in searches)


def test_dates_benchmark_runs(tmp_path: Path) -> None:
    """bench dates prints its three parts (no figure is asserted)."""
    done = bench(tmp_path, "dates", "--corpus", str(corpus_file()), "--runs", "10")
    assert done.returncode == 0, done.stderr
    assert "dateparser load" in done.stdout
    for case in ("no date", "date, cached", "date, first seen", "refugees Sept. 2015"):
        assert case in done.stdout, done.stdout


#: The figures `bench compare` reports for each revision (BENCHMARKS.md, "Commands").
COMPARE_FIGURES = {
    "searches_per_s_c8",
    "worker_cpu_ms_per_search_c8",
    "search_p50_ms_c1",
    "search_p99_ms_c1",
    "suggest_per_s_c8",
    "healthz_per_s_c8",
    "first_request_ms",
    "largest_worker_rss_mb",
    "rebuild_events_per_s",
    "rebuild_cpu_ms_per_event",
    "rebuild_peak_rss_mb",
}


def test_compare_builds_a_commit_and_the_working_tree_and_measures_both(tmp_path: Path) -> None:
    copy = tmp_path / "copy.json"
    run = bench(
        tmp_path,
        *("compare", "HEAD", "WORKTREE", "--size", str(SIZE), "--runs", "1"),
        *("--requests", "40", "--seconds", "5", "--json", str(copy)),
    )
    result = saved(run)
    assert json.loads(copy.read_text()) == result
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert [(r["label"], r["commit"]) for r in result["revisions"]] == [
        ("HEAD", head),
        ("WORKTREE", "WORKTREE"),
    ]
    assert result["corpus"]["count"] == SIZE
    assert [r["revision"] for r in result["runs"]] == ["HEAD", "WORKTREE"]
    for measured in result["runs"]:
        assert measured["rebuild"]["events"] == SIZE
        for phase in measured["phases"].values():
            assert phase["requests"] > 0 and phase["errors"] == 0
    assert set(result["figures"]) == COMPARE_FIGURES
    for key, figure in result["figures"].items():
        head, worktree = figure["median"]["HEAD"], figure["median"]["WORKTREE"]
        assert head > 0 and worktree > 0, key
        assert figure["ratio"]["HEAD"] == 1.0, key
        assert figure["ratio"]["WORKTREE"] == pytest.approx(worktree / head, abs=1e-3), key
        assert figure["name"] in run.stdout
    # One run each: a median is that run's figure.
    for measured in result["runs"]:
        figures = {k: f["median"][measured["revision"]] for k, f in result["figures"].items()}
        search = measured["phases"]["search_c8"]
        assert figures["searches_per_s_c8"] == search["rps"]
        assert figures["worker_cpu_ms_per_search_c8"] == search["worker_cpu_ms_per_request"]
        assert figures["search_p99_ms_c1"] == measured["phases"]["search_c1"]["all"]["p99_ms"]
        assert figures["rebuild_peak_rss_mb"] == measured["rebuild"]["peak_rss_mb"]
    assert "WORKTREE / HEAD" in run.stdout


def test_compare_names_a_revision_it_cannot_find(tmp_path: Path) -> None:
    run = bench(tmp_path, "compare", "HEAD", "no-such-revision", "--size", "20")
    assert run.returncode == 1
    assert "'no-such-revision' is not a revision" in run.stderr
    assert not list(tmp_path.glob("compare-*.json"))
