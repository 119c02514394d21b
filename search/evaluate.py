"""Evaluating a query tree (search/query.py) over whole postings arrays: every
match and its score at once.

The tree is evaluated node by node over numpy arrays instead of document by
document, so that the set of all matches (for totals and facets) and the scores
(for ranking) cost a few array operations per term.  Scores follow
search/scoring.py; ``tests/reference.py`` computes the same model the slow way,
through whoosh's public API.

- ``Term``: BM25F over its fields; ``Values``: the boost; ``Prefix``/``Fuzzy``: the
  sum of the scores of the terms they expand to, one query word;
- ``Phrase``: where its words stand at their places in one of its fields (each
  within ``slop`` places of its own), scored as the sum of its words, one query word;
- ``And`` and ``Or`` add their parts' scores and words; ``AndMaybe`` adds the
  optional part's score; ``AndNot`` and ``Not`` score as their positive part and 0;
- ``DateRange`` scores 0; inside an ``And`` it filters what the other parts match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from search.lexicon import OutOfTime, TooManyTerms, prefixed, within
from search.matches import Matches, and_maybe, and_not, concat, intersect, union
from search.memo import SegmentMemo
from search.postings import LENGTH_FIELDS, SegmentPostings
from search.query import (
    And,
    AndMaybe,
    AndNot,
    DateRange,
    Every,
    Fuzzy,
    Leaf,
    Not,
    Nothing,
    Or,
    Phrase,
    Prefix,
    Query,
    Term,
    Values,
)
from search.scoring import Similarity
from search.snapshot import Snapshot

__all__ = ["Evaluator", "Expansions", "OutOfTime", "phrase_docs"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass
class Expansions:
    """What each ``prefix*`` and ``word~n`` of a query expands to, found once for all
    segments; more than ``cap`` terms is ``TooManyTerms``."""

    cap: int = 512
    found: dict[Prefix | Fuzzy, list[str]] = field(default_factory=dict)

    def terms(self, snap: Snapshot, leaf: Prefix | Fuzzy, expired: Callable[[], bool]) -> list[str]:
        found = self.found.get(leaf)
        if found is None:
            try:
                found = self.found[leaf] = self._find(snap, leaf, expired)
            except TooManyTerms:
                shown = (
                    f"{leaf.prefix}*"
                    if isinstance(leaf, Prefix)
                    else f"{leaf.word}~{leaf.max_edits}"
                )
                raise TooManyTerms(self.cap, shown) from None
        return found

    def _find(self, snap: Snapshot, leaf: Prefix | Fuzzy, expired: Callable[[], bool]) -> list[str]:
        terms: set[str] = set()
        for fieldname in leaf.fields:
            if isinstance(leaf, Prefix):
                terms.update(prefixed(snap, fieldname, leaf.prefix, self.cap, expired))
            else:
                terms.update(
                    within(
                        snap,
                        fieldname,
                        leaf.word,
                        leaf.max_edits,
                        leaf.prefix_length,
                        self.cap,
                        expired,
                    )
                )
            if len(terms) > self.cap:
                raise TooManyTerms(self.cap)
        return sorted(terms)


def phrase_docs(
    postings: SegmentPostings,
    fieldname: str,
    terms: tuple[str, ...],
    offsets: tuple[int, ...],
    slop: int,
    candidates: IntArray,
) -> IntArray:
    """Documents among ``candidates`` (sorted, segment-local) where each term i stands
    ``offsets[i] - offsets[0]`` places after the first term, give or take ``slop``.

    Each (document, position) of a term is one 64-bit key, shifted back by its
    offset; the phrase stands where the first term's key is among every other
    term's keys, or for a sloppy phrase within ``slop`` of one of them (found by
    binary search over the sorted keys, so the work does not grow with ``slop``:
    positions stay below 2**30, so a window of at most 2**30 each way never reaches
    another document's keys, 2**32 apart)."""
    first: IntArray | None = None
    reach = min(slop, 1 << 30)
    for index, (term, offset) in enumerate(zip(terms, offsets, strict=True)):
        docs, places = postings.places(fieldname, term.encode("utf-8"))
        inside = np.isin(docs, candidates)
        keys = (docs[inside] << 32) + (places[inside] - (offset - offsets[0]))
        if index == 0:
            first = keys
        elif first is not None:
            if reach:
                keys = np.sort(keys)
                at = np.searchsorted(keys, first - reach, side="left")
                near = keys[np.minimum(at, len(keys) - 1)] if len(keys) else first + reach + 1
                first = first[(at < len(keys)) & (near <= first + reach)]
            else:
                first = first[np.isin(first, keys)]
        if first is None or not len(first):
            break
    if first is None:
        return np.zeros(0, dtype=np.int64)
    return np.unique(first >> 32)


