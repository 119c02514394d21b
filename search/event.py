"""The one event model every input format becomes, and its canonical JSON shape."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

__all__ = ["ID_PATTERN", "Event", "RelatedLink", "Source", "valid_id"]

#: Ids are URL-safe so that ``/api/events/{id}`` never needs escaping.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~:-]{0,199}")


def valid_id(value: str) -> bool:
    """Whether ``value`` can be an event id."""
    return ID_PATTERN.fullmatch(value) is not None


@dataclasses.dataclass(frozen=True)
class Source:
    """A cited source: its name and the address of the cited page."""

    name: str
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url}


@dataclasses.dataclass(frozen=True)
class RelatedLink:
    """An explicit link from one event to another, with the entity they share."""

    id: str
    title: str
    date: dt.date | None = None
    context: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "context": self.context,
        }


@dataclasses.dataclass(frozen=True)
class Event:
    """A dated news event."""

    id: str
    date: dt.date
    title: str
    body: str = ""
    entities: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    category: str | None = None
    story: str | None = None
    image: str | None = None
    related: tuple[RelatedLink, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON shape (also what ``GET /api/events/{id}`` returns)."""
        return {
            "id": self.id,
            "date": self.date.isoformat(),
            "title": self.title,
            "body": self.body,
            "entities": list(self.entities),
            "sources": [s.to_dict() for s in self.sources],
            "category": self.category,
            "story": self.story,
            "image": self.image,
            "related": [r.to_dict() for r in self.related],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """Rebuild an event from ``to_dict()`` output (trusted, already validated data)."""
        return cls(
            id=data["id"],
            date=dt.date.fromisoformat(data["date"]),
            title=data["title"],
            body=data.get("body") or "",
            entities=tuple(data.get("entities") or ()),
            sources=tuple(Source(s["name"], s.get("url")) for s in data.get("sources") or ()),
            category=data.get("category"),
            story=data.get("story"),
            image=data.get("image"),
            related=tuple(
                RelatedLink(
                    r["id"],
                    r.get("title") or "",
                    dt.date.fromisoformat(r["date"]) if r.get("date") else None,
                    r.get("context"),
                )
                for r in data.get("related") or ()
            ),
        )
