"""The ``indexer`` command, through click's CliRunner, on real indexes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from config import Config
from indexer import jobs
from indexer.cli import cli
from search import IndexStore, SearchService
from tests.corpus import DEMO_DIR, corpus_file, seed_page


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def canonical(path: Path, *records: dict[str, object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


@pytest.mark.slow  # rebuilds the whole corpus
def test_rebuild_and_stats(tmp_path: Path) -> None:
    code, out, err = run(
        "rebuild", str(corpus_file()), str(seed_page()), "--index-dir", str(tmp_path)
    )
    assert code == 0, err
    assert out.startswith(
        "indexed 429 events from 2 files into gen-000001: 0 rejected, 0 duplicates"
    )
    code, out, _ = run("stats", "--index-dir", str(tmp_path))
    assert code == 0
    assert "documents: 429" in out
    assert "first_date: 2015-09-01" in out
    assert "last_date: 2017-11-23" in out
    assert "generation: gen-000001" in out
    assert "built_at: " in out


def test_index_dir_from_environment(tmp_path: Path) -> None:
    result = CliRunner(env={"EVENTSEARCH_INDEX_DIR": str(tmp_path / "env")}).invoke(
        cli, ["rebuild", str(seed_page())]
    )
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "env" / "CURRENT").read_text().strip() == "gen-000001"


def test_rejects_are_reported_and_kept(tmp_path: Path) -> None:
    bad = tmp_path / "in" / "bad.md"
    bad.parent.mkdir()
    bad.write_text("### [2017-13-45](x)\n\n# T\n")
    code, out, err = run(
        "rebuild", str(seed_page()), str(bad.parent), "--index-dir", str(tmp_path / "ix")
    )
    assert code == 0
    assert f"rejected: {bad}: impossible date '2017-13-45'" in err
    assert "1 rejected" in out
    rejects = (tmp_path / "ix" / "gen-000001" / "rejects.jsonl").read_text().splitlines()
    assert [json.loads(r) for r in rejects] == [
        {
            "job": "rebuild",
            "path": str(bad),
            "record": None,
            "reason": "impossible date '2017-13-45'",
        }
    ]


def test_strict_fails_without_switching(tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    assert run("rebuild", str(seed_page()), "--index-dir", str(ix))[0] == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    code, _, err = run("rebuild", str(corpus_file()), str(bad), "--strict", "--index-dir", str(ix))
    assert code == 1
    assert "1 documents rejected and --strict is set; the live index is unchanged" in err
    assert (ix / "CURRENT").read_text().strip() == "gen-000001"
    assert [g.name for g in IndexStore(ix).generations()] == ["gen-000001"]


def test_duplicates_last_one_wins(tmp_path: Path) -> None:
    first = canonical(
        tmp_path / "a.jsonl",
        {"id": "dup", "date": "2020-01-01", "title": "first version"},
        {"id": "other", "date": "2020-01-02", "title": "other"},
    )
    second = canonical(
        tmp_path / "b.jsonl",
        {"id": "dup", "date": "2020-01-03", "title": "second version"},
        {"id": "third", "date": "2020-01-04", "title": "third"},
    )
    code, out, _ = run("rebuild", str(first), str(second), "--index-dir", str(tmp_path / "ix"))
    assert code == 0
    assert "indexed 3 events from 2 files into gen-000001: 0 rejected, 1 duplicates" in out
    service = SearchService(Config.from_env({}, index_dir=tmp_path / "ix"))
    try:
        assert service.event("dup").title == "second version"
        assert service.stats().documents == 3
    finally:
        service.close()


def test_nothing_to_index_fails(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run("rebuild", str(empty), "--index-dir", str(tmp_path / "ix"))
    assert code == 1
    assert "no events were read from the input; the live index is unchanged" in err


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("rebuild", "--no-such-option")[0] == 2
    assert run("frobnicate")[0] == 2
    assert run("add", "--index-dir", str(tmp_path))[0] == 2  # PATH is required


def test_stats_without_index(tmp_path: Path) -> None:
    code, _, err = run("stats", "--index-dir", str(tmp_path))
    assert code == 1
    assert "no index has been built yet" in err


def test_second_writer_is_refused(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    with store.writer_lock("indexer rebuild"):
        code, _, err = run("rebuild", str(seed_page()), "--index-dir", str(tmp_path))
    assert code == 1
    assert f"the index is being written by pid {os.getpid()} (indexer rebuild) since " in err
    assert store.current_name() is None


def test_lock_of_a_killed_writer_is_recovered(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from search import IndexStore; "
            "lock = IndexStore(Path(sys.argv[1])).writer_lock('indexer add'); lock.acquire(); "
            "print('locked', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    code, _, err = run("rebuild", str(seed_page()), "--index-dir", str(tmp_path))
    assert code == 1 and f"pid {holder.pid} (indexer add)" in err
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    code, _, err = run("rebuild", str(seed_page()), "--index-dir", str(tmp_path))
    assert code == 0, err
    assert f"recovered the writer lock left by pid {holder.pid}" in err


def test_interrupted_rebuild_leaves_live_index(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    jobs.rebuild(store, [seed_page()], keep=2)

    def interrupt(done: int, total: int, events: int) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        jobs.rebuild(store, [DEMO_DIR], keep=2, progress=jobs.Progress(on_file=interrupt))
    assert store.current_name() == "gen-000001"
    assert [g.name for g in store.generations()] == ["gen-000001"]  # partial one removed
    service = SearchService(Config.from_env({}, index_dir=tmp_path))
    try:
        assert service.stats().documents == 1
    finally:
        service.close()


def test_old_generations_are_pruned_to_keep(tmp_path: Path) -> None:
    store = IndexStore(tmp_path)
    for _ in range(4):
        jobs.rebuild(store, [seed_page()], keep=2)
    assert [g.name for g in store.generations()] == ["gen-000002", "gen-000003", "gen-000004"]
    assert store.current_name() == "gen-000004"


def test_add_and_delete(tmp_path: Path) -> None:
    ix = str(tmp_path / "ix")
    assert run("rebuild", str(seed_page()), "--index-dir", ix)[0] == 0
    new = canonical(
        tmp_path / "new.jsonl",
        {"id": "n1", "date": "2021-05-05", "title": "new one"},
        {"id": "n2", "date": "2021-05-06", "title": "new two"},
    )
    code, out, _ = run("add", str(new), "--index-dir", ix)
    assert code == 0
    assert out.startswith("added 2 events and replaced 0 in gen-000001: 0 rejected")
    update = canonical(
        tmp_path / "upd.jsonl", {"id": "n1", "date": "2021-05-05", "title": "renamed"}
    )
    code, out, _ = run("add", str(update), "--index-dir", ix)
    assert out.startswith("added 0 events and replaced 1 in gen-000001")
    # As rebuild counts it: a copy that a later copy in the same input replaces is a
    # duplicate, not a replacement of an event in the index.
    twice = canonical(
        tmp_path / "twice.jsonl",
        {"id": "n3", "date": "2021-05-07", "title": "first copy"},
        {"id": "n3", "date": "2021-05-07", "title": "second copy"},
    )
    code, out, _ = run("add", str(twice), "--index-dir", ix)
    assert out.startswith("added 1 events and replaced 0 in gen-000001: 0 rejected, 1 duplicates")
    code, out, err = run("delete", "n2", "missing-id", "--index-dir", ix)
    assert code == 0
    assert out.strip() == "deleted 1 events from gen-000001"
    assert "not found: missing-id" in err
    service = SearchService(Config.from_env({}, index_dir=Path(ix)))
    try:
        assert service.event("n1").title == "renamed"
        assert service.event("n3").title == "second copy"
        assert service.stats().documents == 3
    finally:
        service.close()


def test_add_without_index_fails(tmp_path: Path) -> None:
    code, _, err = run("add", str(seed_page()), "--index-dir", str(tmp_path))
    assert code == 1
    assert "no index has been built yet" in err


def _rebuild_with_stderr(tmp_path: Path, stderr: int) -> subprocess.CompletedProcess[bytes]:
    tmp_path.mkdir()
    records: list[dict[str, object]] = [
        {"id": f"e{i}", "date": "2020-01-01", "title": f"Event {i}"} for i in range(1500)
    ]
    events = canonical(tmp_path / "events.jsonl", *records)
    command = [str(Path(sys.executable).parent / "indexer"), "rebuild", str(events)]
    return subprocess.run(
        [*command, "--index-dir", str(tmp_path / "ix")],
        stdout=subprocess.PIPE,
        stderr=stderr,
        timeout=300,
        check=True,
    )


def test_progress_is_shown_on_a_terminal_only(tmp_path: Path) -> None:
    """On a terminal a rebuild shows the events done and the rate; in a log, nothing."""
    leader, follower = os.openpty()
    try:
        _rebuild_with_stderr(tmp_path / "tty", follower)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed once all is read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    text = shown.decode()
    assert "1500/1500 events" in text and "/s" in text, text
    assert "writing the segments" in text, text
    logged = _rebuild_with_stderr(tmp_path / "log", subprocess.PIPE)
    assert logged.stderr == b""
