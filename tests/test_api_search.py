"""GET /api/search through falcon.testing on a real index of the real corpus."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import falcon.testing
import pytest

from search.text import Analyzer, fold
from tests.truth import (
    all_events,
    between,
    cites,
    has_entity,
    matching,
    top_values,
)

SEPT_2015 = between(dt.date(2015, 9, 1), dt.date(2015, 9, 30))


def search(client: falcon.testing.TestClient, **params: Any) -> dict[str, Any]:
    result = client.simulate_get("/api/search", params=params)
    assert result.status_code == 200, result.text
    body: dict[str, Any] = result.json
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [r["id"] for r in body["results"]]


def test_response_shape(client: falcon.testing.TestClient) -> None:
    body = search(client, q="putin")
    assert set(body) == {
        "total",
        "page",
        "size",
        "sort",
        "took_ms",
        "timed_out",
        "results",
        "facets",
        "expanded",
        "did_you_mean",
        "date_hint",
    }
    assert body["date_hint"] is None  # "putin" holds no date
    assert body["page"] == 1 and body["size"] == 10 and body["sort"] == "relevance"
    assert set(body["facets"]) == {"date", "entity", "source"}
    item = body["results"][0]
    assert set(item) == {
        "id",
        "date",
        "title",
        "snippet",
        "entities",
        "sources",
        "category",
        "story",
        "image",
        "score",
    }


def test_words_match_title_body_and_entities(client: falcon.testing.TestClient) -> None:
    body = search(client, q="putin", size=100, expand="false")
    words = Analyzer().words
    expected = matching(lambda e: "putin" in words(" ".join([e.title, e.body, *e.entities])))
    assert sorted(ids(body)) == sorted(e.id for e in expected)
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_accents_and_case_do_not_matter(client: falcon.testing.TestClient) -> None:
    plain = search(client, q="munchen", size=100)
    accented = search(client, q="MÜNCHEN", size=100)
    assert ids(plain) == ids(accented)
    assert "cep-56665" in ids(plain)  # München Hauptbahnhof, written with the accent
    assert any("München" in r["title"] for r in plain["results"])


def test_stemming(client: falcon.testing.TestClient) -> None:
    assert search(client, q="refugee")["total"] == search(client, q="refugees")["total"] > 10


def test_match_all_and_any(client: falcon.testing.TestClient) -> None:
    def found(**params: Any) -> set[str]:
        return set(ids(search(client, size=100, expand="false", **params)))

    one, other = found(q="refugees"), found(q="hungary")
    assert found(q="refugees hungary", match="all") == one & other != set()
    assert found(q="refugees hungary", match="any") == one | other
    ranked = ids(search(client, q="refugees hungary", match="any", expand="false", size=1))
    assert ranked[0] in one & other  # events with both words rank first


def test_expansion_only_reranks_and_says_how(client: falcon.testing.TestClient) -> None:
    for q in ("refugees hungary", "boko haram", "maiduguri bombing"):
        literal = search(client, q=q, expand="false", size=100, facets="entity,source,date")
        expanded = search(client, q=q, expand="true", size=100, facets="entity,source,date")
        assert literal["expanded"] is None
        assert expanded["expanded"]["entities"] and expanded["expanded"]["terms"]
        # The matches, their total and every facet are the literal query's.
        assert sorted(ids(expanded)) == sorted(ids(literal))
        assert expanded["total"] == literal["total"]
        assert expanded["facets"] == literal["facets"]
    # Expansion reorders only events missing a query word, below every event that has
    # them all: it is not run when none of those reach the page shown.
    assert search(client, q="maiduguri", expand="true", size=100)["expanded"] is None
    assert search(client, q="refugees hungary", expand="true", size=1)["expanded"] is None
    # Sorting by date never expands.
    assert search(client, q="maiduguri", sort="newest", expand="true")["expanded"] is None


def test_phrase_not_and_fields_and_prefix(client: falcon.testing.TestClient) -> None:
    assert ids(search(client, q='"Temple of Bel"', expand="false")) == ["cep-56657"]
    merkel = set(ids(search(client, q="merkel", size=100, expand="false")))
    without = set(ids(search(client, q="merkel NOT refugees", size=100, expand="false")))
    assert without < merkel
    in_entity = search(client, q='entity:"Vladimir Putin"', size=100, expand="false")
    assert in_entity["total"] == len(matching(has_entity("Vladimir Putin")))
    in_title = search(client, q="title:hungary", size=100, expand="false")
    assert all("hungary" in fold(r["title"]) for r in in_title["results"])
    prefix = search(client, q="refug*", expand="false")
    assert prefix["total"] >= search(client, q="refugees", expand="false")["total"]


def test_syntax_errors_degrade_to_words(client: falcon.testing.TestClient) -> None:
    body = search(client, q='(refugees AND "hungary')
    assert body["total"] > 0
    # Operators alone are words: the events that hold them.
    words = search(client, q="OR AND NOT", size=100)
    assert words["total"] > 0
    for result in words["results"]:
        event = next(e for e in all_events() if e.id == result["id"])
        text = " ".join([event.title, event.body, *event.entities])
        assert re.search(r"\b(or|and|not)\b", text, re.I), result["title"]


def test_empty_query_is_every_event_newest_first(client: falcon.testing.TestClient) -> None:
    body = search(client, size=100)
    assert body["total"] == len(all_events())
    assert body["sort"] == "newest"
    dates = [r["date"] for r in body["results"]]
    assert dates == sorted(dates, reverse=True)
    assert all(r["score"] is None for r in body["results"])


def test_sort_orders(client: falcon.testing.TestClient) -> None:
    oldest = [r["date"] for r in search(client, q="syria", sort="oldest", size=50)["results"]]
    newest = [r["date"] for r in search(client, q="syria", sort="newest", size=50)["results"]]
    assert oldest == sorted(oldest) and newest == sorted(newest, reverse=True)


def test_pages_continue_without_overlap(client: falcon.testing.TestClient) -> None:
    first = ids(search(client, q="syria", size=5, page=1))
    second = ids(search(client, q="syria", size=5, page=2))
    both = ids(search(client, q="syria", size=10))
    assert first + second == both
    beyond = search(client, q="syria", size=10, page=100)
    assert beyond["results"] == [] and beyond["total"] == search(client, q="syria")["total"]


def test_size_zero_returns_facets_only(client: falcon.testing.TestClient) -> None:
    body = search(client, size=0, facets="date")
    assert body["results"] == [] and body["total"] == len(all_events())
    assert set(body["facets"]) == {"date"}


def test_entity_filters_all_must_match(client: falcon.testing.TestClient) -> None:
    one = search(client, entity="hungary", size=100)
    assert one["total"] == len(matching(has_entity("Hungary"))) > 5
    two = client.simulate_get(
        "/api/search", query_string="entity=Hungary&entity=Croatia&size=100"
    ).json
    expected = matching(lambda e: has_entity("Hungary")(e) and has_entity("Croatia")(e))
    assert sorted(ids(two)) == sorted(e.id for e in expected) and expected
    assert search(client, entity="No Such Entity")["total"] == 0


def test_source_filters_any_may_match_by_name_or_domain(client: falcon.testing.TestClient) -> None:
    assert search(client, source="bbc")["total"] == len(matching(cites("BBC"))) > 10
    assert search(client, source="bbc.com")["total"] == len(matching(cites("bbc.com"))) > 10
    both = client.simulate_get("/api/search", query_string="source=BBC&source=Reuters").json
    assert both["total"] == len(matching(lambda e: cites("BBC")(e) or cites("Reuters")(e)))


def test_category_filter(client: falcon.testing.TestClient) -> None:
    body = client.simulate_get("/api/search", query_string="category=Sports&category=politics").json
    assert body["total"] == len(matching(lambda e: e.category in ("Sports", "Politics"))) == 56


@pytest.mark.parametrize(
    ("params", "first", "last"),
    [
        ({"from": "2015-09-10", "to": "2015-09-12"}, dt.date(2015, 9, 10), dt.date(2015, 9, 12)),
        ({"from": "2015-09", "to": "2015-09"}, dt.date(2015, 9, 1), dt.date(2015, 9, 30)),
        ({"to": "2015-09-29"}, dt.date(1, 1, 1), dt.date(2015, 9, 29)),
        ({"from": "2016"}, dt.date(2016, 1, 1), dt.date(9999, 12, 31)),
        ({"from": "2014", "to": "2017"}, dt.date(2014, 1, 1), dt.date(2017, 12, 31)),
    ],
)
def test_date_filters_are_inclusive(
    client: falcon.testing.TestClient, params: dict[str, str], first: dt.date, last: dt.date
) -> None:
    body = search(client, size=0, **params)
    assert body["total"] == len(matching(between(first, last)))


def test_facet_counts_cover_all_matches(client: falcon.testing.TestClient) -> None:
    body = search(
        client,
        size=3,
        facets="entity,source,category",
        facet_size=10,
        **{"from": "2015-09", "to": "2015-09"},
    )
    events = matching(SEPT_2015)
    for facet in ("entity", "source", "category"):
        assert body["facets"][facet] == top_values(facet, events, 10)


def test_facets_follow_the_query(client: falcon.testing.TestClient) -> None:
    body = search(client, q="refugees", size=1, facet_size=5)
    hits = {
        i for page in (1, 2, 3, 4) for i in ids(search(client, q="refugees", size=100, page=page))
    }
    assert len(hits) == body["total"]
    events = [e for e in all_events() if e.id in hits]
    assert body["facets"]["entity"] == top_values("entity", events, 5)


def test_date_histogram_has_every_bucket_in_order(client: falcon.testing.TestClient) -> None:
    body = search(client, size=0, facets="date", **{"from": "2015-09", "to": "2015-09"})
    histogram = body["facets"]["date"]
    assert histogram["interval"] == "day"
    expected = Counter(e.date.isoformat() for e in matching(SEPT_2015))
    keys = [b["key"] for b in histogram["buckets"]]
    assert keys == [f"2015-09-{d:02d}" for d in range(1, 31)]
    assert [b["count"] for b in histogram["buckets"]] == [expected[k] for k in keys]


def test_histogram_intervals(client: falcon.testing.TestClient) -> None:
    every = search(client, size=0, facets="date")["facets"]["date"]
    assert every["interval"] == "year"
    years = [b["key"] for b in every["buckets"]]
    assert years == [str(y) for y in range(int(years[0]), int(years[-1]) + 1)]
    assert sum(b["count"] for b in every["buckets"]) == len(all_events())
    months = search(client, size=0, facets="date", interval="month", q="merkel")["facets"]["date"]
    assert months["interval"] == "month"
    assert all(re.fullmatch(r"\d{4}-\d{2}", b["key"]) for b in months["buckets"])
    assert months["buckets"][0]["count"] > 0 and months["buckets"][-1]["count"] > 0
    nothing = search(client, q="zzzzunknownword", facets="date")["facets"]["date"]
    assert nothing["buckets"] == []


def test_snippets_mark_query_words(client: falcon.testing.TestClient) -> None:
    body = search(client, q="refugees hungary", match="all")
    snippet = body["results"][0]["snippet"]
    assert re.search(r"<mark>refugees?</mark>", snippet, re.I)
    assert re.search(r"<mark>hungary('s)?</mark>", snippet, re.I)
    assert "<mark>" not in search(client, q="refugees", highlight="false")["results"][0]["snippet"]


def test_event_route_returns_the_canonical_shape(client: falcon.testing.TestClient) -> None:
    event = next(e for e in all_events() if e.id == "cep-56657")
    result = client.simulate_get("/api/events/cep-56657")
    assert result.status_code == 200
    body = result.json
    mentions = body.pop("mentions")
    assert body == event.to_dict()
    # The names its text mentions, as search results list them after its own entities.
    found = search(client, q='"temple of bel"', expand="false")["results"]
    [hit] = [r for r in found if r["id"] == "cep-56657"]
    assert hit["entities"] == list(event.entities) + mentions
    seed = next(e for e in all_events() if e.related)
    body = client.simulate_get(f"/api/events/{seed.id}").json
    assert body["related"] == [r.to_dict() for r in seed.related]


def test_stats_route(client: falcon.testing.TestClient) -> None:
    body = client.simulate_get("/api/stats").json
    dates = sorted(e.date for e in all_events())
    assert body["documents"] == len(all_events())
    assert body["first_date"] == dates[0].isoformat() and body["last_date"] == dates[-1].isoformat()
    assert body["generation"] == "gen-000001"
    assert dt.datetime.fromisoformat(body["built_at"])


def test_health_and_ready(client: falcon.testing.TestClient) -> None:
    assert client.simulate_get("/healthz").json == {"status": "ok"}
    assert client.simulate_get("/readyz").json == {"status": "ready"}


def test_phrases_keep_stop_words_in_their_place(tmp_path: Any) -> None:
    from tests.support.indexes import client_for

    small = client_for(
        tmp_path,
        [
            {"id": "gap", "date": "2020-01-01", "title": "Floods hit the north coast"},
            {"id": "next", "date": "2020-01-02", "title": "Floods hit north Jakarta"},
        ],
    )

    def found(q: str) -> list[str]:
        body = small.simulate_get("/api/search", params={"q": q, "expand": "false"}).json
        return sorted(r["id"] for r in body["results"])

    assert found('"hit north"') == ["next"]
    assert found('"hit the north"') == ["gap"]
    assert found('"hit north"~2') == ["gap", "next"]
