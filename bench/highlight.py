"""Highlighting long bodies: the time a snippet takes, alone and within a search.

    python -m bench highlight --runs 7 --sizes 1000000,10000000 \\
        --corpus ../shared/corpus/wikitimes-2015-09.json

Bodies of each size are made of the real corpus's text repeated (its accents,
quotes and names included), with the query words placed near the start, in the
middle or at the end, or in every sentence.  Two parts:

- **snippet**: ``Highlighter.snippet`` on the body, per placement (the median of
  ``--runs``); "absent, checked" is a word the index says the body lacks (not
  looked for), "absent, scanned" the same word looked for to the end (the most a
  snippet reads);
- **search**: a real index of the corpus plus one event with the long body;
  ``took_ms`` of ``q=harbour`` and ``q="rail link"`` through the service, with
  and without highlighting (``expand=false``); the difference is what
  highlighting the long body adds.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bench.relevance import DEFAULT_CORPUS
from bench.results import print_table, save_result
from bench.stats import machine
from config import Config
from indexer import jobs
from indexer.formats import read_file
from indexer.formats.limits import Limits
from search import IndexStore, SearchService
from search.event import Event
from search.highlight import Highlighter
from search.service import SearchRequest
from search.text import Analyzer

__all__ = ["bodies", "main", "measure_search", "measure_snippets"]

PLACEMENTS = ("start", "middle", "end")


def filler(corpus: Path, size: int) -> str:
    """``size`` characters of the corpus's bodies, repeated, without the query words."""
    text = " ".join(e.body for e in read_file(corpus) if isinstance(e, Event))
    for word in ("harbour", "Harbour", "rail link"):
        text = text.replace(word, "")
    return (text * (size // len(text) + 1))[:size]


def bodies(corpus: Path, size: int) -> dict[str, str]:
    """A body of about ``size`` characters per placement of the query words."""
    text = filler(corpus, size)
    words = " the harbour rail link opens "
    middle = len(text) // 2
    return {
        "start": words + text,
        "middle": text[:middle] + words + text[middle:],
        "end": text + words,
    }


def _median_ms(run: Callable[[], object], runs: int) -> tuple[float, float]:
    """The median wall and CPU milliseconds of ``runs`` calls (on a shared machine the
    CPU time is the steadier figure)."""
    wall, cpu = [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        run()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return round(statistics.median(wall), 2), round(statistics.median(cpu), 2)


def measure_snippets(corpus: Path, size: int, runs: int) -> list[dict[str, Any]]:
    """Median milliseconds (wall, CPU) of one snippet, per query and placement."""
    analyzer = Analyzer()
    rows = []
    queries = {"harbour": {"harbour": 0}, '"rail link"': {"rail": 0, "link": 1}}
    cases: list[tuple[str, str, dict[str, int], Callable[[str], bool] | None]] = [
        (f"{query}, {placement}", body, terms, None)
        for placement, body in bodies(corpus, size).items()
        for query, terms in queries.items()
    ]
    sentence = "The new rail link to the harbour opens next spring. "
    repeated = (sentence * (size // len(sentence) + 1))[:size]
    cases.append(('"rail link", every sentence', repeated, {"rail": 0, "link": 1}, None))
    body = filler(corpus, size)
    cases.append(("absent, checked", body, {"harbour": 0}, _lacks))
    cases.append(("absent, scanned", body, {"harbour": 0}, None))
    for case, text, terms, holds in cases:
        # A new highlighter each run, as each search builds one.
        run = functools.partial(_one_snippet, text, terms, analyzer, holds)
        wall, cpu = _median_ms(run, runs)
        rows.append({"size": len(text), "case": case, "ms": wall, "cpu_ms": cpu})
    return rows


def _lacks(term: str) -> bool:
    return False


def _one_snippet(
    text: str, terms: dict[str, int], analyzer: Any, holds: Callable[[str], bool] | None
) -> str:
    return Highlighter(terms, analyzer).snippet(text, holds=holds)


def measure_search(corpus: Path, size: int, runs: int) -> list[dict[str, Any]]:
    """Median ``took_ms`` of searches whose first hit has a body of ``size`` characters
    (the words in the middle), with and without highlighting."""
    body = bodies(corpus, size)["middle"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        long_event = Path(tmp) / "long.jsonl"
        record = {"id": "long", "date": "2015-09-15", "title": "Port news", "body": body}
        long_event.write_text(json.dumps(record) + "\n")
        # Over the default ingest limit: an operator who raised it.
        limits = dataclasses.replace(Limits.defaults(), event_body_bytes=4 * size + 1)
        jobs.rebuild(IndexStore(Path(tmp) / "ix"), [corpus, long_event], keep=0, limits=limits)
        service = SearchService(Config.from_env({}, index_dir=Path(tmp) / "ix"))
        try:
            for q in ("harbour", '"rail link"'):
                took = {}
                for highlight in (False, True):
                    request = SearchRequest(q=q, expand=False, highlight=highlight)
                    service.search(request)  # warm up: open the index, read the event
                    took[highlight] = statistics.median(
                        service.search(request).took_ms for _ in range(runs)
                    )
                rows.append(
                    {
                        "size": len(body),
                        "query": q,
                        "took_ms": took[True],
                        "without_highlight_ms": took[False],
                        "added_ms": round(took[True] - took[False], 2),
                    }
                )
        finally:
            service.close()
    return rows


@click.command("highlight")
@click.option(
    "--corpus",
    type=click.Path(exists=True, path_type=Path),
    default=DEFAULT_CORPUS,
    show_default=True,
    help="Events whose text the long bodies are made of.",
)
@click.option(
    "--sizes",
    default="1000000,10000000",
    show_default=True,
    help="Body sizes, in characters, comma-separated.",
)
@click.option("--runs", type=click.IntRange(1), default=7, show_default=True)
def main(corpus: Path, sizes: str, runs: int) -> None:
    """Time snippets of long bodies, alone and within searches (medians of --runs)."""
    wanted = [int(s) for s in sizes.split(",") if s.strip()]
    snippets = [row for size in wanted for row in measure_snippets(corpus, size, runs)]
    searches = [row for size in wanted for row in measure_search(corpus, size, runs)]
    result = {
        "kind": "highlight",
        "machine": machine(),
        "runs": runs,
        "snippets": snippets,
        "searches": searches,
    }
    path = save_result(result)
    print_table(
        f"One snippet (median of {runs}, ms)",
        ["case", "characters", "wall", "cpu"],
        [[r["case"], r["size"], r["ms"], r["cpu_ms"]] for r in snippets],
    )
    print_table(
        f"A search whose first hit has the long body (median took_ms of {runs})",
        ["query", "characters", "highlighted", "not highlighted", "added"],
        [
            [r["query"], r["size"], r["took_ms"], r["without_highlight_ms"], r["added_ms"]]
            for r in searches
        ],
    )
    click.echo(f"\nsaved {path}")
