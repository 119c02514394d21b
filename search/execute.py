"""Running a query over whole postings arrays: every match and its score at once.

The query tree comes from the parser (whoosh query objects); it is evaluated
node by node over numpy arrays instead of document by document, so that the set
of all matches (for totals and facets) and the scores (for ranking) cost a few
array operations per term.

The scoring model, which ``tests/reference.py`` computes the slow way:

- a term in a text field scores BM25:
  ``idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average length))``
  with ``idf = ln(N / (df + 1)) + 1``, K1 = 1.2, B = 0.75, times the term's
  boost; N counts every document of the index, df and the average length are
  over the whole index; lengths are whoosh's one-byte quantised ones;
- a term in an exact-value field (entity, source, category...) scores its boost;
- ``prefix*`` and ``word~`` stand for the OR of the words they expand to;
- AND adds its parts' scores; OR adds the scores of the parts that match, and
  with a coordination factor ``c`` scores ``(sum + (m - 1) / (t - c)^2) * (t - 1) / t``
  where ``m`` of the OR's ``t`` terms match;
- ``a ANDMAYBE b`` matches ``a`` and adds ``b``'s score where ``b`` matches;
  ``a ANDNOT b`` and ``NOT b`` score as ``a`` and 0;
- a phrase matches where its words stand at their places (a stop word in the
  phrase keeps its place; ``~n`` allows each word within ``n - 1`` places of
  its own) and scores as the AND of its words;
- a constant-score query scores its constant; a date range scores 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import query as wq

from search.columns import IntArray
from search.postings import PostingsCache
from search.reader import Snapshot
from search.termindex import INDEXED_FIELDS, SegmentPostings

__all__ = ["K1", "B", "Executor", "Matches", "Unsupported", "and_maybe", "union"]

K1 = 1.2
B = 0.75

FloatArray = npt.NDArray[np.float64]


class Unsupported(Exception):
    """A query node this executor cannot run."""


class OutOfTime(Exception):
    """The deadline passed while evaluating."""


@dataclass(frozen=True)
class Matches:
    """Matching documents (sorted global docnums), their scores, and how many of the
    query's terms each one matched."""

    docs: IntArray
    scores: FloatArray
    matched: IntArray

    @classmethod
    def empty(cls) -> Matches:
        return cls(
            np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64), np.zeros(0, np.int64)
        )

    def top(self, limit: int) -> list[tuple[int, float]]:
        """The ``limit`` best (docnum, score), best first, ties by docnum."""
        if not len(self.docs) or limit <= 0:
            return []
        if limit < len(self.docs):
            # Everything scoring at least the limit-th best score, then an exact sort.
            threshold = np.partition(self.scores, len(self.scores) - limit)[-limit]
            keep = np.flatnonzero(self.scores >= threshold)
        else:
            keep = np.arange(len(self.docs))
        order = keep[np.lexsort((self.docs[keep], -self.scores[keep]))][:limit]
        return [(int(self.docs[i]), float(self.scores[i])) for i in order]


def union(parts: list[Matches]) -> Matches:
    """Documents matching any part; scores and matched terms add up (an OR without
    coordination)."""
    parts = [p for p in parts if len(p.docs)]
    if not parts:
        return Matches.empty()
    if len(parts) == 1:
        return parts[0]
    return Matches(*_union(parts))


def and_maybe(required: Matches, optional: Matches) -> Matches:
    """The required documents, with the optional part's score added where it matches."""
    scores = required.scores.copy()
    matched = required.matched.copy()
    _, left, right = np.intersect1d(
        required.docs, optional.docs, assume_unique=True, return_indices=True
    )
    scores[left] += optional.scores[right]
    matched[left] += optional.matched[right]
    return Matches(required.docs, scores, matched)


def _union(parts: list[Matches]) -> tuple[IntArray, FloatArray, IntArray]:
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
        terms = np.bincount(offsets, weights=matched, minlength=span)[present]
        return present + low, total.astype(np.float64), terms.astype(np.int64)
    unique, inverse = np.unique(docs, return_inverse=True)
    total = np.bincount(inverse, weights=scores)
    terms = np.bincount(inverse, weights=matched)
    return unique, total.astype(np.float64), terms.astype(np.int64)


