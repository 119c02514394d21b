"""k-fold cross-validation of parameters chosen on labelled queries.

Queries are split into ``k`` folds (5 by default) by their *group*
(``bench.relevance.queries``): every query of a group lands in the same fold, so a
story's name query and its events' related queries are never split, nor an event's
2- and 3-word known-item queries.  The assignment is deterministic and balanced for
every query set at once: a group's weight in a set is its share of the set's
queries; groups are placed heaviest first (ties in the order of
``sha256(seed:group)``), each in the fold that least increases the sum of squared
per-set loads (ties: the lowest fold).  A story thus weighs both as a story name
and as its events' related queries.

For each fold, the parameters are chosen on the other folds (the *training*
folds): among the candidates of a grid (a union of Cartesian products, as
scikit-learn's ``ParameterGrid``; ties go to the first in grid order), or by
coordinate ascent over one product (from each parameter's first value, each
parameter in turn set to its best value, until a pass changes nothing).  The
chosen parameters' figures on the held-out fold are reported per fold; the
cross-validated figure is that of the held-out folds together, each query scored
once by the parameters chosen without it (the held-out runs joined into one run, as
IR toolkits evaluate cross-validated runs; with equal folds, the mean of the folds).

The *objective* is a weighted mean of the query sets' primary measures (each set's
mean over its training queries).  ``combined`` weighs every set equally: one
parameter set serves every kind of query, as the service must.  ``per_type`` tunes
each set on its own (an upper bound of what a per-type setting could give).

Every candidate's answers come from an ``Evaluator``, so each distinct system is
run once over all queries, whatever the folds and objectives.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.relevance.evaluation import Evaluator
from bench.relevance.metrics import mean
from bench.relevance.queries import QuerySet

__all__ = [
    "DEFAULT_FOLDS",
    "CrossValidation",
    "FoldResult",
    "Grid",
    "Objective",
    "assign_folds",
    "combined",
    "cross_validate",
    "expand_grid",
    "per_type",
]

DEFAULT_FOLDS = 5
#: A union of Cartesian products: each mapping gives every parameter's values.
Grid = Sequence[Mapping[str, Sequence[object]]]
Params = dict[str, object]


@dataclass(frozen=True)
class Objective:
    """What tuning maximises: the weighted mean of query sets' primary measures."""

    name: str
    weights: Mapping[str, float]


def combined(query_sets: Sequence[QuerySet]) -> Objective:
    """Every query set weighted equally."""
    return Objective("combined", {s.name: 1.0 for s in query_sets})


def per_type(query_sets: Sequence[QuerySet]) -> list[Objective]:
    """One objective per query set."""
    return [Objective(s.name, {s.name: 1.0}) for s in query_sets]


def expand_grid(grid: Grid) -> list[Params]:
    """Every candidate of the grid, in order, each once."""
    seen: list[Params] = []
    for part in grid:
        names = list(part)
        for values in itertools.product(*(part[n] for n in names)):
            candidate = dict(zip(names, values, strict=True))
            if candidate not in seen:
                seen.append(candidate)
    return seen or [{}]


def _order(seed: int, group: str) -> str:
    return hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()


def assign_folds(query_sets: Sequence[QuerySet], k: int, seed: int = 0) -> dict[str, int]:
    """Group -> fold number (0 .. k-1), as the module says.  ValueError when ``k`` is
    below 2 or a query set has fewer groups than folds."""
    if k < 2:
        raise ValueError(f"folds must be at least 2, not {k}")
    shares: dict[str, dict[str, float]] = {}
    for query_set in query_sets:
        groups = {q.group for q in query_set.queries}
        if len(groups) < k:
            raise ValueError(
                f"query set {query_set.name} has {len(groups)} groups: fewer than {k} folds"
            )
        for query in query_set.queries:
            share = shares.setdefault(query.group, {})
            share[query_set.name] = share.get(query_set.name, 0.0) + 1 / len(query_set.queries)
    load = [dict.fromkeys((s.name for s in query_sets), 0.0) for _ in range(k)]
    folds: dict[str, int] = {}
    for group in sorted(shares, key=lambda g: (-sum(shares[g].values()), _order(seed, g))):
        # The fold where the group's query sets are least loaded (weighed by its shares):
        # the one that least increases the sum of squared loads.
        fold = min(
            range(k),
            key=lambda f: (sum(load[f][name] * w for name, w in shares[group].items()), f),
        )
        folds[group] = fold
        for name, w in shares[group].items():
            load[fold][name] += w
    return folds


