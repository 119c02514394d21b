"""The measures of the relevance suite, computed by ``ir_measures`` (trec_eval's
definitions through ``pytrec_eval``), with binary judgements:

- ``S@1``: success at 1, 1 when the first result is relevant;
- ``MRR@10``: reciprocal rank of the first relevant result in the top 10 (0 beyond),
  averaged over queries;
- ``nDCG@10``: normalised discounted cumulative gain over the top 10, gain 1 per
  relevant result, discount ``log2(rank + 1)``, the ideal ranking being every
  relevant event first (Järvelin and Kekäläinen, 2002);
- ``P@5``: the share of relevant results among the first 5 (fewer than 5 results
  count as misses).

A *run* maps query ids to ranked event ids.  A query with no results scores 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ir_measures
from ir_measures import RR, P, Success, nDCG

from bench.relevance.queries import QuerySet

__all__ = ["MEASURES", "Run", "Scorer", "Scores", "mean"]

#: Ranked event ids per query id.
Run = Mapping[str, Sequence[str]]
#: Per query id, each measure's value.
Scores = dict[str, dict[str, float]]

MEASURES: dict[str, Any] = {
    "S@1": Success @ 1,
    "MRR@10": RR @ 10,
    "nDCG@10": nDCG @ 10,
    "P@5": P @ 5,
}
_NAMES = {str(measure): name for name, measure in MEASURES.items()}


class Scorer:
    """Scores runs of one query set (the judgements are read once)."""

    def __init__(self, query_set: QuerySet) -> None:
        self.query_set = query_set
        qrels = {q.id: dict.fromkeys(q.relevant, 1) for q in query_set.queries}
        self._evaluator = ir_measures.evaluator(
            [MEASURES[name] for name in query_set.measures], qrels
        )

    def score(self, run: Run) -> Scores:
        """Every query's value of every measure of the set."""
        # trec_eval ranks by score: the rank order is kept by decreasing scores.
        ranked = {
            qid: {doc: float(len(docs) - i) for i, doc in enumerate(dict.fromkeys(docs))}
            for qid, docs in run.items()
            if docs
        }
        scores: Scores = {
            q.id: dict.fromkeys(self.query_set.measures, 0.0) for q in self.query_set.queries
        }
        for metric in self._evaluator.iter_calc(ranked):
            scores[metric.query_id][_NAMES[str(metric.measure)]] = float(metric.value)
        return scores


def mean(scores: Scores, measure: str, queries: Iterable[str] | None = None) -> float:
    """The mean of ``measure`` over ``queries`` (all by default); 0.0 for none."""
    ids = list(scores) if queries is None else list(queries)
    return sum(scores[q][measure] for q in ids) / len(ids) if ids else 0.0
