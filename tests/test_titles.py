"""Titles made from a text (WikiTimes records): the first sentence, never cut at an
abbreviation.  Expected titles are written by hand from the texts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.formats import read_file
from indexer.formats.fields import NAME_PREFIXES, title_from_text
from search import Event
from tests.corpus import corpus_file

NEXT = " The next sentence follows here."
FIRST_SENTENCES = [
    "Climbers return from Mt. Everest after the avalanche.",
    "Floods hit St. Louis, Missouri.",
    "St. Petersburg hosts the economic forum.",
    "Gen. John Allen resigns as envoy.",
    "Dr. Margaret Chan warns of a pandemic.",
    "Ms. Merkel meets Mr. Hollande in Paris.",
    "Prof. Stephen Hawking dies at 76.",
    "Sen. Bernie Sanders and Rep. Paul Ryan meet Gov. Jerry Brown.",
    "Lt. Gen. Michael Flynn resigns.",
    "Col. Muammar Gaddafi is killed in Sirte.",
    "Martin Luther King Jr. Day is marked across the country.",
    "Microsoft Corp. Chief Executive Satya Nadella visits India.",
    "No. 10 Downing Street confirms the resignation.",
    "Voters go to the polls on Nov. 8 across the United States.",
    "The U.S. Senate passes the bill.",
    "The U.K. Parliament votes on the deal.",
    "A gunman opens fire at Ft. Lauderdale airport.",
    "Pres. Obama visits Cuba.",
    "Germany vs. Brazil ends 7-1.",
    "Warner Bros. Pictures releases the film.",
    "Is the vote valid?",
    "Prices rise 5.5 percent in March.",
]


@pytest.mark.parametrize("sentence", FIRST_SENTENCES)
def test_the_first_sentence_is_not_cut_at_an_abbreviation(sentence: str) -> None:
    assert title_from_text(sentence + NEXT) == sentence


@pytest.mark.parametrize("prefix", NAME_PREFIXES)
def test_no_title_ends_with_a_name_prefix(prefix: str) -> None:
    sentence = f"Reporters met {prefix}. Arnold Smith in the capital."
    assert title_from_text(sentence + NEXT) == sentence


def test_a_long_first_sentence_is_shortened_at_a_word() -> None:
    sentence = "The committee " + "meets again and " * 20 + "adjourns."
    title = title_from_text(sentence + NEXT + " x" * 500_000)
    assert title.endswith("…") and len(title) <= 161
    assert sentence.startswith(title[:-1])


def test_new_records_get_whole_first_sentences(tmp_path: Path) -> None:
    records = [
        {"id": "1", "date": "2020-01-01", "description": "St. Petersburg hosts a summit. More."},
        {"id": "2", "date": "2020-01-01", "description": "Gen. Mark Milley says no. More."},
    ]
    path = tmp_path / "cep.json"
    path.write_text(json.dumps(records))
    titles = [e.title for e in read_file(path) if isinstance(e, Event)]
    assert titles == ["St. Petersburg hosts a summit.", "Gen. Mark Milley says no."]


@pytest.fixture(scope="module")
def corpus() -> dict[str, Event]:
    return {e.id: e for e in read_file(corpus_file()) if isinstance(e, Event)}


def test_real_corpus_titles(corpus: dict[str, Event]) -> None:
    assert corpus["cep-56800"].title == (
        "Mark Karpelès, the CEO of defunct Bitcoin exchange Mt. Gox, is charged with "
        "embezzlement in Japan."
    )
    assert corpus["cep-56821"].title == (
        "David Ortiz of the Boston Red Sox hits two home runs in the Sox' 10\u20134 win over the "
        "Tampa Bay Rays at Tropicana Field in St. Petersburg, Florida, making him the…"
    )
    # The export's list separators (". , ") neither end up in titles nor in bodies.
    assert corpus["cep-57062"].title == (
        "Battle of Kunduz Afghan National Security Forces start efforts to recapture the "
        "city of Kunduz."
    )
    assert ". , " not in corpus["cep-57078"].body
    for event in corpus.values():
        last = event.title.rstrip("…").split()[-1]
        assert last.rstrip(".") not in NAME_PREFIXES, event.id
        assert last not in {"U.S.", "U.K.", "U.N.", "Inc.", "Corp.", "Jan.", "No."}, event.id
