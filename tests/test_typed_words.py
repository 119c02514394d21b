"""What readers type and see: a trailing space in the search box, did-you-mean on
words that match, and dates written in the query, on real indexes through the API."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import falcon.testing
import pytest

from search.datehint import MOST_DATES, READER, DateReader, NotReady, find_dates
from search.suggest import match_key
from tests.support.indexes import client_for
from tests.truth import all_events, between


@pytest.fixture(scope="module", autouse=True)
def dates_loaded() -> None:
    """dateparser loaded, as it is once the service has warmed it (a search never
    waits for it: until then queries have no hint)."""
    READER.load()


def suggest(client: falcon.testing.TestClient, q: str, size: int = 20) -> list[str]:
    result = client.simulate_get("/api/suggest", params={"q": q, "size": size})
    assert result.status_code == 200, result.text
    return [s["text"] for s in result.json["suggestions"]]


def search(client: falcon.testing.TestClient, **params: Any) -> dict[str, Any]:
    result = client.simulate_get("/api/search", params=params)
    assert result.status_code == 200, result.text
    body: dict[str, Any] = result.json
    return body


# A trailing space ends the word typed: the next word begins.


@pytest.mark.parametrize("typed", ["russia ", "Russia  ", "russia\t", "vladimir "])
def test_a_trailing_space_completes_the_next_word(
    client: falcon.testing.TestClient, typed: str
) -> None:
    word = typed.strip().lower()
    # The corpus's titles that write the word, whole, and another after it.
    assert any(re.search(rf"\b{word}\b\W+\w", e.title, re.IGNORECASE) for e in all_events()), (
        "the corpus has such titles"
    )
    found = suggest(client, typed)
    assert found
    for text in found:
        words = match_key(text).split(" ")
        # The typed word stands whole in the suggestion, and a word follows it.
        assert any(w == word for w in words[:-1]), (typed, text)
    assert not any(w.startswith(word) and w != word for t in found for w in match_key(t).split())


def test_without_a_trailing_space_the_word_is_a_prefix(client: falcon.testing.TestClient) -> None:
    assert "Russian" in suggest(client, "russia")
    assert "Russian" not in suggest(client, "russia ")


def test_a_trailing_space_alone_offers_nothing(client: falcon.testing.TestClient) -> None:
    assert suggest(client, " ") == [] and suggest(client, "   ") == []


# Did you mean: a word that matches is never replaced, and a correction is a word
# of the index as people write it.


def _event(key: str, day: str, title: str) -> dict[str, str]:
    return {"id": key, "date": day, "title": title, "body": f"{title}, the report says."}


WORDS = [
    _event("w1", "2020-01-01", "A rare wombat is seen in the park"),
    _event("w2", "2020-01-02", "As is his wont, the mayor spoke for hours"),
    *[_event(f"m{i}", f"2020-02-0{i}", f"Woman {i} won the race") for i in range(1, 7)],
    *[_event(f"o{i}", f"2020-03-0{i}", f"Health organization study {i}") for i in range(1, 7)],
]


@pytest.fixture(scope="module")
def words_client(tmp_path_factory: pytest.TempPathFactory) -> falcon.testing.TestClient:
    return client_for(tmp_path_factory.mktemp("words"), WORDS)


@pytest.mark.parametrize(("typed", "matches"), [("wombat", "w1"), ("wont", "w2")])
def test_a_word_that_matches_is_never_replaced(
    words_client: falcon.testing.TestClient, typed: str, matches: str
) -> None:
    body = search(words_client, q=typed)
    assert [r["id"] for r in body["results"]] == [matches]
    assert body["did_you_mean"] is None


@pytest.mark.parametrize(
    ("typed", "offered"),
    [
        ("womam", "woman"),  # one edit from a word of six events
        ("organisation", "organization"),  # the British spelling, in no event here
        ("Organisation study", "Organization study"),
        ("wombat womam", "wombat woman"),  # the matching word stays, the other is corrected
    ],
)
def test_an_unknown_word_is_offered_a_word_of_the_index(
    words_client: falcon.testing.TestClient, typed: str, offered: str
) -> None:
    assert search(words_client, q=typed)["did_you_mean"] == offered


def test_organisation_finds_the_organization_events_or_offers_them(
    client: falcon.testing.TestClient,
) -> None:
    """On the real corpus "organisation" is written once: it matches, so did-you-mean
    leaves it; British and American spellings are the analysis's to join."""
    body = search(client, q="organisation", size=1)
    written = [e for e in all_events() if "organisation" in f"{e.title} {e.body}".lower()]
    assert body["total"] >= len(written) >= 1
    assert body["did_you_mean"] in (None, "organization")


# Dates in the query: proposed as a filter, their words need not match.

SEPTEMBER = (dt.date(2015, 9, 1), dt.date(2015, 9, 30))


