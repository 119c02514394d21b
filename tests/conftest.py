"""Shared fixtures: the real corpus, real indexes on disk, Falcon's test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import falcon.testing
import pytest
from hypothesis import settings

from api.app import create_app
from config import Config
from search import SearchService
from tests.corpus import DEMO_DIR, corpus_file, seed_dir
from tests.support.indexes import build_index, run_indexer

# Generated examples are the same on every run (a seed per test), so a run of the
# suite, CI's included, answers the same way each time; a new generator or a longer
# run is how new examples are looked for, not chance.
settings.register_profile("repeatable", derandomize=True)
settings.load_profile("repeatable")


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
