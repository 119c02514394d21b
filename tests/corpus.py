"""Where the test material lives: the shared real corpus and seed page, and the demo pages.

The shared material is outside the repository and is looked for only when a test or
fixture asks for it (``corpus_file()``, ``seed_dir()``, ``seed_page()``), never at
import: collecting the tests needs no ``../shared``.  A test that needs it and does
not find it fails with a RuntimeError saying where it was looked for.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

__all__ = ["DEMO_DIR", "ROOT", "corpus_file", "seed_dir", "seed_page", "shared_dir"]

ROOT = Path(__file__).resolve().parent.parent
#: The demo event pages, in the repository.
DEMO_DIR = ROOT / "data" / "demo"

_CORPUS = Path("corpus") / "wikitimes-2015-09.json"
_SEED_PAGE = "000_500375b63625d0b6.txt"


@functools.cache
def shared_dir() -> Path:
    """The shared material (seed page, real corpus): the first of $EVENTSEARCH_SHARED_DIR,
    ``../shared`` beside the repository and ``/work/shared`` that holds the corpus.
    RuntimeError when none does."""
    candidates = [os.environ.get("EVENTSEARCH_SHARED_DIR"), ROOT.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / _CORPUS).is_file():
            return Path(candidate)
    looked = ", ".join(str(c) for c in candidates if c)
    raise RuntimeError(
        f"the shared corpus was not found (looked in {looked}): set EVENTSEARCH_SHARED_DIR "
        f"to the directory holding {_CORPUS} and seed/"
    )


def corpus_file() -> Path:
    """The real WikiTimes corpus: 428 events of September 2015, as one JSON array."""
    return shared_dir() / _CORPUS


def seed_dir() -> Path:
    """The directory of real event pages (one page)."""
    return shared_dir() / "seed"


def seed_page() -> Path:
    """The real event page."""
    return seed_dir() / _SEED_PAGE
