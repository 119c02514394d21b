"""``indexer rebuild`` and ``indexer add`` killed with SIGKILL at seeded random moments.

gunicorn serves throughout under light steady traffic.  After every kill: the
API and ``indexer stats`` report the last good generation with its exact
document count (an add is all there or not at all), CURRENT never names an
incomplete generation, and the next rebuild succeeds and says it recovered the
killed process's writer lock.  An add killed between whoosh's commit and its
record leaves that commit unrecorded: the workers' threads keep serving the commit
before it, and new readers (``indexer stats``, a worker thread that held no
snapshot yet) wait for the record, then say the commit is not recorded yet.
The figures are printed (``pytest -s``) and quoted in RELIABILITY.md.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from indexer import jobs
from indexer.cli import cli
from indexer.formats import read_file
from search import Event, IndexStore
from search.live import COMMIT_WAIT
from search.schema import latest_commit
from tests.corpus import DEMO_DIR
from tests.support.generate import generate_events, write_corpus
from tests.support.gunicorn import Gunicorn
from tests.support.indexes import INDEXER, run_indexer
from tests.support.model import builtin_model
from tests.traffic import IndexWatcher, Traffic, fetch, request_mix, worker_leases

pytestmark = pytest.mark.slow  # writers killed in a loop under real gunicorn

SEED = 4242
# When each kill comes: "anytime" is a uniform moment of a whole run (most land while
# whoosh writes the segment, the longest step); the others come a few random
# milliseconds after a step shows on disk, to reach the short steps at the end.
PLAN = {
    "rebuild": {"anytime": 6, "after the commit": 3, "after the switch": 3},
    "add": {"anytime": 5, "mid-commit": 2, "after the commit": 2},
}
JITTER = {"after the commit": 0.06, "after the switch": 0.1, "mid-commit": 0.01}
# Seconds: no new round starts after this (about 80 s on an idle machine; an add killed
# before its commit was recorded costs 10 s more, indexer stats waiting for the record).
BUDGET = 200.0
MIN_KILLS = 6  # of each kind, or the test proves too little
BIG = 300  # generated events a killed rebuild indexes (with the 48 demo pages)
ADDED = 200  # generated events a killed add upserts
DEMO_EVENTS = 48
KEEP = 2
WORKERS = 2


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """BIG and ADDED generated events (distinct ids) as two JSON Lines files."""
    folder = tmp_path_factory.mktemp("crash-inputs")
    events = generate_events(builtin_model(SEED), BIG + ADDED, seed=SEED)
    big, added = folder / "big.jsonl", folder / "added.jsonl"
    write_corpus(islice(events, BIG), big, "jsonl")
    write_corpus(events, added, "jsonl")
    return big, added


def demo_ids() -> list[str]:
    return [e.id for p in sorted(DEMO_DIR.iterdir()) for e in read_file(p) if isinstance(e, Event)]


def indexer(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(INDEXER), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def lock_holder(index_dir: Path) -> int | None:
    """The pid writer.lock records, if any."""
    try:
        text = (index_dir / "writer.lock").read_text()
    except FileNotFoundError:
        return None
    return json.loads(text).get("pid") if text else None


UNRECORDED = "its newest commit is not recorded yet"


def cli_stats(index_dir: Path) -> dict[str, str] | None:
    """``indexer stats``, as its lines ``key: value``; None when it says the newest
    commit was not recorded (an add killed between whoosh's commit and its record)."""
    result = CliRunner().invoke(cli, ["stats", "--index-dir", str(index_dir)])
    if result.exit_code == 1 and UNRECORDED in result.stderr:
        return None
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.stdout.splitlines())


