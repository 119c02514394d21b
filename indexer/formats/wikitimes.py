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

from indexer.formats.fields import check_id, check_web_url, parse_date, title_from_text
from indexer.formats.reject import InvalidRecord
from search import Event, Source

__all__ = ["is_wikitimes", "name_from_wiki_url", "parse_wikitimes"]

_SEPARATORS = re.compile(r"([.!?])(?:\s+,)+\s+")


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


def _name(record: dict[str, Any], key: str) -> str | None:
    """The name of a category or story: an object with a ``name``, or a string."""
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("name")
    if not isinstance(value, str):
        raise InvalidRecord(f"{key} must be an object with a name, or a string")
    return value.strip() or None


def _items(record: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects of the list ``key`` (no list: none)."""
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRecord(f"{key} must be a list, not {type(value).__name__}")
    for number, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidRecord(f"{key}[{number}] must be an object, not {type(item).__name__}")
    return value


def _entity_name(entity: dict[str, Any], number: int) -> str:
    url = entity.get("wikiURL")
    if url is not None and not isinstance(url, str):
        raise InvalidRecord(f"entity[{number}].wikiURL must be a string")
    if url:
        check_web_url(url, f"entity[{number}].wikiURL")
    name = name_from_wiki_url(url) if url else None
    if name is None and isinstance(entity.get("name"), str):
        name = entity["name"].strip() or None
    if name is None:
        raise InvalidRecord(f"entity[{number}] has neither a wikiURL nor a name")
    return name


def _source(source: dict[str, Any], number: int) -> Source:
    name = source.get("sourceName")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRecord(f"source[{number}] has no sourceName")
    url = source.get("url")
    if url is not None and not isinstance(url, str):
        raise InvalidRecord(f"source[{number}].url must be a string")
    if url:
        check_web_url(url, f"source[{number}].url")
    return Source(name.strip(), url or None)


def parse_wikitimes(record: dict[str, Any]) -> Event:
    """Parse one record.  Raises InvalidRecord naming what is missing or wrong."""
    raw_id = record.get("id")
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or not str(raw_id).strip():
        raise InvalidRecord("record has no id")
    event_id = check_id(f"cep-{str(raw_id).strip()}")
    date = parse_date(record.get("date"), "date")
    description = record.get("description")
    if not isinstance(description, str):
        raise InvalidRecord("record has no description")
    # The export leaves list separators behind after some sentences ("Kunduz. , The
    # U.S. ...") and at the end of some descriptions ("... . , ").
    body = re.sub(r"\s+", " ", description)
    body = re.sub(r"[\s,]+$", "", _SEPARATORS.sub(r"\1 ", body)).strip()
    if not body:
        raise InvalidRecord("record has no description")
    entities = list(
        dict.fromkeys(_entity_name(e, n) for n, e in enumerate(_items(record, "entity")))
    )
    return Event(
        id=event_id,
        date=date,
        title=title_from_text(body),
        body=body,
        entities=tuple(entities),
        sources=tuple(_source(s, n) for n, s in enumerate(_items(record, "source"))),
        category=_name(record, "category"),
        story=_name(record, "belongsToStory"),
    )
