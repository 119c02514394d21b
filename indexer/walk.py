"""Finding input files: directories are walked recursively, hidden entries skipped."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from indexer.formats import Reject

__all__ = ["input_files"]


def input_files(paths: Iterable[Path]) -> Iterator[Path | Reject]:
    """Every file under ``paths`` in a stable order, or a Reject for a path that is missing."""
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        else:
            yield Reject(str(path), None, "no such file or directory")
