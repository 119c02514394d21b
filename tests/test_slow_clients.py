"""Slow, idle and late clients against real gunicorn with the project's config: the
worker's loop reads their requests, so they hold no thread, and a thousand of them
leave the service answering; a late head or body is answered 408, and a request over
the time limit restarts its worker, answered, logged and counted as a 500."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import time
from pathlib import Path

import pytest

from api.worker import raise_open_files_limit
from tests.support.gunicorn import Gunicorn
from tests.support.slow_clients import SlowClients

pytestmark = pytest.mark.slow  # real gunicorn held by slow connections for seconds


def _timed_get(server: Gunicorn, path: str, bound: float) -> tuple[int, float]:
    started = time.monotonic()
    status, _ = server.get(path, timeout=bound)
    return status, time.monotonic() - started


def test_a_thousand_slow_and_idle_clients_do_not_hold_the_service(demo_index: Path) -> None:
    # The issue is about being held: with gunicorn's gthread worker as it was, about
    # 140 connections sending a header line a second held both workers' 64 threads,
    # and /healthz and every search timed out while they were held (1,000 such
    # connections: 0 of 2 answered within 5 s, python -m bench slow-clients).  The
    # deadlines are raised so that every slow connection stays held throughout; 3 s
    # per request is a bound the old behaviour misses by far.
    bound = 3.0
    raise_open_files_limit(4096)  # 1,000 client sockets in this process
    with Gunicorn(demo_index, workers=2, header_timeout="60", body_timeout="20") as server:
        clients = SlowClients(server.port, idle=334, headers=333, bodies=333)
        try:
            time.sleep(1.0)  # every slow connection is accepted by a worker
            latencies: list[float] = []
            until = time.monotonic() + 6.0
            while time.monotonic() < until:
                for path in ("/healthz", "/api/search?q=merkel&size=3"):
                    status, seconds = _timed_get(server, path, bound)
                    assert status == 200
                    latencies.append(seconds)
                time.sleep(0.1)
            # Held all along, not dropped to make room.
            assert clients.closed_by_server() == 0
        finally:
            clients.close()
        latencies.sort()
        print(
            f"{clients.count} slow clients: {len(latencies)} requests, median "
            f"{latencies[len(latencies) // 2] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        )
        assert server.get("/healthz")[0] == 200


def test_a_late_head_is_answered_408_and_a_silent_connection_closed(demo_index: Path) -> None:
    with Gunicorn(demo_index, workers=1, header_timeout="1", keepalive="1") as server:
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=20)
        late = socket.create_connection(("127.0.0.1", server.port), timeout=20)
        kept = socket.create_connection(("127.0.0.1", server.port), timeout=20)
        try:
            late.sendall(b"GET /healthz HTTP/1.1\r\nHost: late\r\n")  # and no more
            kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: kept\r\n\r\n")
            status, body = _response(late)
            assert status == 408
            assert body["error"] == {
                "code": "header_timeout",
                "message": "the request head did not arrive within 1 s",
                "parameter": None,
            }
            assert silent.recv(100) == b""  # closed without an answer
            response = http.client.HTTPResponse(kept)
            response.begin()
            assert response.status == 200 and not response.will_close
            response.read()
            assert kept.recv(100) == b""  # kept alive for 1 s, then closed
        finally:
            for sock in (silent, late, kept):
                sock.close()
        assert server.get("/healthz")[0] == 200


def test_sigterm_with_slow_clients_held_stops_within_the_graceful_timeout(
    demo_index: Path,
) -> None:
    # Connections still sending their heads are not waited for past the graceful
    # timeout (3 s here, against heads allowed 60 s): the workers exit and gunicorn
    # with them, cleanly.
    with Gunicorn(
        demo_index, workers=2, header_timeout="60", body_timeout="20", graceful_timeout="3"
    ) as server:
        clients = SlowClients(server.port, idle=20, headers=20, bodies=10)
        try:
            time.sleep(1.0)
            assert server.get("/healthz")[0] == 200
            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(timeout=20) == 0
        finally:
            clients.close()


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