def served_everywhere(
    server: Gunicorn, index_dir: Path, generation: str, documents: int, unrecorded: bool = False
) -> float:
    """Seconds until 8 concurrent /api/stats answers in a row report ``generation`` with
    ``documents`` and every worker holds only that generation; fails after 10 s.

    ``unrecorded``: a writer was killed between whoosh's commit and its record.  The
    threads that serve keep the recorded commit; a thread that held no snapshot yet
    is a new reader, which waits COMMIT_WAIT for the record and then answers 503
    saying why (search/live.py): such answers are allowed, at least one answer must
    be the recorded commit's, and the wait is added to the time allowed."""
    started = time.monotonic()
    deadline = started + 10.0 + (COMMIT_WAIT if unrecorded else 0.0)

    def served(status: int | None, body: Any, error: str | None) -> bool:
        return status == 200 and (body["generation"], body["documents"]) == (generation, documents)

    def waiting(status: int | None, body: Any, error: str | None) -> bool:
        return unrecorded and status == 503 and UNRECORDED in (error or "")

    with ThreadPoolExecutor(4) as pool:
        while True:
            answers = list(
                pool.map(
                    lambda _: fetch(server.url + "/api/stats", timeout=COMMIT_WAIT + 10.0),
                    range(8),
                )
            )
            agreed = all(served(*a) or waiting(*a) for a in answers) and any(
                served(*a) for a in answers
            )
            leases = worker_leases(server.process.pid, index_dir)
            if (
                agreed
                and len(leases) == WORKERS
                and all(h == {generation} for h in leases.values())
            ):
                return time.monotonic() - started
            assert time.monotonic() < deadline, (generation, documents, answers, leases)
            time.sleep(0.05)


def _number(name: str) -> int:
    return int(name.split("-")[1])


class Steps:
    """What a running job has done so far, as its files show."""

    def __init__(self, store: IndexStore, kind: str, before: str) -> None:
        self.store = store
        self.kind = kind
        self.before = before
        self.live = store.root / before
        self.live_files = self._files("*")
        self.live_commit = latest_commit(self.live)

    def _files(self, pattern: str, folder: Path | None = None) -> set[str]:
        return {p.name for p in (folder or self.live).glob(pattern)}

    def _new_generation(self) -> Path | None:
        newer = [g for g in self.store.generations() if g.number > _number(self.before)]
        return newer[-1].path if newer else None

    def _committed(self) -> bool:
        """A commit of this job is there: a newer commit in the live generation (add), or
        the first commit of the new one (rebuild; whoosh writes commit 0, empty, on
        creation)."""
        if self.kind == "add":
            return latest_commit(self.live) > self.live_commit
        new = self._new_generation()
        return new is not None and latest_commit(new) > 0

    def reached(self, step: str) -> bool:
        """Whether the job has reached ``step`` of the PLAN."""
        if step == "after the switch":
            return self.store.current_name() != self.before
        if step == "mid-commit":  # the new segment file is there, its TOC not yet
            return self._files("MAIN_*.seg") - self.live_files != set()
        return self._committed()

    def where(self, pid: int) -> str:
        """Where the killed job was, told from what it left on disk."""
        locked = lock_holder(self.store.root) == pid
        if self.kind == "add":
            if self._committed():
                return "committed, finishing"
            if self._files("MAIN_*.seg") - self.live_files:
                return "committing (segment written, no TOC yet)"
            if any(self.store.root.glob(".spool.*")):
                return "reading, indexing or committing"
            return "locked" if locked else "starting (no lock yet)"
        if self.store.current_name() != self.before:
            return "switched, pruning or exiting"
        new = self._new_generation()
        if new is None:
            return "locked" if locked else "starting (no lock yet)"
        if (new / "meta.json").is_file():
            return "sealed, not switched"
        if self._committed():
            return "committed, checking and sealing"
        if any(new.glob(".spool.*")):
            return "reading or indexing"
        return "committing the segment"


