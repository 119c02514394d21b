"""Index builders: the ``indexer`` command as an operator runs it, the rebuild job
in-process, and Falcon's test client of a new index of a few records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import falcon.testing

from api.app import create_app
from config import Config
from indexer import jobs
from indexer.formats.limits import Limits
from search import IndexStore
from search.schema import open_index
from search.snapshot import Snapshot

__all__ = ["INDEXER", "build_index", "client_for", "run_indexer", "whoosh_searcher"]

#: The ``indexer`` console script of this environment.
INDEXER = Path(sys.executable).parent / "indexer"


def run_indexer(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``indexer ARGS`` as an operator runs it (``env`` added to this environment);
    its exit status and output, as text."""
    return subprocess.run(
        [str(INDEXER), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def build_index(index_dir: Path, *paths: Path, config: Config | None = None) -> jobs.JobReport:
    """Run a real rebuild of ``paths`` into ``index_dir`` (with ``config``'s ingest
    limits), in this process."""
    limits = Limits.from_config(config) if config else None
    return jobs.rebuild(IndexStore(index_dir), list(paths), keep=2, limits=limits)


def client_for(
    tmp_path: Path, records: list[dict[str, Any]], **settings: Any
) -> falcon.testing.TestClient:
    """Falcon's test client of a new index (``tmp_path/ix``) of a few canonical records,
    served with ``settings``."""
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records))
    config = Config.from_env({}, index_dir=tmp_path / "ix", **settings)
    build_index(tmp_path / "ix", source, config=config)
    return falcon.testing.TestClient(create_app(config))


@contextmanager
def whoosh_searcher(snap: Snapshot) -> Iterator[Any]:
    """whoosh's own searcher of the commit ``snap`` serves (whoosh's public API), as an
    independent reference: its document numbers are the snapshot's."""
    ix = open_index(snap.generation.path)
    try:
        with ix.searcher() as searcher:
            if snap.record is not None:
                assert int(searcher.reader().generation()) == snap.record.commit
            yield searcher
    finally:
        ix.close()
