"""The targets of the service (2-core machine, 2 gunicorn workers) and how a suite
run's figures compare with them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["TARGETS", "Target", "evaluate"]

Getter = Callable[[dict[str, Any]], float | None]


@dataclass(frozen=True)
class Target:
    """One figure: how to read it from a suite result, and its bound per corpus size."""

    figure: str
    unit: str
    get: Getter
    bounds: dict[int, float]  # corpus size -> bound
    at_least: bool = False  # the figure must be >= the bound (else <=)


def _dig(result: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result


TARGETS = (
    Target(
        "indexer rebuild throughput",
        "events/s",
        lambda r: _dig(r, "index", "median", "events_per_s"),
        {100_000: 3000},
        at_least=True,
    ),
    Target(
        "indexer rebuild, full",
        "s",
        lambda r: _dig(r, "index", "median", "seconds"),
        {1_000_000: 480},
    ),
    Target(
        "search mix with facets, p50 (c=1)",
        "ms",
        lambda r: _dig(r, "http", "median", "1", "search", "p50_ms"),
        {100_000: 10, 1_000_000: 30},
    ),
    Target(
        "search mix with facets, p99 (c=1)",
        "ms",
        lambda r: _dig(r, "http", "median", "1", "search", "p99_ms"),
        {100_000: 60, 1_000_000: 200},
    ),
    Target(
        "search mix throughput (c=8)",
        "req/s",
        lambda r: _dig(r, "http", "median", "8", "rps"),
        {100_000: 200, 1_000_000: 60},
        at_least=True,
    ),
    Target(
        "3 facets over half the corpus, HTTP p50 (c=1)",
        "ms",
        lambda r: _dig(r, "http", "median", "1", "by_kind", "half", "p50_ms"),
        {100_000: 30, 1_000_000: 150},
    ),
    Target(
        "3 facets over half the corpus, engine median",
        "ms",
        lambda r: _dig(r, "peers", "half_facets_ms", "ours"),
        {100_000: 30, 1_000_000: 150},
    ),
    Target(
        "suggest p99 (c=1)",
        "ms",
        lambda r: _dig(r, "http", "median", "1", "by_kind", "suggest", "p99_ms"),
        {100_000: 10, 1_000_000: 20},
    ),
    Target(
        "RSS per worker (largest peak)",
        "MB",
        lambda r: max(
            (m["peak_rss_mb"] or 0 for m in _dig(r, "http", "workers_memory") or []),
            default=None,
        ),
        {100_000: 250, 1_000_000: 1024},
    ),
    Target(
        "search + facets, ours / SQLite FTS5 (log sum)",
        "ratio",
        lambda r: _dig(r, "peers", "ratios", "facets", "sqlite", "sum"),
        {100_000: 1.0, 1_000_000: 1.0},
    ),
)


def evaluate(result: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """Each target's figure, its bound at ``size`` (None when it has none there), whether
    it is met, and by what factor it is missed (figure / bound, or bound / figure)."""
    rows = []
    for target in TARGETS:
        value = target.get(result)
        bound = target.bounds.get(size)
        met = None
        off = None
        if value is not None and bound is not None:
            met = value >= bound if target.at_least else value <= bound
            if not met:
                off = round(bound / value if target.at_least else value / bound, 2)
        rows.append(
            {
                "figure": target.figure,
                "unit": target.unit,
                "value": value,
                "target": None
                if bound is None
                else ("≥ " if target.at_least else "≤ ") + f"{bound:g}",
                "met": met,
                "missed_by_x": off,
            }
        )
    return rows
