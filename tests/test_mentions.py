"""Entity mentions: known names found in event text, without common words matching by accident."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import falcon.testing
import pytest

from indexer import jobs
from search import Event, IndexStore
from search.mentions import MentionVocabulary
from tests.corpus import CORPUS
from tests.truth import all_events, entities_of


def finder_for(names: list[str], corpus_text: str = "") -> MentionVocabulary:
    vocabulary = MentionVocabulary()
    vocabulary.observe(Event("v", dt.date(2020, 1, 1), corpus_text, entities=tuple(names)))
    return vocabulary


@pytest.mark.parametrize(
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
def test_matching_rules(text: str, found: list[str]) -> None:
    names = [
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
    vocabulary = finder_for(names, "a car bomb; the girl; the united states of mind")
    got = vocabulary.finder().find(text)
    if "Girl Scout" in text:
        assert "Girl" in got  # capitalised mid-sentence: taken as a name
    else:
        assert got == found


def test_own_entities_are_not_added_again() -> None:
    finder = finder_for(["Syria", "Kabul"]).finder()
    event = Event("e", dt.date(2020, 1, 1), "Syria and Kabul", entities=("Syria",))
    assert finder.mentions(event) == ["Kabul"]


@pytest.mark.slow  # rebuilds the whole corpus
def test_rebuild_reports_what_it_added_on_the_real_corpus(tmp_path: Path) -> None:
    report = jobs.rebuild(IndexStore(tmp_path), [CORPUS], keep=0)
    vocabulary = MentionVocabulary()
    events = [e for e in all_events() if e.id.startswith("cep-")]
    for event in events:
        vocabulary.observe(event)
    finder = vocabulary.finder()
    gained = [finder.mentions(e) for e in events]
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
