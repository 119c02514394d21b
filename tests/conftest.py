"""Shared fixtures: the real corpus, real indexes on disk, Falcon's test client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from api.app import create_app
from config import Config
from indexer import jobs
from indexer.formats.limits import Limits
from search import IndexStore, SearchService
from tests.corpus import DEMO_DIR, corpus_file, seed_dir
from tests.servers import run_indexer


def build_index(index_dir: Path, *paths: Path, config: Config | None = None) -> jobs.JobReport:
    """Run a real rebuild into ``index_dir`` (with ``config``'s ingest limits)."""
    limits = Limits.from_config(config) if config else None
    return jobs.rebuild(IndexStore(index_dir), list(paths), keep=2, limits=limits)


def client_for(
    tmp_path: Path, records: list[dict[str, Any]], **settings: Any
) -> falcon.testing.TestClient:
    """Falcon's test client of a new index (``tmp_path/ix``) of a few canonical events."""
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records))
    config = Config.from_env({}, index_dir=tmp_path / "ix", **settings)
    build_index(tmp_path / "ix", source, config=config)
    return falcon.testing.TestClient(create_app(config))


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the real WikiTimes corpus, the seed page and the demo pages."""
    index_dir = tmp_path_factory.mktemp("corpus-index")
    build_index(index_dir, corpus_file(), seed_dir(), DEMO_DIR)
    return index_dir


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the demo pages, built by the ``indexer`` command, for real servers."""
    index_dir = tmp_path_factory.mktemp("demo") / "index"
    result = run_indexer("rebuild", str(DEMO_DIR), "--index-dir", str(index_dir))
    assert result.returncode == 0, result.stderr
    return index_dir


@pytest.fixture(scope="session")
def config(corpus_index: Path) -> Config:
    return Config.from_env({}, index_dir=corpus_index)


@pytest.fixture(scope="session")
def service(config: Config) -> Iterator[SearchService]:
    svc = SearchService(config)
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def client(config: Config, service: SearchService) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(config, service))
