"""Slow-client benchmark: real gunicorn (the project's config) on loopback, held by
many slow or idle connections, while a client times ``/healthz`` and a search.

    python -m bench slow-clients --connections 1000 --seconds 8

The connections are a third idle (connected, nothing sent), a third sending their
request head one header line a second, and a third sending a POST body one byte a
second (``tests/support/slow_clients.py``).  While they are held, one request at a
time alternates between ``GET /healthz`` and ``GET /api/search?q=merkel&size=3``,
each with a time limit; reported: how many were answered 200, how many failed or
timed out, their median and highest latency, and how many of the slow connections
the server had closed by the end (its deadlines for heads and bodies).
"""

from __future__ import annotations

import os
import tempfile
import time
import urllib.error
from pathlib import Path

import click

from api.worker import raise_open_files_limit
from bench.stats import percentile
from tests.corpus import DEMO_DIR
from tests.support.gunicorn import Gunicorn
from tests.support.indexes import run_indexer
from tests.support.slow_clients import SlowClients

__all__ = ["main", "measure"]

PATHS = ("/healthz", "/api/search?q=merkel&size=3")


def measure(server: Gunicorn, seconds: float, limit: float) -> dict[str, float]:
    """Alternate the ``PATHS`` for ``seconds``, each request bounded by ``limit``
    seconds; counts and latencies (ms)."""
    latencies: list[float] = []
    failed = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        for path in PATHS:
            started = time.monotonic()
            try:
                status, _ = server.get(path, timeout=limit)
            except (urllib.error.URLError, OSError):
                status = 0
            if status == 200:
                latencies.append((time.monotonic() - started) * 1000)
            else:
                failed += 1
        time.sleep(0.1)
    latencies.sort()
    return {
        "answered": len(latencies),
        "failed": failed,
        "p50_ms": percentile(latencies, 50) if latencies else float("nan"),
        "max_ms": latencies[-1] if latencies else float("nan"),
    }


@click.command("slow-clients")
@click.option("--connections", default=1000, show_default=True, help="Slow connections held.")
@click.option("--seconds", default=8.0, show_default=True, help="How long to measure.")
@click.option("--limit", default=5.0, show_default=True, help="Time limit per request, s.")
@click.option("--workers", default=2, show_default=True)
@click.option(
    "--setting",
    "settings",
    multiple=True,
    help="NAME=VALUE of a service setting (EVENTSEARCH_NAME), repeatable.",
)
def main(connections: int, seconds: float, limit: float, workers: int, settings: list[str]) -> None:
    """Time /healthz and a search while CONNECTIONS slow clients hold the server."""
    raise_open_files_limit(connections + 256)
    env = dict(s.split("=", 1) for s in settings)
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        built = run_indexer("rebuild", str(DEMO_DIR), "--index-dir", str(index_dir))
        if built.returncode != 0:
            raise click.ClickException(built.stderr)
        environ = {**os.environ, **{f"EVENTSEARCH_{k.upper()}": v for k, v in env.items()}}
        with Gunicorn(index_dir, workers, (), None, environ=environ) as server:
            quiet = measure(server, 2.0, limit)
            third = connections // 3
            clients = SlowClients(
                server.port, idle=third, headers=third, bodies=connections - 2 * third
            )
            try:
                time.sleep(1.0)
                held = measure(server, seconds, limit)
                closed = clients.closed_by_server()
            finally:
                clients.close()
            after = measure(server, 2.0, limit)
    for name, row in (("no slow clients", quiet), (f"{connections} held", held), ("after", after)):
        click.echo(
            f"{name:>16}: {row['answered']:.0f} answered, {row['failed']:.0f} failed "
            f"(limit {limit:g} s), p50 {row['p50_ms']:.1f} ms, max {row['max_ms']:.1f} ms"
        )
    click.echo(f"slow connections the server had closed after {seconds:g} s: {closed}")
