"""What only a real gunicorn with the project's config shows: chunked bodies, /metrics
on a listener of its own, and the metrics directory of a run."""

from __future__ import annotations

import http.client
import json
import stat
from pathlib import Path

import pytest

from tests.support.gunicorn import Gunicorn, free_port

pytestmark = pytest.mark.slow  # real gunicorn with the project's config


def _post_chunked(port: int, body: bytes) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        pieces = (body[i : i + 1000] for i in range(0, len(body), 1000))
        conn.request(
            "POST",
            "/api/related",
            body=pieces,
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_chunked_bodies_are_read_within_the_size_limit(demo_index: Path) -> None:
    text = "Refugees reach Munich by train from Budapest. " * 100
    with Gunicorn(demo_index, workers=1, max_body_bytes="8000") as server:
        status, body = _post_chunked(server.port, json.dumps({"text": text, "size": 3}).encode())
        assert status == 200, body
        assert len(body["results"]) == 3  # type: ignore[arg-type]
        large = json.dumps({"text": text * 2}).encode()
        status, body = _post_chunked(server.port, large)
        assert status == 413
        assert body["error"] == {
            "code": "body_too_large",
            "message": "the body has more than 8000 bytes",
            "parameter": None,
        }


def test_metrics_on_a_listener_of_their_own(demo_index: Path) -> None:
    port = free_port()
    with Gunicorn(demo_index, workers=2, metrics_bind=f"127.0.0.1:{port}") as server:
        assert server.get("/api/search?q=merkel")[0] == 200
        status, text = _get(port, "/metrics")
        assert status == 200
        assert b'route="/api/search"' in text
        assert _get(server.port, "/metrics")[0] == 404
        assert _get(port, "/api/search?q=merkel")[0] == 404
        assert "/metrics" not in server.get("/api/openapi.json")[1]["paths"]


def test_a_run_keeps_its_metrics_in_a_private_directory_it_removes(
    demo_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    (shared / "counter_1.db").write_bytes(b"another program's file")
    (shared / "notes.txt").write_text("keep me")
    before = sorted(p.name for p in shared.iterdir())
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    with Gunicorn(demo_index, workers=2) as server:
        assert server.get("/api/stats")[0] == 200
        made = [p for p in shared.iterdir() if p.name not in before]
        assert len(made) == 1 and made[0].is_dir()
        assert stat.S_IMODE(made[0].stat().st_mode) == 0o700
        assert any(made[0].glob("counter_*.db"))  # the workers' metrics are there
        assert sorted(p.name for p in shared.iterdir() if p != made[0]) == before
    assert sorted(p.name for p in shared.iterdir()) == before
    assert (shared / "notes.txt").read_text() == "keep me"
    assert (shared / "counter_1.db").read_bytes() == b"another program's file"


def test_without_a_directory_set_a_run_leaves_none_behind(
    demo_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(temp))
    with Gunicorn(demo_index, workers=1) as server:
        assert server.get("/api/stats")[0] == 200
        made = [p for p in temp.iterdir() if p.name.startswith("eventsearch-metrics-")]
        assert len(made) == 1
        assert stat.S_IMODE(made[0].stat().st_mode) == 0o700
    assert not [p for p in temp.iterdir() if p.name.startswith("eventsearch-metrics-")]
