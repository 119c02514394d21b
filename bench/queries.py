"""The fixed query log: what a search box and a chart ask of the service.

It is derived, for a seed, from the same model as the corpus (its words, its
entities, its date range) and from the first generated events (for phrases
that occur and for event ids), so it fits every corpus size.  The mix:

- ``word``: one word; ``and2``: two words, both must match; ``phrase``: a quoted
  phrase (an entity's name, or two adjacent words of a title)
- ``date``: a word within one to five years; ``entity``: an entity filter, with
  or without a word
- ``histogram``: ``size=0&facets=date``, only the chart
- ``half``: no words, dates from the middle of the range on: about half the corpus,
  with the three facets
- ``suggest`` and ``related``: for the routes that serve them (see http_bench)

Every search asks for the default facets (date histogram, entity, source)
unless its kind says otherwise.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import numpy as np

from search import SearchRequest
from search.text import FUNCTION_WORDS
from tests.support.generate import CHUNK, generate_events
from tests.support.model import CorpusModel

__all__ = ["MIX", "SEARCH_KINDS", "Query", "build_log"]

#: Entries of each kind in the log.
MIX = {
    "word": 40,
    "and2": 30,
    "phrase": 20,
    "date": 20,
    "entity": 20,
    "histogram": 15,
    "half": 5,
    "suggest": 30,
    "related": 10,
}
SEARCH_KINDS = ("word", "and2", "phrase", "date", "entity", "histogram", "half")
DEFAULT_FACETS = ("date", "entity", "source")


@dataclass(frozen=True)
class Query:
    """One entry of the log."""

    kind: str
    words: tuple[str, ...] = ()
    phrase: bool = False
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    entity: str | None = None
    size: int = 10
    facets: tuple[str, ...] = DEFAULT_FACETS
    prefix: str = ""
    event_id: str = ""

    @property
    def is_search(self) -> bool:
        return self.kind in SEARCH_KINDS

    def text(self) -> str:
        """The ``q`` parameter."""
        if self.phrase:
            return '"' + " ".join(self.words) + '"'
        return " ".join(self.words)

    def search_request(self, *, facets: bool = True, highlight: bool = True) -> SearchRequest:
        """This search for ``SearchService``; without facets when ``facets`` is false."""
        return SearchRequest(
            q=self.text(),
            date_from=self.date_from,
            date_to=self.date_to,
            entities=(self.entity,) if self.entity else (),
            size=self.size,
            facets=self.facets if facets else (),
            highlight=highlight,
        )

    def search_path(self) -> str:
        """``/api/search?...`` for this search."""
        params: list[tuple[str, str]] = []
        if self.words:
            params.append(("q", self.text()))
        if self.date_from:
            params.append(("from", self.date_from.isoformat()))
        if self.date_to:
            params.append(("to", self.date_to.isoformat()))
        if self.entity:
            params.append(("entity", self.entity))
        if self.size != 10:
            params.append(("size", str(self.size)))
        if self.facets != DEFAULT_FACETS:
            params.append(("facets", ",".join(self.facets)))
        return "/api/search" + ("?" + urlencode(params) if params else "")

    def path(self, suggest: tuple[str, str] | None, related: str | None) -> str | None:
        """The request path, or None when the route this entry needs is not served.

        ``suggest`` is the suggest route and its text parameter; ``related`` the
        related route with ``{id}`` where the event id goes.
        """
        if self.is_search:
            return self.search_path()
        if self.kind == "suggest":
            if suggest is None:
                return None
            route, param = suggest
            return f"{route}?{urlencode({param: self.prefix})}"
        if self.kind == "related":
            if related is None:
                return None
            return related.replace("{id}", quote(self.event_id, safe=""))
        raise ValueError(f"unknown kind {self.kind!r}")

    def describe(self) -> str:
        """A short human form for tables."""
        if not self.is_search:
            return f"{self.kind}:{self.prefix or self.event_id}"
        parts = [self.kind, repr(self.text())] if self.words else [self.kind]
        if self.date_from or self.date_to:
            parts.append(f"{self.date_from or ''}..{self.date_to or ''}")
        if self.entity:
            parts.append(f"entity={self.entity}")
        return " ".join(parts)


def _content_words(model: CorpusModel, limit: int) -> list[str]:
    """The most frequent words that are not function words, in rank order."""
    found: list[str] = []
    for word in model.words:
        if len(word) > 2 and word.lower() not in FUNCTION_WORDS:
            found.append(word)
            if len(found) == limit:
                break
    return found


def _log_rank(rng: np.random.Generator, high: int) -> int:
    """A rank in [0, high), log-uniform: common words and rare ones alike."""
    return min(high - 1, int(math.exp(rng.uniform(0.0, math.log(high)))) - 1)


def _pick(rng: np.random.Generator, items: Sequence[str], high: int) -> str:
    return items[_log_rank(rng, min(high, len(items)))]


def build_log(model: CorpusModel, count: int, seed: int = 0) -> list[Query]:
    """The query log for a corpus of ``count`` events generated from ``model`` and ``seed``."""
    rng = np.random.default_rng([seed, 4])
    words = _content_words(model, 5000)
    entities = list(model.entities[:1000])
    multiword = [e for e in entities if " " in e]
    first = list(generate_events(model, min(count, CHUNK), seed))
    title_pairs = []
    for event in first:
        tokens = [w.strip(",.") for w in event.title.split()]
        for a, b in itertools.pairwise(tokens):
            if all(len(w) > 1 and w.lower() not in FUNCTION_WORDS for w in (a, b)):
                title_pairs.append((a, b))
                break
    span_days = (model.last_day - model.first_day).days

    def date_range() -> tuple[dt.date, dt.date]:
        years = int(rng.integers(1, 6))
        start = model.first_day + dt.timedelta(days=int(rng.integers(0, span_days - 365 * years)))
        return start, start + dt.timedelta(days=365 * years - 1)

    log: list[Query] = []
    for _ in range(MIX["word"]):
        log.append(Query("word", (_pick(rng, words, 3000),)))
    for _ in range(MIX["and2"]):
        a = _pick(rng, words, 500)
        b = _pick(rng, [w for w in words[:500] if w != a], 500)
        log.append(Query("and2", (a, b)))
    for i in range(MIX["phrase"]):
        if i % 2 == 0 and multiword:
            log.append(Query("phrase", tuple(_pick(rng, multiword, 300).split()), phrase=True))
        elif title_pairs:
            pair = title_pairs[int(rng.integers(len(title_pairs)))]
            log.append(Query("phrase", pair, phrase=True))
    for _ in range(MIX["date"]):
        start, end = date_range()
        log.append(Query("date", (_pick(rng, words, 1000),), date_from=start, date_to=end))
    for i in range(MIX["entity"]):
        with_word = (_pick(rng, words, 200),) if i % 2 == 0 else ()
        log.append(Query("entity", with_word, entity=_pick(rng, entities, 200)))
    for i in range(MIX["histogram"]):
        if i % 2 == 0:
            log.append(Query("histogram", (_pick(rng, words, 1000),), size=0, facets=("date",)))
        else:
            entity = _pick(rng, entities, 200)
            log.append(Query("histogram", entity=entity, size=0, facets=("date",)))
    for _ in range(MIX["half"]):
        log.append(Query("half", date_from=model.midpoint()))
    for i in range(MIX["suggest"]):
        name = _pick(rng, words, 2000) if i % 2 == 0 else _pick(rng, entities, 500)
        length = int(rng.integers(2, 6))
        log.append(Query("suggest", prefix=name[:length].lower()))
    for _ in range(MIX["related"]):
        log.append(Query("related", event_id=first[int(rng.integers(len(first)))].id))
    order = rng.permutation(len(log))
    return [log[i] for i in order]