@dataclass
class FoldResult:
    """One fold: the parameters chosen on the others, their objective there, the
    held-out figures (query set -> measure -> mean over the fold's queries) and the
    number of the fold's queries per set."""

    fold: int
    params: Params
    training_objective: float
    held_out: dict[str, dict[str, float]]
    queries: dict[str, int]


@dataclass
class CrossValidation:
    """The folds of one objective, and the mean of their held-out figures."""

    objective: Objective
    folds: list[FoldResult] = field(default_factory=list)

    @property
    def held_out(self) -> dict[str, dict[str, float]]:
        """Query set -> measure -> the held-out figure over all queries (each fold's
        mean weighed by its queries)."""
        out: dict[str, dict[str, float]] = {}
        for name in self.folds[0].held_out if self.folds else ():
            count = sum(f.queries[name] for f in self.folds)
            out[name] = {
                m: sum(f.held_out[name][m] * f.queries[name] for f in self.folds) / count
                for m in self.folds[0].held_out[name]
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": {"name": self.objective.name, "weights": dict(self.objective.weights)},
            "held_out": self.held_out,
            "folds": [
                {
                    "fold": f.fold,
                    "params": f.params,
                    "training_objective": f.training_objective,
                    "held_out": f.held_out,
                    "queries": f.queries,
                }
                for f in self.folds
            ],
        }


class _Splits:
    """Per query set and fold, the ids of the fold's queries and of the others'."""

    def __init__(self, query_sets: Sequence[QuerySet], folds: Mapping[str, int], k: int) -> None:
        self.held: dict[tuple[str, int], list[str]] = {}
        self.train: dict[tuple[str, int], list[str]] = {}
        for s in query_sets:
            for f in range(k):
                self.held[s.name, f] = [q.id for q in s.queries if folds[q.group] == f]
                self.train[s.name, f] = [q.id for q in s.queries if folds[q.group] != f]


def _objective_value(
    evaluator: Evaluator,
    objective: Objective,
    params: Params,
    ids: Mapping[tuple[str, int], list[str]],
    fold: int,
) -> float:
    total = sum(objective.weights.values())
    value = 0.0
    for s in evaluator.query_sets:
        weight = objective.weights.get(s.name, 0.0)
        if weight:
            scores = evaluator.scores(params, s)
            value += weight * mean(scores, s.primary, ids[s.name, fold])
    return value / total


def _coordinate_ascent(
    score: Any, grid: Mapping[str, Sequence[object]], passes: int = 3
) -> tuple[Params, float]:
    current: Params = {name: values[0] for name, values in grid.items()}
    best = score(current)
    for _ in range(passes):
        changed = False
        for name, values in grid.items():
            for value in values:
                if value == current[name]:
                    continue
                trial = {**current, name: value}
                found = score(trial)
                if found > best:
                    current, best, changed = trial, found, True
        if not changed:
            break
    return current, best


def cross_validate(
    evaluator: Evaluator,
    grid: Grid,
    objectives: Sequence[Objective],
    k: int = DEFAULT_FOLDS,
    seed: int = 0,
    strategy: str = "grid",
) -> list[CrossValidation]:
    """Choose parameters on k-1 folds, report the held-out one, for every fold and
    objective (see the module).  ``strategy`` is ``grid`` or ``coordinate`` (the grid
    then being one product)."""
    if strategy not in ("grid", "coordinate"):
        raise ValueError(f"strategy must be grid or coordinate, not {strategy!r}")
    if strategy == "coordinate" and len(grid) != 1:
        raise ValueError("coordinate ascent runs over one product of values: give one mapping")
    folds = assign_folds(evaluator.query_sets, k, seed)
    splits = _Splits(evaluator.query_sets, folds, k)
    candidates = expand_grid(grid)
    results = []
    for objective in objectives:
        result = CrossValidation(objective)
        for fold in range(k):

            def training(
                params: Params, fold: int = fold, objective: Objective = objective
            ) -> float:
                return _objective_value(evaluator, objective, params, splits.train, fold)

            if strategy == "grid":
                values = [training(c) for c in candidates]
                best = max(range(len(candidates)), key=lambda i: (values[i], -i))
                chosen, value = candidates[best], values[best]
            else:
                chosen, value = _coordinate_ascent(training, grid[0])
            held_out = {
                s.name: {
                    m: mean(evaluator.scores(chosen, s), m, splits.held[s.name, fold])
                    for m in s.measures
                }
                for s in evaluator.query_sets
            }
            queries = {s.name: len(splits.held[s.name, fold]) for s in evaluator.query_sets}
            result.folds.append(FoldResult(fold, dict(chosen), value, held_out, queries))
        results.append(result)
    return results
