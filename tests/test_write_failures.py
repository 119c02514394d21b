"""The indexer on a full disk and on an index directory it may not write.

Every failure is a clear error (exit 1, one line naming the index directory, the
file and the cause, no traceback), and leaves nothing behind that stands in the
way of the retry: a failed rebuild leaves the live generation as it was and no new
one; a failed add or delete leaves the live generation's files byte for byte as
they were (or, when only saving what readers keep beside the index failed after
the commit, says that the changes are in).

A full disk is made in two ways: a size-limited tmpfs the test mounts (a disk
that fills up in the middle of a file), and ``tests/full_disk.py``, which fails
every write from a chosen one on with ENOSPC (each write of a job in turn, so
every step of the job is tried).  A read-only index directory is a directory
without write permission for a process that file permissions apply to
(``tests/unprivileged.py``), and a read-only bind mount.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest

from config import Config
from indexer import jobs
from search import IndexStore, SearchService
from tests.corpus import DEMO_DIR, ROOT, seed_dir
from tests.support.generate import generate_events, write_corpus
from tests.support.indexes import run_indexer
from tests.support.model import builtin_model
from tests.unprivileged import indexer_unprivileged, permissions_apply

pytestmark = pytest.mark.slow  # full disks and read-only file systems under real jobs

FULL = "the disk is full; free some space and run the job again"


def snapshot(root: Path) -> dict[str, str]:
    """Every file under an index directory with a digest of its content (the writer
    lock's content, who held it last, aside)."""
    found = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_file() and name != "writer.lock":
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            found[name] = "dir"
    return found


def full_disk(
    fail_from: int, index_dir: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """The indexer with every write under ``index_dir`` from the ``fail_from``-th on
    failing with ENOSPC (``tests/full_disk.py``)."""
    return subprocess.run(
        [sys.executable, "-m", "tests.full_disk", str(fail_from), str(index_dir), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "EVENTSEARCH_INDEX_PROCESSES": "1", **env},
    )


def writes(index_dir: Path, *args: str) -> int:
    """How many writes the command makes under ``index_dir`` (it is run, and succeeds)."""
    result = full_disk(0, index_dir, *args)
    assert result.returncode == 0, result.stderr
    return int(result.stderr.rsplit("writes: ", 1)[1])


def assert_clean_failure(result: subprocess.CompletedProcess[str], index_dir: Path) -> None:
    """Exit 1, no traceback: rejects of the input, then one line saying what failed."""
    assert result.returncode == 1, result.stdout + result.stderr
    *rejects, error = result.stderr.splitlines()
    assert all(line.startswith("rejected: ") for line in rejects), result.stderr
    # A write that fails in the middle of a file names no file; an open or mkdir does.
    assert error.startswith(
        (
            f"Error: cannot write the index in {index_dir} (",
            f"Error: cannot write the index in {index_dir}: ",
            "Error: the changes are committed, but",
        )
    ), result.stderr


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the seed page, copied by each test that changes it."""
    root = tmp_path_factory.mktemp("pristine") / "ix"
    jobs.rebuild(IndexStore(root), [seed_dir()], keep=2)
    return root


@pytest.fixture
def additions(tmp_path: Path) -> Path:
    path = tmp_path / "add.jsonl"
    path.write_text(
        '{"id": "n1", "date": "2021-05-05", "title": "New one"}\n'
        '{"id": "n2", "date": "2021-05-06", "title": "New two"}\n'
        '{"id": "bad", "date": "2021-13-01", "title": "Impossible date"}\n'
    )
    return path


def documents(index_dir: Path) -> int:
    service = SearchService(Config.from_env({}, index_dir=index_dir))
    try:
        count: int = service.stats().documents
    finally:
        service.close()
    return count


def test_a_full_disk_at_each_write_of_an_add(
    tmp_path: Path, pristine: Path, additions: Path
) -> None:
    """Before the fix: raw OSError tracebacks, and whoosh's files of the failed add
    (segment files, MAIN.tmp, postings arrays) left in the live generation."""
    count = writes(
        shutil.copytree(pristine, tmp_path / "count"),
        "add",
        str(additions),
        "--index-dir",
        str(tmp_path / "count"),
    )
    assert count >= 20  # lock, spool, rejects, whoosh's segment, arrays, TOC, extras
    before = snapshot(pristine)
    outcomes = {"unchanged": 0, "committed": 0}
    for fail_from in range(1, count + 1):
        ix = shutil.copytree(pristine, tmp_path / f"ix{fail_from}")
        result = full_disk(fail_from, ix, "add", str(additions), "--index-dir", str(ix))
        assert_clean_failure(result, ix)
        assert FULL in result.stderr
        committed = not result.stderr.rstrip().endswith("nothing was changed")
        if committed:
            # In whoosh's commit; served once recorded, which the retry completes.
            outcomes["committed"] += 1
        else:
            assert snapshot(ix) == before, f"write {fail_from}: {result.stderr}"
            outcomes["unchanged"] += 1
        report = jobs.add(IndexStore(ix), [additions])  # the retry, with space again
        assert (report.rejected, documents(ix)) == (1, 3)
        # The rejects of a job that changed nothing are taken back.
        noted = (ix / "gen-000001" / "rejects.jsonl").read_text().count('"job": "add"')
        assert noted == (2 if committed else 1)
        shutil.rmtree(ix)
    print(f"\nfull disk at each of {count} writes of an add: {outcomes}")
    assert outcomes["unchanged"] >= 15 and outcomes["committed"] >= 1


def test_a_full_disk_at_each_write_of_a_rebuild(tmp_path: Path, pristine: Path) -> None:
    ix = shutil.copytree(pristine, tmp_path / "count")
    count = writes(ix, "rebuild", str(DEMO_DIR), "--index-dir", str(ix))
    before = snapshot(pristine)
    for fail_from in range(1, count + 1, 3):
        ix = shutil.copytree(pristine, tmp_path / f"ix{fail_from}")
        result = full_disk(fail_from, ix, "rebuild", str(DEMO_DIR), "--index-dir", str(ix))
        assert_clean_failure(result, ix)
        assert FULL in result.stderr and "the live index is unchanged" in result.stderr
        assert snapshot(ix) == before, f"write {fail_from}: {result.stderr}"
        jobs.rebuild(IndexStore(ix), [DEMO_DIR], keep=2)  # the retry
        assert documents(ix) == 48
        shutil.rmtree(ix)
    print(f"\nfull disk at every third of {count} writes of a rebuild: the live index unchanged")


def test_a_writer_process_on_a_full_disk_fails_the_rebuild_at_once(
    tmp_path: Path, pristine: Path
) -> None:
    """A writer process of a parallel rebuild that meets a full disk dies; before the
    fix the rebuild then waited for it for ever, holding the writer lock."""
    events = tmp_path / "events.jsonl"
    write_corpus(islice(generate_events(builtin_model(7), 3000, seed=7), 3000), events, "jsonl")
    ix = shutil.copytree(pristine, tmp_path / "ix")
    before = snapshot(ix)
    result = full_disk(
        2,  # the rebuild's own segment is the first .pst; each writer process's, the second
        ix,
        "rebuild",
        str(events),
        "--index-dir",
        str(ix),
        EVENTSEARCH_INDEX_PROCESSES="2",
        FULL_DISK_MATCH="*.pst",
    )
    assert_clean_failure(result, ix)
    assert FULL in result.stderr and ".pst): " in result.stderr
    assert snapshot(ix) == before
    assert run_indexer("rebuild", str(events), "--index-dir", str(ix)).returncode == 0


@contextlib.contextmanager
def mounted(target: Path, *options: str) -> Iterator[None]:
    """``mount OPTIONS... TARGET`` for the block (skips the test where mounting is
    impossible: not root, or no CAP_SYS_ADMIN; ``test_a_full_disk_at_each_write_*``
    cover the same faults without a mount)."""
    target.mkdir(exist_ok=True)
    done = subprocess.run(["mount", *options, str(target)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=True)


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def test_disk_full_on_a_small_filesystem(tmp_path: Path) -> None:
    """On a 16 MB tmpfs filled up to its last 256 KB, 1.5 MB or 3 MB (the disk fills up
    while the input is spooled, while whoosh writes the segment, while the arrays are
    saved): two adds and a rebuild fail clearly, and leave the index and the free space
    as they were; once space is freed, the retry succeeds."""
    events = tmp_path / "events.jsonl"
    write_corpus(islice(generate_events(builtin_model(3), 500, seed=3), 500), events, "jsonl")
    disk = tmp_path / "disk"
    with mounted(disk, "-t", "tmpfs", "-o", "size=16m", "tmpfs"):
        ix = disk / "ix"
        assert run_indexer("rebuild", str(DEMO_DIR), "--index-dir", str(ix)).returncode == 0
        filler = disk / "filler"
        for left in (256 * 1024, 1536 * 1024, 3 * 1024 * 1024):
            filler.unlink(missing_ok=True)
            with open(filler, "wb") as fh:
                fh.write(b"\0" * (free_bytes(disk) - left))
            before, free = snapshot(ix), free_bytes(disk)
            for _ in range(2):
                result = run_indexer("add", str(events), "--index-dir", str(ix))
                print(f"\n{left // 1024} KB free, add: {result.stderr.strip()}")
                assert_clean_failure(result, ix)
                assert FULL in result.stderr and "nothing was changed" in result.stderr
                assert snapshot(ix) == before
                assert free_bytes(disk) == free
            result = run_indexer("rebuild", str(events), "--index-dir", str(ix))
            print(f"{left // 1024} KB free, rebuild: {result.stderr.strip()}")
            assert_clean_failure(result, ix)
            assert FULL in result.stderr and "the live index is unchanged" in result.stderr
            assert snapshot(ix) == before and free_bytes(disk) == free
        filler.unlink()
        result = run_indexer("add", str(events), "--index-dir", str(ix))
        assert result.returncode == 0, result.stderr
        assert documents(ix) == 48 + 500


@pytest.fixture
def read_only(tmp_path: Path, pristine: Path) -> Iterator[Path]:
    """A copy of the index whose directories and files nobody may write."""
    if not permissions_apply(tmp_path):
        pytest.fail("file permissions cannot be made to apply to a test process")
    ix = shutil.copytree(pristine, tmp_path / "ix")
    for path in [ix, *ix.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    yield ix
    for path in [ix, *ix.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.mark.parametrize(
    "job", [("rebuild", str(DEMO_DIR)), ("add", str(DEMO_DIR)), ("delete", "some-id")]
)
def test_an_index_directory_without_write_permission(read_only: Path, job: tuple[str, str]) -> None:
    before = snapshot(read_only)
    result = indexer_unprivileged(*job, "--index-dir", str(read_only))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    unchanged = "the live index is unchanged" if job[0] == "rebuild" else "nothing was changed"
    assert result.stderr == (
        f"Error: cannot write the index in {read_only} ({read_only / 'writer.lock'}): "
        f"permission denied: the indexer runs as uid {os.geteuid()}, which needs write access "
        f"to the index directory; {unchanged}\n"
    )
    assert snapshot(read_only) == before


def test_stats_of_an_index_it_cannot_write_never_shows_a_traceback(read_only: Path) -> None:
    result = indexer_unprivileged("stats", "--index-dir", str(read_only))
    assert "Traceback" not in result.stderr
    assert result.returncode == 0 or result.stderr.startswith(
        f"Error: cannot read the index in {read_only} ("
    ), result.stderr


def test_an_index_on_a_read_only_file_system(tmp_path: Path, pristine: Path) -> None:
    ix = shutil.copytree(pristine, tmp_path / "ix")
    before = snapshot(ix)
    with mounted(ix, "--bind", str(ix)):
        subprocess.run(["mount", "-o", "remount,bind,ro", str(ix)], check=True)
        for job in (("rebuild", str(DEMO_DIR)), ("add", str(DEMO_DIR)), ("delete", "x")):
            result = run_indexer(*job, "--index-dir", str(ix))
            assert result.returncode == 1
            assert result.stderr.startswith(
                f"Error: cannot write the index in {ix} ({ix / 'writer.lock'}): "
                "the file system is mounted read-only; "
            ), result.stderr
    assert snapshot(ix) == before


def test_a_failed_prune_never_removes_the_new_live_generation(tmp_path: Path) -> None:
    """Once the new generation is live, failing to remove an older one is a note, not
    a failure (before, the failure ran the clean-up of an unfinished build, which
    deleted the generation just made live)."""
    ix = tmp_path / "ix"
    jobs.rebuild(IndexStore(ix), [seed_dir()], keep=0)
    lock = ix / "gen-000001" / "readers.lock"
    lock.unlink(missing_ok=True)
    lock.mkdir()  # opening it to take the lock fails
    result = run_indexer(
        "rebuild", str(DEMO_DIR), "--index-dir", str(ix), env={"EVENTSEARCH_KEEP_GENERATIONS": "0"}
    )
    assert result.returncode == 0, result.stderr
    assert (ix / "CURRENT").read_text().strip() == "gen-000002"
    assert "note: older generations were kept: cannot write the index in" in result.stderr
    assert documents(ix) == 48