def _in_place(positions: list[list[int]], offsets: list[int], slop: int) -> bool:
    """Whether the words stand at their offsets from the first word (within ``slop``
    places of them when slop is more than 1)."""
    others = [set(p) for p in positions[1:]]
    for start in positions[0]:
        if slop <= 1:
            if all(start + off in places for off, places in zip(offsets[1:], others, strict=True)):
                return True
        elif all(
            any(abs(p - (start + off)) < slop for p in places)
            for off, places in zip(offsets[1:], others, strict=True)
        ):
            return True
    return False


def phrase_docs(
    arrays: SegmentPostings,
    fieldname: str,
    terms: list[bytes],
    offsets: list[int],
    candidates: IntArray,
) -> IntArray:
    """Documents among ``candidates`` (sorted) where term i stands ``offsets[i]``
    places after term 0, from the segment's position arrays.

    Each (document, position - offset) pair of a term is one 64-bit key; the
    phrase stands where every term has the same key."""
    keys: IntArray | None = None
    for term, offset in zip(terms, offsets, strict=True):
        docs, places = arrays.places(fieldname, term)
        inside = np.isin(docs, candidates)
        found = (docs[inside] << 32) + (places[inside] - (offset - offsets[0]))
        keys = found if keys is None else keys[np.isin(keys, found)]
        if not len(keys):
            break
    if keys is None:
        return np.zeros(0, dtype=np.int64)
    return np.unique(keys >> 32)


def _is_date_range(query: Any) -> bool:
    """A date range, possibly wrapped to score a constant."""
    if isinstance(query, wq.ConstantScoreQuery):
        query = query.child
    return isinstance(query, wq.NumericRange) and query.fieldname == "date"


def _day_range(query: Any) -> tuple[int, int]:
    low = query.start if query.start is not None else -(2**62)
    high = query.end if query.end is not None else 2**62
    return int(low), int(high)


def _concat(parts: list[Matches]) -> Matches:
    if not parts:
        return Matches.empty()
    return Matches(
        np.concatenate([p.docs for p in parts]),
        np.concatenate([p.scores for p in parts]),
        np.concatenate([p.matched for p in parts]),
    )


def term_count(query: Any) -> int:
    """How many terms a query tree has (expanding patterns counts as one each)."""
    if query.is_leaf():
        return 1
    return sum(term_count(child) for child in query.children())


