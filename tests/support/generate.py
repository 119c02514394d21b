"""Deterministic synthetic events, written as JSON Lines (canonical shape) or event pages.

Tests draw events from it directly; ``python -m bench generate`` (bench/generate.py)
writes them as a benchmark corpus.  Words, entities and sources are drawn Zipf-like
from a ``CorpusModel``; titles and bodies take their lengths from it; dates are
uniform over its 25 years.
Events are drawn in fixed-size chunks from one random stream, so the first
events are the same whatever the count.  Both formats carry the same events:
an event page names its entities through its related links
(``_Context: <entity>_``), so every entity gets one related link, to the
previous event that had it.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson

from indexer.formats.seed import slugify
from search import Event, RelatedLink, Source
from tests.support.model import MAX_ENTITIES, MAX_SOURCES, CorpusModel, ZipfSampler

__all__ = [
    "CHUNK",
    "FORMATS",
    "generate_events",
    "seed_page",
    "write_corpus",
    "write_events",
]

FORMATS = ("jsonl", "seed")
CHUNK = 1000
PAGES_PER_DIR = 1000
_WORDS_PER_EVENT = 140  # more than any title and body need


class _Draws:
    """One chunk's random numbers, drawn in bulk."""

    def __init__(
        self, model: CorpusModel, samplers: dict[str, ZipfSampler], rng: np.random.Generator
    ) -> None:
        n = CHUNK
        self.lengths = rng.integers(0, len(model.lengths), size=n)
        self.words = samplers["words"].draw(rng, n * _WORDS_PER_EVENT).reshape(n, _WORDS_PER_EVENT)
        self.n_entities = rng.choice(
            np.arange(1, MAX_ENTITIES + 1), size=n, p=np.array(model.entity_counts)
        )
        self.entities = samplers["entities"].draw(rng, n * 12).reshape(n, 12)
        self.n_sources = rng.choice(
            np.arange(1, MAX_SOURCES + 1), size=n, p=np.array(model.source_counts)
        )
        self.sources = samplers["sources"].draw(rng, n * 6).reshape(n, 6)
        span = (model.last_day - model.first_day).days + 1
        self.days = rng.integers(0, span, size=n) + model.first_day.toordinal()
        self.mention_title = rng.random(n) < 0.7
        self.mention_body = rng.random(n) < 0.5
        self.positions = rng.random((n, 2))
        self.commas = rng.random((n, _WORDS_PER_EVENT)) < 0.04


def _distinct(ranks: npt.NDArray[np.int64], count: int) -> list[int]:
    chosen: list[int] = []
    for rank in ranks:
        value = int(rank)
        if value not in chosen:
            chosen.append(value)
            if len(chosen) == count:
                break
    return chosen


def _sentence(words: list[str], commas: npt.NDArray[np.bool_]) -> str:
    out = []
    for i, word in enumerate(words):
        out.append(word + ("," if commas[i] and 0 < i < len(words) - 1 else ""))
    text = " ".join(out)
    return text[:1].upper() + text[1:] + "."


def _insert(words: list[str], name: str, where: float) -> list[str]:
    at = int(where * (len(words) + 1))
    return [*words[:at], *name.split(), *words[at:]]


def generate_events(model: CorpusModel, count: int, seed: int = 0) -> Iterator[Event]:
    """``count`` events, the same for the same model and seed."""
    rng = np.random.default_rng([seed, 3])
    samplers = {
        "words": ZipfSampler(len(model.words), s=1.0),
        "entities": ZipfSampler(len(model.entities), s=1.0),
        "sources": ZipfSampler(len(model.sources), s=1.1),
    }
    last_with: dict[str, tuple[str, str, dt.date]] = {}
    draws = _Draws(model, samplers, rng)
    for number in range(count):
        slot = number % CHUNK
        if slot == 0 and number:
            draws = _Draws(model, samplers, rng)
        title_len, body_len = model.lengths[int(draws.lengths[slot])]
        ranks = draws.words[slot]
        entities = [
            model.entities[r] for r in _distinct(draws.entities[slot], int(draws.n_entities[slot]))
        ]
        sources_at = _distinct(draws.sources[slot], int(draws.n_sources[slot]))
        date = dt.date.fromordinal(int(draws.days[slot]))

        title_words = [model.words[r] for r in ranks[:title_len]]
        if draws.mention_title[slot]:
            title_words = _insert(title_words, entities[0], draws.positions[slot, 0])
        title = _sentence(title_words, draws.commas[slot])
        body = title
        if body_len > title_len:
            rest = [model.words[r] for r in ranks[title_len:body_len]]
            if draws.mention_body[slot]:
                rest = _insert(rest, entities[-1], draws.positions[slot, 1])
            body = f"{title} {_sentence(rest, draws.commas[slot, title_len:])}"

        event_id = f"{date.isoformat()}-{slugify(title)[:50].strip('-')}-{number}"
        sources = tuple(
            Source(
                model.sources[i][0],
                f"https://www.{model.sources[i][1]}/{date:%Y/%m/%d}/{number}",
            )
            for i in sources_at
        )
        related = []
        for entity in entities:
            target = last_with.get(entity, (event_id, title, date))
            related.append(RelatedLink(target[0], target[1], target[2], entity))
            last_with[entity] = (event_id, title, date)
        yield Event(
            id=event_id,
            date=date,
            title=title,
            body=body,
            entities=tuple(entities),
            sources=sources,
            related=tuple(related),
        )


def _link(event_id: str, ext: str) -> str:
    """``2015-09-01-slug`` -> ``/news/2015/09/01/slug.ext`` (the reverse of the page reader)."""
    year, month, day, slug = event_id.split("-", 3)
    return f"/news/{year}/{month}/{day}/{slug}.{ext}"


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def seed_page(event: Event) -> str:
    """The event page of an event, as ``indexer/formats/seed.py`` reads it."""
    formats = "  ".join(
        f"[{label}]({_link(event.id, ext)})"
        for label, ext in (("HTML", "html"), ("JSON", "json"), ("XML", "xml"))
    )
    lines = [
        f"Formats: {formats}  ",
        "",
        f"### [{event.date.isoformat()}](/news/{event.date:%Y/%m/%d}/index.md)",
        "",
        f"# {_escape(event.title)} ",
        "",
        _escape(event.body),
        "",
        "",
        "### Sources:",
        "",
    ]
    lines += [f"1. [{_escape(s.name)}]({s.url})" for s in event.sources]
    lines += ["", "### Related:", ""]
    lines += [
        f"{i}. [{_escape(r.title)} ]({_link(r.id, 'md')}) _Context: {_escape(r.context or '')}_"
        for i, r in enumerate(event.related, 1)
    ]
    return "\n".join(lines) + "\n"


def write_events(events: Iterable[Event], out: Path) -> int:
    """Write events to ``out`` as JSON Lines in the canonical shape (atomically: the
    file appears whole); how many."""
    written = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "wb") as fh:
        for event in events:
            fh.write(orjson.dumps(event.to_dict()) + b"\n")
            written += 1
    tmp.replace(out)
    return written


def write_corpus(events: Iterable[Event], out: Path, fmt: str) -> int:
    """Write events to ``out``: one JSON Lines file (``jsonl``), or a directory of event
    pages (``seed``), 1000 to a folder; how many.  ValueError for another format."""
    if fmt == "jsonl":
        return write_events(events, out)
    if fmt != "seed":
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    written = 0
    for event in events:
        folder = out / f"{written // PAGES_PER_DIR:04d}"
        if written % PAGES_PER_DIR == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{written:07d}.md").write_text(seed_page(event), encoding="utf-8")
        written += 1
    return written
