"""Ingest limits: an event larger than a limit is rejected with its own reason, which
names the limit's setting; every limit follows its setting and holds in every format."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from config import Config
from indexer.cli import cli
from indexer.formats import Reject, read_file
from indexer.formats.limits import Limits
from search import Event
from tests.corpus import seed_page

DEFAULTS = Limits.defaults()
BASE: dict[str, Any] = {"id": "a", "date": "2020-01-01", "title": "T"}


def one(tmp_path: Path, record: dict[str, Any], limits: Limits = DEFAULTS) -> Event | Reject:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(record))
    items = list(read_file(path, limits))
    assert len(items) == 1
    return items[0]


def test_defaults_are_the_documented_settings() -> None:
    assert (
        Limits(
            event_body_bytes=1_048_576,
            title_length=500,
            event_entities=500,
            event_sources=100,
            event_related=100,
            value_length=2000,
        )
        == DEFAULTS
    )
    config = Config.from_env({"EVENTSEARCH_MAX_EVENT_SOURCES": "3"})
    assert Limits.from_config(config).event_sources == 3


SOURCE = {"name": "S", "url": "https://example.org/"}
LINK = {"id": "b", "title": "B"}
Record = Callable[[int], dict[str, Any]]
BODY = "body too long: 1,048,577 bytes, at most 1,048,576 (EVENTSEARCH_MAX_EVENT_BODY_BYTES)"
VALUE = " too long: 2,001 characters, at most 2,000 (EVENTSEARCH_MAX_VALUE_LENGTH)"
# (what is limited, the record holding n of it, the limit, the reason one past it is rejected)
CASES: list[tuple[str, Record, int, str]] = [
    ("body", lambda n: {"body": "x" * n}, 1_048_576, BODY),
    # Two bytes a character: the limit is in bytes of UTF-8, not in characters.
    ("body in UTF-8", lambda n: {"body": "é" * (n // 2) + "x" * (n % 2)}, 1_048_576, BODY),
    (
        "title",
        lambda n: {"title": "t" * n},
        500,
        "title too long: 501 characters, at most 500 (EVENTSEARCH_MAX_TITLE_LENGTH)",
    ),
    (
        "entities",
        lambda n: {"entities": [f"E{i}" for i in range(n)]},
        500,
        "too many entities: 501, at most 500 (EVENTSEARCH_MAX_EVENT_ENTITIES)",
    ),
    (
        "sources",
        lambda n: {"sources": [SOURCE] * n},
        100,
        "too many sources: 101, at most 100 (EVENTSEARCH_MAX_EVENT_SOURCES)",
    ),
    (
        "related",
        lambda n: {"related": [LINK] * n},
        100,
        "too many related links: 101, at most 100 (EVENTSEARCH_MAX_EVENT_RELATED)",
    ),
    ("entity name", lambda n: {"entities": ["ok", "n" * n]}, 2000, "entities[1]" + VALUE),
    (
        "source address",
        lambda n: {"sources": [{"name": "S", "url": "https://example.org/" + "p" * (n - 20)}]},
        2000,
        "sources[0].url" + VALUE,
    ),
    ("category", lambda n: {"category": "c" * n}, 2000, "category" + VALUE),
    (
        "link context",
        lambda n: {"related": [{**LINK, "context": "c" * n}]},
        2000,
        "related[0].context" + VALUE,
    ),
]


@pytest.mark.parametrize(
    ("record", "limit", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_limit_has_its_own_reason(
    tmp_path: Path, record: Record, limit: int, reason: str
) -> None:
    assert isinstance(one(tmp_path, {**BASE, **record(limit)}), Event)
    past = one(tmp_path, {**BASE, **record(limit + 1)})
    assert past == Reject(str(tmp_path / "event.json"), None, reason)


def test_duplicate_entities_count_once_and_keep_their_order(tmp_path: Path) -> None:
    names = ["Paris", "Berlin", "Paris ", "Rome", "Berlin"] * 1000
    event = one(tmp_path, {**BASE, "entities": names})
    assert isinstance(event, Event) and event.entities == ("Paris", "Berlin", "Rome")


def test_limits_hold_in_every_format(tmp_path: Path) -> None:
    small = dataclasses.replace(DEFAULTS, event_body_bytes=100)
    reason = "body too long: {size} bytes, at most 100 (EVENTSEARCH_MAX_EVENT_BODY_BYTES)"
    page = tmp_path / "page.md"
    page.write_text(seed_page().read_text(encoding="utf-8"))
    xml = tmp_path / "events.xml"
    xml.write_text(
        f'<events><event id="x"><date>2020-01-01</date><title>T</title><body>{"b" * 101}'
        "</body></event></events>"
    )
    cep = tmp_path / "cep.json"
    cep.write_text(json.dumps([{"id": "1", "date": "2015-09-01", "description": "d" * 101}]))
    lines = tmp_path / "events.jsonl"
    lines.write_text(json.dumps(BASE) + "\n" + json.dumps({**BASE, "body": "b" * 101}) + "\n")
    assert list(read_file(page, small)) == [Reject(str(page), None, reason.format(size=202))]
    assert list(read_file(xml, small)) == [Reject(str(xml), 1, reason.format(size=101))]
    assert list(read_file(cep, small)) == [Reject(str(cep), 1, reason.format(size=101))]
    assert list(read_file(lines, small))[1] == Reject(str(lines), 2, reason.format(size=101))


def test_the_indexer_follows_the_settings(tmp_path: Path) -> None:
    """A 2 MB body is rejected with the default limit, the other events indexed; a
    tighter limit from the environment rejects smaller ones."""
    path = tmp_path / "events.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {**BASE, "id": "huge", "body": "word " * 400_000},
                {**BASE, "id": "small", "body": "word " * 30},
                {**BASE, "id": "tiny"},
            ]
        )
    )
    result = CliRunner().invoke(cli, ["rebuild", str(path), "--index-dir", str(tmp_path / "a")])
    assert result.exit_code == 0, result.stderr
    assert (
        f"rejected: {path}, record 1: body too long: 1,999,999 bytes, at most 1,048,576 "
        "(EVENTSEARCH_MAX_EVENT_BODY_BYTES)"
    ) in result.stderr
    assert "indexed 2 events from 1 files into gen-000001: 1 rejected" in result.stdout
    result = CliRunner(env={"EVENTSEARCH_MAX_EVENT_BODY_BYTES": "100"}).invoke(
        cli, ["rebuild", str(path), "--index-dir", str(tmp_path / "b")]
    )
    assert "indexed 1 events from 1 files into gen-000001: 2 rejected" in result.stdout
    result = CliRunner(env={"EVENTSEARCH_MAX_EVENT_BODY_BYTES": "100"}).invoke(
        cli, ["add", str(path), "--index-dir", str(tmp_path / "b")]
    )
    assert "added 0 events and replaced 1 in gen-000001: 2 rejected" in result.stdout
