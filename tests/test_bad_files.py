"""Files that are not events are rejected with their path and a reason, never stopping the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.formats import Reject, read_file
from indexer.walk import input_files

CASES = [
    ("empty.md", b"", "empty file"),
    ("blank.txt", b"  \n\n ", "empty file"),
    (
        "image.md",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "binary file (it contains NUL bytes), not an event document",
    ),
    (
        "latin1.txt",
        "### [2017-01-01](x)\n# Caf\xe9\n".encode("latin-1"),
        "not UTF-8 text (bad byte at offset 25): binary file?",
    ),
    (
        "nodate.md",
        b"# A title\n\nA body.\n",
        "not an event document: expected JSON, JSON Lines, "
        "XML, or an event page with a '### [YYYY-MM-DD](...)' date line",
    ),
    (
        "baddate.md",
        b"Formats: [HTML](/news/2017/13/45/x.html)\n\n"
        b"### [2017-13-45](/news/2017/13/45/index.md)\n\n# T\n",
        "impossible date '2017-13-45'",
    ),
    ("broken.json", b'[{"id": "a", ', None),
    ("root.xml", b"<html><body/></html>", "XML root is <html>, expected <events> or <event>"),
    (
        "bomb.xml",
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        b"<event>&b;</event>",
        None,
    ),
]


@pytest.mark.parametrize(("name", "data", "reason"), CASES, ids=[c[0] for c in CASES])
def test_rejected_with_reason(tmp_path: Path, name: str, data: bytes, reason: str | None) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    items = list(read_file(path))
    assert len(items) == 1
    reject = items[0]
    assert isinstance(reject, Reject)
    assert reject.path == str(path)
    assert reject.record is None
    if reason is not None:
        assert reject.reason == reason
    elif name.endswith(".json"):
        assert reject.reason.startswith("invalid JSON: ")
    else:
        assert reject.reason.startswith("invalid XML: ")


def test_directories_are_walked_and_missing_paths_reported(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.md").write_text("x")
    (tmp_path / "a" / "top.json").write_text("x")
    (tmp_path / "a" / ".hidden").write_text("x")
    found = list(input_files([tmp_path / "a", tmp_path / "missing"]))
    assert found == [
        tmp_path / "a" / "top.json",
        tmp_path / "a" / "b" / "deep.md",
        Reject(str(tmp_path / "missing"), None, "no such file or directory"),
    ]
