"""Dates in the query: what finding them adds to a search request.

    python -m bench dates --corpus ../shared/corpus/wikitimes-2015-09.json

- **load**: importing dateparser and loading its English data, once per process
  (done in a thread when the service is made, never inside a search);
- **find**: ``find_dates`` per query, for queries without a date (one regular
  expression search), with a date already read (cached), and with a date not seen
  before (dateparser reads it);
- **parse**: ``parse_query`` against the query parser alone, per query and match
  mode, on a real index of the corpus: what the request path adds.

Each figure is the median of ``--runs`` timings, in microseconds.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bench.relevance import DEFAULT_CORPUS
from bench.results import print_table
from config import Config
from indexer import jobs
from search import IndexStore, SearchService, datehint

__all__ = ["main", "measure"]

PLAIN = ("refugees hungary", "vladimir putin syria", "merkel", "covid19 g20")
DATED = ("refugees Sept. 2015", "Sept. 2015", "9 March 2016", "earthquake 2015-09-16", "2015")
#: Dates no other timing reads, each timed once: read by dateparser, not the cache.
NEW = ("Oct. 2014", "1 May 2013", "2012-02-29", "December 25, 2010", "1999")


def _find_us(query: str, runs: int) -> float:
    return _median_us(lambda: datehint.find_dates(query), runs)


def _median_us(run: Callable[[], object], runs: int) -> float:
    for _ in range(min(runs, 50)):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def measure(corpus: Path, runs: int) -> dict[str, Any]:
    """The figures (see the module docstring)."""
    start = time.perf_counter()
    datehint.READER.load()
    load_ms = (time.perf_counter() - start) * 1000
    find = {
        "no date": statistics.median(_find_us(q, runs) for q in PLAIN),
        "date, cached": statistics.median(_find_us(q, runs) for q in DATED),
    }
    first = []
    for q in NEW:
        begin = time.perf_counter()
        datehint.find_dates(q)
        first.append((time.perf_counter() - begin) * 1e6)
    find["date, first seen"] = statistics.median(first)
    parse: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        jobs.rebuild(IndexStore(index_dir), [corpus], keep=1)
        service = SearchService(Config.from_env({}, index_dir=index_dir))
        try:
            parser = service.parser(service.live.snapshot())
            for q in (*PLAIN[:2], *DATED[:4]):
                for match in ("any", "all"):
                    alone = _median_us(lambda: parser.parse(q, match), runs)  # noqa: B023
                    dated = _median_us(lambda: datehint.parse_query(parser, q, match), runs)  # noqa: B023
                    parse.append(
                        {"query": q, "match": match, "parser_us": alone, "with_dates_us": dated}
                    )
        finally:
            service.close()
    return {"load_ms": load_ms, "find_us": find, "parse": parse}


@click.command("dates")
@click.option("--corpus", type=click.Path(exists=True, path_type=Path), default=DEFAULT_CORPUS)
@click.option("--runs", type=click.IntRange(min=10), default=2000, show_default=True)
def main(corpus: Path, runs: int) -> None:
    """What finding dates in the query adds to a search request."""
    result = measure(corpus, runs)
    click.echo(f"dateparser load (once per process, in a thread): {result['load_ms']:.0f} ms")
    print_table(
        "find_dates per query (median, us)",
        ["case", "us"],
        [[k, round(v, 1)] for k, v in result["find_us"].items()],
    )
    print_table(
        "parse_query against the parser alone (median, us)",
        ["query", "match", "parser", "with dates", "added"],
        [
            [
                p["query"],
                p["match"],
                round(p["parser_us"], 1),
                round(p["with_dates_us"], 1),
                round(p["with_dates_us"] - p["parser_us"], 1),
            ]
            for p in result["parse"]
        ],
    )