def _among(docs: IntArray, ids: IntArray) -> npt.NDArray[np.bool_]:
    """Which of a few ``docs`` are in the sorted array ``ids`` (binary search: the
    work grows with the few, not with ``ids``)."""
    if not len(ids):
        return np.zeros(len(docs), dtype=bool)
    at = np.searchsorted(ids, docs)
    found: npt.NDArray[np.bool_] = (at < len(ids)) & (ids[np.minimum(at, len(ids) - 1)] == docs)
    return found


class Evaluator:
    """Evaluates query trees on one snapshot, over all its segments or some of them
    (so that a search out of time can answer with the segments it finished).
    Statistics (document count, frequencies, average lengths) are always the whole
    index's.  Not shared between threads."""

    def __init__(
        self,
        snap: Snapshot,
        similarity: Similarity,
        memo: SegmentMemo,
        expired: Callable[[], bool] | None = None,
        expansions: Expansions | None = None,
        segments: list[int] | None = None,
    ) -> None:
        self.snap = snap
        self.similarity = similarity
        self.memo = memo
        self.expired = expired or (lambda: False)
        self.expansions = expansions or Expansions()
        chosen = range(len(snap.segments)) if segments is None else segments
        self.leaves = [(i, int(snap.bases[i])) for i in chosen]

    def run_by_segment(self, query: Query) -> tuple[Matches, bool]:
        """Evaluate segment by segment; when time runs out, the segments done so far
        and False."""
        done: list[Matches] = []
        for index, _ in self.leaves:
            part = Evaluator(
                self.snap, self.similarity, self.memo, self.expired, self.expansions, [index]
            )
            try:
                done.append(part.run(query))
            except OutOfTime:
                return concat(done), False
        return concat(done), True

    def _check_time(self) -> None:
        if self.expired():
            raise OutOfTime

    # Leaves

    def _live(self, index: int, local: IntArray) -> npt.NDArray[np.bool_] | None:
        """Which of a segment's ``local`` docnums are not deleted (None: all of them)."""
        mask = self.snap.live_mask(index)
        return None if mask is None or not len(local) else mask[local]

    def term(self, query: Term) -> Matches:
        """Every live document with the term in any of its fields, scored by BM25F."""
        snap, sim = self.snap, self.similarity
        btext = query.term.encode("utf-8")
        df = max((snap.doc_frequency(f, btext) for f in query.fields), default=0)
        if df == 0:
            return Matches.empty()
        term_idf = sim.idf(df, snap.doc_count_all)
        scored = [f for f in query.fields if f in LENGTH_FIELDS]
        docs_parts, score_parts = [], []
        for index, base in self.leaves:
            self._check_time()
            postings = snap.segments[index].postings
            found = [(f, *postings.get(f, btext)) for f in query.fields]
            found = [(f, ids, tf) for f, ids, tf in found if len(ids)]
            if not found:
                continue
            if len(found) == 1:
                docs = found[0][1]
            else:
                docs = np.unique(np.concatenate([ids for _, ids, _ in found]))
            combined = np.zeros(len(docs))
            for fieldname, ids, tf in found:
                if fieldname not in scored:
                    continue
                at = np.searchsorted(docs, ids) if len(found) > 1 else slice(None)
                lengths = snap.lengths(index, fieldname)[ids]
                combined[at] += sim.weight(fieldname) * sim.normalised(
                    tf, lengths, snap.average_length(fieldname)
                )
            if scored:
                scores = sim.saturate(combined, term_idf, query.boost)
            else:  # an exact-value field: the boost
                scores = np.full(len(docs), float(query.boost))
            keep = self._live(index, docs)
            if keep is not None:
                docs, scores = docs[keep], scores[keep]
            docs_parts.append(docs + base)
            score_parts.append(scores)
        if not docs_parts:
            return Matches.empty()
        docs = np.concatenate(docs_parts)
        return Matches(docs, np.concatenate(score_parts), np.ones(len(docs), dtype=np.int64))

    def _values(self, query: Values) -> Matches:
        parts = []
        for index, base in self.leaves:
            self._check_time()
            postings = self.snap.segments[index].postings
            found = [postings.get(query.field, v.encode("utf-8"))[0] for v in query.values]
            local = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
            keep = self._live(index, local)
            if keep is not None:
                local = local[keep]
            parts.append(local + base)
        docs = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return Matches(docs, np.full(len(docs), float(query.boost)), np.zeros(len(docs), np.int64))

    def _expanded(self, query: Prefix | Fuzzy) -> Matches:
        terms = self.expansions.terms(self.snap, query, self.expired)
        found = union([self.term(Term(t, query.fields, query.boost)) for t in terms])
        return Matches(found.docs, found.scores, np.ones(len(found.docs), dtype=np.int64))

    def _phrase(self, query: Phrase) -> Matches:
        words = intersect([self.term(Term(t, query.fields, query.boost)) for t in query.terms])
        if not len(words.docs):
            return words
        keep = np.zeros(len(words.docs), dtype=bool)
        for index, base in self.leaves:
            self._check_time()
            segment = self.snap.segments[index]
            inside = np.flatnonzero((words.docs >= base) & (words.docs < base + segment.doc_count))
            if not len(inside):
                continue
            hits = self._phrase_hits(index, query)
            keep[inside] = np.isin(words.docs[inside] - base, hits)
        phrase = words.select(keep)
        return Matches(phrase.docs, phrase.scores, np.ones(len(phrase.docs), dtype=np.int64))

    def _phrase_hits(self, index: int, query: Phrase) -> IntArray:
        """Every document of segment ``index`` (local docnums, deleted ones too) where
        the phrase stands in one of its fields: a segment's answer never changes, so it
        is remembered."""
        segment = self.snap.segments[index]
        shape = (query.terms, query.offsets, query.slop)
        found = []
        for fieldname in query.fields:
            if fieldname not in LENGTH_FIELDS:
                continue

            def placed(
                fieldname: str = fieldname, postings: SegmentPostings = segment.postings
            ) -> IntArray:
                candidates = self._candidates(postings, fieldname, query.terms)
                return phrase_docs(
                    postings, fieldname, query.terms, query.offsets, query.slop, candidates
                )

            found.append(self.memo.get_or_compute((segment.key, fieldname, shape), placed))
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def holds(self, leaf: Leaf, docs: IntArray) -> npt.NDArray[np.bool_]:
        """Which of ``docs`` (sorted global docnums of live documents, a page of
        results) ``leaf`` matches, looked up for those documents only: a term or exact
        value in their postings, a prefix or fuzzy word by the terms it expanded to in
        the search (none when it could not be expanded), a phrase by the remembered
        places, a date range by their days.  A page's worth of look-ups: the time is
        not checked (the page is shown even when the search ran out of time)."""
        found = np.zeros(len(docs), dtype=bool)
        match leaf:
            case Term() | Prefix() | Fuzzy() | Values():
                if isinstance(leaf, Values):
                    pairs = [(leaf.field, value) for value in leaf.values]
                elif isinstance(leaf, Term):
                    pairs = [(fieldname, leaf.term) for fieldname in leaf.fields]
                else:
                    try:
                        terms = self.expansions.terms(self.snap, leaf, self.expired)
                    except (TooManyTerms, OutOfTime):
                        return found
                    pairs = [(fieldname, term) for fieldname in leaf.fields for term in terms]
                at = 0
                for index, local in self.snap.split(docs):
                    postings = self.snap.segments[index].postings
                    part = found[at : at + len(local)]
                    for fieldname, term in pairs:
                        part |= _among(local, postings.get(fieldname, term.encode("utf-8"))[0])
                        if part.all():
                            break
                    at += len(local)
            case Phrase():
                at = 0
                for index, local in self.snap.split(docs):
                    found[at : at + len(local)] = _among(local, self._phrase_hits(index, leaf))
                    at += len(local)
            case DateRange(first, last):
                days = self.snap.days(docs)
                return (days >= first) & (days <= last)
            case Every():
                found[:] = True
        return found

    @staticmethod
    def _candidates(postings: SegmentPostings, fieldname: str, terms: tuple[str, ...]) -> IntArray:
        """Documents of a segment with every term in the field (deleted ones too)."""
        found: IntArray | None = None
        for term in terms:
            ids, _ = postings.get(fieldname, term.encode("utf-8"))
            found = ids if found is None else np.intersect1d(found, ids, assume_unique=True)
        return found if found is not None else np.zeros(0, dtype=np.int64)

    def _every(self) -> Matches:
        if len(self.leaves) == len(self.snap.segments):
            return Matches.unscored(self.snap.live_docs())
        parts = [self.snap.live_in(index) + base for index, base in self.leaves]
        return Matches.unscored(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))

    def _dates(self, query: DateRange) -> Matches:
        parts = []
        for index, base in self.leaves:
            days = self.snap.segments[index].columns.days
            keep = (days >= query.first) & (days <= query.last)
            mask = self.snap.live_mask(index)
            if mask is not None:
                keep &= mask
            parts.append(np.flatnonzero(keep).astype(np.int64) + base)
        return Matches.unscored(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64))

    def _within(self, matches: Matches, query: DateRange) -> Matches:
        """``matches`` AND a date range: the days of the matches alone are read."""
        days = self.snap.days(matches.docs)
        return matches.select((days >= query.first) & (days <= query.last))

    # The tree

    def run(self, query: Query) -> Matches:
        """Every live document matching ``query``, with its score and matched words."""
        self._check_time()
        match query:
            case Term():
                return self.term(query)
            case Phrase():
                return self._phrase(query)
            case Prefix() | Fuzzy():
                return self._expanded(query)
            case Values():
                return self._values(query)
            case DateRange():
                return self._dates(query)
            case Every():
                return self._every()
            case Nothing():
                return Matches.empty()
            case AndMaybe(required, optional):
                return and_maybe(self.run(required), self.run(optional))
            case AndNot(positive, negative):
                return and_not(self.run(positive), self.run(negative))
            case Not(part):
                return and_not(self._every(), self.run(part))
            case And(parts):
                ranges = [p for p in parts if isinstance(p, DateRange)]
                others = [p for p in parts if not isinstance(p, DateRange)]
                if not (ranges and others):
                    return intersect([self.run(p) for p in parts])
                # Date ranges as filters of what the other parts match, not as every
                # document of the range intersected with it.
                result = intersect([self.run(p) for p in others])
                for dates in ranges:
                    result = self._within(result, dates)
                return result
            case Or(parts):
                return union([self.run(p) for p in parts])
        raise TypeError(f"not a query: {query!r}")
