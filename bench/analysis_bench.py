"""Analysis speed: tokens per second of ``search.text.Analyzer.tokens`` on the real
corpus's event text repeated (caches warm, as in a long rebuild).

    python -m bench.analysis_bench --repeat 40
    farm-bench -n 5 --vs 'python -m bench.analysis_bench --stemmer porter2' \\
        -- python -m bench.analysis_bench --stemmer minimal

Prints CPU seconds (``time.process_time``) of the analysis loop alone, tokens
and whitespace-separated words per CPU second, the median of ``--runs`` runs.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import click

from search.text import DEFAULT_STEMMER, STEMMERS, Analyzer

__all__ = ["main"]


def _corpus_texts() -> list[str]:
    """Descriptions of the shared WikiTimes corpus ($EVENTSEARCH_SHARED_DIR or /work/shared)."""
    shared = Path(os.environ.get("EVENTSEARCH_SHARED_DIR", "/work/shared"))
    events = json.loads((shared / "corpus" / "wikitimes-2015-09.json").read_text())
    return [str(event["description"]) for event in events]


def _counter(stemmer: str) -> Callable[[str], int]:
    """How many tokens the analyzer with ``stemmer`` makes of one text."""
    analyzer = Analyzer(stemmer)
    return lambda text: len(analyzer.tokens(text))


@click.command("analysis")
@click.option("--stemmer", type=click.Choice(STEMMERS), default=DEFAULT_STEMMER, show_default=True)
@click.option("--repeat", default=40, show_default=True, help="Passes over the corpus per run.")
@click.option("--runs", default=3, show_default=True)
def main(stemmer: str, repeat: int, runs: int) -> None:
    """Tokens per CPU second of the analyzer on the corpus text."""
    texts = _corpus_texts()
    count = _counter(stemmer)
    cold = time.process_time()
    for text in texts:  # the first pass fills the caches
        count(text)
    cold = time.process_time() - cold
    seconds: list[float] = []
    tokens = 0
    for _ in range(runs):
        started = time.process_time()
        tokens = sum(count(text) for _ in range(repeat) for text in texts)
        seconds.append(time.process_time() - started)
    words = sum(len(text.split()) for text in texts) * repeat
    best = statistics.median(seconds)
    click.echo(
        f"{stemmer}: {tokens} tokens, {words} words in {best:.3f} CPU s (median of {runs}): "
        f"{tokens / best:,.0f} tokens/s, {words / best:,.0f} words/s; "
        f"first pass {cold:.3f} s"
    )


if __name__ == "__main__":
    main()
