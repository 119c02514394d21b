"""Sets of matching documents with their scores, and the set operations on them.

A ``Matches`` holds sorted global document numbers, each one's score and how many
query words it matched (search/query.py), as three aligned arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Matches", "and_maybe", "and_not", "concat", "intersect", "union"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Matches:
    """Matching documents (sorted global docnums), their scores, and how many query
    words each one matched."""

    docs: IntArray
    scores: FloatArray
    matched: IntArray

    @classmethod
    def empty(cls) -> Matches:
        return cls(
            np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64), np.zeros(0, np.int64)
        )

    @classmethod
    def unscored(cls, docs: IntArray) -> Matches:
        """``docs`` with score 0 and no query words."""
        return cls(docs, np.zeros(len(docs)), np.zeros(len(docs), dtype=np.int64))

    def __len__(self) -> int:
        return len(self.docs)

    def select(self, keep: npt.NDArray[np.bool_] | IntArray) -> Matches:
        """The matches where ``keep`` (a mask, or indices in order) holds."""
        return Matches(self.docs[keep], self.scores[keep], self.matched[keep])

    def top(self, limit: int, tiers: IntArray | None = None) -> list[tuple[int, float]]:
        """The ``limit`` best (docnum, score): by tier (when given), then score, both
        descending, then docnum."""
        if not len(self.docs) or limit <= 0:
            return []
        if tiers is None:
            tiers = np.zeros(len(self.docs), dtype=np.int64)
        if limit < len(self.docs):
            # Everything at least as good as the limit-th best, then an exact sort.
            keys = tiers * (self.scores.max() - self.scores.min() + 1.0) + self.scores
            threshold = np.partition(keys, len(keys) - limit)[-limit]
            keep = np.flatnonzero(keys >= threshold - 1e-9 * (abs(threshold) + 1.0))
        else:
            keep = np.arange(len(self.docs))
        order = keep[np.lexsort((self.docs[keep], -self.scores[keep], -tiers[keep]))][:limit]
        return [(int(self.docs[i]), float(self.scores[i])) for i in order]


def union(parts: list[Matches]) -> Matches:
    """Documents matching any part; scores and matched words add up."""
    parts = [p for p in parts if len(p.docs)]
    if not parts:
        return Matches.empty()
    if len(parts) == 1:
        return parts[0]
    docs = np.concatenate([p.docs for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    matched = np.concatenate([p.matched for p in parts]).astype(np.float64)
    low = int(docs.min())
    span = int(docs.max()) - low + 1
    if span <= 8 * len(docs):
        # Dense: count over the span of document numbers instead of sorting.
        offsets = docs - low
        seen = np.zeros(span, dtype=bool)
        seen[offsets] = True
        present = np.flatnonzero(seen).astype(np.int64)
        total = np.bincount(offsets, weights=scores, minlength=span)[present]
        words = np.bincount(offsets, weights=matched, minlength=span)[present]
        return Matches(present + low, total.astype(np.float64), words.astype(np.int64))
    unique, inverse = np.unique(docs, return_inverse=True)
    total = np.bincount(inverse, weights=scores)
    words = np.bincount(inverse, weights=matched)
    return Matches(unique, total.astype(np.float64), words.astype(np.int64))


def intersect(parts: list[Matches]) -> Matches:
    """Documents matching every part; scores and matched words add up."""
    if not parts:
        return Matches.empty()
    result = parts[0]
    for part in parts[1:]:
        _, left, right = np.intersect1d(
            result.docs, part.docs, assume_unique=True, return_indices=True
        )
        result = Matches(
            result.docs[left],
            result.scores[left] + part.scores[right],
            result.matched[left] + part.matched[right],
        )
    return result


def and_maybe(required: Matches, optional: Matches) -> Matches:
    """The required documents, with the optional part's score added where it matches
    (its matched words are not counted: they are not the query's)."""
    scores = required.scores.copy()
    _, left, right = np.intersect1d(
        required.docs, optional.docs, assume_unique=True, return_indices=True
    )
    scores[left] += optional.scores[right]
    return Matches(required.docs, scores, required.matched)


def and_not(keep: Matches, drop: Matches) -> Matches:
    """The documents of ``keep`` that are not in ``drop``."""
    return keep.select(~np.isin(keep.docs, drop.docs, assume_unique=True))


def concat(parts: list[Matches]) -> Matches:
    """Matches of disjoint, ordered ranges of documents (segments), laid end to end."""
    if not parts:
        return Matches.empty()
    return Matches(
        np.concatenate([p.docs for p in parts]),
        np.concatenate([p.scores for p in parts]),
        np.concatenate([p.matched for p in parts]),
    )
