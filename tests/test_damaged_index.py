"""Damaged index directories: CURRENT, every recorded file, meta.json, another format.

A damaged live index is never served and never crashes anything: every search
route answers 503 with the one error shape and a reason naming what is wrong,
``/readyz`` answers 503, ``indexer stats`` exits 1 saying the same (no
traceback), ``indexer add``/``delete`` write nothing, and ``indexer rebuild``
repairs it.  No damage to a file's bytes gives an answer with status 200.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
from click.testing import CliRunner

from api.app import create_app
from config import Config
from indexer import jobs
from indexer.cli import cli
from indexer.formats import read_file
from search import Event, IndexDamaged, IndexStore, LiveIndex
from search.store import INDEX_FORMAT
from tests.corpus import DEMO_DIR

pytestmark = pytest.mark.slow  # every kind of damage, each repaired by a real rebuild

DEMO_IDS = sorted(e.id for p in DEMO_DIR.iterdir() for e in read_file(p) if isinstance(e, Event))
# Every route that reads the index, with a request that succeeds on a sound one.
SEARCH_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/search", {"params": {"q": "election"}}),
    ("GET", "/api/search", {}),
    ("GET", f"/api/events/{DEMO_IDS[0]}", {}),
    ("GET", f"/api/events/{DEMO_IDS[0]}/related", {}),
    ("POST", "/api/related", {"json": {"text": "an election was held"}}),
    ("GET", "/api/suggest", {"params": {"q": "ele"}}),
    ("GET", "/api/stats", {}),
]


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sound index of the demo pages (two writer processes: two segments)."""
    index_dir = tmp_path_factory.mktemp("demo") / "index"
    jobs.rebuild(IndexStore(index_dir), [DEMO_DIR], keep=2, processes=2)
    return index_dir


def copy_of(index_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(index_dir, target, symlinks=True)
    return target


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def client_of(index_dir: Path) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(Config.from_env({}, index_dir=index_dir)))


def assert_not_served(index_dir: Path, code: str, reason: str) -> None:
    """Every search route 503 with ``code`` and ``reason`` in its message, /readyz 503
    with the same reason, /healthz 200; ``indexer stats`` exits 1 saying it."""
    client = client_of(index_dir)
    for method, path, kwargs in SEARCH_ROUTES:
        result = client.simulate_request(method, path, **kwargs)
        assert result.status_code == 503, (path, result.status_code, result.text)
        error = result.json["error"]
        assert error["code"] == code, (path, error)
        assert reason in error["message"], (path, error)
        assert str(index_dir) not in result.text
        assert result.headers["retry-after"] == "5"
    ready = client.simulate_get("/readyz")
    assert ready.status_code == 503
    assert ready.json["error"]["code"] == code and reason in ready.json["error"]["message"]
    assert client.simulate_get("/healthz").status_code == 200
    code_, out, err = run("stats", "--index-dir", str(index_dir))
    assert code_ == 1, out
    assert reason in err and "Traceback" not in err + out, err


def assert_served(index_dir: Path, documents: int = len(DEMO_IDS)) -> None:
    client = client_of(index_dir)
    for method, path, kwargs in SEARCH_ROUTES:
        result = client.simulate_request(method, path, **kwargs)
        assert result.status_code == 200, (path, result.text)
    assert client.simulate_get("/api/stats").json["documents"] == documents
    assert client.simulate_get("/readyz").status_code == 200
    code, out, err = run("stats", "--verify", "--index-dir", str(index_dir))
    assert code == 0, err
    assert f"documents: {documents}" in out


def repaired_by_rebuild(index_dir: Path) -> str:
    """Run ``indexer rebuild``; the index is served again.  Returns its stderr."""
    code, out, err = run("rebuild", str(DEMO_DIR), "--index-dir", str(index_dir))
    assert code == 0, err
    assert out.startswith(f"indexed {len(DEMO_IDS)} events"), out
    assert_served(index_dir)
    return err


# 9. CURRENT


def _write(data: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(data)

    return write


def _incomplete(path: Path) -> None:
    (path.parent / "gen-000009").mkdir()
    path.write_bytes(b"gen-000009\n")


CURRENT_DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "not UTF-8": (
        _write(b"\xff\xfegen-000001\n"),
        "CURRENT, which names the live generation, holds bytes that are not UTF-8 text",
    ),
    "a directory": (
        lambda p: p.mkdir(),
        "CURRENT, which names the live generation, is a directory",
    ),
    "a FIFO": (os.mkfifo, "CURRENT, which names the live generation, is not a regular file"),
    "empty": (_write(b""), "CURRENT, which names the live generation, is empty"),
    "garbage": (
        _write(b"hello\n"),
        "CURRENT, which names the live generation, holds what is not a generation's name",
    ),
    "too long": (_write(b"gen-000001" * 100), "not a generation's name"),
    "a missing generation": (
        _write(b"gen-000009\n"),
        "CURRENT names gen-000009, which does not exist",
    ),
    "an incomplete generation": (_incomplete, "CURRENT names gen-000009, which is incomplete"),
}


