"""Event pages in the seed format (markdown-like ``.md``/``.txt`` pages).

A page has a ``Formats:`` line whose links name the page
(``/news/2017/11/23/<slug>.html`` -> id ``2017-11-23-<slug>``), a
``### [YYYY-MM-DD](...)`` date line, a ``# `` title, body paragraphs with HTML
entities, and ``### Sources:`` / ``### Related:`` lists.  A page with text the format
has no place for is rejected, never indexed with that text missing.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata

from indexer.formats.fields import check_id, check_link, check_web_url, parse_date
from indexer.formats.reject import InvalidRecord
from search import Event, RelatedLink, Source

__all__ = ["id_from_link", "looks_like_seed", "parse_seed", "slugify"]

_NEWS_LINK = re.compile(r"/news/(\d{4})/(\d{1,2})/(\d{1,2})/([^/?#\s()]+?)\.(?:html|json|xml|md)\b")
_DATE_LINE = re.compile(r"^###\s*\[([^\]]*)\]")
_TITLE = re.compile(r"^#\s+(.*\S)\s*$")
_SECTION = re.compile(r"^###\s+(.*?):?\s*$")
_LINK_URL = re.compile(r"\]\(([^)\s]*)\)")
_ITEM = re.compile(r"^\s*\d+\.\s*\[(?P<text>.*)\]\((?P<url>[^)\s]*)\)(?P<rest>.*)$")
# What may follow a related link: nothing, or the entity the two events share.
_RELATED_REST = re.compile(r"\s*(?:_Context:\s*(?P<context>.*?)\s*_)?\s*")
_SECTIONS = ("sources", "related")
_COVER_IMAGE = "cover image"


def looks_like_seed(text: str) -> bool:
    """Whether ``text`` has the lines of an event page."""
    lines = text.splitlines()
    return any(_DATE_LINE.match(line) for line in lines) or any(
        line.startswith("Formats:") for line in lines
    )


def slugify(title: str) -> str:
    """The slug event pages use: lower-case words joined by ``-``, at most 139 characters."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    plain = plain.lower().replace("'", "")
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:139].strip("-")


def id_from_link(link: str) -> tuple[str, dt.date | None] | None:
    """The event id a ``/news/Y/M/D/<slug>.ext`` link names, and its date when valid.

    Unpadded dates are padded: ``/news/2017/11/5/x.md`` -> ``2017-11-05-x``.
    """
    match = _NEWS_LINK.search(link)
    if not match:
        return None
    year, month, day = (int(g) for g in match.group(1, 2, 3))
    event_id = f"{year:04d}-{month:02d}-{day:02d}-{match.group(4)}"
    try:
        date: dt.date | None = dt.date(year, month, day)
    except ValueError:
        date = None
    return event_id, date


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def _header(lines: list[str]) -> tuple[str | None, dt.date, int]:
    """The id named by the ``Formats:`` line, the date and the title's line index.

    Only the Formats line, the date line and blank lines may come before the title.
    """
    date_line = next((m for m in map(_DATE_LINE.match, lines) if m), None)
    if date_line is None:
        raise InvalidRecord("no date line: expected '### [YYYY-MM-DD](...)'")
    date = parse_date(date_line.group(1), "date")
    title_at = next((i for i, line in enumerate(lines) if _TITLE.match(line)), None)
    if title_at is None:
        raise InvalidRecord("no title: expected a '# ' heading")
    formats_id = None
    formats_seen = False
    for number, line in enumerate(lines, start=1):
        if line.startswith("Formats:"):
            if formats_seen or number > title_at:
                raise InvalidRecord(f"line {number}: one 'Formats:' line only, before the title")
            formats_seen = True
            for url in _LINK_URL.findall(line):
                check_link(url, f"line {number}: link")
            found = id_from_link(line)
            if found:
                formats_id = check_id(found[0], "Formats link id")
        elif number <= title_at and line.strip() and not _DATE_LINE.match(line):
            raise InvalidRecord(f"line {number}: text before the '# ' title")
    return formats_id, date, title_at


def _items(lines: list[tuple[int, str]], section: str) -> list[tuple[int, re.Match[str]]]:
    """The ``1. [text](url) rest`` items of a section; InvalidRecord at any other text."""
    items = []
    for number, line in lines:
        if not line.strip():
            continue
        item = _ITEM.match(line)
        if not item:
            raise InvalidRecord(f"line {number}: expected a '1. [text](url)' item in {section}")
        items.append((number, item))
    return items


def parse_seed(text: str) -> Event:
    """Parse an event page.  Raises InvalidRecord naming what is missing or wrong.

    Nothing on the page is dropped: text the format has no place for (before the
    title, under an unknown heading, a second title, a list item that is not a
    link) rejects the page rather than losing part of it.
    """
    lines = text.splitlines()
    formats_id, date, title_at = _header(lines)
    title = _clean(_TITLE.match(lines[title_at]).group(1))  # type: ignore[union-attr]
    if not title:
        raise InvalidRecord("the '# ' heading is empty")

    body_lines: list[str] = []
    sections: dict[str, list[tuple[int, str]]] = {}
    current: list[tuple[int, str]] | None = None
    for number, line in enumerate(lines[title_at + 1 :], start=title_at + 2):
        section = _SECTION.match(line)
        if section:
            name = section.group(1).strip().lower()
            if name not in _SECTIONS or name in sections:
                raise InvalidRecord(
                    f"line {number}: unexpected heading {line.strip()!r}; "
                    "a page has one '### Sources:' and one '### Related:' list"
                )
            current = sections[name] = []
        elif _TITLE.match(line):
            raise InvalidRecord(f"line {number}: a second '# ' title")
        elif current is None:
            body_lines.append(line)
        else:
            current.append((number, line))
    paragraphs = re.split(r"\n\s*\n", "\n".join(body_lines))
    body = "\n\n".join(p for p in (_clean(p) for p in paragraphs) if p)

    sources: list[Source] = []
    image = None
    for number, item in _items(sections.get("sources", []), "'### Sources:'"):
        name, url = _clean(item.group("text")), item.group("url") or None
        if not name or item.group("rest").strip():
            raise InvalidRecord(f"line {number}: a source is '1. [name](url)'")
        if url:
            check_web_url(url, f"line {number}: address")
        if name.lower() != _COVER_IMAGE:
            sources.append(Source(name, url))
        elif image is None:
            image = url
        else:
            raise InvalidRecord(f"line {number}: a second Cover Image")

    related: list[RelatedLink] = []
    entities: dict[str, None] = {}  # an ordered set: each name once, in order
    for number, item in _items(sections.get("related", []), "'### Related:'"):
        check_link(item.group("url"), f"line {number}: link")
        target = id_from_link(item.group("url"))
        rest = _RELATED_REST.fullmatch(item.group("rest"))
        if target is None or rest is None:
            raise InvalidRecord(
                f"line {number}: a related event is "
                "'1. [title](/news/YYYY/MM/DD/<slug>.md) _Context: entity_'"
            )
        check_id(target[0], f"line {number}: related id")
        context = _clean(rest.group("context") or "") or None
        related.append(RelatedLink(target[0], _clean(item.group("text")), target[1], context))
        if context:
            entities[context] = None

    event_id = formats_id or f"{date.isoformat()}-{slugify(title)}"
    return Event(
        id=event_id,
        date=date,
        title=title,
        body=body,
        entities=tuple(entities),
        sources=tuple(sources),
        image=image,
        related=tuple(related),
    )
