"""Our canonical event schema, as a JSON object or an XML ``<event>`` element.

JSON::

    {"id": "2017-11-23-bashir-visits-putin", "date": "2017-11-23",
     "title": "...", "body": "...",
     "entities": ["Vladimir Putin"],
     "sources": [{"name": "France 24", "url": "http://..."}],
     "category": null, "story": null, "image": null,
     "related": [{"id": "...", "title": "...", "date": "2017-11-05", "context": "..."}]}

Only ``id``, ``date`` and ``title`` are required.  XML mirrors it:
``<event id="..."><date/><title/><body/><entities><entity/></entities>
<sources><source url="...">name</source></sources>
<related><link id="..." date="..." context="...">title</link></related></event>``.
"""

from __future__ import annotations

from typing import Any

from indexer.formats.fields import parse_date
from indexer.formats.reject import InvalidRecord
from search.event import ID_PATTERN, Event, RelatedLink, Source

__all__ = ["FIELDS", "parse_canonical", "xml_to_record"]

FIELDS = (
    "id",
    "date",
    "title",
    "body",
    "entities",
    "sources",
    "category",
    "story",
    "image",
    "related",
)


def _text(record: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = record.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidRecord(f"no {key}")
        return None
    if not isinstance(value, str):
        raise InvalidRecord(f"{key} must be a string, not {type(value).__name__}")
    return value.strip()


def _list(record: dict[str, Any], key: str) -> list[Any]:
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRecord(f"{key} must be a list, not {type(value).__name__}")
    return value


def _source(item: Any, number: int) -> Source:
    if isinstance(item, str) and item.strip():
        return Source(item.strip())
    if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"].strip():
        url = item.get("url")
        if url is not None and not isinstance(url, str):
            raise InvalidRecord(f"sources[{number}].url must be a string")
        return Source(item["name"].strip(), url or None)
    raise InvalidRecord(f"sources[{number}] needs a name")


def _related(item: Any, number: int) -> RelatedLink:
    if not isinstance(item, dict):
        raise InvalidRecord(f"related[{number}] must be an object with an id")
    target = _text(item, "id")
    if target is None or not ID_PATTERN.fullmatch(target):
        raise InvalidRecord(f"related[{number}] needs a valid id")
    date = parse_date(item["date"], f"related[{number}].date") if item.get("date") else None
    return RelatedLink(target, _text(item, "title") or "", date, _text(item, "context"))


def parse_canonical(record: Any) -> Event:
    """Validate one canonical record.  Raises InvalidRecord naming the bad field."""
    if not isinstance(record, dict):
        raise InvalidRecord(f"expected an event object, got {type(record).__name__}")
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise InvalidRecord(f"unknown field {unknown[0]!r} (fields: {', '.join(FIELDS)})")
    raw_id = record.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise InvalidRecord("no id")
    if not ID_PATTERN.fullmatch(raw_id.strip()):
        raise InvalidRecord(
            f"id {raw_id!r} is not valid: use up to 200 letters, digits and . _ ~ : -"
        )
    entities = []
    for number, item in enumerate(_list(record, "entities")):
        if not isinstance(item, str) or not item.strip():
            raise InvalidRecord(f"entities[{number}] must be a non-empty string")
        if item.strip() not in entities:
            entities.append(item.strip())
    return Event(
        id=raw_id.strip(),
        date=parse_date(record.get("date"), "date"),
        title=_text(record, "title", required=True) or "",
        body=_text(record, "body") or "",
        entities=tuple(entities),
        sources=tuple(_source(s, n) for n, s in enumerate(_list(record, "sources"))),
        category=_text(record, "category"),
        story=_text(record, "story"),
        image=_text(record, "image"),
        related=tuple(_related(r, n) for n, r in enumerate(_list(record, "related"))),
    )


def xml_to_record(element: Any) -> dict[str, Any]:
    """The JSON-shaped record of an ``<event>`` element (checked by parse_canonical)."""

    def child_text(tag: str) -> str | None:
        child = element.find(tag)
        return child.text if child is not None else None

    record: dict[str, Any] = {"id": element.get("id") or child_text("id")}
    for tag in ("date", "title", "body", "category", "story", "image"):
        record[tag] = child_text(tag)
    record["entities"] = [e.text for e in element.findall("entities/entity")]
    record["sources"] = [
        {"name": s.text, "url": s.get("url")} for s in element.findall("sources/source")
    ]
    record["related"] = [
        {"id": r.get("id"), "title": r.text, "date": r.get("date"), "context": r.get("context")}
        for r in element.findall("related/link")
    ]
    known = {"id", *record}
    for child in element:
        if child.tag not in known:
            raise InvalidRecord(f"unknown element <{child.tag}>")
    return record
