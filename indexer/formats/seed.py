"""Event pages in the seed format (markdown-like ``.md``/``.txt`` pages).

A page has a ``Formats:`` line whose links name the page
(``/news/2017/11/23/<slug>.html`` -> id ``2017-11-23-<slug>``), a
``### [YYYY-MM-DD](...)`` date line, a ``# `` title, body paragraphs with HTML
entities, and ``### Sources:`` / ``### Related:`` lists.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata

from indexer.formats.fields import parse_date
from indexer.formats.reject import InvalidRecord
from search.event import Event, RelatedLink, Source

__all__ = ["id_from_link", "looks_like_seed", "parse_seed", "slugify"]

_NEWS_LINK = re.compile(r"/news/(\d{4})/(\d{1,2})/(\d{1,2})/([^/?#\s()]+?)\.(?:html|json|xml|md)\b")
_DATE_LINE = re.compile(r"^###\s*\[([^\]]*)\]")
_TITLE = re.compile(r"^#\s+(.*\S)\s*$")
_SECTION = re.compile(r"^###\s+(.*?):?\s*$")
_ITEM = re.compile(r"^\s*\d+\.\s*\[(?P<text>.*)\]\((?P<url>[^)\s]*)\)(?P<rest>.*)$")
_CONTEXT = re.compile(r"_Context:\s*(.*?)\s*_\s*$")
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


def parse_seed(text: str) -> Event:
    """Parse an event page.  Raises InvalidRecord naming what is missing or wrong."""
    lines = text.splitlines()
    formats_id = None
    for line in lines:
        if line.startswith("Formats:"):
            found = id_from_link(line)
            if found:
                formats_id = found[0]
            break
    date_line = next((m for m in map(_DATE_LINE.match, lines) if m), None)
    if date_line is None:
        raise InvalidRecord("no date line: expected '### [YYYY-MM-DD](...)'")
    date = parse_date(date_line.group(1), "date")
    title_at = next((i for i, line in enumerate(lines) if _TITLE.match(line)), None)
    if title_at is None:
        raise InvalidRecord("no title: expected a '# ' heading")
    title = _clean(_TITLE.match(lines[title_at]).group(1))  # type: ignore[union-attr]
    if not title:
        raise InvalidRecord("the '# ' heading is empty")

    body_lines: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines[title_at + 1 :]:
        section = _SECTION.match(line)
        if section:
            current = sections.setdefault(section.group(1).strip().lower(), [])
        elif current is None:
            body_lines.append(line)
        else:
            current.append(line)
    paragraphs = re.split(r"\n\s*\n", "\n".join(body_lines))
    body = "\n\n".join(p for p in (_clean(p) for p in paragraphs) if p)

    sources: list[Source] = []
    image = None
    for line in sections.get("sources", []):
        item = _ITEM.match(line)
        if not item:
            continue
        name, url = _clean(item.group("text")), item.group("url") or None
        if name.lower() == _COVER_IMAGE:
            image = image or url
        elif name:
            sources.append(Source(name, url))

    related: list[RelatedLink] = []
    entities: list[str] = []
    for line in sections.get("related", []):
        item = _ITEM.match(line)
        if not item:
            continue
        target = id_from_link(item.group("url"))
        if target is None:
            continue
        context_match = _CONTEXT.search(item.group("rest"))
        context = _clean(context_match.group(1)) if context_match else None
        related.append(RelatedLink(target[0], _clean(item.group("text")), target[1], context))
        if context and context not in entities:
            entities.append(context)

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
