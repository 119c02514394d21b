"""Running systems over the query sets, and scoring their answers.

``answer`` asks one system every query of a set; ``Evaluator`` does it for the
systems a ``SystemFactory`` makes, remembering each task's answers under the
factory's key, so that parameter sets that cannot change a task's answers (a related
weight for searches, a value equal to the default) are never run twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Protocol

from bench.relevance.metrics import Run, Scorer, Scores
from bench.relevance.queries import RELATED, QuerySet
from bench.relevance.systems import System

__all__ = ["Evaluator", "SystemFactory", "answer", "plain_factory"]

Params = Mapping[str, object]


class SystemFactory(Protocol):
    """Makes the system for a parameter set, and says what a task's answers depend on."""

    def __call__(self, params: Params) -> System: ...

    def key(self, params: Params, task: str) -> Hashable:
        """Equal keys for a task promise equal answers to its queries."""
        ...


class _Plain:
    def __init__(self, make: Callable[[Params], System]) -> None:
        self.make = make

    def __call__(self, params: Params) -> System:
        return self.make(params)

    def key(self, params: Params, task: str) -> Hashable:
        return tuple(sorted(params.items()))


def plain_factory(make: Callable[[Params], System]) -> SystemFactory:
    """A factory from a bare ``make(params) -> System``: every parameter is taken to
    change every task's answers."""
    return _Plain(make)


def answer(system: System, query_set: QuerySet) -> Run:
    """The system's ranked ids for every query of the set."""
    ask = system.related if query_set.task == RELATED else system.search
    return {q.id: ask(q.text) for q in query_set.queries}


class Evaluator:
    """Per-query scores of the factory's systems on the query sets, each task's answers
    computed once per distinct key.  ``runs`` counts the (key, query set) runs made and
    ``seconds`` their time."""

    def __init__(self, factory: SystemFactory, query_sets: Sequence[QuerySet]) -> None:
        self.factory = factory
        self.query_sets = list(query_sets)
        self.scorers = {s.name: Scorer(s) for s in self.query_sets}
        self._answers: dict[tuple[str, Hashable], Run] = {}
        self._scores: dict[tuple[str, Hashable], Scores] = {}
        self._systems: dict[Hashable, System] = {}
        self.runs = 0
        self.seconds = 0.0

    def system(self, params: Params) -> System:
        """The factory's system for ``params``, made once."""
        key = tuple(sorted(params.items()))
        found = self._systems.get(key)
        if found is None:
            found = self._systems[key] = self.factory(params)
        return found

    def answers(self, params: Params, query_set: QuerySet) -> Run:
        """The ranked ids of the system for ``params`` on one query set."""
        key = (query_set.name, self.factory.key(params, query_set.task))
        found = self._answers.get(key)
        if found is None:
            started = time.perf_counter()
            found = self._answers[key] = answer(self.system(params), query_set)
            self.seconds += time.perf_counter() - started
            self.runs += 1
        return found

    def scores(self, params: Params, query_set: QuerySet) -> Scores:
        """Every query's measures for ``params`` on one query set."""
        key = (query_set.name, self.factory.key(params, query_set.task))
        found = self._scores.get(key)
        if found is None:
            found = self._scores[key] = self.scorers[query_set.name].score(
                self.answers(params, query_set)
            )
        return found
