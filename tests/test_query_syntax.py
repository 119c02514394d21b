"""Every form of the README's "Query syntax" table, one test each, through GET /api/search
on a real index of the real corpus.

The expected events come from the events' text, read here with plain regular
expressions (and a plain edit distance), never from the engine: a word is found
where the text has it as a whole word, in any case."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import falcon.testing
import pytest

from tests.corpus import ROOT
from tests.truth import all_events, entities_of

Client = falcon.testing.TestClient

# -- the text, read plainly ---------------------------------------------------------


def _text(event: Any, field: str | None = None) -> str:
    """An event's words: its title, body and entity names, or one of them."""
    parts = {"title": [event.title], "body": [event.body], "entity": entities_of(event)}
    if field is not None:
        return " ".join(parts[field])
    return " ".join(part for value in parts.values() for part in value)


def having(pattern: str, field: str | None = None) -> set[str]:
    """Ids of the events whose text matches ``pattern`` (case ignored)."""
    expr = re.compile(pattern, re.IGNORECASE)
    return {e.id for e in all_events() if expr.search(_text(e, field))}


def every() -> set[str]:
    return {e.id for e in all_events()}


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and
    swaps of neighbours, each 1."""
    rows = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


def within(word: str, edits: int) -> set[str]:
    """Ids of the events with a word at most ``edits`` edits from ``word``."""
    return {
        e.id
        for e in all_events()
        if any(_edits(word, w) <= edits for w in set(re.findall(r"[a-z]+", _text(e).lower())))
    }


WORD = {w: rf"\b{w}\b" for w in ("syria", "palmyra", "hungary", "merkel", "putin", "and")}


@functools.cache
def word(name: str) -> frozenset[str]:
    """Ids of the events with the word (WORD), read when a test asks (collecting the
    tests needs no corpus)."""
    return frozenset(having(WORD[name]))


def refugee() -> set[str]:
    return having(r"\brefugees?\b")


def temple_of_bel() -> set[str]:
    return having(r"\btemple\s+of\s+bel\b")


# -- the service ----------------------------------------------------------------------


def found(client: Client, q: str, match: str = "any") -> set[str]:
    """Every event the search answers (all pages)."""
    ids: list[str] = []
    page = 1
    while True:
        params = {"q": q, "match": match, "expand": "false", "size": 100, "page": page}
        result = client.simulate_get("/api/search", params=params)
        assert result.status_code == 200, result.text
        ids += [r["id"] for r in result.json["results"]]
        if len(ids) >= result.json["total"]:
            assert len(ids) == result.json["total"] == len(set(ids))
            return set(ids)
        page += 1


def ranked(client: Client, q: str) -> list[str]:
    params = {"q": q, "expand": "false", "size": 100}
    return [r["id"] for r in client.simulate_get("/api/search", params=params).json["results"]]


def refused(client: Client, q: str, code: str) -> None:
    """``q`` is answered 400 with ``code``, the message quoting ``q`` as typed."""
    result = client.simulate_get("/api/search", params={"q": q})
    assert result.status_code == 400, result.text
    error = result.json["error"]
    assert error["code"] == code and error["parameter"] == "q", error
    assert error["message"].startswith(f"{q}:") or f"'{q}'" in error["message"], error


# -- one check per row -----------------------------------------------------------------

ROWS: dict[str, Callable[[Client], None]] = {}


def row(form: str) -> Callable[[Callable[[Client], None]], Callable[[Client], None]]:
    def register(check: Callable[[Client], None]) -> Callable[[Client], None]:
        ROWS[form] = check
        return check

    return register


@row("`word`")
def _word(client: Client) -> None:
    assert found(client, "refugee") == found(client, "Refugees") == refugee() != set()
    assert found(client, "palmyra") == word("palmyra") != set()


@row("`word word`")
def _words(client: Client) -> None:
    assert found(client, "syria palmyra") == word("syria") | word("palmyra")
    assert found(client, "syria palmyra", match="all") == word("syria") & word("palmyra") != set()


@row('`"phrase"`')
def _phrase(client: Client) -> None:
    assert found(client, '"temple of bel"') == temple_of_bel() != set()
    assert found(client, '"temple bel"') == having(r"\btemple\s+bel\b") == set()


@row('`"phrase"~N`')
def _sloppy_phrase(client: Client) -> None:
    assert found(client, '"temple bel"~2') == having(r"\btemple\s+\S+\s+bel\b") != set()
    refused(client, '"temple bel"~x', "invalid_parameter")


@row("`a AND b`")
def _and(client: Client) -> None:
    assert found(client, "syria AND palmyra") == word("syria") & word("palmyra") != set()


@row("`a OR b`")
def _or(client: Client) -> None:
    assert found(client, "merkel OR hungary", match="all") == word("merkel") | word("hungary")


@row("`NOT a`")
def _not(client: Client) -> None:
    assert found(client, "syria NOT palmyra") == word("syria") - word("palmyra") != word("syria")
    assert found(client, "NOT syria") == every() - word("syria")


@row("`-a`")
def _minus(client: Client) -> None:
    assert found(client, "-syria") == every() - word("syria")
    assert found(client, '-"temple of bel"') == every() - temple_of_bel()
    assert found(client, "syria -palmyra") == word("syria") - word("palmyra")
    assert found(client, "syria -title:palmyra") == word("syria") - having(WORD["palmyra"], "title")
    assert found(client, "-(syria OR hungary)") == every() - word("syria") - word("hungary")
    assert found(client, "-syria -hungary", match="all") == every() - word("syria") - word(
        "hungary"
    )
    # A hyphen inside a word is no sign.
    saint_germain = having(r"\bsaint\b") & having(r"\bgermain\b")
    assert found(client, "Saint-Germain", match="all") == saint_germain != set()


@row("`+a`")
def _plus(client: Client) -> None:
    assert found(client, "+syria refugees") == word("syria")
    both = word("syria") & refugee()
    assert both and set(ranked(client, "+syria refugees")[: len(both)]) == both
    assert found(client, "+syria +refugees") == both


@row("`(a b)`")
def _group(client: Client) -> None:
    assert (
        found(client, "(syria -palmyra) OR refugees")
        == (word("syria") - word("palmyra")) | refugee()
    )
    assert found(client, "(syria palmyra) hungary", match="all") == word("syria") & word(
        "palmyra"
    ) & word("hungary")
    assert found(client, "(syria palmyra)") == word("syria") | word("palmyra")


@row("`field:word`")
def _field(client: Client) -> None:
    in_title = having(WORD["palmyra"], "title")
    assert found(client, "title:palmyra") == found(client, "Title:Palmyra") == in_title != set()
    putin = having(r"\bputin\b", "entity")
    assert found(client, "ENTITY:putin") == found(client, "entity:putin") == putin != set()
    assert found(client, 'title:"temple of bel"') == having(r"\btemple\s+of\s+bel\b", "title")
    # Another name before a colon is plain text: its words.
    assert found(client, "Syria:Palmyra") == word("syria") | word("palmyra")
    assert found(client, "hungary:palmyra", match="all") == word("hungary") & word("palmyra")


@row("`prefix*`")
def _prefix(client: Client) -> None:
    assert found(client, "refug*") == having(r"\brefug\w*") != set()
    assert found(client, "COVID-1*") == having(r"\bcovid-?1\d*") != set()
    assert found(client, "Saint-Germain*") == having(r"\bsaint-?germain") != set()
    for typed in ("*gees", "r?fugee", "refug*s"):
        refused(client, typed, "wildcard_not_allowed")


@row("`word~`")
def _fuzzy(client: Client) -> None:
    assert found(client, "palmira~") == within("palmira", 1) == word("palmyra")


@row("`word~N`")
def _fuzzy_edits(client: Client) -> None:
    assert found(client, "hungery~2") == within("hungery", 2) != set()
    assert found(client, "refugees~0") == refugee()
    refused(client, "palmyra~99", "too_many_edits")
    refused(client, "palmyra~3", "too_many_edits")
    refused(client, "a~", "too_many_edits")
    refused(client, "ab~2", "too_many_edits")
    for typed in ("palmyra~-1", "palmyra~2.5", "palmyra~x", "palmyra~/3"):
        refused(client, typed, "invalid_parameter")


@row("`*`")
def _star(client: Client) -> None:
    assert found(client, "*") == every()
    assert found(client, "syria *") == found(client, "* syria") == word("syria")


@row("`AND`, `OR` or `NOT` with nothing on one side")
def _dangling(client: Client) -> None:
    for q in ("refugees AND", "OR refugees", "refugees NOT", "(refugees AND)", "refugees OR"):
        assert found(client, q) == refugee(), q
    assert found(client, "refugees AND", match="all") == refugee() & having(WORD["and"])
    assert found(client, "AND") == having(WORD["and"])


# -- the table and the tests agree ---------------------------------------------------------


def _readme_forms() -> list[str]:
    """The first column of the README's syntax table, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Query syntax", 1)[1].split("\n### ", 1)[0]
    return [
        line.split(" | ")[0].removeprefix("| ")
        for line in section.splitlines()
        if line.startswith("| `")
    ]


def test_every_form_of_the_readme_has_a_test() -> None:
    assert _readme_forms() == list(ROWS)


@pytest.mark.parametrize("form", list(ROWS))
def test_form(client: Client, form: str) -> None:
    ROWS[form](client)
