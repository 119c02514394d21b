"""Which paths the indexer reads: regular files only, every other path a reject.

A FIFO, a socket or a device (in a walked directory or named as a PATH), an
unreadable file or directory, a broken link, a link loop and a file reached twice
are rejects with their path and reason, never a wait or a silent skip.  Links to
files and directories are followed.  Hidden entries are skipped and counted.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import cli
from indexer.formats import Reject, read_file
from indexer.walk import input_files
from tests.corpus import ROOT
from tests.unprivileged import indexer_unprivileged, permissions_apply

EVENT = {"id": "e1", "date": "2020-01-01", "title": "An event"}


def event_file(path: Path, event_id: str = "e1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**EVENT, "id": event_id}) + "\n")
    return path


def rejects(items: list[Path | Reject]) -> dict[str, str]:
    return {i.path: i.reason for i in items if isinstance(i, Reject)}


def test_fifo_socket_and_device_are_rejected_not_read(tmp_path: Path) -> None:
    tree = tmp_path / "in"
    event_file(tree / "a.json")
    os.mkfifo(tree / "b.fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tree / "c.sock"))
    (tree / "d.dev").symlink_to("/dev/null")
    event_file(tree / "e.json", "e2")
    try:
        found = list(input_files([tree, tmp_path / "in" / "b.fifo"]))
    finally:
        server.close()
    assert [f for f in found if isinstance(f, Path)] == [tree / "a.json", tree / "e.json"]
    assert rejects(found) == {
        str(tree / "b.fifo"): "not a regular file but a FIFO (named pipe)",
        str(tree / "c.sock"): "not a regular file but a socket",
        str(tree / "d.dev"): "not a regular file but a character device",
    }
    # Named as a PATH, the FIFO is a reject too.
    assert found[-1] == Reject(
        str(tree / "b.fifo"), None, "not a regular file but a FIFO (named pipe)"
    )


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_read_file_never_waits_on_a_fifo_or_device(tmp_path: Path, kind: str) -> None:
    """Even handed a FIFO directly (or a regular file swapped for one after the walk),
    ``read_file`` checks the open file and refuses it at once."""
    path = tmp_path / "x"
    if kind == "fifo":
        os.mkfifo(path)
        reason = "not a regular file but a FIFO (named pipe)"
    else:
        path = Path("/dev/zero")
        reason = "not a regular file but a character device"
    assert list(read_file(path)) == [Reject(str(path), None, reason)]


def test_rebuild_with_a_fifo_in_the_tree_and_as_a_path_finishes(tmp_path: Path) -> None:
    """The operator's case, as a subprocess with a deadline: before, the walk opened the
    FIFO and waited for a writer for ever while it held the writer lock."""
    tree = tmp_path / "in"
    event_file(tree / "a.json")
    os.mkfifo(tree / "pipe.jsonl")
    os.mkfifo(tmp_path / "direct.fifo")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from indexer.cli import main; main()",
            "rebuild",
            str(tree),
            str(tmp_path / "direct.fifo"),
            "--index-dir",
            str(tmp_path / "ix"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert f"rejected: {tree / 'pipe.jsonl'}: not a regular file but a FIFO" in result.stderr
    assert f"rejected: {tmp_path / 'direct.fifo'}: not a regular file but a FIFO" in result.stderr
    assert "indexed 1 events from 1 files into gen-000001: 2 rejected" in result.stdout


def test_symlinks_to_files_and_directories_are_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    event_file(outside / "deep" / "x.json", "x")
    event_file(tmp_path / "elsewhere.json", "y")
    tree = tmp_path / "in"
    tree.mkdir()
    (tree / "linked-dir").symlink_to(outside)
    (tree / "linked-file.json").symlink_to(tmp_path / "elsewhere.json")
    found = list(input_files([tree]))
    assert found == [tree / "linked-file.json", tree / "linked-dir" / "deep" / "x.json"]


def test_link_loops_broken_links_and_second_paths_are_rejects(tmp_path: Path) -> None:
    tree = tmp_path / "in"
    event_file(tree / "a" / "one.json")
    (tree / "a" / "up").symlink_to(tree)  # a loop back to the top
    (tree / "a" / "self").symlink_to(tree / "a")  # a loop to its own directory
    (tree / "again.json").symlink_to(tree / "a" / "one.json")  # the same file twice
    (tree / "broken.json").symlink_to(tmp_path / "gone.json")
    (tree / "spin").symlink_to(tree / "spin")  # a link to itself
    found = list(input_files([tree]))
    assert [f for f in found if isinstance(f, Path)] == [tree / "again.json"]
    assert rejects(found) == {
        str(tree / "broken.json"): (
            f"broken symbolic link (to {tmp_path / 'gone.json'}, which does not exist)"
        ),
        str(tree / "spin"): "symbolic link loop (too many levels of links)",
        str(tree / "a" / "one.json"): (
            f"the same file as {tree / 'again.json'}, which is read instead"
        ),
        str(tree / "a" / "self"): f"symbolic link loop: it leads back to {tree / 'a'}",
        str(tree / "a" / "up"): f"symbolic link loop: it leads back to {tree}",
    }


def test_a_path_named_twice_is_read_once(tmp_path: Path) -> None:
    one = event_file(tmp_path / "one.json")
    again = Reject(str(one), None, f"the same file as {one}, which is read instead")
    assert list(input_files([one, tmp_path, one])) == [one, again, again]


def test_hidden_entries_are_skipped_and_counted(tmp_path: Path) -> None:
    tree = tmp_path / "in"
    event_file(tree / "a.json")
    event_file(tree / ".draft.json", "draft")
    event_file(tree / ".git" / "x.json", "x")
    hidden: list[Path] = []
    assert list(input_files([tree], hidden)) == [tree / "a.json"]
    assert hidden == [tree / ".draft.json", tree / ".git"]
    # A hidden file named as a PATH is read: it was asked for.
    assert list(input_files([tree / ".draft.json"])) == [tree / ".draft.json"]
    result = CliRunner().invoke(cli, ["rebuild", str(tree), "--index-dir", str(tmp_path / "ix")])
    assert result.exit_code == 0, result.stderr
    assert "0 rejected, 0 duplicates, 2 hidden paths skipped, " in result.stdout


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A folder whose files' permissions a ``run_unprivileged`` process obeys."""
    if not permissions_apply(tmp_path):
        pytest.fail("file permissions cannot be made to apply to a test process")
    return tmp_path


@pytest.mark.slow  # two rebuilds as an unprivileged user
def test_unreadable_files_and_directories_are_rejects(world: Path) -> None:
    tree = world / "in"
    event_file(tree / "a.json")
    event_file(tree / "locked.json", "locked").chmod(0)
    event_file(tree / "closed" / "inside.json", "inside")
    (tree / "closed").chmod(0)
    try:
        result = indexer_unprivileged("rebuild", str(tree), "--index-dir", str(world / "ix"))
        strict = indexer_unprivileged(
            "rebuild", str(tree), "--strict", "--index-dir", str(world / "ix")
        )
    finally:
        (tree / "closed").chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert f"rejected: {tree / 'locked.json'}: cannot read: Permission denied" in result.stderr
    assert f"rejected: {tree / 'closed'}: cannot read directory: Permission denied" in result.stderr
    assert "indexed 1 events from 2 files into gen-000001: 2 rejected" in result.stdout
    assert strict.returncode == 1
    assert "2 documents rejected and --strict is set; the live index is unchanged" in strict.stderr
