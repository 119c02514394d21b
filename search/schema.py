"""The whoosh index: its schema, how an event becomes an index document, and how
an index directory is created and opened (whoosh's public API)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from whoosh import columns, fields
from whoosh import index as whoosh_index

from search.analysis import TextTokenizer, ValuesTokenizer
from search.event import Event
from search.suggest import title_phrases

__all__ = [
    "FACET_FIELDS",
    "QUERY_FIELDS",
    "TEXT_FIELDS",
    "build_schema",
    "create_index",
    "document",
    "latest_commit",
    "open_index",
    "source_domain",
    "toc_file",
]

#: Facet name -> field holding its exact values.
FACET_FIELDS = {
    "entity": "entity_value",
    "source": "source_value",
    "category": "category",
}

#: Fields a person may name in a query (``entity:putin``).
QUERY_FIELDS = ("title", "body", "entity", "source")

#: Fields plain words are looked for in (their weights are search/scoring.py's).
TEXT_FIELDS = ("title", "body", "entity")


def build_schema(stemmer: str) -> fields.Schema:
    """A new schema object (whoosh pickles it into the index); text fields are
    analysed by search/text.py with ``stemmer``."""
    ana = TextTokenizer(stemmer)
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
        # The title's phrases, for the segment's columns: the writer's per-document
        # hook (search/writer_hooks.py) keeps them there, and never stores them.
        phrases=fields.STORED(),
    )


def create_index(path: Path, stemmer: str) -> Any:
    """A new, empty whoosh index in directory ``path``, its text analysed with
    ``stemmer``."""
    return whoosh_index.create_in(str(path), build_schema(stemmer))


def open_index(path: Path) -> Any:
    """The whoosh index in directory ``path``."""
    return whoosh_index.open_dir(str(path))


# whoosh writes each commit's table of contents (its segments and their deletions) as
# _MAIN_<commit>.toc (whoosh.index.TOC; MAIN is its default index name), and removes
# the older ones once it is written.
_TOC = re.compile(r"_MAIN_(\d+)\.toc")


def toc_file(commit: int) -> str:
    """The name of the file holding whoosh's table of contents of commit ``commit``."""
    return f"_MAIN_{commit}.toc"


def latest_commit(path: Path) -> int:
    """The number of the newest commit whoosh has written in index directory ``path``
    (the generation number of its table of contents), without reading it; -1 when
    there is none."""
    numbers = [int(m.group(1)) for m in map(_TOC.fullmatch, os.listdir(path)) if m]
    return max(numbers, default=-1)


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
    """The index document of an event; ``mentions`` are entity names found in its text.
    Its title phrases (search/suggest.py) are kept with it for the suggestion table."""
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
        "phrases": sorted(title_phrases(event.title)),
    }
    if event.category:
        doc["category"] = [event.category]
    if event.story:
        doc["story"] = [event.story]
    return {k: v for k, v in doc.items() if v != []}
