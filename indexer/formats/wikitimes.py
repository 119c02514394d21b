"""Wikipedia Current Events Portal records (the WikiTimes JSON export).

A record has ``id``, ``date``, ``description``, ``category``, ``belongsToStory``,
``entity`` and ``source``.  Entity names in the export often lost their accents
and punctuation (``Otto Prez Molina``); the entity's ``wikiURL`` keeps the true
title (``Otto_Pérez_Molina``), so the name is taken from there.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from indexer.formats.fields import parse_date, title_from_text
from indexer.formats.reject import InvalidRecord
from search.event import Event, Source

__all__ = ["is_wikitimes", "name_from_wiki_url", "parse_wikitimes"]


def is_wikitimes(record: dict[str, Any]) -> bool:
    """Whether a JSON object is a Current Events Portal record (not our canonical shape)."""
    return "description" in record and "title" not in record


def name_from_wiki_url(url: str) -> str | None:
    """The article title a Wikipedia link names, without its ``#section``."""
    _, sep, path = url.partition("/wiki/")
    if not sep:
        return None
    title = unquote(path.split("#", 1)[0]).replace("_", " ").strip()
    return title or None


def _name(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_wikitimes(record: dict[str, Any]) -> Event:
    """Parse one record.  Raises InvalidRecord naming what is missing or wrong."""
    raw_id = record.get("id")
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or not str(raw_id).strip():
        raise InvalidRecord("record has no id")
    date = parse_date(record.get("date"), "date")
    description = record.get("description")
    if not isinstance(description, str) or not description.strip():
        raise InvalidRecord("record has no description")
    # The export leaves separators behind at the end of some descriptions ("... . , ").
    body = re.sub(r"[\s,]+$", "", re.sub(r"\s+", " ", description)).strip()

    entities: list[str] = []
    for entity in record.get("entity") or []:
        if not isinstance(entity, dict):
            continue
        url = entity.get("wikiURL")
        name = (name_from_wiki_url(url) if isinstance(url, str) else None) or _name(entity)
        if name and name not in entities:
            entities.append(name)

    sources = []
    for source in record.get("source") or []:
        if isinstance(source, dict) and isinstance(source.get("sourceName"), str):
            url = source.get("url")
            sources.append(
                Source(source["sourceName"].strip(), url if isinstance(url, str) else None)
            )

    return Event(
        id=f"cep-{str(raw_id).strip()}",
        date=date,
        title=title_from_text(body),
        body=body,
        entities=tuple(entities),
        sources=tuple(sources),
        category=_name(record.get("category")),
        story=_name(record.get("belongsToStory")),
    )
