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

from indexer.formats.fields import check_id, check_web_url, parse_date
from indexer.formats.reject import InvalidRecord
from search import Event, RelatedLink, Source, valid_id

__all__ = ["FIELDS", "check_xml_element", "parse_canonical", "xml_to_record"]

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
        if url:
            check_web_url(url, f"sources[{number}].url")
        return Source(item["name"].strip(), url or None)
    raise InvalidRecord(f"sources[{number}] needs a name")


def _related(item: Any, number: int) -> RelatedLink:
    if not isinstance(item, dict):
        raise InvalidRecord(f"related[{number}] must be an object with an id")
    target = _text(item, "id")
    if target is None or not valid_id(target):
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
    check_id(raw_id.strip())
    entities: dict[str, None] = {}  # an ordered set: each name once, in order
    for number, item in enumerate(_list(record, "entities")):
        if not isinstance(item, str) or not item.strip():
            raise InvalidRecord(f"entities[{number}] must be a non-empty string")
        entities[item.strip()] = None
    image = _text(record, "image")
    if image is not None:
        check_web_url(image, "image")
    return Event(
        id=raw_id.strip(),
        date=parse_date(record.get("date"), "date"),
        title=_text(record, "title", required=True) or "",
        body=_text(record, "body") or "",
        entities=tuple(entities),
        sources=tuple(_source(s, n) for n, s in enumerate(_list(record, "sources"))),
        category=_text(record, "category"),
        story=_text(record, "story"),
        image=image,
        related=tuple(_related(r, n) for n, r in enumerate(_list(record, "related"))),
    )


# The children of <event> that hold text; the lists, with the tag and attributes of
# their items and the field an item's text goes to (an entity is its text).
_XML_TEXT = ("id", "date", "title", "body", "category", "story", "image")
_XML_LISTS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "entities": ("entity", (), None),
    "sources": ("source", ("url",), "name"),
    "related": ("link", ("id", "date", "context"), "title"),
}


def _check_attributes(element: Any, attributes: tuple[str, ...]) -> None:
    for name in element.attrib:
        if name not in attributes:
            raise InvalidRecord(f"unknown attribute {name!r} on <{element.tag}>")


def check_xml_element(element: Any, attributes: tuple[str, ...] = ()) -> None:
    """InvalidRecord when ``element`` has an attribute not in ``attributes``, or text
    of its own beside its child elements (which would otherwise be lost)."""
    _check_attributes(element, attributes)
    if any(text and text.strip() for text in (element.text, *(c.tail for c in element))):
        raise InvalidRecord(f"text directly inside <{element.tag}>, outside its elements")


def _xml_text(element: Any, attributes: tuple[str, ...] = ()) -> str | None:
    """The text of an element that holds only text."""
    _check_attributes(element, attributes)
    for child in element:
        raise InvalidRecord(f"<{element.tag}> holds an element <{child.tag}>; it takes text only")
    text: str | None = element.text
    return text


def xml_to_record(element: Any) -> dict[str, Any]:
    """The JSON-shaped record of an ``<event>`` element (checked by parse_canonical).

    Nothing in the element is dropped: an unknown or repeated element, an unknown
    attribute, markup inside a text field or stray text is an InvalidRecord.
    """
    check_xml_element(element, ("id",))
    children: dict[str, Any] = {}
    for child in element:
        if child.tag not in _XML_TEXT and child.tag not in _XML_LISTS:
            raise InvalidRecord(f"unknown element <{child.tag}>")
        if child.tag in children:
            raise InvalidRecord(f"more than one <{child.tag}>")
        children[child.tag] = child
    record: dict[str, Any] = {tag: _xml_text(children[tag]) for tag in _XML_TEXT if tag in children}
    if element.get("id") is not None:
        if "id" in record:
            raise InvalidRecord("the id is given twice, as an attribute and as <id>")
        record["id"] = element.get("id")
    for tag, (item_tag, attributes, text_field) in _XML_LISTS.items():
        if tag not in children:
            continue
        check_xml_element(children[tag])
        items = []
        for item in children[tag]:
            if item.tag != item_tag:
                raise InvalidRecord(f"<{item.tag}> in <{tag}>, expected <{item_tag}>")
            text = _xml_text(item, attributes)
            items.append({**item.attrib, text_field: text} if text_field else text)
        record[tag] = items
    return record
