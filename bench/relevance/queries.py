"""The query sets of the relevance suite, each with its judgements, drawn from the
WikiTimes corpus (``../shared/corpus/wikitimes-2015-09.json``: 428 events of
September 2015 from Wikipedia's Current Events Portal).

- ``known_item_2`` and ``known_item_3``: a reader remembers a few words of an
  event's title and types them.  A seeded sample of ``KNOWN_ITEMS`` events (among
  those whose title has at least 3 distinct content words, see
  ``bench.relevance.words``; the others are never drawn, and how many there are is
  said in the set's notes); for each, 2 (or 3) distinct content words of its title,
  drawn with a seed made of the suite's seed, the size and the event's id, typed in
  lower case in the order they stand in the title.  The event is the one right
  answer.  Both sizes use the same events.
- ``entity``: an entity's name typed in lower case without accents (its typed form,
  ``bench.relevance.words.typed_name``), for every typed form carried by at least
  ``MIN_ENTITY_EVENTS`` events in the corpus's own entity lists (not the entity
  names the service finds in the text); the relevant events are those that carry
  it.
- ``story``: the name of each story (``belongsToStory``, grouped by Wikipedia's
  editors) of at least ``MIN_STORY_EVENTS`` events, as written; its events are the
  relevant ones.
- ``related``: every event of such a story is a source; the other events of its
  story are the relevant ones.

Each query has a *group*, the unit cross-validation keeps in one fold: the event for
known-item queries (an event's 2- and 3-word queries share a fold), the typed name
for entity queries, the story for story-name and related queries (a story's events
never straddle folds).
"""

from __future__ import annotations

import os
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.corpus import read_corpus_events
from bench.relevance.words import content_words, typed_name
from search.event import Event

__all__ = [
    "DEFAULT_CORPUS",
    "KNOWN_ITEMS",
    "MIN_ENTITY_EVENTS",
    "MIN_STORY_EVENTS",
    "RELATED",
    "SEARCH",
    "Query",
    "QuerySet",
    "build_query_sets",
    "default_corpus",
    "entity_queries",
    "known_item_queries",
    "load_events",
    "related_queries",
    "story_members",
    "story_queries",
]

_ROOT = Path(__file__).resolve().parents[2]
_CORPUS_NAME = Path("corpus") / "wikitimes-2015-09.json"
#: Where the shared corpus is expected beside the repository.
DEFAULT_CORPUS = _ROOT.parent / "shared" / _CORPUS_NAME

SEARCH = "search"
RELATED = "related"
KNOWN_ITEMS = 300
KNOWN_ITEM_SIZES = (2, 3)
MIN_ENTITY_EVENTS = 2
MIN_STORY_EVENTS = 3


def default_corpus() -> Path:
    """The shared corpus: under ``$EVENTSEARCH_SHARED_DIR``, ``../shared`` beside the
    repository, or ``/work/shared`` (the first that exists; else ``../shared``)."""
    candidates = [os.environ.get("EVENTSEARCH_SHARED_DIR"), _ROOT.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / _CORPUS_NAME).is_file():
            return Path(candidate) / _CORPUS_NAME
    return DEFAULT_CORPUS


def load_events(path: Path) -> list[Event]:
    """The events of a corpus file, read as the indexer reads them; ValueError when
    there are none (a wrong path, or not a corpus)."""
    events = list(read_corpus_events(path))
    if not events:
        raise ValueError(f"{path}: no events read (is it the WikiTimes corpus?)")
    return events


@dataclass(frozen=True)
class Query:
    """One query and its judgements.  ``text`` is what is typed (for a related query:
    the source event's id); ``relevant`` the ids of the right answers; ``group`` the
    unit kept in one fold by cross-validation."""

    id: str
    text: str
    relevant: frozenset[str]
    group: str


@dataclass(frozen=True)
class QuerySet:
    """Queries of one type, the task that answers them (``SEARCH`` or ``RELATED``),
    the measures reported (the first is the type's figure: targets and tuning read
    it), and how the set was made."""

    name: str
    task: str
    measures: tuple[str, ...]
    queries: tuple[Query, ...]
    notes: str

    @property
    def primary(self) -> str:
        return self.measures[0]


