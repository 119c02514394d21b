"""``bench generate``: a benchmark corpus of synthetic events, with its description.

    python -m bench generate --count 100000 --out bench/results/corpus/events.jsonl
    python -m bench generate --count 500 --format seed --out /tmp/pages \
        --learn-from ../shared/corpus/wikitimes-2015-09.json

The events come from the generator the tests use (tests/support/generate.py, its
model in tests/support/model.py); beside them a small file says how they were made
(bench/corpus.py), so that the other commands rebuild the same model and query log.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from bench.corpus import CorpusInfo, sidecar
from tests.support.generate import FORMATS, generate_events, write_corpus
from tests.support.model import load_model

__all__ = ["ensure_corpus", "generate_corpus", "main"]


def generate_corpus(
    out: Path, count: int, seed: int = 0, fmt: str = "jsonl", learn_from: Path | None = None
) -> CorpusInfo:
    """Write a corpus and its description; a directory of pages replaces an earlier corpus."""
    if fmt == "seed" and out.exists():
        if any(out.iterdir()) and not sidecar(out).exists():
            raise ValueError(f"{out} is not empty and holds no generated corpus: not replacing it")
        shutil.rmtree(out)
    model = load_model(learn_from, seed)
    write_corpus(generate_events(model, count, seed), out, fmt)
    info = CorpusInfo(out, count, seed, fmt, str(learn_from.resolve()) if learn_from else None)
    info.write()
    return info


def ensure_corpus(
    root: Path, count: int, seed: int = 0, fmt: str = "jsonl", learn_from: Path | None = None
) -> CorpusInfo:
    """The corpus for these settings under ``root``, generated unless it is there already."""
    name = f"{fmt}-n{count}-s{seed}" + ("-learned" if learn_from else "")
    out = root / (name + (".jsonl" if fmt == "jsonl" else ""))
    try:
        info = CorpusInfo.read(out)
    except ValueError:
        info = None
    wanted = str(learn_from.resolve()) if learn_from else None
    if info is not None and out.exists() and info.learn_from == wanted:
        return info
    return generate_corpus(out, count, seed, fmt, learn_from)


@click.command("generate")
@click.option("--count", type=click.IntRange(min=1), required=True, help="Events to write.")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="File (jsonl) or directory (seed).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--learn-from",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Learn words, entities, sources and lengths from this corpus (a WikiTimes export).",
)
def main(count: int, out: Path, fmt: str, seed: int, learn_from: Path | None) -> None:
    """Write COUNT synthetic events."""
    try:
        generate_corpus(out, count, seed, fmt, learn_from)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {count} events to {out} ({fmt}, seed {seed})")


if __name__ == "__main__":
    main()