def test_killed_writers_never_break_the_served_index(
    tmp_path: Path, inputs: tuple[Path, Path]
) -> None:
    big, added = inputs
    index_dir = tmp_path / "index"
    store = IndexStore(index_dir)
    jobs.rebuild(store, [DEMO_DIR], keep=KEEP)
    rng = random.Random(SEED)
    print(f"\ncrash safety: seed {SEED}")
    commands = {
        "rebuild": ["rebuild", str(big), str(DEMO_DIR), "--index-dir", str(index_dir)],
        "add": ["add", str(added), "--index-dir", str(index_dir)],
    }
    after = {"rebuild": BIG + DEMO_EVENTS, "add": DEMO_EVENTS + ADDED}
    summary = {"rebuild": f"indexed {BIG + DEMO_EVENTS} events", "add": f"added {ADDED} events"}

    def recover(killed: int | None) -> None:
        """The next rebuild: back to the demo pages."""
        result = run_indexer("rebuild", str(DEMO_DIR), "--index-dir", str(index_dir))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"indexed {DEMO_EVENTS} events from ")
        note = f"recovered the writer lock left by pid {killed}, which is no longer running"
        assert (note in result.stderr) == (killed is not None), result.stderr

    with (
        Gunicorn(index_dir, workers=WORKERS, max_requests="0") as server,
        IndexWatcher(index_dir) as watcher,
        Traffic(server.url, request_mix(demo_ids()), seed=SEED, threads=2, pause=0.01) as traffic,
    ):
        # Full runs first: how long each job takes here sets the range of "anytime".
        durations = {}
        for kind in ("rebuild", "add"):
            started = time.monotonic()
            job = indexer(*commands[kind])
            out, err = job.communicate(timeout=300)
            durations[kind] = time.monotonic() - started
            assert job.returncode == 0, err
            assert out.startswith(summary[kind]), out
            served_everywhere(server, index_dir, store.current().name, after[kind])
            recover(None)
        print("full runs: " + ", ".join(f"{k} {s:.1f} s" for k, s in durations.items()))

        plan = [(kind, when) for kind, whens in PLAN.items() for when, n in whens.items()]
        plan = [item for item in plan for _ in range(PLAN[item[0]][item[1]])]
        rng.shuffle(plan)
        kills: Counter[str] = Counter()
        phases: Counter[tuple[str, str]] = Counter()
        outcomes: Counter[tuple[str, str]] = Counter()
        finished_first: Counter[str] = Counter()
        recovered = 0
        converge: list[float] = []
        deadline = time.monotonic() + BUDGET
        for kind, when in plan:
            if time.monotonic() > deadline:
                break
            before = store.current().name
            # Every worker serves the live generation when the job starts: a worker that
            # has none yet waits for a commit to be recorded (test_commit_record.py).
            served_everywhere(server, index_dir, before, DEMO_EVENTS)
            steps = Steps(store, kind, before)
            job = indexer(*commands[kind])
            if when == "anytime":
                time.sleep(rng.uniform(0.0, 0.9 * durations[kind]))
            else:
                jitter = rng.uniform(0.0, JITTER[when])
                while job.poll() is None and not steps.reached(when):
                    time.sleep(0.002)
                time.sleep(jitter)
            if job.poll() is not None:  # it finished first: not a kill
                job.communicate()
                assert job.returncode == 0
                finished_first[kind] += 1
                recover(None)
                continue
            job.send_signal(signal.SIGKILL)
            job.communicate(timeout=30)
            assert job.returncode == -signal.SIGKILL
            kills[kind] += 1
            phases[(kind, steps.where(job.pid))] += 1

            # The live generation is complete: the old one, or the new one, finished.
            live = store.current()
            stats = cli_stats(index_dir)
            if stats is None:
                # Killed between whoosh's commit and its record: the workers keep the
                # recorded commit, a new reader is told why it waits, the next job
                # completes the commit.
                assert kind == "add" and live.name == before
                outcomes[(kind, "unrecorded, old index")] += 1
                converge.append(
                    served_everywhere(server, index_dir, live.name, DEMO_EVENTS, unrecorded=True)
                )
                holder = lock_holder(index_dir)
                assert holder in (None, job.pid)
                recover(holder)
                recovered += holder is not None
                continue
            documents = int(stats["documents"])
            if live.name == before:
                allowed = {DEMO_EVENTS, after["add"]} if kind == "add" else {DEMO_EVENTS}
            else:
                assert kind == "rebuild" and live.number > _number(before)
                allowed = {after["rebuild"]}
                assert live.meta()["documents"] == after["rebuild"]
            assert documents in allowed, (kind, live.name, documents)
            assert stats["generation"] == live.name
            outcomes[(kind, "new" if documents != DEMO_EVENTS else "old")] += 1
            converge.append(served_everywhere(server, index_dir, live.name, documents))

            holder = lock_holder(index_dir)
            assert holder in (None, job.pid)
            recover(holder)
            recovered += holder is not None
            # Nothing a killed job left behind survives the next rebuild.
            leftovers = sorted(
                p.name
                for p in index_dir.iterdir()
                if p.name not in ("CURRENT", "writer.lock") and not p.name.startswith("gen-")
            )
            assert leftovers == []
            generations = store.generations()
            assert all(g.complete for g in generations), [g.name for g in generations]
            assert len(generations) <= KEEP + 1 + WORKERS
        elapsed = BUDGET - (deadline - time.monotonic())
    print(
        f"kills: {dict(kills)} in {elapsed:.0f} s (jobs that finished before their kill: "
        f"{dict(finished_first)})"
    )
    print("killed while: " + "; ".join(f"{k} {p}: {n}" for (k, p), n in sorted(phases.items())))
    print(
        "then served: "
        + ", ".join(f"{k} {o} index: {n}" for (k, o), n in sorted(outcomes.items()))
        + f"; locks recovered by the next rebuild: {recovered}; API and every worker agreed "
        f"within {max(converge):.2f} s of the first check; CURRENT read {watcher.reads:,} "
        f"times, never incomplete; traffic: {traffic.summary()}"
    )
    assert kills["rebuild"] >= MIN_KILLS and kills["add"] >= MIN_KILLS, kills
    assert recovered > 0
    assert watcher.incomplete == []
    assert traffic.failures == [], traffic.failures[:5]


