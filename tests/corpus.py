"""Where the test material lives: the shared real corpus and seed page, and the demo pages."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The shared material (seed page, real corpus): $EVENTSEARCH_SHARED_DIR or ../shared."""
    candidates = [os.environ.get("EVENTSEARCH_SHARED_DIR"), ROOT.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "corpus" / "wikitimes-2015-09.json").is_file():
            return Path(candidate)
    raise RuntimeError(
        "the shared corpus was not found: set EVENTSEARCH_SHARED_DIR to the directory "
        "holding corpus/wikitimes-2015-09.json and seed/"
    )


SHARED = shared_dir()
CORPUS = SHARED / "corpus" / "wikitimes-2015-09.json"
SEED_DIR = SHARED / "seed"
SEED_PAGE = SEED_DIR / "000_500375b63625d0b6.txt"
DEMO_DIR = ROOT / "data" / "demo"