class Executor:
    """Evaluates queries on one snapshot, over all its segments or only some (so that
    a search out of time can answer with the segments it finished).  Statistics
    (document counts, frequencies, average lengths) are always the whole index's.
    Not shared between threads."""

    def __init__(
        self,
        snap: Snapshot,
        cache: PostingsCache,
        expired: Callable[[], bool] | None = None,
        segments: list[int] | None = None,
    ) -> None:
        self.snap = snap
        self.cache = cache
        self.expired = expired or (lambda: False)
        self.searcher = snap.searcher
        self.reader = snap.searcher.reader()
        leaves = self.reader.leaf_readers()
        chosen = range(len(leaves)) if segments is None else segments
        self.leaves = [(i, leaves[i][0], leaves[i][1]) for i in chosen]
        self.total = self.reader.doc_count_all() or 1
        self._lengths: dict[tuple[int, str], FloatArray] = {}

    def run_by_segment(self, query: Any) -> tuple[Matches, bool]:
        """Evaluate segment by segment; when time runs out, the segments done so far
        and False."""
        done: list[Matches] = []
        for index, _, _ in self.leaves:
            part = Executor(self.snap, self.cache, self.expired, [index])
            try:
                done.append(part.run(query))
            except OutOfTime:
                return _concat(done), False
        return _concat(done), True

    # Leaves

    def _check_time(self) -> None:
        if self.expired():
            raise OutOfTime

    def _length(self, index: int, reader: Any, fieldname: str) -> FloatArray:
        key = (index, fieldname)
        found = self._lengths.get(key)
        if found is None:
            found = self._lengths[key] = self.snap.columns.lengths(index, fieldname)
        return found

    def term(self, fieldname: str, text: Any, boost: float = 1.0) -> Matches:
        """Every live document with the term, scored."""
        if fieldname not in self.reader.schema:
            return Matches.empty()
        field = self.reader.schema[fieldname]
        try:
            btext = field.to_bytes(text)
        except ValueError:
            return Matches.empty()
        scorable = field.scorable
        if scorable:
            df = self.snap.doc_frequency(fieldname, btext)
            idf = math.log(self.total / (df + 1)) + 1
            average = (self.reader.field_length(fieldname) / self.total) or 1.0
        docs_parts, score_parts = [], []
        for index, reader, base in self.leaves:
            self._check_time()
            ids, weights = self._postings(index, reader, fieldname, btext)
            if not len(ids):
                continue
            live = self.snap.columns.live_mask(index)
            if live is not None:
                keep = live[ids]
                ids, weights = ids[keep], weights[keep]
            if scorable:
                lengths = self._length(index, reader, fieldname)[ids]
                norm = K1 * ((1 - B) + B * lengths / average)
                scores = idf * (weights * (K1 + 1)) / (weights + norm) * boost
            else:
                scores = np.full(len(ids), float(boost))
            docs_parts.append(ids + base)
            score_parts.append(scores)
        if not docs_parts:
            return Matches.empty()
        docs = np.concatenate(docs_parts)
        return Matches(docs, np.concatenate(score_parts), np.ones(len(docs), dtype=np.int64))

    def _expanded(self, query: Any) -> Matches:
        words = list(query._btexts(self.reader))
        parts = [self.term(query.fieldname, w, query.boost) for w in words if w]
        parts = [p for p in parts if len(p.docs)]
        if not parts:
            return Matches.empty()
        docs, scores, _ = _union(parts)
        return Matches(docs, scores, np.ones(len(docs), dtype=np.int64))

    def _phrase(self, query: Any) -> Matches:
        words = self.run(wq.And([wq.Term(query.fieldname, w, query.boost) for w in query.words]))
        if not len(words.docs):
            return words
        offsets = getattr(query, "offsets", list(range(len(query.words))))
        decode = self.reader.schema[query.fieldname].format.decode_positions
        field = self.reader.schema[query.fieldname]
        keep = np.zeros(len(words.docs), dtype=bool)
        shape = f"{' '.join(query.words)}|{offsets}|{query.slop}".encode()
        for index, reader, base in self.leaves:
            self._check_time()
            inside = np.flatnonzero(
                (words.docs >= base) & (words.docs < base + reader.doc_count_all())
            )
            if not len(inside):
                continue
            segment = self.snap.columns.segment_keys[index]

            def placed(
                reader: Any = reader, segment: str = segment, index: int = index
            ) -> tuple[IntArray, Any]:
                # Every document of the segment where the phrase stands (a segment's
                # answer never changes, so it is kept like postings).
                candidates = self._phrase_candidates(query, reader, index)
                arrays = self.snap.columns.segments[index].postings
                if arrays is not None and arrays.has_positions and query.slop <= 1:
                    terms = [field.to_bytes(word) for word in query.words]
                    found = phrase_docs(arrays, query.fieldname, terms, offsets, candidates)
                    return found, np.zeros(0)
                places = []
                for word in query.words:
                    ids, values = self.cache.positions(
                        segment, reader, query.fieldname, field.to_bytes(word)
                    )
                    at = np.searchsorted(ids, candidates)
                    places.append([values[i] for i in at.tolist()])
                hits = [
                    doc
                    for row, doc in enumerate(candidates.tolist())
                    if _in_place([decode(column[row]) for column in places], offsets, query.slop)
                ]
                return np.array(hits, dtype=np.int64), np.zeros(0)

            hits, _ = self.cache.get_or_compute(
                (segment, f"phrase:{query.fieldname}", shape), placed
            )
            keep[inside] = np.isin(words.docs[inside] - base, hits)
        return Matches(words.docs[keep], words.scores[keep], words.matched[keep])

    def _postings(
        self, index: int, reader: Any, fieldname: str, btext: bytes
    ) -> tuple[IntArray, FloatArray]:
        """A term's postings in segment ``index``: from the arrays writers saved, or
        read from whoosh (and cached) where there are none."""
        arrays = self.snap.columns.segments[index].postings
        if arrays is not None and fieldname in INDEXED_FIELDS:
            return arrays.get(fieldname, btext)
        return self.cache.get(self.snap.columns.segment_keys[index], reader, fieldname, btext)

    def _phrase_candidates(self, query: Any, reader: Any, index: int) -> IntArray:
        """Documents of a segment that have every word of a phrase (deleted ones too)."""
        field = self.reader.schema[query.fieldname]
        found: IntArray | None = None
        for word in query.words:
            ids, _ = self._postings(index, reader, query.fieldname, field.to_bytes(word))
            found = ids if found is None else np.intersect1d(found, ids, assume_unique=True)
        return found if found is not None else np.zeros(0, dtype=np.int64)

    def _live_docs(self) -> IntArray:
        if len(self.leaves) == len(self.snap.columns.segments):
            return self.snap.columns.live_docs()
        parts = [self._live_in(index) + base for index, _, base in self.leaves]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def _live_in(self, index: int) -> IntArray:
        """Live segment-local docnums of segment ``index``."""
        live = self.snap.columns.live_mask(index)
        if live is None:
            return np.arange(self.snap.columns.segments[index].doc_count, dtype=np.int64)
        return np.flatnonzero(live).astype(np.int64)

    def _every(self) -> Matches:
        docs = self._live_docs()
        return Matches(docs, np.zeros(len(docs)), np.zeros(len(docs), dtype=np.int64))

    def _dates(self, query: Any) -> Matches:
        low, high = _day_range(query)
        parts = []
        for index, _, base in self.leaves:
            days = self.snap.columns.segments[index].days
            keep = (days >= low) & (days <= high)
            live = self.snap.columns.live_mask(index)
            if live is not None:
                keep &= live
            parts.append(np.flatnonzero(keep).astype(np.int64) + base)
        docs = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return Matches(docs, np.zeros(len(docs)), np.zeros(len(docs), dtype=np.int64))

    def _within_dates(self, matches: Matches, query: Any) -> Matches:
        """``matches`` AND a date range: the days of the matches alone are read."""
        score = 0.0
        if isinstance(query, wq.ConstantScoreQuery):
            query, score = query.child, float(query.score)
        low, high = _day_range(query)
        days = self.snap.columns.days(matches.docs)
        keep = (days >= low) & (days <= high)
        return Matches(matches.docs[keep], matches.scores[keep] + score, matches.matched[keep])

    # The tree

    def run(self, query: Any) -> Matches:
        """Every live document matching ``query``, with its score."""
        self._check_time()
        if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
            return Matches.empty()
        if isinstance(query, wq.Term):
            return self.term(query.fieldname, query.text, query.boost)
        if isinstance(query, wq.Every):
            return self._every()
        if isinstance(query, (wq.Prefix, wq.FuzzyTerm)):
            return self._expanded(query)
        if isinstance(query, wq.Phrase):
            return self._phrase(query)
        if isinstance(query, wq.NumericRange) and query.fieldname == "date":
            return self._dates(query)
        if isinstance(query, wq.ConstantScoreQuery):
            inner = self.run(query.child)
            return Matches(inner.docs, np.full(len(inner.docs), float(query.score)), inner.matched)
        if isinstance(query, wq.AndMaybe):
            return and_maybe(self.run(query.a), self.run(query.b))
        if isinstance(query, wq.AndNot):
            return self._and_not(self.run(query.a), self.run(query.b))
        if isinstance(query, wq.Not):
            return self._and_not(self._every(), self.run(query.query))
        if isinstance(query, wq.And):
            ranges = [child for child in query.subqueries if _is_date_range(child)]
            others = [child for child in query.subqueries if not _is_date_range(child)]
            if not (ranges and others):
                return self._and([self.run(child) for child in query.subqueries])
            # Date ranges as filters of what the other parts match, not as every
            # document of the range intersected with it.
            result = self._and([self.run(child) for child in others])
            for child in ranges:
                result = self._within_dates(result, child)
            return result
        if isinstance(query, wq.Or):
            return self._or(query, [self.run(child) for child in query.subqueries])
        raise Unsupported(type(query).__name__)

    @staticmethod
    def _and(parts: list[Matches]) -> Matches:
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

    @staticmethod
    def _or(query: Any, parts: list[Matches]) -> Matches:
        parts = [p for p in parts if len(p.docs)]
        if not parts:
            return Matches.empty()
        docs, scores, matched = _union(parts)
        scale = getattr(query, "scale", None)
        if scale:
            terms = term_count(query)
            if terms == 0 or terms == scale:
                scores = np.zeros(len(docs))
            else:
                scores = (scores + (matched - 1) / (terms - scale) ** 2) * ((terms - 1) / terms)
        return Matches(docs, scores * query.boost, matched)

    @staticmethod
    def _and_not(keep: Matches, drop: Matches) -> Matches:
        mask = ~np.isin(keep.docs, drop.docs, assume_unique=True)
        return Matches(keep.docs[mask], keep.scores[mask], keep.matched[mask])
