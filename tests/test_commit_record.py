"""Readers and a writer between whoosh's commit and the commit's record.

``indexer add`` commits in the live generation: whoosh writes the commit (and
removes the files of segments it merged away), then the writer records the
commit's checksums.  The writer is caught in between, by polling, and stopped
(SIGSTOP) or killed (SIGKILL).  A reader that already serves the generation keeps
serving its commit, whose files it still holds; a new reader waits for the
record; nobody reports damage that is not there.  After a kill, the next job
completes the commit.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import jobs
from indexer.cli import cli
from search import IndexStore, IndexUnavailable, LiveIndex
from search.schema import latest_commit
from search.snapshot import Snapshot
from tests.corpus import DEMO_DIR
from tests.support.indexes import INDEXER

pytestmark = pytest.mark.slow  # writers killed between whoosh's commit and its record

DEMO_EVENTS = 48
ADDED = 300
ATTEMPTS = 20


class Clock:
    """A clock the test moves: each reader refreshes when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += 10.0


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    index_dir = tmp_path / "index"
    jobs.rebuild(IndexStore(index_dir), [DEMO_DIR], keep=2)
    return index_dir


def added_events(tmp_path: Path, attempt: int) -> Path:
    path = tmp_path / f"added-{attempt}.jsonl"
    lines = [
        json.dumps(
            {
                "id": f"added-{attempt}-{n}",
                "date": f"2020-01-{1 + n % 28:02d}",
                "title": f"Added event {n} of attempt {attempt}",
                "body": f"An event added to the live generation, number {n}.",
            }
        )
        for n in range(ADDED)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def caught_between_commit_and_record(
    index_dir: Path, tmp_path: Path, sig: signal.Signals
) -> subprocess.Popen[bytes]:
    """An ``indexer add`` sent ``sig`` after whoosh's commit and before its record."""
    store = IndexStore(index_dir)
    generation = store.current()
    for attempt in range(ATTEMPTS):
        recorded = generation.record().commit
        job = subprocess.Popen(
            [
                str(INDEXER),
                "add",
                str(added_events(tmp_path, attempt)),
                "--index-dir",
                str(index_dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        while job.poll() is None and latest_commit(generation.path) == recorded:
            time.sleep(0.0005)
        if job.poll() is None:
            job.send_signal(sig)
            if generation.record().commit == recorded:
                return job
            if sig == signal.SIGSTOP:
                job.send_signal(signal.SIGCONT)
        job.wait(timeout=120)
    raise AssertionError(f"the writer was never caught between commit and record in {ATTEMPTS}")


def documents(snapshot: Snapshot) -> int:
    return len(snapshot.live_docs())


def test_a_commit_being_recorded_is_never_taken_for_damage(index_dir: Path, tmp_path: Path) -> None:
    clock = Clock()
    serving = LiveIndex(IndexStore(index_dir), clock=clock)
    before = documents(serving.snapshot())
    job = caught_between_commit_and_record(index_dir, tmp_path, signal.SIGSTOP)
    try:
        # A reader that serves the generation keeps its commit: searches still read it
        # (whoosh has removed the files of merged segments; the reader holds them open).
        clock.tick()
        snapshot = serving.snapshot()
        assert documents(snapshot) == before
        assert snapshot.event(int(snapshot.live_docs()[-1]))[0]["id"]
        # A new reader waits for the record; past its wait it says why, not "damaged".
        with pytest.raises(IndexUnavailable, match="its newest commit is not recorded yet"):
            LiveIndex(IndexStore(index_dir), commit_wait=0.3).snapshot()
        # A new reader still waiting when the writer goes on opens the recorded commit.
        waiting = LiveIndex(IndexStore(index_dir), commit_wait=60.0)
        opened: list[Snapshot | IndexUnavailable] = []

        def open_it() -> None:
            try:
                opened.append(waiting.snapshot())
            except IndexUnavailable as exc:
                opened.append(exc)

        thread = threading.Thread(target=open_it)
        thread.start()
        time.sleep(0.5)
        assert opened == []
    finally:
        job.send_signal(signal.SIGCONT)
    assert job.wait(timeout=120) == 0
    thread.join(timeout=60)
    assert len(opened) == 1 and isinstance(opened[0], Snapshot), opened
    after = documents(opened[0])
    assert after > before
    clock.tick()
    assert documents(serving.snapshot()) == after
    serving.close()
    waiting.close()


def test_a_commit_whose_writer_was_killed_is_completed_by_the_next_job(
    index_dir: Path, tmp_path: Path
) -> None:
    clock = Clock()
    serving = LiveIndex(IndexStore(index_dir), clock=clock)
    before = documents(serving.snapshot())
    job = caught_between_commit_and_record(index_dir, tmp_path, signal.SIGKILL)
    job.wait(timeout=60)
    clock.tick()
    assert documents(serving.snapshot()) == before  # the recorded commit, still held
    with pytest.raises(IndexUnavailable, match="the next indexer job completes it"):
        LiveIndex(IndexStore(index_dir), commit_wait=0.3).snapshot()
    # The next job (here a delete) checks what is recorded and records the rest.
    result = CliRunner().invoke(cli, ["delete", "no-such-event", "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.stderr
    result = CliRunner().invoke(cli, ["stats", "--verify", "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.stderr
    fresh = LiveIndex(IndexStore(index_dir))
    after = documents(fresh.snapshot())
    assert after > before  # whoosh's commit is kept: the killed add's events are there
    clock.tick()
    assert documents(serving.snapshot()) == after
    serving.close()
    fresh.close()
