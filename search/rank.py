"""Ranking a query's matches: what the query's shape adds to their BM25F scores.

The matches never change here; only their order does:

- **proximity**: consecutive plain words of the query standing together in an
  event's title or body (search/scoring.py ``pair_bonus``);
- **names**: spans of the query that are known entity names, for events carrying
  them (``Similarity.names``), matched case- and accent-insensitively;
- **coordination**: tiers by matched query words (``Similarity.coordinated``).

Query expansion (search/expansion.py) adds its score after these, within the same
tiers, so it can reorder events but never lift one missing a query word above one
that has them all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from search.evaluate import Evaluator
from search.matches import Matches, and_maybe, union
from search.query import (
    Alternatives,
    And,
    AndMaybe,
    AndNot,
    Or,
    Phrase,
    Query,
    Term,
    Values,
    word_count,
)
from search.schema import TEXT_FIELDS
from search.scoring import Similarity, entity_idf

__all__ = ["NameIndex", "Ranking", "plain_terms", "rank"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
_MAX_NAME_WORDS = 8
_PROXIMITY_FIELDS = ("title", "body")


class NameIndex:
    """Known entity names by their folded words: ``("vladimir", "putin")`` ->
    ``["Vladimir Putin"]``."""

    def __init__(self, names: Mapping[tuple[str, ...], list[str]]) -> None:
        self.names = dict(names)

    def spans(self, words: list[str]) -> list[str]:
        """The entity names the words hold, longest spans first, not overlapping."""
        found: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(_MAX_NAME_WORDS, len(words) - i), 0, -1):
                values = self.names.get(tuple(words[i : i + size]))
                if values:
                    found.extend(v for v in values if v not in found)
                    i += size
                    break
            else:
                i += 1
        return found


@dataclass(frozen=True)
class Ranking:
    """A ranked set of matches: tiers and scores aligned with ``matches.docs``."""

    matches: Matches
    tiers: IntArray

    def top(self, limit: int) -> list[tuple[int, float]]:
        return self.matches.top(limit, self.tiers)


def plain_terms(query: Query) -> list[Term]:
    """The query's top-level words over every text field, in the order typed."""
    match query:
        case Term(fields=fields) if fields == TEXT_FIELDS:
            return [query]
        case And(parts) | Or(parts):
            words = (p for p in parts if isinstance(p, (Term, Alternatives)))
            return [t for p in words for t in plain_terms(p)]
        case Alternatives(parts):  # a word as typed, and its other forms
            return plain_terms(parts[0])
        case AndMaybe(required, _) | AndNot(required, _):
            return plain_terms(required)
    return []


def _proximity(evaluator: Evaluator, similarity: Similarity, terms: list[Term]) -> Matches:
    """Events where consecutive query words stand in order, at most one word apart."""
    snap = evaluator.snap
    parts = []
    for a, b in itertools.pairwise(terms):
        if a.term == b.term:
            continue
        pair = Phrase((a.term, b.term), (0, 1), _PROXIMITY_FIELDS, slop=1)
        found = evaluator.run(pair)
        if not len(found.docs):
            continue
        idfs = []
        for term in (a.term, b.term):
            btext = term.encode("utf-8")
            df = max(snap.doc_frequency(f, btext) for f in _PROXIMITY_FIELDS)
            idfs.append(similarity.idf(df, snap.doc_count_all))
        bonus = similarity.pair_bonus(idfs[0], idfs[1])
        parts.append(Matches(found.docs, np.full(len(found.docs), bonus), found.matched * 0))
    return union(parts)


def _names(evaluator: Evaluator, similarity: Similarity, names: Iterable[str]) -> Matches:
    snap = evaluator.snap
    parts = []
    for name in names:
        df = snap.doc_frequency("entity_value", name.encode("utf-8"))
        if df:
            boost = similarity.names * entity_idf(df, snap.doc_count_all)
            parts.append(evaluator.run(Values("entity_value", (name,), boost)))
    return union(parts)


def rank(
    evaluator: Evaluator,
    similarity: Similarity,
    matches: Matches,
    query: Query,
    names: Iterable[str] = (),
) -> Ranking:
    """The matches of ``query``, with proximity and names added to their scores, in
    coordination tiers.  ``names`` are the entity names the query's words hold."""
    if similarity.proximity > 0:
        terms = plain_terms(query)
        if len(terms) > 1:
            matches = and_maybe(matches, _proximity(evaluator, similarity, terms))
    if similarity.names > 0:
        matches = and_maybe(matches, _names(evaluator, similarity, names))
    tiers, scores = similarity.coordinated(matches.scores, matches.matched, word_count(query))
    return Ranking(Matches(matches.docs, scores, matches.matched), tiers)


def with_expansion(ranking: Ranking, extra: Matches) -> Ranking:
    """The ranking with expansion's scores added, tiers unchanged."""
    return Ranking(and_maybe(ranking.matches, extra), ranking.tiers)
