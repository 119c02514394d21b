"""Our canonical event schema, as JSON, JSON Lines and XML."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from indexer.formats import Reject, read_file
from search import Event, RelatedLink, Source

RECORD = {
    "id": "2016-06-23-uk-votes-to-leave",
    "date": "2016-06-23",
    "title": "The United Kingdom votes to leave the European Union",
    "body": "Turnout was 72 percent.",
    "entities": ["United Kingdom", "European Union"],
    "sources": [{"name": "Electoral Commission", "url": "https://www.electoralcommission.org.uk/"}],
    "category": "Politics",
    "story": "Brexit",
    "image": None,
    "related": [
        {
            "id": "2020-01-31-uk-leaves",
            "title": "The UK leaves",
            "date": "2020-01-31",
            "context": "European Union",
        }
    ],
}

EXPECTED = Event(
    id="2016-06-23-uk-votes-to-leave",
    date=dt.date(2016, 6, 23),
    title="The United Kingdom votes to leave the European Union",
    body="Turnout was 72 percent.",
    entities=("United Kingdom", "European Union"),
    sources=(Source("Electoral Commission", "https://www.electoralcommission.org.uk/"),),
    category="Politics",
    story="Brexit",
    related=(
        RelatedLink(
            "2020-01-31-uk-leaves", "The UK leaves", dt.date(2020, 1, 31), "European Union"
        ),
    ),
)

XML = """<?xml version="1.0" encoding="utf-8"?>
<events>
  <event id="2016-06-23-uk-votes-to-leave">
    <date>2016-06-23</date>
    <title>The United Kingdom votes to leave the European Union</title>
    <body>Turnout was 72 percent.</body>
    <category>Politics</category>
    <story>Brexit</story>
    <entities><entity>United Kingdom</entity><entity>European Union</entity></entities>
    <sources>
      <source url="https://www.electoralcommission.org.uk/">Electoral Commission</source>
    </sources>
    <related>
      <link id="2020-01-31-uk-leaves" date="2020-01-31"
            context="European Union">The UK leaves</link>
    </related>
  </event>
  <event id="second"><date>2016-13-01</date><title>Bad</title></event>
</events>
"""


def _read(tmp_path: Path, name: str, text: str) -> list[Event | Reject]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return list(read_file(path))


def test_json_object(tmp_path: Path) -> None:
    assert _read(tmp_path, "one.json", json.dumps(RECORD)) == [EXPECTED]


def test_json_array(tmp_path: Path) -> None:
    other = {"id": "x1", "date": "2001-01-01", "title": "Other"}
    items = _read(tmp_path, "many.txt", json.dumps([RECORD, other], indent=2))
    assert items == [EXPECTED, Event(id="x1", date=dt.date(2001, 1, 1), title="Other")]


def test_json_lines_rejects_bad_lines_by_number(tmp_path: Path) -> None:
    text = "\n".join([json.dumps(RECORD), "{not json", "", json.dumps({"id": "y", "title": "t"})])
    path = tmp_path / "events.jsonl"
    path.write_text(text)
    items = list(read_file(path))
    assert items[0] == EXPECTED
    assert isinstance(items[1], Reject) and items[1].record == 2
    assert items[1].reason.startswith("invalid JSON:")
    assert items[2] == Reject(str(path), 4, "no date")


def test_xml(tmp_path: Path) -> None:
    path = tmp_path / "events.xml"
    path.write_text(XML)
    assert list(read_file(path)) == [
        EXPECTED,
        Reject(str(path), 2, "impossible date '2016-13-01'"),
    ]


def test_to_dict_is_the_canonical_shape_and_round_trips(tmp_path: Path) -> None:
    assert EXPECTED.to_dict() == RECORD
    assert _read(tmp_path, "again.json", json.dumps(EXPECTED.to_dict())) == [EXPECTED]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"id": "has space"},
            "id 'has space' is not valid: use up to 200 letters, digits and . _ ~ : -",
        ),
        ({"id": None}, "no id"),
        ({"title": ""}, "no title"),
        ({"date": "23/06/2016"}, "date '23/06/2016' is not a date in the form YYYY-MM-DD"),
        ({"entities": "UK"}, "entities must be a list, not str"),
        ({"entities": ["", "x"]}, "entities[0] must be a non-empty string"),
        ({"sources": [{"url": "http://x"}]}, "sources[0] needs a name"),
        (
            {"entites": []},
            "unknown field 'entites' (fields: id, date, title, body, entities, "
            "sources, category, story, image, related)",
        ),
    ],
)
def test_invalid_records_say_which_field(
    tmp_path: Path, change: dict[str, object], reason: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**RECORD, **change}))
    assert list(read_file(path)) == [Reject(str(path), None, reason)]
