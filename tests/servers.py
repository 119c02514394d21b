"""A real gunicorn serving the API on a free loopback port, for end-to-end tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.corpus import ROOT

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_indexer(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The ``indexer`` console script, as an operator runs it."""
    return subprocess.run(
        [str(BIN / "indexer"), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


class Gunicorn:
    """``gunicorn -c config/gunicorn.conf.py 'api.app:create_app()'`` on a free port;
    ``wrap`` is a command gunicorn's is passed to (it must end by running its arguments)."""

    def __init__(
        self, index_dir: Path, workers: int = 2, wrap: Sequence[str] = (), **settings: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "EVENTSEARCH_INDEX_DIR": str(index_dir),
            "EVENTSEARCH_WORKERS": str(workers),
            "EVENTSEARCH_BIND": f"127.0.0.1:{self.port}",
            **{f"EVENTSEARCH_{k.upper()}": v for k, v in settings.items()},
        }
        self.log = open(index_dir.parent / f"gunicorn-{self.port}.log", "w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                *wrap,
                str(BIN / "gunicorn"),
                "-c",
                str(ROOT / "config" / "gunicorn.conf.py"),
                "api.app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.output()}")
            try:
                status, _ = self.get("/readyz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn not ready after {timeout}s: {self.output()}")

    def get(self, path: str, timeout: float = 10.0) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        finally:
            self.log.close()

    def __enter__(self) -> Gunicorn:
        try:
            self.wait_ready()
        except BaseException:
            self.process.kill()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.stop()
