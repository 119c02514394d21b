"""An index directory the service cannot write to is served all the same.

Serving needs read access only: readers take their shared lock on a generation's
``readers.lock`` through a read-only file descriptor (the writer creates the file
with the generation).  Two processes that really lack write access: gunicorn in
its own mount namespace where the index directory is bind-mounted read-only (even
root gets EROFS there), and a reader that drops root for ``nobody`` before it
opens the index.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from indexer import jobs
from search import IndexStore
from tests.corpus import DEMO_DIR, ROOT
from tests.support.gunicorn import Gunicorn
from tests.support.indexes import run_indexer
from tests.traffic import worker_leases
from tests.unprivileged import repository_reachable_by_others

pytestmark = pytest.mark.slow  # real gunicorn and unprivileged processes

DEMO_EVENTS = 48


def read_only_mount(index_dir: Path) -> list[str]:
    """A command prefix: run the rest in a new mount namespace in which ``index_dir``
    is bind-mounted read-only onto itself."""
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" "$0" && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, str(index_dir)]


def tree(index_dir: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``index_dir`` with its size and modification time."""
    return {
        p.relative_to(index_dir).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(index_dir.rglob("*"))
        if p.is_file()
    }


def test_gunicorn_serves_an_index_directory_mounted_read_only(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    jobs.rebuild(IndexStore(index_dir), [DEMO_DIR], keep=2)
    # The namespace really forbids writing, to root too.
    probe = subprocess.run(
        [*read_only_mount(index_dir), "touch", str(index_dir / "gen-000001" / "probe")],
        capture_output=True,
        text=True,
    )
    assert probe.returncode != 0 and "Read-only file system" in probe.stderr, probe.stderr
    before = tree(index_dir)
    with Gunicorn(
        index_dir, workers=2, wrap=read_only_mount(index_dir), max_requests="0"
    ) as server:
        # Concurrent requests until both workers have served: then each holds its
        # shared lock on the generation it reads.
        deadline = time.monotonic() + 30.0
        with ThreadPoolExecutor(4) as pool:
            while True:
                answers = list(pool.map(server.get, ["/api/search?q=election"] * 8))
                assert all(status == 200 for status, _ in answers), answers
                leases = worker_leases(server.process.pid, index_dir)
                if len(leases) == 2 and all(h == {"gen-000001"} for h in leases.values()):
                    break
                assert time.monotonic() < deadline, leases
        status, body = server.get("/api/stats")
        assert (status, body["documents"]) == (200, DEMO_EVENTS)
        assert server.get("/readyz")[0] == 200
        log = server.output()
    assert "Traceback" not in log and "Read-only" not in log, log
    assert tree(index_dir) == before


@pytest.fixture
def world_readable() -> Iterator[Path]:
    """A directory ``nobody`` can reach (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="eventsearch-ro-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def read_as_nobody(index_dir: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.unprivileged_reader", str(index_dir), "nobody"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    assert found["uid"] != 0
    return found


def test_a_reader_without_write_access_serves_the_index(world_readable: Path) -> None:
    index_dir = world_readable / "index"
    jobs.rebuild(IndexStore(index_dir), [DEMO_DIR], keep=2)
    before = tree(index_dir)
    found = read_as_nobody(index_dir)
    for path, answer in found["requests"].items():
        assert answer["status"] == 200, (path, answer)
    assert found["requests"]["/api/stats"]["body"]["documents"] == DEMO_EVENTS
    stats = found["commands"]["stats"]
    assert stats["exit"] == 0 and f"documents: {DEMO_EVENTS}" in stats["stdout"], stats
    verify = found["commands"]["stats --verify"]
    assert verify["exit"] == 0 and "verified: " in verify["stdout"], verify
    assert tree(index_dir) == before


def test_an_unreadable_current_is_503_and_rebuild_repairs_it(world_readable: Path) -> None:
    index_dir = world_readable / "index"
    jobs.rebuild(IndexStore(index_dir), [DEMO_DIR], keep=2)
    (index_dir / "CURRENT").chmod(0o000)
    found = read_as_nobody(index_dir)
    reason = "CURRENT, which names the live generation, cannot be read (Permission denied)"
    for path, answer in found["requests"].items():
        assert answer["status"] == 503, (path, answer)
        assert answer["body"]["error"]["code"] == "index_damaged"
        assert reason in answer["body"]["error"]["message"]
    for command in found["commands"].values():
        assert command["exit"] == 1 and reason in command["stderr"], command
        assert "Traceback" not in command["stderr"]
    # The operator's rebuild replaces it (the indexer runs as the index's owner).
    rebuilt = run_indexer("rebuild", str(DEMO_DIR), "--index-dir", str(index_dir))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "note: replaced CURRENT" not in rebuilt.stderr  # root could read it
    found = read_as_nobody(index_dir)
    assert found["requests"]["/api/stats"]["body"]["documents"] == DEMO_EVENTS


@pytest.fixture(autouse=True)
def _reachable() -> Iterator[None]:
    """Processes that become ``nobody`` here run the project's code."""
    with repository_reachable_by_others():
        yield
