"""Analysis speed: tokens per second of ``search.text.Analyzer.tokens`` against the
analyzer it replaces (``search.analysis.TextAnalyzer``), on the real corpus's
event text repeated (caches warm, as in a long rebuild).

    python -m bench.analysis_bench --analyzer text --repeat 40
    farm-bench -n 5 --vs '.venv/bin/python -m bench.analysis_bench --analyzer today' \\
        -- .venv/bin/python -m bench.analysis_bench --analyzer text

Prints CPU seconds (``time.process_time``) of the analysis loop alone, tokens
and whitespace-separated words per CPU second, the median of ``--runs`` runs.
The old analyzer is timed as indexing used it (stop words dropped, positions and
character offsets on); the new one keeps every word.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import click

__all__ = ["main"]


def _corpus_texts() -> list[str]:
    """Descriptions of the shared WikiTimes corpus ($EVENTSEARCH_SHARED_DIR or /work/shared)."""
    shared = Path(os.environ.get("EVENTSEARCH_SHARED_DIR", "/work/shared"))
    events = json.loads((shared / "corpus" / "wikitimes-2015-09.json").read_text())
    return [str(event["description"]) for event in events]


def _counter(analyzer: str) -> Callable[[str], int]:
    """How many tokens the chosen analyzer makes of one text."""
    if analyzer == "text":
        from search.text import Analyzer

        new = Analyzer()
        return lambda text: len(new.tokens(text))
    from search.analysis import TextAnalyzer

    old = TextAnalyzer()
    return lambda text: sum(1 for _ in old(text, positions=True, chars=True))


@click.command("analysis")
@click.option("--analyzer", type=click.Choice(["text", "today"]), default="text")
@click.option("--repeat", default=40, show_default=True, help="Passes over the corpus per run.")
@click.option("--runs", default=3, show_default=True)
def main(analyzer: str, repeat: int, runs: int) -> None:
    """Tokens per CPU second of one analyzer on the corpus text."""
    texts = _corpus_texts()
    count = _counter(analyzer)
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
        f"{analyzer}: {tokens} tokens, {words} words in {best:.3f} CPU s (median of {runs}): "
        f"{tokens / best:,.0f} tokens/s, {words / best:,.0f} words/s; "
        f"first pass {cold:.3f} s"
    )


if __name__ == "__main__":
    main()
