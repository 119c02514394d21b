"""HTTP benchmark: real gunicorn (2 workers) on loopback, replaying the query log.

    python -m bench http --corpus bench/results/corpus/jsonl-n100000-s0.jsonl \\
        --index-dir bench/results/index-100000

The client is a small asyncio one speaking HTTP/1.1 over raw sockets (keeping
a connection open when the server allows it; gunicorn's sync workers close it
after each response, so each request then opens a new one, as a browser's
would).  After a warm-up pass over the whole log, each run replays the log in
its fixed order at concurrency 1 and at 8, each phase bounded by a number of
requests (by default one pass over the log, so that every phase sees the whole
mix) and by time.  Reported per phase: requests per second, p50/p95/p99
latency overall, for the searches, and per kind, errors, the client's and the
workers' CPU; then the RSS of each worker.  Medians over the runs.

Suggest and related entries are sent only if the OpenAPI document lists such
routes (``/api/suggest...`` with a text parameter, ``/api/events/{id}/related``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import resource
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from bench.corpus import CORPUS_OPTION, CorpusInfo
from bench.index_bench import rebuild
from bench.queries import SEARCH_KINDS, build_log
from bench.results import print_table, save_result
from bench.stats import cpu_busy_seconds, machine, median, memory_mb, percentile
from tests.support.gunicorn import Gunicorn

__all__ = ["Sample", "load", "main", "probe_routes", "run_http_bench", "run_phase"]

CONCURRENCY = (1, 8)
_RELATED = re.compile(r"^/api/events/\{[^}]+\}/related$")
_TEXT_PARAMS = ("q", "prefix", "text", "term")


@dataclass(frozen=True)
class Sample:
    """One request: what kind, its status, how long it took (ms)."""

    kind: str
    status: int
    ms: float
    partial: bool = False  # the service answered with what it had found in its time limit


class _Connection:
    """One client connection: HTTP/1.1, reopened whenever the server closed it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bool]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Accept: application/json\r\n\r\n".encode("latin-1")
        )
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, b'"timed_out":true' in body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _load(
    host: str,
    port: int,
    requests: Sequence[tuple[str, str]],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    timeout: float,
) -> tuple[list[Sample], float]:
    next_index = 0
    deadline = time.perf_counter() + max_seconds
    samples: list[Sample] = []

    async def client() -> None:
        nonlocal next_index
        connection = _Connection(host, port)
        try:
            while next_index < max_requests and time.perf_counter() < deadline:
                kind, path = requests[next_index % len(requests)]
                next_index += 1
                started = time.perf_counter()
                try:
                    status, partial = await asyncio.wait_for(connection.get(path), timeout)
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    status, partial = 0, False
                    await connection.close()
                elapsed = (time.perf_counter() - started) * 1000
                samples.append(Sample(kind, status, elapsed, partial))
        finally:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return samples, time.perf_counter() - started


def load(
    host: str,
    port: int,
    requests: Sequence[tuple[str, str]],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    timeout: float = 30.0,
) -> tuple[list[Sample], float]:
    """Send ``requests`` ((kind, path), in order, cycling) from ``concurrency`` clients
    until ``max_requests`` were sent or ``max_seconds`` passed; samples and wall seconds."""
    return asyncio.run(_load(host, port, requests, concurrency, max_requests, max_seconds, timeout))


def probe_routes(server: Gunicorn) -> tuple[tuple[str, str] | None, str | None]:
    """The suggest route and its text parameter, and the related route, if served."""
    status, document = server.get("/api/openapi.json")
    if status != 200 or not isinstance(document, dict):
        return None, None
    suggest = related = None
    for route, item in document.get("paths", {}).items():
        if "suggest" in route and "{" not in route and "get" in item:
            names = [p.get("name") for p in item["get"].get("parameters", [])]
            param = next((n for n in _TEXT_PARAMS if n in names), None)
            if param:
                suggest = (route, param)
        if _RELATED.match(route) and "get" in item:
            related = re.sub(r"\{[^}]+\}", "{id}", route)
    return suggest, related


