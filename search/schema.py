"""The index schema and how an event becomes an index document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson
from whoosh import columns, fields

from search.analysis import ValuesTokenizer, text_analyzer
from search.event import Event

__all__ = [
    "DEFAULT_FIELDS",
    "FACET_FIELDS",
    "QUERY_FIELDS",
    "build_schema",
    "document",
    "source_domain",
]

#: Facet name -> field holding its exact values.
FACET_FIELDS = {
    "entity": "entity_value",
    "source": "source_value",
    "category": "category",
}

#: Fields a person may name in a query (``entity:putin``).
QUERY_FIELDS = ("title", "body", "entity", "source")

#: Fields plain words are looked for in, and their weight in ranking (chosen on the
#: story judgements of bench/relevance.py: equal weights beat favouring titles).
DEFAULT_FIELDS = {"title": 1.0, "body": 1.0, "entity": 1.0}


def build_schema() -> fields.Schema:
    """A new schema object (whoosh pickles it into the index)."""
    ana = text_analyzer()
    values = ValuesTokenizer()
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),
        # Day number (date.toordinal()), as a column only: date filters, sorting and
        # histograms all read the column (search/columns.py).
        date=fields.COLUMN(columns.NumericColumn("i")),
        title=fields.TEXT(analyzer=ana, phrase=True),
        body=fields.TEXT(analyzer=ana, phrase=True),
        entity=fields.TEXT(analyzer=ana, phrase=True),
        source=fields.TEXT(analyzer=ana, phrase=True),
        entity_value=fields.ID(analyzer=values),
        source_value=fields.ID(analyzer=values),
        source_domain=fields.ID(analyzer=values),
        category=fields.ID(analyzer=values),
        story=fields.ID(analyzer=values),
        related=fields.ID(analyzer=values),
        event=fields.STORED(),
        mentions=fields.STORED(),
    )


def source_domain(url: str | None) -> str | None:
    """The host of a source's address without ``www.``: ``france24.com``."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host


def document(event: Event, mentions: Sequence[str] = ()) -> dict[str, Any]:
    """The index document of an event; ``mentions`` are entity names found in its text."""
    domains = sorted({d for d in (source_domain(s.url) for s in event.sources) if d})
    source_names = [s.name for s in event.sources]
    entities = list(dict.fromkeys([*event.entities, *mentions]))
    doc: dict[str, Any] = {
        "id": event.id,
        "date": event.date.toordinal(),
        "title": event.title,
        "body": event.body,
        "entity": " ; ".join(entities),
        "source": " ; ".join([*source_names, *domains]),
        "entity_value": entities,
        "source_value": list(dict.fromkeys(source_names)),
        "source_domain": domains,
        "related": [r.id for r in event.related],
        "event": orjson.dumps(event.to_dict()),
        "mentions": list(mentions),
    }
    if event.category:
        doc["category"] = [event.category]
    if event.story:
        doc["story"] = [event.story]
    return {k: v for k, v in doc.items() if v != []}