def known_item_queries(
    events: Sequence[Event], size: int, count: int = KNOWN_ITEMS, seed: int = 0
) -> QuerySet:
    """``count`` known-item queries of ``size`` title words (see the module)."""
    needed = max(KNOWN_ITEM_SIZES)
    eligible = sorted(
        (e for e in events if len(content_words(e.title)) >= needed), key=lambda e: e.id
    )
    sample = random.Random(seed).sample(eligible, min(count, len(eligible)))
    queries = []
    for event in sample:
        title_words = content_words(event.title)
        draw = random.Random(f"{seed}:{size}:{event.id}")
        picked = sorted(draw.sample(range(len(title_words)), size))
        queries.append(
            Query(
                id=f"known{size}:{event.id}",
                text=" ".join(title_words[i] for i in picked),
                relevant=frozenset({event.id}),
                group=f"event:{event.id}",
            )
        )
    return QuerySet(
        name=f"known_item_{size}",
        task=SEARCH,
        measures=("MRR@10", "S@1"),
        queries=tuple(queries),
        notes=(
            f"{len(queries)} events sampled (seed {seed}) of the {len(eligible)} whose "
            f"title has at least {needed} content words ({len(events) - len(eligible)} "
            f"have fewer and are never drawn); {size} title words each"
        ),
    )


def entity_queries(events: Sequence[Event], min_events: int = MIN_ENTITY_EVENTS) -> QuerySet:
    """One query per typed entity name carried by at least ``min_events`` events."""
    carriers: dict[str, set[str]] = defaultdict(set)
    for event in events:
        for name in event.entities:
            typed = typed_name(name)
            if typed:
                carriers[typed].add(event.id)
    queries = tuple(
        Query(id=f"entity:{typed}", text=typed, relevant=frozenset(ids), group=f"entity:{typed}")
        for typed, ids in sorted(carriers.items())
        if len(ids) >= min_events
    )
    return QuerySet(
        name="entity",
        task=SEARCH,
        measures=("nDCG@10",),
        queries=queries,
        notes=(
            f"{len(queries)} entity names (typed in lower case without accents) carried "
            f"by at least {min_events} events, of {len(carriers)}"
        ),
    )


def story_members(
    events: Iterable[Event], min_events: int = MIN_STORY_EVENTS
) -> dict[str, frozenset[str]]:
    """Story name -> ids of its events, for stories of at least ``min_events`` events."""
    members: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.story:
            members[event.story].add(event.id)
    return {name: frozenset(ids) for name, ids in sorted(members.items()) if len(ids) >= min_events}


def story_queries(events: Sequence[Event], min_events: int = MIN_STORY_EVENTS) -> QuerySet:
    """Each story's name, its events relevant."""
    stories = story_members(events, min_events)
    queries = tuple(
        Query(id=f"story:{name}", text=name, relevant=ids, group=f"story:{name}")
        for name, ids in stories.items()
    )
    return QuerySet(
        name="story",
        task=SEARCH,
        measures=("nDCG@10",),
        queries=queries,
        notes=f"{len(queries)} story names (stories of at least {min_events} events)",
    )


def related_queries(events: Sequence[Event], min_events: int = MIN_STORY_EVENTS) -> QuerySet:
    """Every event of a story of at least ``min_events`` events; the rest of its story
    relevant."""
    stories = story_members(events, min_events)
    queries = tuple(
        Query(
            id=f"related:{event_id}",
            text=event_id,
            relevant=ids - {event_id},
            group=f"story:{name}",
        )
        for name, ids in stories.items()
        for event_id in sorted(ids)
    )
    return QuerySet(
        name="related",
        task=RELATED,
        measures=("P@5",),
        queries=queries,
        notes=(
            f"{len(queries)} events of {len(stories)} stories of at least {min_events} "
            f"events; a hit is another event of the same story (best possible P@5: "
            f"{_best_precision(stories):.3f})"
        ),
    )


def _best_precision(stories: dict[str, frozenset[str]], k: int = 5) -> float:
    """The highest P@k a related list can reach: small stories have too few members."""
    scores = [min(len(ids) - 1, k) / k for ids in stories.values() for _ in ids]
    return sum(scores) / len(scores) if scores else 0.0


def build_query_sets(
    events: Sequence[Event], seed: int = 0, known_items: int = KNOWN_ITEMS
) -> list[QuerySet]:
    """Every query set of the suite, in report order."""
    return [
        *(known_item_queries(events, size, known_items, seed) for size in KNOWN_ITEM_SIZES),
        entity_queries(events),
        story_queries(events),
        related_queries(events),
    ]
