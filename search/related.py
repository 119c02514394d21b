"""Related events ("more like this"): several signals, combined by weights tuned on
editors' story judgements (see bench/relevance.py).

Signals, each scaled to 0..1 before weighting:

- key terms: the source text's terms picked the way Lucene's MoreLikeThis picks
  them (min term frequency, min/max document frequency, at most ``max_terms``,
  ranked by tf-idf), run as a weighted OR query; its BM25 score, over the best;
- shared entities, each weighted by its rarity (idf), over the source's total;
- explicit ``Related:`` links, in either direction;
- nearness in time, ``exp(-days apart / time_scale_days)``;
- the same category, where events have one.

Near-copies are never listed: not of the source (the event, or the posted
text), and of several near-copies of one another only the best-scored is.  Two
texts are near-copies when they have the same folded title and date, or when
the Jaccard similarity of their word 2-shingles (pairs of adjacent folded
words) is at least ``NEAR_COPY_JACCARD`` = 0.6.  On the real corpus (428
WikiTimes events and the demo pages) the most alike distinct events score
0.45, and the next 0.39; one word changed in a 15-word text scores 0.75,
punctuation, case and white space changes score 1.0.  Shingles are taken from
the first ``SHINGLE_CHARS`` characters of title and body.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from search.evaluate import Evaluator, OutOfTime
from search.query import Or, Term
from search.scoring import RelatedWeights, entity_idf, idf, time_decay
from search.snapshot import Snapshot
from search.text import Analyzer, fold

__all__ = [
    "NEAR_COPY_JACCARD",
    "Fingerprint",
    "RelatedQuery",
    "find_related",
    "key_terms",
]

#: The least Jaccard similarity of two texts' word 2-shingles for near-copies.
NEAR_COPY_JACCARD = 0.6
#: How much of a text its shingles are taken from, in characters.
SHINGLE_CHARS = 20_000


#: Words as search/text.py cuts them (stems play no part in near-copies).
_WORDS = Analyzer()


@dataclass(frozen=True)
class Fingerprint:
    """What near-copies are told by: the folded title and date, and word 2-shingles."""

    title: str
    day: int | None
    shingles: frozenset[tuple[str, ...]]

    @classmethod
    def of(cls, title: str, body: str, day: int | None = None) -> Fingerprint:
        found = _WORDS.words(f"{title}\n{body}"[:SHINGLE_CHARS])
        shingles = frozenset(itertools.pairwise(found)) if len(found) > 1 else {tuple(found)}
        return cls(fold(title), day, frozenset(shingles))

    def copies(self, other: Fingerprint) -> bool:
        """Whether ``other`` is a near-copy of this text (see the module docstring)."""
        if (
            self.title
            and self.day is not None
            and (self.title, self.day)
            == (
                other.title,
                other.day,
            )
        ):
            return True
        union = len(self.shingles | other.shingles)
        return union > 0 and len(self.shingles & other.shingles) >= NEAR_COPY_JACCARD * union


@dataclass
class RelatedQuery:
    """What to find relatives of: an indexed event or a free text."""

    text: str
    entities: Sequence[str] = ()
    day: int | None = None
    category: str | None = None
    links: set[int] = field(default_factory=set)
    exclude: set[int] = field(default_factory=set)
    fingerprint: Fingerprint | None = None


@dataclass(frozen=True)
class RelatedHit:
    docnum: int
    score: float
    entities: list[str]
    terms: list[str]
    linked: bool


#: Terms of a text looked up between two checks of the deadline.
_CHECK_EVERY = 256


def key_terms(
    snap: Snapshot,
    analyzer: Analyzer,
    text: str,
    weights: RelatedWeights,
    expired: Callable[[], bool] = lambda: False,
) -> list[tuple[str, float, str]]:
    """The text's most telling terms: (index term, tf-idf, the word as written), best
    first.  OutOfTime when ``expired()`` says so (checked every _CHECK_EVERY terms)."""
    total = snap.doc_count_all or 1
    counts, written = analyzer.content_terms(text)
    scored = []
    for number, (term, tf) in enumerate(counts.items()):
        if number % _CHECK_EVERY == 0 and expired():
            raise OutOfTime
        if tf < weights.min_term_freq:
            continue
        df = snap.doc_frequency("body", term.encode("utf-8"))
        # The ratio cap is for large indexes; a small one would have no term left.
        if df < weights.min_doc_freq or df > max(weights.max_doc_ratio * total, 10):
            continue
        scored.append((term, tf * idf(df, total), written[term]))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[: weights.max_terms]


def _entity_idf(snap: Snapshot, names: Iterable[str]) -> dict[str, float]:
    total = snap.doc_count_all or 1
    found = {}
    for name in names:
        df = snap.doc_frequency("entity_value", name.encode("utf-8"))
        if df:
            found[name] = entity_idf(df, total)
    return found


def find_related(
    snap: Snapshot,
    evaluator: Evaluator,
    analyzer: Analyzer,
    source: RelatedQuery,
    size: int,
    weights: RelatedWeights,
    allowed: Any | None = None,
) -> list[RelatedHit]:
    """The ``size`` best relatives of ``source``; ``allowed`` (sorted docnums) narrows them."""
    # Key terms, as a weighted OR query.
    terms = key_terms(snap, analyzer, source.text, weights, evaluator.expired)
    term_scores: dict[int, float] = {}
    if terms:
        top = terms[0][1]
        fields = weights.term_fields
        query = Or(tuple(Term(t, fields, boost=w / top) for t, w, _ in terms))
        hits = evaluator.run(query).top(weights.term_candidates + len(source.exclude))
        for docnum, score in hits:
            if docnum not in source.exclude:
                term_scores[docnum] = score
        best = max(term_scores.values(), default=0.0)
        if best > 0:
            term_scores = {d: s / best for d, s in term_scores.items()}

    # Shared entities, weighted by rarity.
    idf = _entity_idf(snap, source.entities)
    idf_total = sum(idf.values())
    entity_docs: set[int] = set()
    # Rarest first; an entity carried by many events adds no candidates (only score).
    for name in sorted(idf, key=lambda e: -idf[e]):
        postings = snap.term_docs("entity_value", name.encode("utf-8")).tolist()
        if len(postings) <= weights.entity_candidates:
            entity_docs.update(postings)
        if len(entity_docs) >= weights.entity_candidates:
            break

    candidates = (set(term_scores) | entity_docs | source.links) - source.exclude
    ordered = np.array(sorted(candidates), dtype=np.int64)
    if allowed is not None:
        ordered = ordered[np.isin(ordered, allowed)]
    if not len(ordered):
        return []
    days = snap.days(ordered)
    hits_out: list[tuple[float, int, list[str]]] = []
    source_entities = set(idf)
    for position, docnum in enumerate(ordered.tolist()):
        shared = [e for e in snap.values_of("entity", docnum) if e in source_entities]
        entity_score = sum(idf[e] for e in shared) / idf_total if idf_total else 0.0
        score = weights.terms * term_scores.get(docnum, 0.0) + weights.entities * entity_score
        if docnum in source.links:
            score += weights.link
        if source.day is not None:
            apart = abs(int(days[position]) - source.day)
            score += weights.time * time_decay(apart, weights.time_scale_days)
        if source.category is not None and source.category in snap.values_of("category", docnum):
            score += weights.category
        hits_out.append((score, docnum, sorted(shared, key=lambda e: -idf[e])))
    hits_out.sort(key=lambda item: (-item[0], item[1]))

    result: list[RelatedHit] = []
    kept: list[Fingerprint] = [source.fingerprint] if source.fingerprint else []
    for score, docnum, shared in hits_out:
        event, _ = snap.event(docnum)
        day = dt.date.fromisoformat(event["date"]).toordinal()
        found = Fingerprint.of(event["title"], event["body"], day)
        if any(seen.copies(found) for seen in kept):
            continue  # a near-copy of the source, or of a better relative
        kept.append(found)
        # The key terms it holds, from the postings (never by analysing its text).
        own = {
            t
            for t, _, _ in terms
            if snap.has_term("body", t.encode(), docnum)
            or snap.has_term("title", t.encode(), docnum)
        }
        result.append(
            RelatedHit(
                docnum=docnum,
                score=round(score, 4),
                entities=shared,
                terms=[word for t, _, word in terms if t in own][:8],
                linked=docnum in source.links,
            )
        )
        if len(result) >= size:
            break
    return result
