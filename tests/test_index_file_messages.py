"""Messages about index files name the file and what is wrong with it, never what it
holds: a damaged CURRENT, one replaced by a symbolic link to another file (say
/etc/passwd), a damaged meta.json or a recorded file linked elsewhere answer 503 with
a message that quotes none of the file's bytes, on every route and in ``indexer
stats``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import falcon.testing
import pytest
from click.testing import CliRunner

from api.app import create_app
from config import Config
from indexer.cli import cli
from search import IndexStore
from tests.corpus import DEMO_DIR
from tests.support.indexes import build_index

#: What the damaged or linked-to files hold: no message may show any of it.
SECRET = "root:x:0:0:secret-f1b2c3"


@pytest.fixture(scope="module")
def sound_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("sound") / "index"
    build_index(index_dir, DEMO_DIR)
    return index_dir


def _copy(index_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(index_dir, target, symlinks=True)
    return target


def _secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "passwd"
    path.write_text(f"{SECRET}:/root:/bin/bash\n")
    return path


def _current_linked(index_dir: Path, tmp_path: Path) -> None:
    current = index_dir / "CURRENT"
    current.unlink()
    current.symlink_to(_secret_file(tmp_path))


def _current_linked_to_a_generation_name(index_dir: Path, tmp_path: Path) -> None:
    """A link to a file that names the generation rightly: still not followed."""
    current = index_dir / "CURRENT"
    named = tmp_path / "elsewhere"
    named.write_bytes(current.read_bytes())
    current.unlink()
    current.symlink_to(named)


def _current_binary(index_dir: Path, tmp_path: Path) -> None:
    (index_dir / "CURRENT").write_bytes(b"\x00\x01\x7f" + SECRET.encode() + b"\x00")


def _current_long_line(index_dir: Path, tmp_path: Path) -> None:
    (index_dir / "CURRENT").write_text("gen-000001" + SECRET * 200 + "\n")


def _current_garbage(index_dir: Path, tmp_path: Path) -> None:
    (index_dir / "CURRENT").write_text(SECRET + "\n")


def _meta(index_dir: Path) -> Path:
    return IndexStore(index_dir).current().path / "meta.json"


def _meta_garbage(index_dir: Path, tmp_path: Path) -> None:
    _meta(index_dir).write_text(f"{SECRET} {{ not json")


def _meta_linked(index_dir: Path, tmp_path: Path) -> None:
    meta = _meta(index_dir)
    meta.unlink()
    meta.symlink_to(_secret_file(tmp_path))


def _meta_format_text(index_dir: Path, tmp_path: Path) -> None:
    """meta.json of no known format, its format a text (as no version wrote)."""
    meta = _meta(index_dir)
    data = json.loads(meta.read_bytes())
    data.pop("meta_checksum")
    data["format"] = SECRET
    meta.write_text(json.dumps(data))


def _recorded_file_linked(index_dir: Path, tmp_path: Path) -> None:
    generation = IndexStore(index_dir).current()
    name = sorted(generation.record().files)[0]
    (generation.path / name).unlink()
    (generation.path / name).symlink_to(_secret_file(tmp_path))


Damage = Callable[[Path, Path], None]
# kind -> (damage, error code, what the message says)
CASES: dict[str, tuple[Damage, str, str]] = {
    "CURRENT a link to another file": (
        _current_linked,
        "index_damaged",
        "CURRENT, which names the live generation, is a symbolic link, not a file",
    ),
    "CURRENT a link to a generation's name": (
        _current_linked_to_a_generation_name,
        "index_damaged",
        "CURRENT, which names the live generation, is a symbolic link, not a file",
    ),
    "CURRENT binary garbage": (
        _current_binary,
        "index_damaged",
        "CURRENT, which names the live generation, holds what is not a generation's name",
    ),
    "CURRENT a long line": (
        _current_long_line,
        "index_damaged",
        "CURRENT, which names the live generation, holds what is not a generation's name",
    ),
    "CURRENT garbage text": (
        _current_garbage,
        "index_damaged",
        "CURRENT, which names the live generation, holds what is not a generation's name",
    ),
    "meta.json garbage": (_meta_garbage, "index_damaged", "gen-000001/meta.json is not valid JSON"),
    "meta.json a link to another file": (
        _meta_linked,
        "index_damaged",
        "gen-000001/meta.json is not valid JSON",
    ),
    "meta.json of an unknown format": (
        _meta_format_text,
        "rebuild_needed",
        "gen-000001 was written in an unknown index format",
    ),
    "a recorded file a link": (
        _recorded_file_linked,
        "index_damaged",
        "is a symbolic link, not a file the indexer wrote",
    ),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_a_message_names_the_index_file_and_never_shows_it(
    sound_index: Path, tmp_path: Path, kind: str
) -> None:
    index_dir = _copy(sound_index, tmp_path)
    damage, code, reason = CASES[kind]
    damage(index_dir, tmp_path)
    client = falcon.testing.TestClient(create_app(Config.from_env({}, index_dir=index_dir)))
    for path, params in (("/api/search", {"q": "election"}), ("/api/stats", {}), ("/readyz", {})):
        result = client.simulate_get(path, params=params)
        assert result.status_code == 503, (path, result.text)
        error = result.json["error"]
        assert error["code"] == code and reason in error["message"], (path, error)
        assert "secret" not in result.text and "root:x" not in result.text, result.text
    outcome = CliRunner().invoke(cli, ["stats", "--index-dir", str(index_dir)])
    assert outcome.exit_code == 1
    assert reason in outcome.stderr and "secret" not in outcome.stderr, outcome.stderr
