"""Wikipedia Current Events Portal records, on the real corpus."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from indexer.formats import Reject, read_file
from indexer.formats.wikitimes import name_from_wiki_url
from search import Event, Source
from tests.corpus import corpus_file


@pytest.fixture(scope="module")
def events() -> list[Event]:
    items = list(read_file(corpus_file()))
    rejects = [i for i in items if isinstance(i, Reject)]
    assert rejects == []
    return [i for i in items if isinstance(i, Event)]


@pytest.fixture(scope="module")
def by_id(events: list[Event]) -> dict[str, Event]:
    return {e.id: e for e in events}


def test_every_record_is_read(events: list[Event]) -> None:
    raw = json.loads(corpus_file().read_text())
    assert len(events) == len(raw) == 428
    assert {e.id for e in events} == {f"cep-{r['id']}" for r in raw}


def test_first_record(by_id: dict[str, Event]) -> None:
    event = by_id["cep-56657"]
    assert event.date == dt.date(2015, 9, 1)
    assert event.body.startswith("The United Nations confirms the Islamic State")
    assert event.body.endswith("was mostly intact.")
    assert event.category == "War_Conflict"
    assert event.story == "Destruction of cultural heritage by ISIL"
    assert event.entities == (
        "United Nations",
        "Syria",
        "Islamic State of Iraq and the Levant",
        "Palmyra",
        "Temple of Bel",
    )
    assert event.sources[0] == Source("BBC", "http://www.bbc.com/news/world-middle-east-34111092")
    assert event.title.startswith("The United Nations confirms")


def test_names_come_from_the_wiki_url(events: list[Event]) -> None:
    names = {name for e in events for name in e.entities}
    assert {"Otto Pérez Molina", "München Hauptbahnhof", "Bashar al-Assad"} <= names
    assert not {"Otto Prez Molina", "Mnchen Hauptbahnhof", "Bashar alAssad"} & names
    # The #section part is not part of the name.
    assert "Joint Comprehensive Plan of Action" in names
    assert not any("Upcoming congressional votes" in n for n in names)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://en.wikipedia.org/wiki/Otto_P%C3%A9rez_Molina", "Otto Pérez Molina"),
        ("http://en.wikipedia.org/wiki/Deflategate#Court_hearings", "Deflategate"),
        ("http://en.wikipedia.org/wiki/Quincy,_Illinois", "Quincy, Illinois"),
        ("http://example.com/no-wiki-path", None),
    ],
)
def test_name_from_wiki_url(url: str, name: str | None) -> None:
    assert name_from_wiki_url(url) == name


def test_story_only_where_given(events: list[Event]) -> None:
    assert sum(1 for e in events if e.story) == 242


def test_bad_record_is_rejected_with_its_number(tmp_path: Path) -> None:
    records = [
        {"id": "1", "date": "2015-09-01", "description": "Fine."},
        {"id": "2", "date": "2015-02-30", "description": "Bad date."},
        {"id": "3", "description": "No date."},
    ]
    path = tmp_path / "cep.json"
    path.write_text(json.dumps(records))
    items = list(read_file(path))
    assert isinstance(items[0], Event) and items[0].id == "cep-1"
    assert items[1:] == [
        Reject(str(path), 2, "impossible date '2015-02-30'"),
        Reject(str(path), 3, "no date"),
    ]
