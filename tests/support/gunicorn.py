"""A real gunicorn serving the API on a free loopback port, as an operator runs it:
``gunicorn -c config/gunicorn.conf.py 'api.app:create_app()'``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.support.processes import child_pids, cpu_seconds

__all__ = ["Gunicorn", "free_port"]

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Gunicorn:
    """gunicorn with ``workers`` workers serving ``index_dir`` on a free port of
    127.0.0.1, started at once.

    ``settings`` are the service's settings as environment variables
    (``max_requests="0"`` is ``EVENTSEARCH_MAX_REQUESTS=0``).  ``wrap`` is a command
    gunicorn's is passed to (it must end by running its arguments, keeping its process:
    ``exec``).  gunicorn's output goes to ``log_path`` (default ``gunicorn-PORT.log``
    beside the index directory).  ``root`` (the tree whose config/gunicorn.conf.py is
    used and where gunicorn runs), ``gunicorn`` (the executable), ``app`` (the
    application) and ``environ`` (the environment the settings are added to) default
    to this tree, this environment's gunicorn, ``api.app:create_app()`` and
    ``os.environ``: another revision's copy is served by passing its own.  As a context
    manager it waits until ``/readyz`` answers 200 and every worker runs, and stops
    gunicorn on exit.
    """

    def __init__(
        self,
        index_dir: Path,
        workers: int = 2,
        wrap: Sequence[str] = (),
        log_path: Path | None = None,
        *,
        root: Path = ROOT,
        gunicorn: Path = GUNICORN,
        app: str = "api.app:create_app()",
        environ: Mapping[str, str] | None = None,
        **settings: str,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.url = f"http://{self.host}:{self.port}"
        self.workers = workers
        self.log_path = log_path or index_dir.parent / f"gunicorn-{self.port}.log"
        env = {
            **(os.environ if environ is None else environ),
            "EVENTSEARCH_INDEX_DIR": str(index_dir),
            "EVENTSEARCH_WORKERS": str(workers),
            "EVENTSEARCH_BIND": f"{self.host}:{self.port}",
            **{f"EVENTSEARCH_{k.upper()}": v for k, v in settings.items()},
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                *wrap,
                str(gunicorn),
                "-c",
                str(root / "config" / "gunicorn.conf.py"),
                app,
            ],
            cwd=root,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until ``/readyz`` answers 200 and every worker runs; RuntimeError when
        gunicorn exits first, TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.output()[-4000:]}")
            try:
                status, _ = self.get("/readyz", timeout=5.0)
                if status == 200 and len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn not ready after {timeout}s: {self.output()[-4000:]}")

    def get(self, path: str, timeout: float = 10.0) -> tuple[int, Any]:
        """Status and decoded JSON body (None when empty) of a GET of ``path``."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the gunicorn master)."""
        return child_pids(self.process.pid)

    def workers_cpu_seconds(self) -> float:
        """User and system CPU seconds the running workers have used so far."""
        return sum(cpu_seconds(pid) for pid in self.worker_pids())

    def output(self) -> str:
        """What gunicorn has logged so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait (SIGKILL after ``timeout`` seconds); the exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode

    def __enter__(self) -> Gunicorn:
        try:
            self.wait_ready()
        except BaseException:
            self.process.kill()
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
