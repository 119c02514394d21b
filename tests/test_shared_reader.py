"""One reader per process per commit, shared by every thread (search/live.py).

Through the public API: the snapshots a process holds open (``LiveIndex.open_snapshots``),
the snapshot each thread is handed, and the reader leases counted independently, as
the open descriptors of ``readers.lock`` files in /proc/self/fd."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import falcon.testing
import pytest

from api.app import create_app
from config import Config
from indexer import jobs
from search import Event, IndexStore, SearchRequest, SearchService
from search.snapshot import Snapshot
from tests.corpus import DEMO_DIR
from tests.support.generate import write_events


def _lease_descriptors() -> int:
    """Open descriptors of this process on a generation's readers.lock."""
    found = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.endswith("/readers.lock"):
            found += 1
    return found


def _event(number: int) -> Event:
    return Event.from_dict(
        {
            "id": f"shared-reader-{number}",
            "date": "2016-03-01",
            "title": f"Quarzite observatory opens wing {number}",
            "body": "The quarzite observatory opened a new wing for visitors.",
        }
    )


def _add(index_dir: Path, events: list[Event]) -> None:
    """``indexer add`` of ``events``, from a canonical JSON Lines file."""
    path = index_dir.parent / f"add-{events[0].id}.jsonl"
    write_events(events, path)
    report = jobs.add(IndexStore(index_dir), [path])
    assert report.indexed == len(events)


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    jobs.rebuild(IndexStore(tmp_path / "index"), [DEMO_DIR], keep=2)
    return tmp_path / "index"


def test_many_threads_share_one_snapshot_and_one_lease(index_dir: Path) -> None:
    before = _lease_descriptors()
    service = SearchService(Config.from_env({}, index_dir=index_dir))
    try:
        client = falcon.testing.TestClient(create_app(service.config, service))
        seen: set[int] = set()
        failures: list[int] = []

        def work() -> None:
            for query in ("president", "election OR war", '"united states"'):
                result = client.simulate_get("/api/search", query_string=f"q={query}")
                if result.status_code != 200:
                    failures.append(result.status_code)
            with service.live.acquire() as snap:
                seen.add(id(snap))

        # 32 short-lived threads, 8 at a time: each one exits after its requests.
        for _ in range(4):
            threads = [threading.Thread(target=work) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        assert not failures
        assert len(seen) == 1  # every thread was handed the same snapshot
        generation = IndexStore(index_dir).current().name
        assert [name for name, _ in service.live.open_snapshots()] == [generation]
        assert _lease_descriptors() - before == 1, _index_files_open(index_dir)
    finally:
        service.close()
    assert _lease_descriptors() == before  # closing lets it go


def test_a_commit_under_load_swaps_the_snapshot_without_failures_or_mixed_answers(
    index_dir: Path,
) -> None:
    service = SearchService(Config.from_env({}, index_dir=index_dir, refresh_interval=0.05))
    service.start()  # the refresher thread, as in a served worker
    before = _lease_descriptors()
    try:
        request = SearchRequest(q="quarzite", size=0, facets=())
        assert service.search(request).total == 0
        totals: list[int] = []
        errors: list[BaseException] = []
        done = threading.Event()

        def work() -> None:
            while not done.is_set():
                try:
                    totals.append(service.search(request).total)
                except BaseException as exc:  # noqa: BLE001 (every failure is reported)
                    errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        _add(index_dir, [_event(n) for n in range(3)])
        # Served within a few refresh intervals.
        for _ in range(400):
            if totals and totals[-1] == 3:
                break
            time.sleep(0.05)
        done.set()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        assert set(totals) == {0, 3}  # each answer is one commit's, never a mix
        assert totals[-1] == 3
        # The replaced snapshot was closed when its last request let it go (a refresh
        # may hold a lease for a moment while it checks a commit being recorded).
        _settle(lambda: len(service.live.open_snapshots()) == 1 and _lease_descriptors() == before)
        assert len(service.live.open_snapshots()) == 1
        assert _lease_descriptors() == before
        snap: Snapshot = service.live.snapshot()
        assert snap.extras is not None  # warmed before it was served
    finally:
        service.close()


def test_a_snapshot_leased_by_a_request_outlives_its_replacement(index_dir: Path) -> None:
    service = SearchService(Config.from_env({}, index_dir=index_dir, refresh_interval=0.05))
    service.start()
    try:
        with service.live.acquire() as old:
            commit = service.live.open_snapshots()[0][1]
            _add(index_dir, [_event(9)])
            for _ in range(400):
                if len(service.live.open_snapshots()) == 2:
                    break
                time.sleep(0.05)
            # The new commit is served, the old one still open for this request.
            commits = sorted(c for _, c in service.live.open_snapshots())
            assert commits[0] == commit and commits[1] > commit
            assert old.docnum("shared-reader-9") is None
            with service.live.acquire() as new:
                assert new.docnum("shared-reader-9") is not None
        assert [c for _, c in service.live.open_snapshots()] == [commits[1]]
    finally:
        service.close()


def _settle(done: Callable[[], bool]) -> None:
    """Wait up to 5 s for ``done()``."""
    for _ in range(100):
        if done():
            return
        time.sleep(0.05)


def _index_files_open(index_dir: Path) -> set[str]:
    """The files of the index directory this process holds open (relative paths; a
    removed one ends in " (deleted)")."""
    found = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(f"{index_dir}/"):
            found.add(target[len(str(index_dir)) + 1 :])
    return found


def _served_files(service: SearchService) -> set[str]:
    """What the served commit reads: its segments' arrays, its tables, its lease."""
    snap = service.live.snapshot()
    root = snap.generation.path
    assert snap.record is not None
    return {f"{root.name}/{name}" for name in [*snap.record.files, "readers.lock"]}


@pytest.mark.slow  # twenty indexer jobs
def test_twenty_commits_leave_one_snapshot_one_lease_and_only_served_files_open(
    index_dir: Path,
) -> None:
    service = SearchService(Config.from_env({}, index_dir=index_dir, refresh_interval=0.05))
    service.start()
    try:
        service.search(SearchRequest(q="quarzite"))
        leases = _lease_descriptors()
        for number in range(20):
            _add(index_dir, [_event(100 + number)])
            for _ in range(400):
                if service.search(SearchRequest(q="quarzite", size=0)).total == number + 1:
                    break
                time.sleep(0.05)
            assert service.search(SearchRequest(q="quarzite", size=0)).total == number + 1
        # A refresh may hold a lease and a new commit's files for a moment: settle first.
        _settle(
            lambda: (
                _lease_descriptors() == leases
                and _index_files_open(index_dir) <= _served_files(service)
            )
        )
        assert len(service.live.open_snapshots()) == 1
        assert _lease_descriptors() == leases
        # Every file still open is one the served commit reads: nothing of the twenty
        # replaced snapshots (nor of segments merged away) is held.
        assert _index_files_open(index_dir) <= _served_files(service)
    finally:
        service.close()