@pytest.mark.parametrize(
    ("typed", "first", "last", "text"),
    [
        ("Sept. 2015", "2015-09-01", "2015-09-30", "Sept. 2015"),
        ("refugees sept 2015", "2015-09-01", "2015-09-30", "sept 2015"),
        ("March 2016", "2016-03-01", "2016-03-31", "March 2016"),
        ("february 2016", "2016-02-01", "2016-02-29", "february 2016"),  # a leap year
        ("2015-09-04", "2015-09-04", "2015-09-04", "2015-09-04"),
        ("2015-09", "2015-09-01", "2015-09-30", "2015-09"),
        ("9 March 2016", "2016-03-09", "2016-03-09", "9 March 2016"),
        ("9th of March, 2016", "2016-03-09", "2016-03-09", "9th of March, 2016"),
        ("September 4, 2015 Hungary", "2015-09-04", "2015-09-04", "September 4, 2015"),
        ("Sep 4th 2015", "2015-09-04", "2015-09-04", "Sep 4th 2015"),
        ("2015", "2015-01-01", "2015-12-31", "2015"),  # a bare year: the whole year
        ("Rugby World Cup 2015", "2015-01-01", "2015-12-31", "2015"),
        ("March 2016 to May 2016", "2016-03-01", "2016-05-31", "March 2016 \u2013 May 2016"),
    ],
)
def test_a_date_in_the_query_is_offered_as_a_filter(
    client: falcon.testing.TestClient, typed: str, first: str, last: str, text: str
) -> None:
    body = search(client, q=typed, size=1)
    assert body["date_hint"] == {"from": first, "to": last, "text": text}
    assert body["did_you_mean"] is None  # "Sept." is not "Set."


def test_did_you_mean_corrects_the_words_beside_a_date(client: falcon.testing.TestClient) -> None:
    body = search(client, q="refugess Sept. 2015", size=1)
    assert body["did_you_mean"] == "refugees Sept. 2015"
    assert body["date_hint"] == {"from": "2015-09-01", "to": "2015-09-30", "text": "Sept. 2015"}


@pytest.mark.parametrize(
    "typed",
    [
        "refugees",
        "march on washington",  # a month name alone is a word
        "may 9",  # no year: which one?
        "31 Feb 2015",  # no such day
        "2015-13",  # no such month
        "9/11",  # day and month in an ambiguous order
        "12/09/2015",
        "covid19",
        "1,500 refugees",
        "2015-16 season",
        '"Sept 2015"',  # a quoted phrase is taken as typed
        "title:2015",
        "NOT 2015",
        "2015*",
        "1850",  # not taken for a bare year
    ],
)
def test_what_is_not_a_date_gives_no_hint(client: falcon.testing.TestClient, typed: str) -> None:
    assert search(client, q=typed, size=1)["date_hint"] is None


def test_date_words_need_not_match(client: falcon.testing.TestClient) -> None:
    """No event says "Sept.": the query's other words decide what matches (with
    ``match=all`` too), and a query of only a date matches every event; the hint
    applied gives September's events."""
    september = [e for e in all_events() if between(*SEPTEMBER)(e)]
    refugees = [e for e in september if re.search(r"\brefugees?\b", f"{e.title} {e.body}", re.I)]
    assert refugees
    alone = search(client, q="Sept. 2015", size=0)
    assert alone["total"] == len(all_events())  # only a date: every event
    applied = search(client, q="Sept. 2015", size=0, **{"from": "2015-09-01", "to": "2015-09-30"})
    assert applied["total"] == len(september)
    both = search(client, q="refugees Sept. 2015", match="all", size=0, expand="false")
    words = search(client, q="refugees", match="all", size=0, expand="false")
    assert both["total"] == words["total"] >= len(refugees)
    narrowed = search(
        client,
        q="refugees Sept. 2015",
        match="all",
        size=100,
        expand="false",
        **{"from": "2015-09-01", "to": "2015-09-30"},
    )
    assert narrowed["total"] >= len(refugees)
    assert all(
        SEPTEMBER[0].isoformat() <= r["date"] <= SEPTEMBER[1].isoformat()
        for r in narrowed["results"]
    )


def test_only_the_first_dates_of_a_query_are_read(client: falcon.testing.TestClient) -> None:
    """A query of many dates (each new to the parser) is answered, its hint from the
    first ``MOST_DATES`` of them; the others are words."""
    months = [f"{m} {y}" for y in range(1990, 2000) for m in ("January", "June")]
    assert MOST_DATES == 4
    body = search(client, q=" ".join(months), size=1)
    assert body["date_hint"]["from"] == "1990-01-01"
    assert body["date_hint"]["to"] == "1991-06-30"  # June 1991: the fourth


def test_a_query_with_dates_has_the_same_limits(client: falcon.testing.TestClient) -> None:
    words = " ".join(f"w{i}x" for i in range(61))
    assert search(client, q=f"{words} Sept. 2015", size=1)["date_hint"] is not None
    result = client.simulate_get("/api/search", params={"q": f"{words} 9 Sept. 2015 2016"})
    assert result.status_code == 400 and result.json["error"]["code"] == "too_many_terms"


def test_a_reader_not_loaded_reads_nothing_until_it_is() -> None:
    reader = DateReader()
    assert not reader.ready()
    with pytest.raises(NotReady):
        reader.read("March 2016")
    reader.load()
    assert reader.read("March 2016") == (dt.date(2016, 3, 1), "month")
    assert reader.read("31 Feb 2015") is None


def test_find_dates_spans_and_rest() -> None:
    found = find_dates("refugees Sept. 2015 Hungary")
    assert found is not None
    assert found.spans == ((9, 19),) and found.rest == "refugees Hungary"
    assert found.words == "Sept. 2015"
    assert find_dates("refugees in Hungary") is None


def test_the_hint_is_in_the_openapi_document(client: falcon.testing.TestClient) -> None:
    spec = client.simulate_get("/api/openapi.json").json
    schemas = spec["components"]["schemas"]
    assert schemas["DateHint"]["required"] == ["from", "to", "text"]
    assert set(schemas["DateHint"]["properties"]) == {"from", "to", "text"}
    assert "date_hint" in schemas["SearchPage"]["required"]
