"""A generated corpus on disk and what made it (count, seed, format, model).

``bench generate`` writes, beside the events, a small hidden JSON file saying
how they were made, so that every other command rebuilds the same model and
query log from the corpus path alone.  Hidden files are never read as events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from indexer.formats import read_file
from indexer.walk import input_files
from search import Event
from tests.support.model import CorpusModel, load_model

__all__ = ["CORPUS_OPTION", "CorpusInfo", "CorpusPath", "read_corpus_events", "sidecar"]


def sidecar(path: Path) -> Path:
    """Where the description of the corpus at ``path`` is kept."""
    if path.is_dir():
        return path / ".bench-corpus.json"
    return path.with_name(f".{path.name}.bench-corpus.json")


@dataclass(frozen=True)
class CorpusInfo:
    """A corpus written by ``bench generate``."""

    path: Path
    count: int
    seed: int
    format: str
    learn_from: str | None = None

    @classmethod
    def read(cls, path: Path) -> CorpusInfo:
        """The description of the corpus at ``path``; ValueError if it has none."""
        try:
            data = json.loads(sidecar(path).read_text())
        except (OSError, ValueError):
            raise ValueError(
                f"{path} was not written by `python -m bench generate` "
                f"(no readable {sidecar(path).name} beside it)"
            ) from None
        return cls(
            path=path,
            count=int(data["count"]),
            seed=int(data["seed"]),
            format=str(data["format"]),
            learn_from=data.get("learn_from"),
        )

    def write(self) -> None:
        """Record the description beside the corpus."""
        data = {k: v for k, v in asdict(self).items() if k != "path"}
        sidecar(self.path).write_text(json.dumps(data, indent=2) + "\n")

    def model(self) -> CorpusModel:
        """The model the corpus was drawn from."""
        return load_model(Path(self.learn_from) if self.learn_from else None, self.seed)

    def describe(self) -> dict[str, Any]:
        """A summary for result files."""
        return {**asdict(self), "path": str(self.path)}


def read_corpus_events(path: Path) -> Iterator[Event]:
    """The events of a corpus file or directory, read as the indexer reads them."""
    for item in input_files([path]):
        if isinstance(item, Path):
            for parsed in read_file(item):
                if isinstance(parsed, Event):
                    yield parsed


class CorpusPath(click.ParamType[CorpusInfo, Any]):
    """A command-line parameter naming a corpus written by ``bench generate``."""

    name = "corpus"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, CorpusInfo):
            return value
        try:
            return CorpusInfo.read(Path(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


#: The ``--corpus`` option of the commands that read a generated corpus.
CORPUS_OPTION = click.option(
    "--corpus",
    "info",
    type=CorpusPath(),
    required=True,
    help="A corpus written by `python -m bench generate`.",
)
