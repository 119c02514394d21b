"""Ingest limits: how large one event may be.

An event beyond a limit is rejected with a reason that names the limit and its
setting, and the rest of the job goes on.  Without limits one event with a 50 MB
body took minutes and gigabytes to index, and then every search that matched it
ran out of time.
"""

from __future__ import annotations

from dataclasses import dataclass

from config import SETTINGS, Config
from indexer.formats.reject import InvalidRecord
from search import Event

__all__ = ["Limits"]


_ENV = {setting.name: setting.env for setting in SETTINGS}


@dataclass(frozen=True)
class Limits:
    """The most one event may hold (the settings of the same names, ``max_*``)."""

    event_body_bytes: int
    title_length: int
    event_entities: int
    event_sources: int
    event_related: int
    value_length: int

    @classmethod
    def from_config(cls, config: Config) -> Limits:
        return cls(
            event_body_bytes=config.max_event_body_bytes,
            title_length=config.max_title_length,
            event_entities=config.max_event_entities,
            event_sources=config.max_event_sources,
            event_related=config.max_event_related,
            value_length=config.max_value_length,
        )

    @classmethod
    def defaults(cls) -> Limits:
        """The limits of the settings' defaults."""
        return cls.from_config(Config.from_env({}))

    def check(self, event: Event) -> Event:
        """``event`` when it is within every limit; InvalidRecord naming the first
        limit it passes, its size and the setting otherwise."""
        body = event.body
        # UTF-8 takes 1 to 4 bytes a character: encode only when the count decides.
        if len(body) > self.event_body_bytes or (
            4 * len(body) > self.event_body_bytes
            and len(body.encode("utf-8", "surrogatepass")) > self.event_body_bytes
        ):
            size = len(body.encode("utf-8", "surrogatepass"))
            _over("body too long", f"{size:,} bytes", self.event_body_bytes, "max_event_body_bytes")
        if len(event.title) > self.title_length:
            _over(
                "title too long",
                f"{len(event.title):,} characters",
                self.title_length,
                "max_title_length",
            )
        for field, count, limit, setting in (
            ("entities", len(event.entities), self.event_entities, "max_event_entities"),
            ("sources", len(event.sources), self.event_sources, "max_event_sources"),
            ("related links", len(event.related), self.event_related, "max_event_related"),
        ):
            if count > limit:
                _over(f"too many {field}", f"{count:,}", limit, setting)
        for field, value in _values(event):
            if len(value) > self.value_length:
                _over(
                    f"{field} too long",
                    f"{len(value):,} characters",
                    self.value_length,
                    "max_value_length",
                )
        return event


def _over(what: str, size: str, limit: int, setting: str) -> None:
    raise InvalidRecord(f"{what}: {size}, at most {limit:,} ({_ENV[setting]})")


def _values(event: Event) -> list[tuple[str, str]]:
    """The event's short text values (names, addresses), each with its field."""
    values = [(f"entities[{n}]", e) for n, e in enumerate(event.entities)]
    for n, source in enumerate(event.sources):
        values.append((f"sources[{n}].name", source.name))
        if source.url:
            values.append((f"sources[{n}].url", source.url))
    for n, link in enumerate(event.related):
        values.append((f"related[{n}].title", link.title))
        if link.context:
            values.append((f"related[{n}].context", link.context))
    for field, value in (
        ("category", event.category),
        ("story", event.story),
        ("image", event.image),
    ):
        if value:
            values.append((field, value))
    return values
