"""``python -m bench``: the benchmark commands (see BENCHMARKS.md)."""

from __future__ import annotations

import click

from bench import (
    compare,
    dates_bench,
    generate,
    highlight,
    http_bench,
    index_bench,
    peers,
    profile,
    slow_clients,
    suite,
)
from bench.relevance import suite as relevance


@click.group()
def cli() -> None:
    """Benchmarks of the event search service."""


for command in (
    dates_bench.main,
    compare.main,
    generate.main,
    highlight.main,
    index_bench.main,
    http_bench.main,
    peers.main,
    profile.main,
    relevance.main,
    slow_clients.main,
    suite.main,
):
    cli.add_command(command)

if __name__ == "__main__":
    cli()
