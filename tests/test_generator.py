"""The synthetic event generator the tests and the benchmarks draw from
(tests/support/generate.py and model.py): deterministic for a seed, shaped like the
real events, and the same events whether written as JSON Lines or as event pages."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from indexer.formats import read_file
from search import Event
from tests.corpus import corpus_file
from tests.support.generate import generate_events, write_corpus, write_events
from tests.support.model import FIRST_DAY, LAST_DAY, SOURCE_POOL, builtin_model, learn_model

SIZE = 300


def _read(paths: list[Path]) -> list[Event]:
    """The events of ``paths``, read as the indexer reads them."""
    return [e for path in paths for e in read_file(path) if isinstance(e, Event)]


def test_the_generator_is_deterministic_and_shaped_like_the_real_events(tmp_path: Path) -> None:
    events = list(generate_events(builtin_model(5), SIZE, seed=5))
    assert events == list(generate_events(builtin_model(5), SIZE, seed=5))
    assert events != list(generate_events(builtin_model(6), SIZE, seed=6))
    # The first events do not depend on how many are drawn.
    assert list(generate_events(builtin_model(5), 10, seed=5)) == events[:10]

    assert write_events(events, tmp_path / "events.jsonl") == SIZE
    assert _read([tmp_path / "events.jsonl"]) == events  # the indexer reads them back whole
    assert len({e.id for e in events}) == SIZE
    assert all(1 <= len(e.entities) <= 6 for e in events)
    assert all(1 <= len(e.sources) <= 3 for e in events)
    assert all(FIRST_DAY <= e.date <= LAST_DAY for e in events)
    assert (LAST_DAY - FIRST_DAY).days > 24 * 365
    assert len({s.name for e in events for s in e.sources}) <= SOURCE_POOL
    assert all(e.body.startswith(e.title) for e in events)
    # Long-tailed: the most cited entity is on many events, most entities on one or two.
    entity_counts = Counter(name for e in events for name in e.entities)
    assert entity_counts.most_common(1)[0][1] >= 10
    assert sum(1 for c in entity_counts.values() if c <= 2) > len(entity_counts) / 2


def test_event_pages_carry_the_same_events_as_json_lines(tmp_path: Path) -> None:
    events = list(generate_events(builtin_model(5), 120, seed=5))
    assert write_corpus(iter(events), tmp_path / "pages", "seed") == 120
    assert write_corpus(iter(events), tmp_path / "events.jsonl", "jsonl") == 120
    from_pages = _read(sorted((tmp_path / "pages").rglob("*.md")))
    assert from_pages == _read([tmp_path / "events.jsonl"]) == events


def test_a_learned_model_draws_from_the_real_corpus() -> None:
    model = learn_model(corpus_file())
    real = json.loads(corpus_file().read_text())
    real_words = {w for record in real for w in record["description"].split()}
    assert model.learned_from == str(corpus_file())
    assert model.words[0] in real_words  # the most frequent word comes from the corpus
    events = list(generate_events(model, 200, 0))
    top_entity = Counter(n for e in events for n in e.entities).most_common(1)[0][0]
    assert top_entity in model.entities[:50]
    assert len(model.sources) == SOURCE_POOL
