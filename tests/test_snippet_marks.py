"""What a snippet marks: the words of the clauses that matched the event shown, a
phrase's words only where the phrase stands; through GET /api/search on real indexes.

The expected marks are read from the snippet's own text with regular expressions."""

from __future__ import annotations

import html
import re

import falcon.testing
import pytest

from tests.support.indexes import client_for

Client = falcon.testing.TestClient

EVENTS = [
    {
        "id": "both",
        "date": "2021-03-01",
        "title": "Storm at the port",
        "body": "The crane harbour closed in the storm, and a ferry sank by the crane harbour.",
    },
    {
        "id": "ferry-only",
        "date": "2021-03-02",
        "title": "Ferry leaves",
        "body": "A ferry left the harbour of Kiel while a crane stood on the quay of Kiel.",
    },
    {
        "id": "twice",
        "date": "2021-03-03",
        "title": "Two ports",
        "body": "Of all ports, the crane harbour of Kiel and the harbour crane of Lübeck.",
    },
    {
        "id": "storm-body",
        "date": "2021-03-04",
        "title": "Ferry sinks",
        "body": "A ferry sank in a storm off the coast.",
    },
]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Client:
    return client_for(tmp_path_factory.mktemp("marks"), EVENTS)


def snippets(client: Client, q: str) -> dict[str, str]:
    params = {"q": q, "expand": "false", "size": 100}
    result = client.simulate_get("/api/search", params=params)
    assert result.status_code == 200, result.text
    return {r["id"]: r["snippet"] for r in result.json["results"]}


def marked(snippet: str) -> tuple[str, list[tuple[int, str]]]:
    """A snippet's text and its marks, as (offset in the text, marked text)."""
    text, marks, at = [], [], 0
    for piece in re.split(r"(<mark>.*?</mark>)", snippet):
        inner = piece.removeprefix("<mark>").removesuffix("</mark>")
        shown = html.unescape(inner)
        if inner != piece:
            marks.append((at, shown))
        text.append(shown)
        at += len(shown)
    return "".join(text), marks


def words_of(text: str, pattern: str) -> list[tuple[int, str]]:
    """Every word of every match of ``pattern`` in ``text`` (case ignored)."""
    return [
        (found.start() + word.start(), word.group())
        for found in re.finditer(pattern, text, re.IGNORECASE)
        for word in re.finditer(r"\w+", found.group())
    ]


def expect(snippet: str, *patterns: str) -> None:
    text, marks = marked(snippet)
    wanted = sorted(w for pattern in patterns for w in words_of(text, pattern))
    assert marks == wanted, (snippet, wanted)


def test_a_phrase_is_marked_only_where_it_stands(small: Client) -> None:
    found = snippets(small, '"crane harbour"')
    assert set(found) == {"both", "twice"}
    expect(found["both"], r"\bcrane\s+harbour\b")
    # "harbour crane" holds both words, in the other order: not marked.
    expect(found["twice"], r"\bcrane\s+harbour\b")
    assert len(marked(found["twice"])[1]) == 2


def test_a_phrase_with_room_between_its_words(small: Client) -> None:
    found = snippets(small, '"crane quay"~4')
    assert set(found) == {"ferry-only"}
    expect(found["ferry-only"], r"\bcrane\b", r"\bquay\b")


def test_a_clause_that_did_not_match_marks_nothing(small: Client) -> None:
    found = snippets(small, '"crane harbour" OR ferry')
    # Crane and harbour are in the event, apart: the phrase did not match it.
    expect(found["ferry-only"], r"\bferry\b")
    expect(found["both"], r"\bcrane\s+harbour\b", r"\bferry\b")
    found = snippets(small, "(crane AND storm) OR ferry")
    expect(found["ferry-only"], r"\bferry\b")
    expect(found["both"], r"\bcrane\b", r"\bstorm\b", r"\bferry\b")


def test_what_is_excluded_is_never_marked(small: Client) -> None:
    found = snippets(small, "ferry -title:storm")
    assert "storm-body" in found and "both" not in found
    expect(found["storm-body"], r"\bferry\b")  # its body's "storm" is not marked
    found = snippets(small, "ferry NOT (crane AND quay)")
    expect(found["storm-body"], r"\bferry\b")


def test_an_optional_clause_is_marked_where_it_matched(small: Client) -> None:
    found = snippets(small, "+ferry crane")
    assert set(found) == {"both", "ferry-only", "storm-body"}
    expect(found["ferry-only"], r"\bferry\b", r"\bcrane\b")
    expect(found["storm-body"], r"\bferry\b")


def test_the_temple_of_bel_marks_only_the_phrase(client: Client) -> None:
    """The real event: its text has other "of"s (the Islamic State of Iraq)."""
    found = snippets(client, '"temple of bel"')
    assert list(found) == ["cep-56657"]
    text, _ = marked(found["cep-56657"])
    assert len(re.findall(r"\bof\b", text, re.IGNORECASE)) > 1
    expect(found["cep-56657"], r"\btemple\s+of\s+bel\b")


def test_prefix_and_fuzzy_words_are_marked_as_they_matched(small: Client) -> None:
    expect(snippets(small, "harb*")["ferry-only"], r"\bharbour\b")
    expect(snippets(small, "ferri~")["storm-body"], r"\bferry\b")
