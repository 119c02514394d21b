"""Old generations are removed only when no reader can still be reading them.

A reader holds a shared lock on its generation's readers.lock; pruning removes
a generation only if it can lock that file exclusively.  Readers here are real:
a SearchService in another process, and the workers of a real gunicorn (whose
leases are read from /proc/locks).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from indexer import jobs
from indexer.formats import read_file
from search import Event, IndexStore, LiveIndex
from search.store import Generation, ReaderLease
from tests.corpus import DEMO_DIR, seed_page
from tests.support.gunicorn import Gunicorn
from tests.support.indexes import run_indexer
from tests.traffic import Traffic, fetch, request_mix, worker_leases

SEED = 7

# A reader in another process: it opens the index, answers "stats" with what it
# reads, and lets go of the index on "close".  It never refreshes on its own.
HOLDER = """
import dataclasses, json, sys
from pathlib import Path
from config import Config
from search import SearchService
service = SearchService(Config.from_env({}, index_dir=Path(sys.argv[1]), refresh_interval=3600.0))
for line in sys.stdin:
    if line.strip() == "close":
        service.close()
        print("closed", flush=True)
    else:
        print(json.dumps(dataclasses.asdict(service.stats()), default=str), flush=True)
"""


def _demo_ids() -> list[str]:
    return [e.id for p in sorted(DEMO_DIR.iterdir()) for e in read_file(p) if isinstance(e, Event)]


def names(store: IndexStore) -> list[str]:
    return [g.name for g in store.generations()]


@pytest.mark.slow  # a reader in another process
def test_a_generation_held_by_another_process_is_kept_until_released(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "index")
    jobs.rebuild(store, [seed_page()], keep=0)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store.root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None

    def ask(line: str) -> str:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write(line + "\n")
        holder.stdin.flush()
        return holder.stdout.readline().strip()

    try:
        assert json.loads(ask("stats"))["generation"] == "gen-000001"
        assert jobs.rebuild(store, [DEMO_DIR], keep=0).pruned == []
        assert jobs.rebuild(store, [DEMO_DIR], keep=0).pruned == ["gen-000002"]
        assert names(store) == ["gen-000001", "gen-000003"]
        # The held generation still reads whole, after two switches and a prune.
        held = json.loads(ask("stats"))
        assert (held["generation"], held["documents"]) == ("gen-000001", 1)
        assert ask("close") == "closed"
        assert jobs.rebuild(store, [DEMO_DIR], keep=0).pruned == ["gen-000001", "gen-000003"]
        assert names(store) == ["gen-000004"]
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert holder.returncode == 0


class _SwitchBeforeLease(IndexStore):
    """An index store whose first lease is taken only after another writer has switched
    to a new generation and pruned (keep 0) the one the reader chose: the race of a
    worker that read CURRENT just before a rebuild finished."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.raced: list[str] = []

    def lease(self, generation: Generation) -> ReaderLease:
        if not self.raced:
            self.raced.append(generation.name)
            report = jobs.rebuild(IndexStore(self.root), [DEMO_DIR], keep=0)
            self.raced += report.pruned
        return super().lease(generation)


def test_a_reader_whose_generation_was_pruned_before_it_leased_opens_the_new_one(
    tmp_path: Path,
) -> None:
    jobs.rebuild(IndexStore(tmp_path), [seed_page()], keep=0)
    store = _SwitchBeforeLease(tmp_path)
    reader = LiveIndex(store)
    try:
        snapshot = reader.snapshot()
        assert store.raced == ["gen-000001", "gen-000001"]  # chosen, then pruned
        assert snapshot.generation.name == "gen-000002"
        assert len(snapshot.live_docs()) == 48
    finally:
        reader.close()
    assert names(store) == ["gen-000002"]


def _all_workers_on(server: Gunicorn, index_dir: Path, generation: str) -> dict[int, set[str]]:
    """Concurrent requests until both workers read ``generation`` and nothing else."""
    deadline = time.monotonic() + 10.0
    with ThreadPoolExecutor(4) as pool:
        while True:
            list(pool.map(lambda _: fetch(server.url + "/api/stats"), range(8)))
            leases = worker_leases(server.process.pid, index_dir)
            if len(leases) == 2 and all(held == {generation} for held in leases.values()):
                return leases
            assert time.monotonic() < deadline, leases
            time.sleep(0.6)  # past the refresh interval


@pytest.mark.slow  # real gunicorn through rebuilds
def test_with_gunicorn_only_kept_live_and_in_use_generations_remain(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    store = IndexStore(index_dir)
    jobs.rebuild(store, [seed_page()], keep=0)

    def rebuild(keep: int) -> str:
        built = run_indexer(
            "rebuild",
            str(DEMO_DIR),
            "--index-dir",
            str(index_dir),
            env={"EVENTSEARCH_KEEP_GENERATIONS": str(keep)},
        )
        assert built.returncode == 0, built.stderr
        live = store.current_name()
        assert live is not None
        return live

    print(f"\ngeneration cleanup: seed {SEED}")
    with Gunicorn(index_dir, workers=2, max_requests="0") as server:
        _all_workers_on(server, index_dir, "gen-000001")
        assert rebuild(keep=0) == "gen-000002"
        assert "gen-000002" in names(store)
        # Each worker's refresher opens the new generation and lets the old one go.
        _all_workers_on(server, index_dir, "gen-000002")
        assert rebuild(keep=0) == "gen-000003"
        assert set(names(store)) <= {"gen-000002", "gen-000003"}  # gen-000001 held by none
        _all_workers_on(server, index_dir, "gen-000003")
        assert rebuild(keep=0) == "gen-000004"
        assert set(names(store)) <= {"gen-000003", "gen-000004"}

        # Under steady traffic, keeping no or one earlier generation: every request succeeds.
        with Traffic(server.url, request_mix(_demo_ids()), seed=SEED, max_seconds=60) as traffic:
            for n in range(4):
                rebuild(keep=n % 2)
                time.sleep(0.3)
        print(f"4 rebuilds (keep 0, 1, 0, 1) under traffic: {traffic.summary()}")
        assert traffic.failures == [], traffic.failures[:5]
        assert not traffic.exhausted

        # Quiet now: what remains after one more rebuild is the new live one, the
        # previous one (keep 1), and at most what workers held when it pruned.
        before = names(store)
        in_use = set().union(*worker_leases(server.process.pid, index_dir).values())
        live = rebuild(keep=1)
        assert {live, before[-1]} <= set(names(store)) <= {live, before[-1]} | in_use
        assert all(g.complete for g in store.generations())
        print(f"after it: {names(store)} on disk, workers hold {sorted(in_use)}")
