"""A real gunicorn serving the API on a free loopback port, as an operator runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any

__all__ = ["Server", "free_port"]

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd on


class Server:
    """``gunicorn -c config/gunicorn.conf.py 'api.app:create_app()'`` with ``workers`` workers.

    Workers are never recycled during a benchmark (``max_requests`` 0) and log only
    warnings.  Use as a context manager: it waits until ``/readyz`` answers 200.
    """

    def __init__(self, index_dir: Path, log_path: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.host = "127.0.0.1"
        self.url = f"http://{self.host}:{self.port}"
        self.index_dir = index_dir
        self.workers = workers
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "EVENTSEARCH_INDEX_DIR": str(self.index_dir),
            "EVENTSEARCH_WORKERS": str(self.workers),
            "EVENTSEARCH_MAX_REQUESTS": "0",
            "EVENTSEARCH_LOG_LEVEL": "warning",
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(GUNICORN),
                "-c",
                str(ROOT / "config" / "gunicorn.conf.py"),
                "--bind",
                f"{self.host}:{self.port}",
                "api.app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def get(self, path: str, timeout: float = 30.0) -> tuple[int, Any]:
        """Status and decoded JSON body of a GET."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            body = exc.read()
            return exc.code, json.loads(body) if body else None

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until ``/readyz`` says 200 and every worker is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.output()}")
            try:
                status, _ = self.get("/readyz", timeout=5.0)
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn not ready after {timeout}s: {self.output()}")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the gunicorn master)."""
        if self.process is None:
            return []
        master = self.process.pid
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                fields = _stat_fields(int(entry))
                if fields is not None and int(fields[1]) == master:
                    pids.append(int(entry))
        return sorted(pids)

    def workers_cpu_seconds(self) -> float:
        """User and system CPU time the workers have used so far."""
        total = 0
        for pid in self.worker_pids():
            fields = _stat_fields(pid)
            if fields is not None:
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / _CLOCK_TICKS

    def output(self) -> str:
        """What gunicorn logged."""
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM, then wait (SIGKILL after 30 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Server:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
