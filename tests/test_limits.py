"""Limits on the work one request may ask for, each with its own error, and the time limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import falcon.testing
import numpy as np
import pytest

from api.app import create_app
from config import Config
from indexer import jobs
from search import IndexStore, SearchService
from search.evaluate import Evaluator
from tests.corpus import corpus_file
from tests.support.indexes import build_index


def error(client: falcon.testing.TestClient, **params: Any) -> dict[str, Any]:
    result = client.simulate_get("/api/search", params=params)
    assert result.status_code == 400, result.text
    body: dict[str, Any] = result.json["error"]
    return body


def test_fuzzy_terms_and_their_edit_limit(client: falcon.testing.TestClient) -> None:
    found = client.simulate_get("/api/search", params={"q": "merkle~1", "expand": "false"})
    assert found.json["total"] > 0
    assert all(
        "merkel" in r["snippet"].lower() or "Merkel" in r["title"] for r in found.json["results"]
    )
    assert error(client, q="putin~3") == {
        "code": "too_many_edits",
        "message": "putin~3: at most 2 edits are allowed",
        "parameter": "q",
    }


def test_each_limit_has_its_own_code(client: falcon.testing.TestClient) -> None:
    codes = {
        error(client, q="x" * 1001)["code"],
        error(client, q=" ".join(["word"] * 65))["code"],
        error(client, q="*gees")["code"],
        error(client, q="putin~3")["code"],
        error(client, q='"the refugees"~10000000')["code"],
        error(client, page="2000")["code"],
    }
    assert codes == {
        "query_too_long",
        "too_many_terms",
        "wildcard_not_allowed",
        "too_many_edits",
        "slop_too_large",
        "result_window_too_large",
    }
    assert error(client, facet_size="101")["parameter"] == "facet_size"


def test_limits_follow_their_settings(config: Config) -> None:
    tight = falcon.testing.TestClient(
        create_app(
            config.replace(
                max_query_length=10,
                max_query_terms=2,
                max_edits=0,
                max_slop=3,
                max_result_window=50,
                max_facet_size=3,
            )
        )
    )
    assert error(tight, q="x" * 11)["code"] == "query_too_long"
    assert error(tight, q="a b c")["code"] == "too_many_terms"
    assert error(tight, q="merkle~1")["code"] == "too_many_edits"
    assert error(tight, q='"ab"~4') == {
        "code": "slop_too_large",
        "message": '"ab"~4: a phrase may allow at most 3 words between its words',
        "parameter": "q",
    }
    assert "total" in tight.simulate_get("/api/search", params={"q": '"ab"~3'}).json
    assert error(tight, page="6", size="10")["code"] == "result_window_too_large"
    assert error(tight, facet_size="4")["message"] == "facet_size: must be from 1 to 3, got 4"


@pytest.mark.slow  # its own index of the whole corpus
def test_evaluation_stops_at_the_deadline_between_segments(tmp_path: Path) -> None:
    build_index(tmp_path / "ix", corpus_file())
    extra = tmp_path / "extra.jsonl"
    extra.write_text(
        '{"id": "x1", "date": "2015-10-01", "title": "Syria talks in Vienna"}\n'
        '{"id": "x2", "date": "2015-10-02", "title": "Syria ceasefire holds"}\n'
    )
    jobs.add(IndexStore(tmp_path / "ix"), [extra])  # a second segment
    service = SearchService(Config.from_env({}, index_dir=tmp_path / "ix"))
    try:
        snap = service.live.snapshot()
        query = service.parser(service.live.snapshot()).parse("syria", "any")
        assert len(snap.segments) == 2
        sim, memo = service.similarity, service.live.memo
        whole, complete = Evaluator(snap, sim, memo).run_by_segment(query)
        assert complete and len(whole.docs) > 2
        first = Evaluator(snap, sim, memo, segments=[0]).run(query)
        second = Evaluator(snap, sim, memo, segments=[1]).run(query)
        assert np.array_equal(np.concatenate([first.docs, second.docs]), whole.docs)
        assert np.allclose(np.concatenate([first.scores, second.scores]), whole.scores)
        checks = 0

        def never_out_of_time() -> bool:
            nonlocal checks
            checks += 1
            return False

        Evaluator(snap, sim, memo, never_out_of_time, segments=[0]).run(query)
        # Time runs out just after the first segment is done.
        calls = iter([False] * checks + [True] * 100)
        partial, complete = Evaluator(snap, sim, memo, lambda: next(calls)).run_by_segment(query)
        assert not complete and np.array_equal(partial.docs, first.docs)
        nothing, complete = Evaluator(snap, sim, memo, lambda: True).run_by_segment(query)
        assert not complete and len(nothing.docs) == 0
    finally:
        service.close()


def test_a_search_out_of_time_answers_503_or_partial(config: Config) -> None:
    client = falcon.testing.TestClient(create_app(config.replace(search_timeout=1e-9)))
    result = client.simulate_get("/api/search", params={"q": "syria"})
    assert result.status_code == 503
    assert result.headers["retry-after"] == "1"
    assert result.json["error"]["code"] == "search_timeout"
    # An empty query needs no collecting: every event, newest first; but the facets
    # were not counted in time, and the answer says so.
    body = client.simulate_get("/api/search").json
    assert body["total"] > 400 and len(body["results"]) == 10
    assert body["timed_out"] is True and body["facets"] == {}
    # Related events share the limit: nothing partial to show, so 503.
    event_id = body["results"][0]["id"]
    for related in (
        client.simulate_get(f"/api/events/{event_id}/related"),
        client.simulate_post("/api/related", json={"text": "Syria refugees cross into Hungary"}),
    ):
        assert related.status_code == 503, related.text
        assert related.headers["retry-after"] == "1"
        assert related.json["error"]["code"] == "search_timeout"


def test_in_time_is_not_flagged(client: falcon.testing.TestClient) -> None:
    body = client.simulate_get("/api/search", params={"q": "syria"}).json
    assert body["timed_out"] is False and body["total"] > 0
