"""Where the time goes: pyinstrument profiles of our engine on a query kind, or of a rebuild.

    python -m bench profile --corpus bench/results/corpus/jsonl-n100000-s0.jsonl \\
        --index-dir bench/results/index-100000 --kind half
    python -m bench profile --corpus bench/results/corpus/jsonl-n100000-s0.jsonl --rebuild 20000

A search profile runs every entry of the kind (after one warm-up pass) until
``--seconds`` of samples are gathered; a rebuild profile indexes the first
``--rebuild`` events of the corpus in this process.  The text tree is printed
and an HTML profile saved under bench/results/.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from pathlib import Path

import click
import orjson

from bench.corpus import CORPUS_OPTION, CorpusInfo, read_corpus_events
from bench.engines import OursEngine
from bench.index_bench import rebuild
from bench.queries import SEARCH_KINDS, build_log
from bench.results import results_dir
from indexer import jobs
from search import IndexStore

__all__ = ["main", "profile_rebuild", "profile_search"]


def profile_search(
    info: CorpusInfo,
    index_dir: Path,
    kind: str,
    facets: bool = True,
    seconds: float = 10.0,
    literal: bool = False,
) -> str:
    """Profile our engine answering the log's entries of ``kind`` (with the service's
    defaults, or literal as in the peers comparison); the HTML profile."""
    from pyinstrument import Profiler

    queries = [q for q in build_log(info.model(), info.count, info.seed) if q.kind == kind]
    if not queries:
        raise click.ClickException(f"no {kind!r} entries in the log")
    engine = OursEngine(index_dir, literal=literal)
    try:
        for query in queries:  # warm up: open the index, compute the columns
            engine.run(query, facets)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        deadline = time.perf_counter() + seconds
        for query in itertools.cycle(queries):
            engine.run(query, facets)
            if time.perf_counter() > deadline:
                break
        profiler.stop()
    finally:
        engine.close()
    click.echo(profiler.output_text(unicode=True, color=False, show_all=False))
    html: str = profiler.output_html()
    return html


def profile_rebuild(info: CorpusInfo, count: int) -> str:
    """Profile the rebuild job (as ``indexer rebuild`` runs it) on the first ``count``
    events of the corpus, in this process; the HTML profile."""
    from pyinstrument import Profiler

    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        part = Path(tmp) / "events.jsonl"
        with open(part, "wb") as fh:
            for event in itertools.islice(read_corpus_events(info.path), count):
                fh.write(orjson.dumps(event.to_dict()) + b"\n")
        profiler = Profiler(interval=0.001)
        profiler.start()
        jobs.rebuild(IndexStore(Path(tmp) / "index"), [part], keep=0)
        profiler.stop()
    click.echo(profiler.output_text(unicode=True, color=False, show_all=False))
    html: str = profiler.output_html()
    return html


@click.command("profile")
@CORPUS_OPTION
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Our index of that corpus (default: built in a temporary directory).",
)
@click.option(
    "--kind",
    "kinds",
    type=click.Choice(SEARCH_KINDS),
    multiple=True,
    help="Query kinds to profile, one profile each (default: half).",
)
@click.option("--plain", is_flag=True, help="Profile without facets.")
@click.option("--literal", is_flag=True, help="All words must match, no query expansion.")
@click.option("--seconds", type=click.FloatRange(min=0.1), default=10.0, show_default=True)
@click.option(
    "--rebuild",
    "rebuild_count",
    type=click.IntRange(min=1),
    help="Profile indexing this many events instead of searching.",
)
def main(
    info: CorpusInfo,
    index_dir: Path | None,
    kinds: tuple[str, ...],
    plain: bool,
    literal: bool,
    seconds: float,
    rebuild_count: int | None,
) -> None:
    """Profile our engine on CORPUS with pyinstrument."""
    if rebuild_count:
        html = profile_rebuild(info, rebuild_count)
        name = f"profile-rebuild-{rebuild_count}.html"
    else:
        with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
            if index_dir is None or not (index_dir / "CURRENT").exists():
                index_dir = index_dir or Path(tmp) / "index"
                rebuild(info.path, index_dir)
            for kind in kinds or ("half",):
                click.echo(f"\n== {kind} ({'plain' if plain else 'facets'}) ==")
                html = profile_search(info, index_dir, kind, not plain, seconds, literal)
                mode = ("plain" if plain else "facets") + ("-literal" if literal else "")
                _save(f"profile-{kind}-{mode}-{info.count}.html", html)
        return
    _save(name, html)


def _save(name: str, html: str) -> None:
    path = results_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html)
    click.echo(f"saved {path}")
