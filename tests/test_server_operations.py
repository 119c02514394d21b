"""Operating the service under real gunicorn: metrics across workers, JSON logs,
refused hostile requests, and SIGHUP/SIGTERM with requests in flight."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gunicorn import Gunicorn

pytestmark = pytest.mark.slow  # real gunicorn: signals, reloads, logs


@pytest.fixture
def server(demo_index: Path) -> Iterator[Gunicorn]:
    with Gunicorn(demo_index, workers=2) as running:
        yield running


def raw_get(
    server: Gunicorn, target: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_metrics_add_up_every_worker_and_logs_are_json(server: Gunicorn) -> None:
    for i in range(40):
        assert server.get(f"/api/search?q=merkel&page={1 + i % 2}")[0] == 200
    status, _ = server.get("/api/events/no-such-id")
    assert status == 404
    status, text = raw_get(server, "/metrics")
    assert status == 200
    lines = text.decode().splitlines()
    total = sum(
        float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith("eventsearch_requests_total{") and 'route="/api/search"' in line
    )
    assert total == 40
    assert any(line.startswith("eventsearch_index_documents 48") for line in lines)
    records = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    searches = [r for r in records if r["route"] == "/api/search"]
    assert len(searches) == 40 and {r["status"] for r in searches} == {200}
    assert len({r["request_id"] for r in records}) == len(records)


def test_hostile_requests_are_refused_with_4xx(server: Gunicorn) -> None:
    status, body = raw_get(server, "/api/events/%ff%fe")
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_encoding"
    status, body = raw_get(server, "/api/search?q=%ff")
    assert status == 400 and json.loads(body)["error"]["parameter"] == "q"
    status, _ = raw_get(server, "/api/search", {"X-Huge": "a" * 9000})
    assert status == 431
    status, _ = raw_get(server, "/api/search?q=" + "a" * 9000)
    assert 400 <= status < 500
    assert server.get("/healthz")[0] == 200  # and the service goes on


def _traffic(server: Gunicorn, stop: threading.Event, outcomes: list[str]) -> None:
    while not stop.is_set():
        try:
            status, _ = server.get("/api/search?q=merkel&facets=date,entity", timeout=20)
            outcomes.append(str(status))
        except urllib.error.URLError as exc:
            outcomes.append(type(exc.reason).__name__)
        except OSError as exc:
            outcomes.append(type(exc).__name__)
        if outcomes[-1] == "ConnectionRefusedError":
            return  # the server is gone


def test_sighup_reloads_workers_without_failing_a_request(server: Gunicorn) -> None:
    stop = threading.Event()
    outcomes: list[str] = []
    threads = [threading.Thread(target=_traffic, args=(server, stop, outcomes)) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(2):
            time.sleep(1.0)
            server.process.send_signal(signal.SIGHUP)
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    print(f"SIGHUP x2: {len(outcomes)} requests, outcomes {sorted(set(outcomes))}")
    assert len(outcomes) > 20
    assert set(outcomes) == {"200"}


def test_sigterm_lets_requests_in_flight_finish(server: Gunicorn) -> None:
    stop = threading.Event()
    outcomes: list[str] = []
    threads = [threading.Thread(target=_traffic, args=(server, stop, outcomes)) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    answered_before = len(outcomes)
    server.process.send_signal(signal.SIGTERM)
    code = server.process.wait(timeout=30)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    print(f"SIGTERM: {len(outcomes)} requests, outcomes {sorted(set(outcomes))}")
    assert code == 0
    assert answered_before > 5
    # Every request a worker took was answered in full; once the workers are gone,
    # connections still queued are reset and new ones refused.  None gets an error
    # status or a cut answer.
    assert set(outcomes) <= {"200", "ConnectionRefusedError", "ConnectionResetError"}
    assert outcomes.count("ConnectionResetError") <= len(threads)


def test_a_worker_is_replaced_after_max_requests_without_a_failed_request(
    demo_index: Path,
) -> None:
    with Gunicorn(demo_index, workers=1, max_requests="5", max_requests_jitter="0") as server:
        first = server.worker_pids()
        statuses = [server.get("/api/search?q=merkel&size=1")[0] for _ in range(12)]
        server.wait_ready()
        # 12 requests to a worker replaced every 5: at least two replacements.
        assert statuses == [200] * 12
        assert server.worker_pids() != first
        assert server.output().count("Autorestarting worker after current request") >= 2
