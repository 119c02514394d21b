"""Steady query traffic against a real server, and what the server's workers hold open.

``Traffic`` sends a seeded mix of API requests from a few threads until it is
stopped, or its request count or time budget runs out, and records every answer
(when it was sent, status, and for ``/api/stats`` the generation and document
count).  ``worker_leases`` reads ``/proc/locks`` to tell which index generation
each gunicorn worker holds its reader lease on, so a switch can be timed per
worker without asking the API which worker answered.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.schema import latest_commit
from tests.support.processes import child_pids

QUERIES = ("merkel", "president", "nobel peace", "paris", "refugees", "world cup", "")
PREFIXES = ("mer", "pa", "vladimir pu", "nob", "wor")


@dataclass(frozen=True)
class Answer:
    """One request and its outcome."""

    sent: float  # time.monotonic() when sent
    done: float
    path: str
    status: int | None  # None: no HTTP answer at all (connection error, timeout)
    error: str | None
    generation: str | None = None  # /api/stats only
    documents: int | None = None  # /api/stats only
    body: Any = None  # only when the traffic keeps bodies

    @property
    def failed(self) -> bool:
        """No answer, or not a 2xx."""
        return self.status is None or not 200 <= self.status < 300


def fetch(url: str, timeout: float = 10.0) -> tuple[int | None, Any, str | None]:
    """GET ``url``: (status, decoded JSON body or None, error text or None)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read()), None
    except urllib.error.HTTPError as exc:
        body = exc.read()
        return exc.code, None, body.decode("utf-8", "replace")[:300]
    except (OSError, ValueError) as exc:  # refused, reset, timed out, not JSON
        return None, None, f"{type(exc).__name__}: {exc}"


def request_mix(event_ids: Sequence[str]) -> Callable[[random.Random], str]:
    """A chooser of request paths: searches, whole events, suggestions and stats."""

    def choose(rng: random.Random) -> str:
        kind = rng.random()
        if kind < 0.35:
            params = {"q": rng.choice(QUERIES), "size": str(rng.choice((0, 5, 10)))}
            if rng.random() < 0.3:
                params["sort"] = "newest"
            return "/api/search?" + urllib.parse.urlencode(params)
        if kind < 0.55:
            return "/api/events/" + urllib.parse.quote(rng.choice(event_ids), safe="")
        if kind < 0.75:
            return "/api/suggest?" + urllib.parse.urlencode({"q": rng.choice(PREFIXES)})
        return "/api/stats"

    return choose


class Traffic:
    """Threads sending requests to ``base_url`` until stopped, or out of requests or time."""

    def __init__(
        self,
        base_url: str,
        choose: Callable[[random.Random], str],
        *,
        seed: int,
        threads: int = 4,
        max_requests: int = 50_000,
        max_seconds: float = 120.0,
        pause: float = 0.0,
        keep_bodies: bool = False,
    ) -> None:
        self.base_url = base_url
        self.choose = choose
        self.seed = seed
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.pause = pause
        self.keep_bodies = keep_bodies
        self.answers: list[Answer] = []
        self.exhausted = False  # stopped by its own bounds rather than by stop()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)
        ]
        self.started = 0.0

    def _run(self, number: int) -> None:
        rng = random.Random(f"{self.seed}-{number}")
        deadline = self.started + self.max_seconds
        while not self._stop.is_set():
            with self._lock:
                if len(self.answers) >= self.max_requests or time.monotonic() > deadline:
                    self.exhausted = True
                    return
            path = self.choose(rng)
            sent = time.monotonic()
            status, body, error = fetch(self.base_url + path)
            done = time.monotonic()
            stats = body if path == "/api/stats" and isinstance(body, dict) else {}
            answer = Answer(
                sent,
                done,
                path,
                status,
                error,
                stats.get("generation"),
                stats.get("documents"),
                body if self.keep_bodies else None,
            )
            with self._lock:
                self.answers.append(answer)
            if self.pause:
                self._stop.wait(self.pause)

    def start(self) -> Traffic:
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def __enter__(self) -> Traffic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def snapshot(self) -> list[Answer]:
        """The answers so far."""
        with self._lock:
            return list(self.answers)

    @property
    def failures(self) -> list[Answer]:
        return [a for a in self.snapshot() if a.failed]

    def sent_between(self, start: float, end: float) -> int:
        """How many requests were sent in [start, end]."""
        return sum(1 for a in self.snapshot() if start <= a.sent <= end)

    def summary(self) -> str:
        answers = self.snapshot()
        failed = [a for a in answers if a.failed]
        seconds = (max(a.done for a in answers) - self.started) if answers else 0.0
        return (
            f"{len(failed)} failed of {len(answers):,} requests in {seconds:.1f} s "
            f"(seed {self.seed})"
        )


