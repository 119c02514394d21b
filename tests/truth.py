"""The straightforward answers, computed from the parsed corpus, that the index must match."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache

from indexer.formats import read_file
from search import Event
from search.mentions import MentionFinder, MentionVocabulary
from search.schema import source_domain
from search.text import fold
from tests.corpus import CORPUS, DEMO_DIR, SEED_DIR


@cache
def all_events() -> tuple[Event, ...]:
    """Every event of the test index (corpus, seed page, demo pages)."""
    events = []
    for path in [CORPUS, *sorted(SEED_DIR.iterdir()), *sorted(DEMO_DIR.iterdir())]:
        events.extend(e for e in read_file(path) if isinstance(e, Event))
    return tuple(events)


@cache
def _finder() -> MentionFinder:
    vocabulary = MentionVocabulary()
    for event in all_events():
        vocabulary.observe(event)
    return vocabulary.finder()


def entities_of(event: Event) -> list[str]:
    """An event's entity field: its explicit entities, then the known names its text mentions."""
    return [*event.entities, *_finder().mentions(event)]


def matching(predicate: Callable[[Event], bool]) -> list[Event]:
    return [e for e in all_events() if predicate(e)]


def has_entity(name: str) -> Callable[[Event], bool]:
    return lambda e: fold(name) in {fold(x) for x in entities_of(e)}


def cites(name_or_domain: str) -> Callable[[Event], bool]:
    key = fold(name_or_domain)
    return lambda e: any(fold(s.name) == key or source_domain(s.url) == key for s in e.sources)


def between(first: dt.date, last: dt.date) -> Callable[[Event], bool]:
    return lambda e: first <= e.date <= last


def top_values(values: Iterable[str], size: int) -> list[dict[str, object]]:
    """Facet values as the API orders them: most frequent first, ties alphabetical."""
    counts = Counter(values)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:size]
    return [{"value": v, "count": c} for v, c in ordered]
