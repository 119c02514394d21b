"""One time limit for every step of a search (issue 12, item 2), on an index with a
large vocabulary built here: tens of thousands of distinct random words, where
did-you-mean over many unknown words and fuzzy words with two edits are costly
(unbounded, 16 unknown words took seconds and 8 ``word~2`` a minute at 300,000
terms).  With a small limit each answers in the error shape or with what was ready,
``timed_out`` true, and ``took_ms`` counts the steps that ran out."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import falcon.testing
import pytest

from api.app import create_app
from config import Config
from tests.support.indexes import build_index

EVENTS = 600
WORDS_PER_EVENT = 60
LIMIT = 0.2  # seconds: far below what the steps take unbounded on this index

pytestmark = pytest.mark.slow  # builds an index of 36,000 distinct words


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(7))


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    folder = tmp_path_factory.mktemp("vocabulary")
    rng = random.Random(7)
    source = folder / "events.jsonl"
    with open(source, "w", encoding="utf-8") as fh:
        for i in range(EVENTS):
            words = [_word(rng) for _ in range(WORDS_PER_EVENT)]
            record = {"id": f"v{i}", "date": "2020-01-01", "title": " ".join(words[:8])}
            record["body"] = " ".join(words[8:])
            fh.write(json.dumps(record) + "\n")
    config = Config.from_env({}, index_dir=folder / "ix", search_timeout=LIMIT)
    build_index(Path(config.index_dir), source, config=config)
    return config


@pytest.fixture(scope="module")
def client(config: Config) -> falcon.testing.TestClient:
    app = create_app(config)
    app.start()  # the index opened and warmed before requests, as in a gunicorn worker
    return falcon.testing.TestClient(app)


def _unknown(count: int, suffix: str = "") -> str:
    rng = random.Random(99)  # other words than the index's
    return " ".join(_word(rng) + suffix for _ in range(count))


def test_did_you_mean_over_many_unknown_words_stops_at_the_limit(
    client: falcon.testing.TestClient,
) -> None:
    result = client.simulate_get("/api/search", params={"q": _unknown(16), "facets": ""})
    assert result.status_code == 200, result.text
    body = result.json
    # Matching found nothing (the words are unknown) in time; the corrections ran out.
    assert body["total"] == 0 and body["did_you_mean"] is None
    assert body["timed_out"] is True
    assert body["took_ms"] >= LIMIT * 1000


def test_fuzzy_words_stop_at_the_limit(client: falcon.testing.TestClient) -> None:
    result = client.simulate_get("/api/search", params={"q": _unknown(8, "~2"), "facets": ""})
    # Nothing was ready: 503 in the error shape, with when to try again.
    assert result.status_code == 503, result.text
    assert result.json["error"]["code"] == "search_timeout"
    assert result.headers["retry-after"] == "1"


def test_the_same_searches_answer_in_full_without_the_limit(config: Config) -> None:
    """The limit, not the query, cut them short: with time enough, each finishes."""
    patient = falcon.testing.TestClient(create_app(config.replace(search_timeout=600.0)))
    body = patient.simulate_get("/api/search", params={"q": _unknown(4), "facets": ""}).json
    assert body["timed_out"] is False and body["total"] == 0
    fuzzy = patient.simulate_get("/api/search", params={"q": _unknown(1, "~2"), "facets": ""})
    assert fuzzy.status_code == 200 and fuzzy.json["timed_out"] is False


def test_related_to_a_long_text_of_unknown_words_stops_at_the_limit(config: Config) -> None:
    """Finding the names a text mentions and its key terms counts against the same
    limit: a long text of unknown words is not worked through to its end."""
    text = _unknown(2000)[:20_000]
    app = create_app(config.replace(search_timeout=0.001))
    app.start()
    result = falcon.testing.TestClient(app).simulate_post("/api/related", json={"text": text})
    assert result.status_code == 503, result.text
    assert result.json["error"]["code"] == "search_timeout"
    patient = falcon.testing.TestClient(create_app(config.replace(search_timeout=600.0)))
    assert patient.simulate_post("/api/related", json={"text": text}).status_code == 200
