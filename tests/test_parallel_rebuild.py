"""Rebuilding with several writer processes: the same index, and no process outlives it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from config import Config
from indexer import jobs
from search import IndexStore, SearchRequest, SearchService
from tests.corpus import corpus_file
from tests.support.generate import generate_events, write_events
from tests.support.indexes import INDEXER
from tests.support.model import builtin_model
from tests.support.processes import child_pids

pytestmark = pytest.mark.slow  # rebuilds with several writer processes, some killed


def _answers(index_dir: Path) -> list[object]:
    service = SearchService(Config.from_env({}, index_dir=index_dir))
    try:
        out: list[object] = [service.stats().documents]
        for q in ("syria", "refugees hungary", '"european union"', ""):
            body = service.search(
                SearchRequest(q=q, size=20, facets=("date", "entity", "source", "category"))
            )
            out.append([(r.id, r.score) for r in body.results])
            out.append(body.facets)
            out.append(body.total)
        return out
    finally:
        service.close()


def test_two_processes_build_the_same_index_as_one(tmp_path: Path) -> None:
    one = jobs.rebuild(IndexStore(tmp_path / "one"), [corpus_file()], keep=0, processes=1)
    two = jobs.rebuild(IndexStore(tmp_path / "two"), [corpus_file()], keep=0, processes=2)
    assert one.indexed == two.indexed == 428
    assert (one.events_with_mentions, one.mentions_added) == (
        two.events_with_mentions,
        two.mentions_added,
    )
    service = SearchService(Config.from_env({}, index_dir=tmp_path / "two"))
    try:
        assert len(service.live.snapshot().segments) == 2  # one per process
    finally:
        service.close()
    assert _answers(tmp_path / "one") == _answers(tmp_path / "two")


def test_writer_processes_die_with_a_killed_rebuild(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    events = generate_events(builtin_model(seed=3), 6000, seed=3)
    write_events(events, source)
    index_dir = tmp_path / "index"
    env = {**os.environ, "EVENTSEARCH_INDEX_PROCESSES": "2"}
    rebuild = subprocess.Popen(
        [str(INDEXER), "rebuild", str(source), "--index-dir", str(index_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(child_pids(rebuild.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    writers = child_pids(rebuild.pid)
    assert len(writers) >= 2, "the rebuild never started its writer processes"
    rebuild.send_signal(signal.SIGKILL)
    rebuild.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{p}").exists() for p in writers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in writers if Path(f"/proc/{p}").exists()]
    # The lock went with them: the next rebuild runs.
    report = jobs.rebuild(IndexStore(index_dir), [corpus_file()], keep=0)
    assert report.indexed == 428 and report.recovered_lock


def test_a_writer_process_started_after_its_rebuild_died_exits_at_once() -> None:
    """The kernel's parent-death signal only covers a parent that dies after the child
    asked for it; a writer process checks that its rebuild is still its parent."""
    from search.writer_hooks import die_with_parent

    fork = multiprocessing.get_context("fork")
    orphan = fork.Process(target=die_with_parent, args=(os.getpid() + 1_000_000,))
    orphan.start()
    orphan.join(10)
    assert orphan.exitcode == 1
    child = fork.Process(target=die_with_parent, args=(os.getpid(),))
    child.start()
    child.join(10)
    assert child.exitcode == 0
