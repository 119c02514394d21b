"""Slow, idle and late clients against real gunicorn with the project's config: they
hold a thread each, never the service; a late body is cut (408), and a request over
the time limit restarts its worker, answered, logged and counted as a 500."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.support.gunicorn import Gunicorn

pytestmark = pytest.mark.slow  # real gunicorn held by slow connections for seconds


class SlowClients:
    """Connections that hold the server: ``idle`` send nothing, ``headers`` send a
    request line and then one header line a second, ``bodies`` send whole headers of
    a POST and then one byte of its body a second."""

    def __init__(self, port: int, idle: int, headers: int, bodies: int) -> None:
        self.stop = threading.Event()
        self.idle = [self._connect(port) for _ in range(idle)]
        self.headers = [self._connect(port) for _ in range(headers)]
        self.bodies = [self._connect(port) for _ in range(bodies)]
        for sock in self.headers:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: slow\r\n")
        for sock in self.bodies:
            sock.sendall(
                b"POST /api/related HTTP/1.1\r\nHost: slow\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
            )
        self.thread = threading.Thread(target=self._dribble, daemon=True)
        self.thread.start()

    @staticmethod
    def _connect(port: int) -> socket.socket:
        return socket.create_connection(("127.0.0.1", port), timeout=5)

    def _dribble(self) -> None:
        while not self.stop.wait(1.0):
            for sock in self.headers:
                sock.sendall(b"X-Slow: 1\r\n")
            for sock in self.bodies:
                sock.sendall(b" ")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        for sock in self.idle + self.headers + self.bodies:
            sock.close()


def _timed_get(server: Gunicorn, path: str, bound: float) -> tuple[int, float]:
    started = time.monotonic()
    status, _ = server.get(path, timeout=bound)
    return status, time.monotonic() - started


def test_fifty_slow_and_idle_clients_do_not_hold_the_service(demo_index: Path) -> None:
    # The issue is about being held: with the old config (2 sync workers) two such
    # clients held /healthz for 31-32 s, until gunicorn killed the workers.  3 s is a
    # bound that behaviour misses by far, and leaves room for a loaded machine.
    bound = 3.0
    with Gunicorn(demo_index, workers=2) as server:
        clients = SlowClients(server.port, idle=20, headers=20, bodies=10)
        try:
            time.sleep(1.0)  # every slow connection is taken by the workers
            latencies: list[float] = []
            # Longer than gunicorn's 5 s wait for a first byte, after which idle
            # connections are handed from the threads to the worker's poller.
            until = time.monotonic() + 8.0
            while time.monotonic() < until:
                for path in ("/healthz", "/api/search?q=merkel&size=3"):
                    status, seconds = _timed_get(server, path, bound)
                    assert status == 200
                    latencies.append(seconds)
                time.sleep(0.2)
        finally:
            clients.close()
        latencies.sort()
        print(
            f"50 slow clients: {len(latencies)} requests, median "
            f"{latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        )
        assert server.get("/healthz")[0] == 200


def _post_head(port: int, length: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(
        b"POST /api/related HTTP/1.1\r\nHost: late\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
        + b'{"text": "'
    )
    return sock


def _response(sock: socket.socket) -> tuple[int, dict[str, object]]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, json.loads(response.read())


def test_a_body_later_than_its_time_limit_is_answered_408(demo_index: Path) -> None:
    with Gunicorn(demo_index, workers=1, body_timeout="1", timeout="20") as server:
        sock = _post_head(server.port, 1000)
        try:
            status, body = _response(sock)  # nothing more is sent
        finally:
            sock.close()
        assert status == 408
        assert body["error"] == {
            "code": "body_timeout",
            "message": "the body did not arrive within 1 s",
            "parameter": None,
        }
        assert server.get("/healthz")[0] == 200
        records = [json.loads(x) for x in server.output().splitlines() if x.startswith("{")]
        assert [(r["route"], r["status"], r["error"]) for r in records if r["status"] == 408] == [
            ("/api/related", 408, "body_timeout")
        ]
        assert "WORKER TIMEOUT" not in server.output()  # cut, not waited out


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.split("{")[0].split(" ")[0] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_request_over_the_time_limit_is_answered_logged_and_counted(demo_index: Path) -> None:
    # A genuine slow request: related events for a text of 6 million characters, which
    # an operator allows by raising the documented body and text limits, takes about
    # 9 s on the development machine (1.5 s per million).  The worker's time limit is 1 s.
    text = " ".join(["refugees reach Munich by train from Budapest"] * 135_000)[:6_000_000]
    with Gunicorn(
        demo_index,
        workers=2,
        timeout="1",
        body_timeout="0.5",  # below the request's limit, as the settings require
        search_timeout="600",
        max_related_text="10000000",
        max_body_bytes="100000000",
    ) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            conn.request(
                "POST",
                "/api/related",
                body=json.dumps({"text": text}),
                headers={"Content-Type": "application/json", "X-Request-ID": "late-1"},
            )
            response = conn.getresponse()
            status, body = response.status, json.loads(response.read())
        finally:
            conn.close()
        assert status == 500
        assert body["error"]["code"] == "worker_timeout"
        server.wait_ready()  # the worker is replaced
        _, metrics = _raw(server, "/metrics")
        assert _metric(metrics, "eventsearch_worker_timeouts_total") == 1
        assert (
            _metric(
                metrics,
                "eventsearch_requests_total",
                route="/api/related",
                method="POST",
                status="500",
            )
            == 1
        )
        records = [json.loads(x) for x in server.output().splitlines() if x.startswith("{")]
        late = [r for r in records if r["request_id"] == "late-1"]
        assert [(r["route"], r["status"], r["error"]) for r in late] == [
            ("/api/related", 500, "worker_timeout")
        ]
        assert "WORKER TIMEOUT" in server.output()


def _raw(server: Gunicorn, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()