def stats_latency(
    answers: Sequence[Answer], since: float, is_stale: Callable[[Answer], bool]
) -> float:
    """Seconds after ``since`` until /api/stats stopped answering stale: the send time of
    the last stale answer sent after ``since`` (0 when there was none)."""
    stale = [
        a.sent - since
        for a in answers
        if a.sent >= since and a.documents is not None and is_stale(a)
    ]
    return max(stale, default=0.0)


def worker_leases(master_pid: int, index_dir: Path) -> dict[int, set[str]]:
    """For each worker of ``master_pid``: the generations whose readers.lock it holds shared."""
    inodes: dict[tuple[int, int, int], str] = {}
    for generation in index_dir.glob("gen-*"):
        try:
            st = os.stat(generation / "readers.lock")
        except OSError:
            continue
        inodes[(os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)] = generation.name
    leases: dict[int, set[str]] = {pid: set() for pid in child_pids(master_pid)}
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.replace("->", "").split()
        # 1: FLOCK  ADVISORY  READ  1234 fe:00:5309078 0 EOF
        if len(fields) < 6 or fields[1] != "FLOCK" or fields[3] != "READ":
            continue
        pid = int(fields[4])
        major, minor, inode = fields[5].split(":")
        name = inodes.get((int(major, 16), int(minor, 16), int(inode)))
        if name is not None and pid in leases:
            leases[pid].add(name)
    return leases


class LeaseMonitor:
    """Polls ``worker_leases`` in a thread and records when each worker first held
    only a given generation."""

    def __init__(self, master_pid: int, index_dir: Path, interval: float = 0.01) -> None:
        self.master_pid = master_pid
        self.index_dir = index_dir
        self.interval = interval
        self.samples: list[tuple[float, dict[int, set[str]]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sample = worker_leases(self.master_pid, self.index_dir)
            self.samples.append((time.monotonic(), sample))
            self._stop.wait(self.interval)

    def __enter__(self) -> LeaseMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def switched(self, generation: str, since: float) -> dict[int, float]:
        """For each worker seen after ``since``: seconds until it held only ``generation``
        (inf when it never did)."""
        first: dict[int, float] = {}
        seen: set[int] = set()
        for at, sample in list(self.samples):
            if at < since:
                continue
            for pid, held in sample.items():
                seen.add(pid)
                if held == {generation} and pid not in first:
                    first[pid] = at - since
        return {pid: first.get(pid, float("inf")) for pid in seen}


class IndexWatcher:
    """Polls an index directory and records every change of CURRENT and every new commit
    (whoosh TOC generation) of the live generation, and any moment CURRENT named a
    generation without meta.json (an incomplete one)."""

    def __init__(self, index_dir: Path, interval: float = 0.005) -> None:
        self.index_dir = index_dir
        self.interval = interval
        self.changes: list[tuple[float, str, int]] = []  # (when, CURRENT, newest TOC)
        self.incomplete: list[tuple[float, str]] = []
        self.reads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _current(self) -> str:
        try:
            return (self.index_dir / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return ""

    def _newest_toc(self, name: str) -> int:
        try:
            return latest_commit(self.index_dir / name)
        except FileNotFoundError:  # pruned meanwhile
            return -1

    def _run(self) -> None:
        while not self._stop.is_set():
            name = self._current()
            now = time.monotonic()
            self.reads += 1
            if name:
                state = (name, self._newest_toc(name))
                if not self.changes or state != self.changes[-1][1:]:
                    self.changes.append((now, *state))
                complete = (self.index_dir / name / "meta.json").is_file()
                if not complete and self._current() == name:  # not just replaced meanwhile
                    self.incomplete.append((now, name))
            self._stop.wait(self.interval)

    def switch_time(self, name: str) -> float:
        """When CURRENT first named ``name``."""
        return next(at for at, seen, _ in self.changes if seen == name)

    def commit_time(self, name: str, after: int) -> float:
        """When ``name`` first had a commit newer than TOC generation ``after``."""
        return next(at for at, seen, toc in self.changes if seen == name and toc > after)

    def newest_toc(self) -> int:
        """The live generation's newest commit as last seen."""
        return self.changes[-1][2]

    def __enter__(self) -> IndexWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
