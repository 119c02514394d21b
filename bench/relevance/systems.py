"""What the suite measures: a *system* answers searches and related-event lookups with
ranked event ids; our service is made into one by ``OursFactory`` for any parameter
set.

Parameters are named ``PREFIX.FIELD``.  ``KNOBS`` says what each prefix sets and
which tasks' answers it changes:

- ``request.*``: a field of ``search.SearchRequest`` (``request.expand``);
- ``expansion.*``: a field of ``search.expansion.ExpansionWeights``, injected as
  ``SearchService(expansion_weights=...)``;
- ``related.*``: a field of ``search.related.RelatedWeights``, injected as
  ``SearchService(related_weights=...)``;
- ``index.*``: an analysis setting (``index.stemmer``), handed to the index builder hook
  (``IndexBuilder``): parameter sets that differ in it get their own index, built
  once; every other parameter only changes ranking and reuses the index (and its
  open reader).

A new object the service takes (``SearchService(similarity=...)``) is one more line
in ``KNOBS``; its fields are then parameters (``similarity.k1``).

The index is built from the corpus without its story field (the story judgements
must not be in the text searched), by the real ``indexer`` rebuild job.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from bench.relevance.queries import RELATED, SEARCH
from config import Config
from indexer import jobs
from search import (
    DEFAULT_STEMMER,
    STEMMERS,
    Event,
    ExpansionWeights,
    IndexStore,
    LiveIndex,
    RelatedWeights,
    SearchRequest,
    SearchService,
    Similarity,
)

__all__ = [
    "KNOBS",
    "RELATED_DEPTH",
    "SEARCH_DEPTH",
    "IndexBuilder",
    "Knob",
    "OursFactory",
    "ServiceSystem",
    "System",
    "build_index",
]

#: Results asked of every system per search, and per related lookup: the measures
#: read 10 and 5; diagnostics show ranks up to these.
SEARCH_DEPTH = 20
RELATED_DEPTH = 10


class System(Protocol):
    """Anything measured: ranked event ids, best first."""

    def search(self, query: str) -> list[str]:
        """The top ``SEARCH_DEPTH`` events for a typed query."""
        ...

    def related(self, event_id: str) -> list[str]:
        """The top ``RELATED_DEPTH`` events related to an indexed one (never itself)."""
        ...


#: Builds an index of ``events`` under analysis ``settings`` in a work directory, and
#: returns the index directory (an ``IndexStore`` root).
IndexBuilder = Callable[[Sequence[Event], Mapping[str, object], Path], Path]


def build_index(events: Sequence[Event], settings: Mapping[str, object], workdir: Path) -> Path:
    """The service's index of ``events`` without their story field, built by the
    indexer's rebuild job.  ``settings`` are analysis settings (``index.*``
    parameters without their prefix): ``stemmer``, one of ``search.STEMMERS``
    (default ``search.DEFAULT_STEMMER``); any other is a ValueError."""
    unknown = sorted(set(settings) - {"stemmer"})
    if unknown:
        raise ValueError(f"unknown analysis settings {unknown}: build_index takes 'stemmer'")
    stemmer = str(settings.get("stemmer", DEFAULT_STEMMER))
    if stemmer not in STEMMERS:
        raise ValueError(f"unknown stemmer {stemmer!r}: one of {', '.join(STEMMERS)}")
    workdir.mkdir(parents=True, exist_ok=True)
    source = workdir / "events.jsonl"
    with open(source, "w", encoding="utf-8") as fh:
        for event in events:
            fh.write(json.dumps(dataclasses.replace(event, story=None).to_dict()) + "\n")
    index_dir = workdir / "index"
    jobs.rebuild(IndexStore(index_dir), [source], keep=0, stemmer=stemmer)
    return index_dir


@dataclass(frozen=True)
class Knob:
    """A parameter prefix: the object it sets (``request``, ``index``, or a keyword of
    ``SearchService``), the dataclass whose fields it names (None: any name), and the
    tasks whose answers it changes."""

    target: str
    fields_of: type | None
    tasks: frozenset[str]


_SEARCH = frozenset({SEARCH})
_RELATED = frozenset({RELATED})
_BOTH = _SEARCH | _RELATED

KNOBS: dict[str, Knob] = {
    "request": Knob("request", SearchRequest, _SEARCH),
    "index": Knob("index", None, _BOTH),
    "expansion": Knob("expansion_weights", ExpansionWeights, _SEARCH),
    "related": Knob("related_weights", RelatedWeights, _RELATED),
    "similarity": Knob("similarity", Similarity, _BOTH),
}


def _split(name: str) -> tuple[str, Knob, str]:
    """(prefix, knob, field) of a parameter name; ValueError naming what is wrong."""
    prefix, dot, field = name.partition(".")
    knob = KNOBS.get(prefix)
    if not dot or not field or knob is None:
        raise ValueError(
            f"unknown parameter {name!r}: parameters are PREFIX.FIELD, PREFIX one of "
            f"{', '.join(KNOBS)}"
        )
    if knob.fields_of is not None:
        known = {f.name for f in dataclasses.fields(knob.fields_of)}
        if field not in known:
            raise ValueError(
                f"unknown parameter {name!r}: {knob.fields_of.__name__} has "
                f"{', '.join(sorted(known))}"
            )
    return prefix, knob, field


_NO_DEFAULT = object()


def _default(knob: Knob, field: str) -> object:
    if knob.fields_of is None:
        return _NO_DEFAULT
    for f in dataclasses.fields(knob.fields_of):
        if f.name == field:
            return f.default
    return _NO_DEFAULT


class ServiceSystem:
    """Our service with one parameter set: searches as the API runs them (highlighting
    and facets off: they change no ranking)."""

    def __init__(self, service: SearchService, request: SearchRequest) -> None:
        self.service = service
        self.request = request

    def scored_search(self, query: str) -> list[tuple[str, float]]:
        """(id, score) of the top ``SEARCH_DEPTH`` events for a typed query."""
        found = self.service.search(dataclasses.replace(self.request, q=query))
        return [(r.id, float(r.score or 0.0)) for r in found.results]

    def scored_related(self, event_id: str) -> list[tuple[str, float]]:
        """(id, score) of the top ``RELATED_DEPTH`` events related to an indexed one."""
        found = self.service.related(event_id, size=RELATED_DEPTH)
        return [(r.id, float(r.score or 0.0)) for r in found.results]

    def search(self, query: str) -> list[str]:
        return [event_id for event_id, _ in self.scored_search(query)]

    def related(self, event_id: str) -> list[str]:
        return [event_id for event_id, _ in self.scored_related(event_id)]


class OursFactory:
    """Makes our service into a system for any parameter set (see the module).

    Indexes are built once per distinct analysis setting, in ``workdir``, by
    ``build``; each keeps one open ``LiveIndex`` that every service made on it
    shares.  ``builds`` counts the indexes built.  Close when done."""

    def __init__(
        self, events: Sequence[Event], workdir: Path, build: IndexBuilder = build_index
    ) -> None:
        self.events = events
        self.workdir = workdir
        self.build = build
        self.builds = 0
        self._indexes: dict[Hashable, Path] = {}
        self._readers: dict[Hashable, LiveIndex] = {}

    @staticmethod
    def affects(name: str) -> frozenset[str]:
        """The tasks whose answers parameter ``name`` changes."""
        return _split(name)[1].tasks

    def key(self, params: Mapping[str, object], task: str) -> Hashable:
        """What ``task``'s answers depend on: the parameters that affect it, less those
        set to the service's default (values must be hashable)."""
        kept = []
        for name, value in params.items():
            _, knob, field = _split(name)
            if task in knob.tasks and value != _default(knob, field):
                kept.append((name, value))
        return tuple(sorted(kept, key=lambda item: item[0]))

    def index_dir(self, settings: Mapping[str, object]) -> Path:
        """The index built under analysis ``settings`` (built on first use)."""
        key = tuple(sorted(settings.items()))
        found = self._indexes.get(key)
        if found is None:
            workdir = self.workdir / f"index-{len(self._indexes)}"
            found = self._indexes[key] = self.build(self.events, settings, workdir)
            self.builds += 1
        return found

    def __call__(self, params: Mapping[str, object]) -> ServiceSystem:
        parts: dict[str, dict[str, Any]] = {}
        for name, value in params.items():
            _, knob, field = _split(name)
            parts.setdefault(knob.target, {})[field] = value
        settings = parts.pop("index", {})
        request = SearchRequest(size=SEARCH_DEPTH, facets=(), highlight=False)
        request = dataclasses.replace(request, **parts.pop("request", {}))
        injected = {}
        for knob in KNOBS.values():
            if knob.fields_of is not None and knob.target in parts:
                injected[knob.target] = knob.fields_of(**parts[knob.target])
        index_dir = self.index_dir(settings)
        key = tuple(sorted(settings.items()))
        # No time limit: every answer is complete, however busy the machine.
        config = Config.from_env({}, index_dir=index_dir, search_timeout=3600.0)
        service = SearchService(config, live=self._readers.get(key), **injected)
        self._readers.setdefault(key, service.live)
        return ServiceSystem(service, request)

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()
