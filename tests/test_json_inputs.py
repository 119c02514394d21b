"""JSON, JSON Lines and the byte order mark: nothing valid is lost to a bad neighbour.

A UTF-8 byte order mark is read in every format.  In JSON Lines a broken line (the
first, a middle or the last) rejects that line only, with its number.  A key given
twice in a record rejects that record, naming the key (JSON parsers keep the last
value without a word).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import cli
from indexer.formats import Reject, read_file
from search import Event
from tests.corpus import DEMO_DIR, corpus_file, seed_page

BOM = b"\xef\xbb\xbf"


def records(count: int) -> list[dict[str, str]]:
    return [
        {"id": f"e{n}", "date": "2020-01-01", "title": f"Event number {n}"}
        for n in range(1, count + 1)
    ]


def read(path: Path) -> tuple[list[str], list[Reject]]:
    items = list(read_file(path))
    return [i.id for i in items if isinstance(i, Event)], [
        i for i in items if isinstance(i, Reject)
    ]


XML = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<events><event id="x1"><date>2020-01-01</date><title>One</title></event></events>\n'
)
#: Texts of each format, made when a test asks for them (the real ones are read then).
SAMPLES: dict[str, Callable[[], str]] = {
    "object.json": lambda: json.dumps(records(1)[0], indent=2),
    "array.json": lambda: json.dumps(records(3)),
    "lines.jsonl": lambda: "".join(json.dumps(r) + "\n" for r in records(3)),
    "one-line.jsonl": lambda: json.dumps(records(1)[0]) + "\n",
    "events.xml": lambda: XML,
    "seed.txt": lambda: seed_page().read_text(encoding="utf-8"),
    "demo.md": lambda: sorted(DEMO_DIR.iterdir())[0].read_text(encoding="utf-8"),
    "wikitimes.json": lambda: corpus_file().read_text(encoding="utf-8"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_byte_order_mark_is_read_in_every_format(tmp_path: Path, name: str) -> None:
    plain, marked = tmp_path / f"plain-{name}", tmp_path / f"marked-{name}"
    plain.write_text(SAMPLES[name](), encoding="utf-8")
    marked.write_bytes(BOM + SAMPLES[name]().encode("utf-8"))
    events, rejected = read(plain)
    assert events and not rejected
    assert read(marked) == (events, [])


def test_utf16_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "wide.json"
    path.write_bytes(SAMPLES["array.json"]().encode("utf-16"))
    assert read(path) == (
        [],
        [
            Reject(
                str(path),
                None,
                "UTF-16 text (it starts with a UTF-16 byte order mark): only UTF-8 is read",
            )
        ],
    )


BROKEN_LINES = [
    '{"id": "broken", "date": "2020-01-01", "title": "cut off',  # truncated
    "{oops}",
    "{",
    '{"id": "x", "date": "2020-01-01", "title": "t"} trailing',
    '{"id": "x", "date": "2020-01-01", "title": NaN}',
    "not json at all",
    "[1, 2]",
]


@pytest.mark.parametrize("broken", BROKEN_LINES)
@pytest.mark.parametrize("where", [1, 2, 500, 1000])
def test_a_broken_json_line_rejects_that_line_only(tmp_path: Path, broken: str, where: int) -> None:
    lines = [json.dumps(r) for r in records(1000)]
    lines[where - 1] = broken
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    events, rejected = read(path)
    assert events == [f"e{n}" for n in range(1, 1001) if n != where]
    assert [(r.path, r.record) for r in rejected] == [(str(path), where)]
    assert rejected[0].reason.startswith("invalid JSON: ") or rejected[0].reason.startswith(
        "expected an event object"
    )


def test_line_numbers_count_blank_lines_and_bad_bytes_reject_their_line(tmp_path: Path) -> None:
    good = [json.dumps(r).encode() for r in records(3)]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join([b"{broken", b"", good[0], b'{"title": "caf\xe9"}', *good[1:]]))
    events, rejected = read(path)
    assert events == ["e1", "e2", "e3"]
    assert [r.record for r in rejected] == [1, 4]
    assert rejected[1].reason == "not UTF-8 text (bad byte at offset 14): binary file?"


def test_one_broken_document_over_several_lines_is_one_reject(tmp_path: Path) -> None:
    """An indented JSON object with a fault is one document, not lines to reject one by
    one, even where a line of it is an object of its own."""
    text = json.dumps(
        {**records(1)[0], "sources": [{"name": "BBC", "url": "https://bbc.co.uk/"}]}, indent=2
    )
    text = text.replace('"title"', '"title" ::')
    path = tmp_path / "event.json"
    path.write_text(text)
    events, rejected = read(path)
    assert events == []
    assert [(r.record, r.reason[:14]) for r in rejected] == [(None, "invalid JSON: ")]


DUPLICATES = [
    (
        '{"id": "a", "date": "2020-01-01", "title": "x", "title": "y"}',
        "the key 'title' is repeated",
    ),
    (
        '{"id": "a", "date": "2020-01-01", "title": "x", '
        '"sources": [{"name": "A", "url": "https://a.org/", "url": "https://b.org/"}]}',
        "the key 'url' is repeated in sources[0]",
    ),
    (
        '{"id": "1", "date": "2015-09-01", "description": "One.", "description": "Two."}',
        "the key 'description' is repeated",
    ),
    (
        '{"id": "1", "date": "2015-09-01", "description": "One.", "entity": '
        '[{"name": "A"}, {"name": "B", "wikiURL": "http://en.wikipedia.org/wiki/B", '
        '"name": "C"}]}',
        "the key 'name' is repeated in entity[1]",
    ),
    (
        '{"id": "a", "id": "b", "date": "2020-01-01", "title": "x"}',
        "the key 'id' is repeated",
    ),
]


@pytest.mark.parametrize(("record", "reason"), DUPLICATES)
def test_a_repeated_key_rejects_its_record(tmp_path: Path, record: str, reason: str) -> None:
    good = [json.dumps(r) for r in records(2)]
    lone = tmp_path / "one.json"
    lone.write_text(record)
    assert read(lone) == ([], [Reject(str(lone), None, reason)])
    array = tmp_path / "array.json"
    array.write_text(f"[{good[0]},\n{record},\n{good[1]}]")
    assert read(array) == (["e1", "e2"], [Reject(str(array), 2, reason)])
    lines = tmp_path / "lines.jsonl"
    lines.write_text(f"{good[0]}\n{good[1]}\n{record}\n")
    assert read(lines) == (["e1", "e2"], [Reject(str(lines), 3, reason)])
    if "description" not in record:  # the same key twice in the middle of a file
        first = tmp_path / "first.jsonl"
        first.write_text(f"{record}\n{good[0]}\n")
        assert read(first) == (["e1"], [Reject(str(first), 1, reason)])


def test_a_repeated_key_fails_a_strict_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(records(1)[0]) + "\n" + DUPLICATES[0][0] + "\n")
    result = CliRunner().invoke(
        cli, ["rebuild", str(path), "--strict", "--index-dir", str(tmp_path / "ix")]
    )
    assert result.exit_code == 1
    assert f"rejected: {path}, record 2: the key 'title' is repeated" in result.stderr


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"\\ud800"', "title holds a lone surrogate, not text"),
        ("NaN", "invalid JSON: NaN is not a JSON value"),
        ("Infinity", "invalid JSON: Infinity is not a JSON value"),
        ("1e999", "invalid JSON: the number 1e999 is too large"),
    ],
)
def test_values_outside_json_are_rejected(tmp_path: Path, value: str, reason: str) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(
        json.dumps(records(1)[0]) + "\n" + '{"id": "b", "date": "2020-01-01", "title": '
        f"{value}}}\n"
    )
    assert read(path) == (["e1"], [Reject(str(path), 2, reason)])
