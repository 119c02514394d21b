"""Result files (under bench/results/, or $BENCH_RESULTS_DIR) and plain-text tables."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

__all__ = ["RESULTS_DIR", "print_table", "results_dir", "save_result"]

#: Where results go unless $BENCH_RESULTS_DIR names another directory.
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def results_dir() -> Path:
    """Where the commands write result files and generated corpora: $BENCH_RESULTS_DIR
    when set, else bench/results/."""
    return Path(os.environ.get("BENCH_RESULTS_DIR") or RESULTS_DIR)


def save_result(result: dict[str, Any], directory: Path | None = None) -> Path:
    """Write ``result`` as ``<kind>-<size>-<time>.json`` in ``directory`` (default:
    ``results_dir()``); returns the path."""
    directory = directory or results_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    size = result.get("corpus", {}).get("count", "")
    path = directory / f"{result['kind']}-{size}-{stamp}.json"
    number = 1
    while path.exists():
        number += 1
        path = directory / f"{result['kind']}-{size}-{stamp}-{number}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A titled table with aligned columns, on standard output."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]
    click.echo(f"\n{title}")
    click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