def _latencies(samples: Sequence[Sample]) -> dict[str, Any]:
    ms = [s.ms for s in samples]
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
    }


def run_phase(
    server: Gunicorn,
    requests: Sequence[tuple[str, str]],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
) -> dict[str, Any]:
    """One phase: ``requests`` from ``concurrency`` clients (bounded as ``load``) against
    ``server``; rate, latencies (ms), errors, and the client's, workers' and other
    processes' CPU."""
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    workers_before = server.workers_cpu_seconds()
    busy_before = cpu_busy_seconds()
    samples, seconds = load(
        server.host, server.port, requests, concurrency, max_requests, max_seconds
    )
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    workers_cpu = server.workers_cpu_seconds() - workers_before
    others_cpu = max(0.0, cpu_busy_seconds() - busy_before - client_cpu - workers_cpu)
    ok = [s for s in samples if s.status == 200]
    kinds = sorted({s.kind for s in samples})
    return {
        "concurrency": concurrency,
        "requests": len(samples),
        "errors": len(samples) - len(ok),
        "timed_out": sum(1 for s in samples if s.partial),
        "statuses": sorted({s.status for s in samples}),
        "seconds": round(seconds, 2),
        "rps": round(len(samples) / seconds, 1) if seconds else 0.0,
        "all": _latencies(ok),
        "search": _latencies([s for s in ok if s.kind in SEARCH_KINDS]),
        "by_kind": {k: _latencies([s for s in ok if s.kind == k]) for k in kinds},
        "client_cpu_share": round(client_cpu / seconds, 2) if seconds else 0.0,
        "worker_cpu_ms_per_request": round(workers_cpu * 1000 / len(samples), 2)
        if samples
        else 0.0,
        # CPU other processes on the machine used meanwhile, in cores: a busy machine
        # makes the figures of this phase worse than the service's.
        "others_cpu_share": round(others_cpu / seconds, 2) if seconds else 0.0,
    }


