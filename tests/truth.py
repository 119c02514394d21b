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
    events: list[Event] = []
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


def facet_values_of(facet: str, event: Event) -> set[str]:
    """The values, as written, an event carries in a facet (entity, source, category)."""
    if facet == "entity":
        return set(entities_of(event))
    if facet == "source":
        return {s.name for s in event.sources}
    return {event.category} if event.category else set()


@cache
def shown_forms(facet: str) -> dict[str, str]:
    """Folded value -> the written form a facet shows: the one most events of the
    index carry, of equals the first in code-point order."""
    written = Counter(v for e in all_events() for v in facet_values_of(facet, e))
    best: dict[str, str] = {}
    for value in sorted(written):
        key = fold(value)
        if key not in best or written[value] > written[best[key]]:
            best[key] = value
    return best


def top_values(facet: str, events: Iterable[Event], size: int) -> list[dict[str, object]]:
    """Facet values as the API gives them: one per folded value (events carrying any
    written form of it), shown in its most common form, most frequent first, ties in
    alphabetical order."""
    counts = Counter(key for e in events for key in {fold(v) for v in facet_values_of(facet, e)})
    shown = shown_forms(facet)
    ordered = sorted(counts.items(), key=lambda kc: (-kc[1], shown[kc[0]]))[:size]
    return [{"value": shown[k], "count": c} for k, c in ordered]
