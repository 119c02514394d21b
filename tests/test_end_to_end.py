"""The operator's path: ``indexer rebuild`` as a command, then real gunicorn over HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus import corpus_file, seed_dir
from tests.support.gunicorn import Gunicorn
from tests.support.indexes import run_indexer

pytestmark = pytest.mark.slow  # real gunicorn over a rebuilt index


def test_rebuild_then_serve_over_http(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    built = run_indexer(
        "rebuild", str(corpus_file()), str(seed_dir()), "--index-dir", str(index_dir)
    )
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("indexed 429 events from 2 files into gen-000001")

    server = Gunicorn(index_dir)
    with server:
        status, body = server.get("/api/search?q=hungary&facets=date,entity&size=3")
        assert status == 200
        assert body["total"] > 3 and len(body["results"]) == 3
        assert body["facets"]["entity"][0]["value"] == "Hungary"
        assert "<mark>Hungary</mark>" in body["results"][0]["snippet"]
        status, body = server.get("/api/stats")
        assert status == 200 and body["documents"] == 429
        status, body = server.get("/api/search?size=1000")
        assert status == 400 and body["error"]["parameter"] == "size"
        status, body = server.get("/api/events/cep-56657")
        assert status == 200 and body["id"] == "cep-56657"
    assert server.process.returncode == 0
    assert not (Path.home() / ".gunicorn").exists() or not any(
        (Path.home() / ".gunicorn").iterdir()
    )