def _median_phase(phases: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Medians over runs of one phase's figures."""

    def med(get: Any) -> float:
        return round(median([get(p) for p in phases]), 2)

    kinds = sorted({k for p in phases for k in p["by_kind"]})
    figures = ("p50_ms", "p95_ms", "p99_ms")
    return {
        "concurrency": phases[0]["concurrency"],
        "requests": sum(p["requests"] for p in phases),
        "errors": sum(p["errors"] for p in phases),
        "timed_out": sum(p.get("timed_out", 0) for p in phases),
        "rps": med(lambda p: p["rps"]),
        "all": {f: med(lambda p, f=f: p["all"][f]) for f in figures},
        "search": {f: med(lambda p, f=f: p["search"][f]) for f in figures},
        "by_kind": {
            k: {f: med(lambda p, k=k, f=f: p["by_kind"].get(k, {}).get(f, 0.0)) for f in figures}
            for k in kinds
        },
        "client_cpu_share": med(lambda p: p["client_cpu_share"]),
        "worker_cpu_ms_per_request": med(lambda p: p["worker_cpu_ms_per_request"]),
        "others_cpu_share": med(lambda p: p["others_cpu_share"]),
    }


def run_http_bench(
    info: CorpusInfo,
    index_dir: Path | None = None,
    runs: int = 3,
    max_requests: int | None = None,
    max_seconds: float = 120.0,
    workers: int = 2,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Serve the corpus's index with gunicorn and replay the query log against it."""
    log = build_log(info.model(), info.count, info.seed)
    with tempfile.TemporaryDirectory(prefix="bench-http-", dir=workdir) as tmp:
        if index_dir is None or not (index_dir / "CURRENT").exists():
            index_dir = index_dir or Path(tmp) / "index"
            rebuild(info.path, index_dir)
        with Gunicorn(
            index_dir,
            workers,
            log_path=Path(tmp) / "gunicorn.log",
            max_requests="0",  # never recycled during a benchmark
            log_level="warning",
        ) as server:
            suggest, related = probe_routes(server)
            requests = [
                (q.kind, path) for q in log if (path := q.path(suggest, related)) is not None
            ]
            per_phase = max_requests or len(requests)
            first, _ = load(server.host, server.port, requests[:1], 1, 1, 60.0, 60.0)
            # Warm up: every entry twice, from as many clients as workers.
            load(server.host, server.port, requests, workers, 2 * len(requests), 120.0)
            phases: dict[int, list[dict[str, Any]]] = {c: [] for c in CONCURRENCY}
            for _ in range(runs):
                for concurrency in CONCURRENCY:
                    phases[concurrency].append(
                        run_phase(server, requests, concurrency, per_phase, max_seconds)
                    )
            pids = server.worker_pids()
            memory = [{"pid": pid, **memory_mb(pid)} for pid in pids]
    return {
        "kind": "http",
        "machine": machine(),
        "corpus": info.describe(),
        "workers": workers,
        "routes": {"suggest": suggest, "related": related},
        "log_entries": len(requests),
        "bounds": {"requests": per_phase, "seconds": max_seconds},
        "first_request_ms": round(first[0].ms, 1) if first else None,
        "runs": {str(c): p for c, p in phases.items()},
        "median": {str(c): _median_phase(p) for c, p in phases.items()},
        "workers_memory": memory,
    }


def print_http(result: dict[str, Any]) -> None:
    """The result as tables."""
    rows = []
    for c, phase in result["median"].items():
        for name in ("all", "search"):
            s = phase[name]
            rows.append(
                [
                    f"c={c} {name}",
                    phase["rps"],
                    s["p50_ms"],
                    s["p95_ms"],
                    s["p99_ms"],
                    f"{phase['errors']} / {phase.get('timed_out', 0)}",
                    phase["client_cpu_share"],
                    phase["worker_cpu_ms_per_request"],
                    phase["others_cpu_share"],
                ]
            )
    print_table(
        f"HTTP, {result['corpus']['count']} events, {result['workers']} workers "
        f"(medians of {len(next(iter(result['runs'].values())))} runs)",
        [
            "phase",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "errors / partial",
            "client CPU",
            "worker CPU ms/req",
            "others' CPU",
        ],
        rows,
    )
    kinds = sorted({k for p in result["median"].values() for k in p["by_kind"]})
    print_table(
        "latency by kind (p50 / p99 ms)",
        ["kind", *(f"c={c}" for c in result["median"])],
        [
            [
                k,
                *(
                    f"{p['by_kind'][k]['p50_ms']} / {p['by_kind'][k]['p99_ms']}"
                    for p in result["median"].values()
                ),
            ]
            for k in kinds
        ],
    )
    print_table(
        f"workers (first request after start: {result['first_request_ms']} ms)",
        ["pid", "RSS MB", "peak RSS MB", "PSS MB", "private MB"],
        [
            [m["pid"], m["rss_mb"], m["peak_rss_mb"], m.get("pss_mb"), m.get("private_mb")]
            for m in result["workers_memory"]
        ],
    )


@click.command("http")
@CORPUS_OPTION
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="An index of that corpus (default: built in a temporary directory).",
)
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True)
@click.option(
    "--requests",
    "max_requests",
    type=click.IntRange(min=1),
    help="Most requests per phase (default: one pass over the query log).",
)
@click.option(
    "--seconds",
    "max_seconds",
    type=click.FloatRange(min=0.1),
    default=120.0,
    show_default=True,
    help="Most seconds per phase.",
)
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True)
def main(
    info: CorpusInfo,
    index_dir: Path | None,
    runs: int,
    max_requests: int | None,
    max_seconds: float,
    workers: int,
) -> None:
    """Load real gunicorn serving CORPUS with the query log."""
    result = run_http_bench(info, index_dir, runs, max_requests, max_seconds, workers)
    print_http(result)
    click.echo(f"saved {save_result(result)}")
