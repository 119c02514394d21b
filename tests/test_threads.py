"""Threads share one app and one search service, as they do in a gunicorn worker:
answers given concurrently are the answers given one at a time."""

from __future__ import annotations

import threading
from typing import Any

import falcon.testing
import pytest

from api.app import create_app
from config import Config

pytestmark = pytest.mark.slow  # many threads against one app, compared with one

REQUESTS = [
    ("/api/search", "q=refugees&facets=date,entity,source,category"),
    ("/api/search", "q=merkel&sort=newest&size=20"),
    ("/api/search", "q=putin~1&expand=false"),
    ("/api/search", "q=refug*&match=all"),
    ("/api/search", 'q="european union"&highlight=true'),
    ("/api/search", "q=president&entity=Barack%20Obama&interval=month"),
    ("/api/search", "q=refugess"),  # did you mean
    ("/api/search", "size=0&facets=date&interval=year"),
    ("/api/events/cep-56665/related", "size=8"),
    ("/api/suggest", "q=vladimir%20pu"),
    ("/api/events/cep-56657", ""),
    ("/api/stats", ""),
]


def _answer(client: falcon.testing.TestClient, path: str, query: str) -> Any:
    result = client.simulate_get(path, query_string=query)
    body = result.json
    if isinstance(body, dict):
        body.pop("took_ms", None)
    return result.status_code, body


def test_concurrent_answers_equal_sequential_ones(config: Config) -> None:
    # A fresh app and service: every thread opens its own searcher, as in a worker.
    # Eight threads share two cores, so searches take longer than alone: the time
    # limit is raised, so that only a wrong answer, not a late one, can differ.
    client = falcon.testing.TestClient(create_app(config.replace(search_timeout=600.0)))
    expected = [_answer(client, path, query) for path, query in REQUESTS]
    assert all(status == 200 for status, _ in expected)
    failures: list[str] = []
    barrier = threading.Barrier(8)

    def work(offset: int) -> None:
        barrier.wait()
        for round_ in range(3):
            for i in range(len(REQUESTS)):
                k = (i + offset + round_) % len(REQUESTS)
                if _answer(client, *REQUESTS[k]) != expected[k]:
                    failures.append(f"{REQUESTS[k]} in thread {offset}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures
