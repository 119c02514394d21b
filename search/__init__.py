"""The search engine: schema, analysis, writing, reading, querying, facets, highlighting.

Only this package imports whoosh; the indexer and the API use what is named here.
"""

from search.errors import (
    BadRequest,
    BuildFailed,
    EventNotFound,
    IndexLocked,
    IndexUnavailable,
    SearchError,
    SearchTimeout,
)
from search.event import Event, RelatedLink, Source
from search.reader import IndexReader
from search.service import FACETS, INTERVALS, MATCHES, SORTS, SearchRequest, SearchService
from search.store import IndexStore
from search.writer import GenerationBuilder, LiveUpdater

__all__ = [
    "FACETS",
    "INTERVALS",
    "MATCHES",
    "SORTS",
    "BadRequest",
    "BuildFailed",
    "Event",
    "EventNotFound",
    "GenerationBuilder",
    "IndexLocked",
    "IndexReader",
    "IndexStore",
    "IndexUnavailable",
    "LiveUpdater",
    "RelatedLink",
    "SearchError",
    "SearchRequest",
    "SearchService",
    "SearchTimeout",
    "Source",
]
