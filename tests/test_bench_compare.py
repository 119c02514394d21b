"""How `bench compare` sums up its runs: each figure's median over a revision's runs,
and its ratio to the first revision's median (the command itself is run in
tests/test_bench_smoke.py)."""

from __future__ import annotations

from typing import Any

from bench.compare import FIGURES, summarize


def _run(
    revision: str, searches_per_s: float, rss_mb: float, suggest: bool = True
) -> dict[str, Any]:
    phase = {"rps": searches_per_s, "worker_cpu_ms_per_request": 4.0}
    latency = {"all": {"p50_ms": 2.0, "p99_ms": 9.0}}
    return {
        "revision": revision,
        "rebuild": {"events_per_s": 100.0, "cpu_ms_per_event": 8.0, "peak_rss_mb": 90.0},
        "first_request_ms": 150.0,
        "largest_worker_rss_mb": rss_mb,
        "phases": {
            "search_c1": latency,
            "search_c8": phase,
            "suggest_c8": {"rps": 500.0} if suggest else None,
            "healthz_c8": {"rps": 1000.0},
        },
    }


def test_medians_over_runs_and_ratios_to_the_first_revision() -> None:
    runs = [
        _run("old", 100.0, 200.0),
        _run("new", 50.0, 300.0),
        _run("old", 140.0, 220.0),
        _run("new", 70.0, 330.0),
        _run("old", 120.0, 210.0),
        _run("new", 90.0, 360.0),
    ]
    figures = summarize(["old", "new"], runs)
    assert set(figures) == {f.key for f in FIGURES}
    searches = figures["searches_per_s_c8"]
    assert searches["median"] == {"old": 120.0, "new": 70.0}
    assert searches["ratio"] == {"old": 1.0, "new": 0.583}  # 70 / 120
    assert searches["higher_is_better"] is True
    rss = figures["largest_worker_rss_mb"]
    assert rss["median"] == {"old": 210.0, "new": 330.0}
    assert rss["ratio"]["new"] == 1.571  # 330 / 210
    assert rss["higher_is_better"] is False
    assert figures["search_p99_ms_c1"]["median"] == {"old": 9.0, "new": 9.0}


def test_a_figure_a_revision_cannot_give_has_no_value_and_no_ratio() -> None:
    # An old revision without a suggest route: no suggest phase.
    runs = [_run("old", 100.0, 200.0, suggest=False), _run("new", 100.0, 200.0)]
    suggest = summarize(["old", "new"], runs)["suggest_per_s_c8"]
    assert suggest["median"] == {"old": None, "new": 500.0}
    assert suggest["ratio"] == {"old": None, "new": None}
    reverse = summarize(["new", "old"], runs)["suggest_per_s_c8"]
    assert reverse["ratio"] == {"new": 1.0, "old": None}
