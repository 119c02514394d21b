"""What the engine answers, as frozen dataclasses.

The API alone turns them into JSON and describes them in its OpenAPI document,
both from these declarations (api/wire.py): a field's name is its JSON key, its
type its JSON type; ``metadata`` may give a ``description``, the ``enum`` of its
values, and ``omit_none`` (the key is left out when the value is None).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from search.choices import SORTS, SUGGESTION_KINDS, UNITS
from search.event import Event, Source

__all__ = [
    "DateBucket",
    "DateHint",
    "DateHistogram",
    "EventView",
    "Expanded",
    "FacetCount",
    "Facets",
    "Hit",
    "IndexStats",
    "Reasons",
    "RelatedHit",
    "RelatedPage",
    "SearchPage",
    "Suggestion",
    "Suggestions",
]


@dataclass(frozen=True)
class Hit:
    """One event in a list of results."""

    id: str
    date: dt.date
    title: str
    snippet: str = field(metadata={"description": "HTML-escaped text; only <mark> is markup."})
    entities: tuple[str, ...] = field(
        metadata={
            "description": "The event's own entities, then the known names its text mentions."
        }
    )
    sources: tuple[Source, ...]
    category: str | None
    story: str | None
    image: str | None
    score: float | None = field(metadata={"description": "Null when sorted by date."})


@dataclass(frozen=True)
class Reasons:
    """Why an event is related: shared entities (rarest first), shared key terms, and
    whether an explicit link joins the two."""

    entities: tuple[str, ...]
    terms: tuple[str, ...]
    linked: bool


@dataclass(frozen=True)
class RelatedHit(Hit):
    """A related event, with the reasons it is related."""

    reasons: Reasons


@dataclass(frozen=True)
class RelatedPage:
    results: tuple[RelatedHit, ...] = field(metadata={"description": "Related events, best first."})


@dataclass(frozen=True)
class FacetCount:
    value: str
    count: int


@dataclass(frozen=True)
class DateBucket:
    """A histogram bar: ``2015``, ``2015-09`` or ``2015-09-01``, and its events."""

    key: str
    count: int


@dataclass(frozen=True)
class DateHistogram:
    """Counts per bucket in ascending order, from the first matching event to the last,
    empty buckets included."""

    interval: str = field(metadata={"enum": UNITS})
    buckets: tuple[DateBucket, ...]


@dataclass(frozen=True)
class Facets:
    """The facets asked for, counted over every match (not only the page shown)."""

    date: DateHistogram | None = field(default=None, metadata={"omit_none": True})
    entity: tuple[FacetCount, ...] | None = field(default=None, metadata={"omit_none": True})
    source: tuple[FacetCount, ...] | None = field(default=None, metadata={"omit_none": True})
    category: tuple[FacetCount, ...] | None = field(default=None, metadata={"omit_none": True})


@dataclass(frozen=True)
class Expanded:
    """What query expansion added to rank the matches (it never adds matches)."""

    terms: tuple[str, ...]
    entities: tuple[str, ...]


@dataclass(frozen=True)
class DateHint:
    """A date the query holds (``Sept. 2015``), offered as a date filter: its first and
    last day, and its words as typed.  The search does not apply it; its words need
    not match."""

    date_from: dt.date = field(metadata={"key": "from", "description": "The first day."})
    date_to: dt.date = field(metadata={"key": "to", "description": "The last day."})
    text: str = field(metadata={"description": "The query's date words, as typed."})


@dataclass(frozen=True)
class SearchPage:
    """One page of a search."""

    total: int = field(metadata={"description": "How many events match."})
    page: int
    size: int
    sort: str = field(metadata={"enum": SORTS})
    took_ms: float = field(metadata={"description": "The engine's time, in milliseconds."})
    timed_out: bool = field(
        metadata={"description": "The time limit passed: total, results and facets are partial."}
    )
    results: tuple[Hit, ...]
    facets: Facets
    did_you_mean: str | None = field(
        metadata={"description": "The query with its unknown words corrected, or null."}
    )
    expanded: Expanded | None = field(
        metadata={
            "description": "What query expansion added to the ranking, or null when it did not run."
        }
    )
    date_hint: DateHint | None = field(
        default=None,
        metadata={"description": "A date written in the query, offered as a date filter, or null."},
    )


@dataclass(frozen=True)
class Suggestion:
    """An entity name or a title phrase for the search box, and how many events have it."""

    text: str
    kind: str = field(metadata={"enum": SUGGESTION_KINDS})
    count: int


@dataclass(frozen=True)
class Suggestions:
    suggestions: tuple[Suggestion, ...] = field(metadata={"description": "Most frequent first."})


@dataclass(frozen=True)
class IndexStats:
    """What the live index holds."""

    documents: int
    first_date: dt.date | None
    last_date: dt.date | None
    generation: str
    built_at: str | None


@dataclass(frozen=True)
class EventView(Event):
    """A whole event in the canonical shape, with the known entity names its text
    mentions (which search results list among its ``entities``)."""

    mentions: tuple[str, ...] = field(
        default=(), metadata={"description": "Known entity names the title or body mention."}
    )
