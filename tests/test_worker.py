"""The gunicorn worker's own set-up (api/worker.py), outside a server."""

from __future__ import annotations

import subprocess
import sys

from tests.corpus import ROOT


def test_a_worker_raises_its_open_files_limit_as_far_as_the_hard_limit() -> None:
    # In a child process: the limit is the process's own.
    script = (
        "import resource\n"
        "from api.worker import raise_open_files_limit\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))\n"
        "got = raise_open_files_limit(1256)\n"
        "now = resource.getrlimit(resource.RLIMIT_NOFILE)[0]\n"
        "wanted = 1256 if hard == resource.RLIM_INFINITY else min(1256, hard)\n"
        "assert got == now == wanted, (got, now, wanted)\n"
        "assert raise_open_files_limit(100) == wanted  # never lowered\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


def test_importing_the_worker_does_not_load_prometheus_client() -> None:
    # gunicorn imports the worker class in its master, before the metrics directory
    # exists; prometheus-client decides on its mode when first imported.
    script = "import sys, api.worker\nassert 'prometheus_client' not in sys.modules\n"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
