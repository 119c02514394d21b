"""Every cache follows the index: what invalidates each one is exercised here.

- Segment columns (memory and ``columns/<segment>.npz``), postings and phrase
  matches are keyed by segment id: a segment never changes, a commit brings new
  segments, deletions are applied per snapshot from the live documents.
- A snapshot's document frequencies and parsed events live as long as the
  snapshot: any commit or new generation gives a new snapshot.
- The suggestion table is read again whenever the writers save a new one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from config import Config
from indexer import jobs
from search import IndexStore, SearchRequest, SearchService


def _write(path: Path, *events: dict[str, object]) -> Path:
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    return path


def _event(event_id: str, title: str, entity: str, day: int = 1) -> dict[str, object]:
    return {"id": event_id, "date": f"2020-03-{day:02d}", "title": title, "entities": [entity]}


def _state(service: SearchService) -> tuple[int, list[tuple[str, int]], list[str]]:
    body = service.search(SearchRequest(q="flood", expand=False, facets=("entity",)))
    phrase = service.search(SearchRequest(q='"river flood"', expand=False, facets=()))
    return (
        body.total,
        [(f.value, f.count) for f in body.facets.entity or ()],
        sorted(r.id for r in phrase.results),
    )


def test_caches_follow_adds_deletes_and_new_generations(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "ix")
    jobs.rebuild(
        store,
        [
            _write(
                tmp_path / "a.jsonl",
                _event("a1", "River flood in Jakarta", "Jakarta"),
                _event("a2", "Flood warning lifted", "Jakarta", 2),
            )
        ],
        keep=2,
    )
    service = SearchService(Config.from_env({}, index_dir=tmp_path / "ix", refresh_interval=0.01))
    try:
        assert _state(service) == (2, [("Jakarta", 2)], ["a1"])
        first_segments = service.live.snapshot().keys

        # An add: a new segment, new columns, new postings; the old ones still serve.
        jobs.add(
            store,
            [
                _write(
                    tmp_path / "b.jsonl", _event("b1", "River flood reaches Bandung", "Bandung", 3)
                )
            ],
        )
        time.sleep(0.05)
        assert _state(service) == (3, [("Bandung", 1), ("Jakarta", 2)][::-1], ["a1", "b1"])
        snap = service.live.snapshot()
        assert first_segments < snap.keys

        # A replacement and a delete: the old copies stop counting at once.
        jobs.add(
            store, [_write(tmp_path / "c.jsonl", _event("a1", "Dry spell in Jakarta", "Jakarta"))]
        )
        jobs.delete(store, ["a2"])
        time.sleep(0.05)
        assert _state(service) == (1, [("Bandung", 1)], ["b1"])
        assert service.event("a1").title == "Dry spell in Jakarta"
        assert [s.text for s in service.suggest("jak", 5).suggestions][:1] == ["Jakarta"]
        assert service.suggest("jak", 5).suggestions[0].count == 1

        # A new generation: nothing of the old one is used or kept in memory.
        jobs.rebuild(
            store,
            [_write(tmp_path / "d.jsonl", _event("d1", "River flood in Lagos", "Lagos"))],
            keep=2,
        )
        time.sleep(0.05)
        assert _state(service) == (1, [("Lagos", 1)], ["d1"])
        generation = service.live.snapshot().generation.name
        assert service.live.segments.held()
        assert all(key.startswith(f"{generation}/") for key in service.live.segments.held())
        assert service.live.memo.segments()
        assert all(key.startswith(f"{generation}/") for key in service.live.memo.segments())
    finally:
        service.close()