@pytest.mark.parametrize("kind", list(CURRENT_DAMAGE))
def test_a_damaged_current_is_503_everywhere_and_rebuild_repairs_it(
    demo_index: Path, tmp_path: Path, kind: str
) -> None:
    index_dir = copy_of(demo_index, tmp_path)
    damage, reason = CURRENT_DAMAGE[kind]
    current = index_dir / "CURRENT"
    current.unlink()
    damage(current)
    assert_not_served(index_dir, "index_damaged", reason)
    for job in (["add", str(DEMO_DIR)], ["delete", DEMO_IDS[0]]):
        code, _, err = run(*job, "--index-dir", str(index_dir))
        assert code == 1 and reason in err and "nothing was changed" in err, err
        assert "Traceback" not in err
    err = repaired_by_rebuild(index_dir)
    note = "note: replaced CURRENT, which was damaged: "
    assert err.startswith(note) and reason in err.removeprefix(note), err
    assert current.is_file() and not current.is_symlink()


# 10. Files of the live generation


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _zero_data(path: Path) -> None:
    """Zero every byte after the first 128 (a .npy header), keeping the size."""
    data = path.read_bytes()
    head = min(128, len(data) // 2)
    path.write_bytes(data[:head] + bytes(len(data) - head))


def _append(path: Path) -> None:
    with open(path, "ab") as fh:
        fh.write(b"\x00")


def _replace_by_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


FILE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "one bit flipped": _flip,
    "truncated": _truncate,
    "data zeroed": _zero_data,
    "deleted": Path.unlink,
    "a byte appended": _append,
    "replaced by a directory": _replace_by_directory,
}
FILE_REASON = {
    "one bit flipped": "does not hold what was written",
    "truncated": "has",
    "data zeroed": "does not hold what was written",
    "deleted": "is missing",
    "a byte appended": "has",
    "replaced by a directory": "is not a regular file",
}


def recorded(index_dir: Path) -> list[str]:
    """Every file the live generation's record names (relative to the generation)."""
    return sorted(IndexStore(index_dir).current().record().files)


def test_the_record_names_every_file_the_generation_reads(demo_index: Path) -> None:
    """Every file of the generation is recorded but the record itself, the readers'
    lock, the log of rejects and whoosh's writer lock."""
    generation = IndexStore(demo_index).current()
    on_disk = {
        p.relative_to(generation.path).as_posix() for p in generation.path.rglob("*") if p.is_file()
    }
    unrecorded = on_disk - set(recorded(demo_index))
    assert unrecorded == {"meta.json", "readers.lock", "rejects.jsonl", "MAIN_WRITELOCK"}
    kinds = {name.split("/")[0] if "/" in name else name.rsplit(".", 1)[-1] for name in on_disk}
    assert {"toc", "trm", "pst", "col", "postings", "columns", "json"} <= kinds


def test_every_damage_to_any_recorded_file_is_503_naming_the_file(
    demo_index: Path, tmp_path: Path
) -> None:
    """Each recorded file, damaged in two of six ways (taken in turn): the generation
    is not served; the service, ``indexer stats`` and ``--verify`` name the file."""
    names = recorded(demo_index)
    kinds = list(FILE_DAMAGE)
    cases = 0
    for i, name in enumerate(names):
        for kind in (kinds[i % len(kinds)], kinds[(i + 3) % len(kinds)]):
            index_dir = copy_of(demo_index, tmp_path / f"{i}-{kind}")
            generation = IndexStore(index_dir).current()
            FILE_DAMAGE[kind](generation.path / name)
            where = f"{generation.name}/{name} "
            live = LiveIndex(IndexStore(index_dir))
            with pytest.raises(IndexDamaged) as raised:
                live.snapshot()
            live.close()
            assert where + FILE_REASON[kind] in str(raised.value), (name, kind)
            code, _, err = run("stats", "--index-dir", str(index_dir))
            assert code == 1 and where in err and "Traceback" not in err, (name, kind, err)
            code, _, err = run("stats", "--verify", "--index-dir", str(index_dir))
            assert code == 1 and f"damaged: {where}{FILE_REASON[kind]}" in err, (name, kind, err)
            cases += 1
    assert cases == 2 * len(names)


def test_zeroed_postings_arrays_are_503_not_wrong_answers(demo_index: Path, tmp_path: Path) -> None:
    """The issue's case: zeroing the data of the postings arrays answered a search
    with status 200 and a wrong total."""
    index_dir = copy_of(demo_index, tmp_path)
    generation = IndexStore(index_dir).current()
    for array in generation.path.glob("postings/*/*.npy"):
        _zero_data(array)
    assert_not_served(index_dir, "index_damaged", "does not hold what was written")
    repaired_by_rebuild(index_dir)


@pytest.mark.parametrize("kind", ["truncated", "not JSON", "one bit flipped", "a list"])
def test_a_damaged_meta_json_is_503(demo_index: Path, tmp_path: Path, kind: str) -> None:
    index_dir = copy_of(demo_index, tmp_path)
    meta = IndexStore(index_dir).current().path / "meta.json"
    data = meta.read_bytes()
    damaged = {
        "truncated": data[: len(data) // 2],
        "not JSON": b"\x00" * len(data),
        # One bit of a digit: still JSON, no longer what was written.
        "one bit flipped": data.replace(b'"documents": 48', b'"documents": 49', 1),
        "a list": b"[]",
    }[kind]
    assert damaged != data
    meta.write_bytes(damaged)
    assert_not_served(index_dir, "index_damaged", "gen-000001/meta.json")
    repaired_by_rebuild(index_dir)


def test_damage_while_served_stops_serving_at_the_next_refresh(
    demo_index: Path, tmp_path: Path
) -> None:
    """A file damaged in place after a worker opened it: the worker stops serving the
    generation at its next refresh (the files' inode, size and times are checked at
    every refresh, and a file whose times changed is hashed again)."""
    index_dir = copy_of(demo_index, tmp_path)
    now = [0.0]
    live = LiveIndex(IndexStore(index_dir), refresh_interval=0.5, clock=lambda: now[0])
    snapshot = live.snapshot()
    assert snapshot.doc_count_all == len(DEMO_IDS)
    docs = sorted(snapshot.generation.path.glob("postings/*/docs.npy"))[0]
    _flip(docs)  # same size, in place
    assert live.snapshot() is snapshot  # within the refresh interval: not looked at
    now[0] += 1.0
    with pytest.raises(IndexDamaged, match=r"docs\.npy does not hold what was written"):
        live.snapshot()
    now[0] += 1.0
    with pytest.raises(IndexDamaged):  # and it stays so
        live.snapshot()
    live.close()


def test_add_and_delete_refuse_a_damaged_generation(demo_index: Path, tmp_path: Path) -> None:
    """A writer checks the live generation first: it never records damaged files as good."""
    index_dir = copy_of(demo_index, tmp_path)
    generation = IndexStore(index_dir).current()
    pst = sorted(generation.path.glob("*.pst"))[0]
    _flip(pst)
    before = generation.record()
    extra = tmp_path / "extra.jsonl"
    extra.write_text('{"id": "extra-1", "date": "2024-01-01", "title": "An extra event"}\n')
    for job in (["add", str(extra)], ["delete", DEMO_IDS[0]]):
        code, _, err = run(*job, "--index-dir", str(index_dir))
        assert code == 1, err
        assert f"{generation.name}/{pst.name} does not hold what was written" in err
        assert "nothing was changed" in err
    assert generation.record() == before


# Issue 13: a generation of another index format


@pytest.mark.parametrize("found", [1, INDEX_FORMAT - 1, INDEX_FORMAT + 1])
def test_a_generation_of_another_format_needs_a_rebuild(
    demo_index: Path, tmp_path: Path, found: int
) -> None:
    """meta.json as an older (or newer) version wrote it: 503 ``rebuild_needed``."""
    index_dir = copy_of(demo_index, tmp_path)
    meta = IndexStore(index_dir).current().path / "meta.json"
    data = json.loads(meta.read_bytes())
    for key in ("meta_checksum", "checksums", "hash", "commit", "sidecars"):
        data.pop(key)
    if found == 1:
        data.pop("format")  # format 1 wrote none
    else:
        data["format"] = found
    meta.write_text(json.dumps(data))
    reason = (
        f"gen-000001 was written in index format {found}, this version reads format {INDEX_FORMAT}"
    )
    assert_not_served(index_dir, "rebuild_needed", reason)
    assert_not_served(index_dir, "rebuild_needed", "rebuild needed")
    code, _, err = run("add", str(DEMO_DIR), "--index-dir", str(index_dir))
    assert code == 1 and "rebuild needed" in err
    repaired_by_rebuild(index_dir)