def test_an_add_that_repeats_an_id_commits_once(tmp_path: Path) -> None:
    """Both copies of a repeated id are never committed together, so no kill can leave
    the older one beside the newer."""
    store = IndexStore(tmp_path / "index")
    jobs.rebuild(store, [DEMO_DIR], keep=KEEP)
    before = store.current().record().commit
    updates = tmp_path / "updates.jsonl"
    updates.write_text(
        "\n".join(
            json.dumps({"id": "repeated", "date": "2024-01-0" + str(n), "title": f"version {n}"})
            for n in (1, 2, 3)
        )
        + "\n"
    )
    report = jobs.add(store, [updates])
    assert (report.indexed, report.replaced, report.duplicates) == (1, 0, 2)
    assert store.current().record().commit == before + 1  # one commit
    result = CliRunner().invoke(cli, ["stats", "--index-dir", str(store.root)])
    assert f"documents: {DEMO_EVENTS + 1}" in result.stdout


def test_leftovers_of_killed_writers_are_removed_by_the_next_writer(tmp_path: Path) -> None:
    """What a killed job leaves (its spool, a half-written file or array directory, a
    generation a prune had begun to remove) is swept by the next job, whichever it is."""
    store = IndexStore(tmp_path / "index")
    jobs.rebuild(store, [DEMO_DIR], keep=KEEP)
    live = store.current()
    left = [
        store.root / ".spool.999999.tmp",
        store.root / ".CURRENT.999999.tmp",
        live.path / ".phrases.json.999999.tmp",
    ]
    for path in left:
        path.write_text("half written")
    half_columns = live.path / "columns" / ".MAIN_x.npz.999999.140000.tmp"
    half_columns.write_text("half written")
    half_arrays = live.path / "postings" / ".MAIN_x.999999.140000.tmp"
    half_arrays.mkdir()
    (half_arrays / "docs.npy").write_text("half written")
    left += [half_columns, half_arrays]
    half_removed = store.root / ".gen-000000.999999.tmp"
    (half_removed / "sub").mkdir(parents=True)
    left.append(half_removed)
    result = CliRunner().invoke(cli, ["delete", "no-such-id", "--index-dir", str(store.root)])
    assert result.exit_code == 0
    assert [p for p in left if p.exists()] == []
