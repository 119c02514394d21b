"""The search engine: schema, analysis, writing, reading, querying, ranking, facets.

Only this package imports whoosh; the indexer and the API use what is named here.
"""

from search.choices import FACETS, INTERVALS, MATCHES, SORTS, SUGGESTION_KINDS, UNITS
from search.dates import parse_bound
from search.errors import (
    BadRequest,
    BuildFailed,
    EventNotFound,
    IndexDamaged,
    IndexLocked,
    IndexUnavailable,
    RebuildNeeded,
    SearchError,
    SearchTimeout,
)
from search.event import ID_PATTERN, Event, RelatedLink, Source, valid_id
from search.live import LiveIndex
from search.mentions import MentionVocabulary
from search.results import (
    DateBucket,
    DateHistogram,
    EventView,
    Expanded,
    FacetCount,
    Facets,
    Hit,
    IndexStats,
    Reasons,
    RelatedHit,
    RelatedPage,
    SearchPage,
    Suggestion,
    Suggestions,
)
from search.schema import source_domain
from search.scoring import ExpansionWeights, RelatedWeights, Similarity
from search.service import SearchRequest, SearchService
from search.store import IndexStore
from search.text import DEFAULT_STEMMER, STEMMERS
from search.writer import GenerationBuilder, LiveUpdater, default_processes

__all__ = [
    "DEFAULT_STEMMER",
    "FACETS",
    "ID_PATTERN",
    "INTERVALS",
    "MATCHES",
    "SORTS",
    "STEMMERS",
    "SUGGESTION_KINDS",
    "UNITS",
    "BadRequest",
    "BuildFailed",
    "DateBucket",
    "DateHistogram",
    "Event",
    "EventNotFound",
    "EventView",
    "Expanded",
    "ExpansionWeights",
    "FacetCount",
    "Facets",
    "GenerationBuilder",
    "Hit",
    "IndexDamaged",
    "IndexLocked",
    "IndexStats",
    "IndexStore",
    "IndexUnavailable",
    "LiveIndex",
    "LiveUpdater",
    "MentionVocabulary",
    "Reasons",
    "RebuildNeeded",
    "RelatedHit",
    "RelatedLink",
    "RelatedPage",
    "RelatedWeights",
    "SearchError",
    "SearchPage",
    "SearchRequest",
    "SearchService",
    "SearchTimeout",
    "Similarity",
    "Source",
    "Suggestion",
    "Suggestions",
    "default_processes",
    "parse_bound",
    "source_domain",
    "valid_id",
]
