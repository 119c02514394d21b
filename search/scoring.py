"""How a score is computed: every ranking formula and weight of the engine.

Search (``Similarity``):

- **idf** (Lucene's BM25Similarity, after Robertson and Spärck Jones):
  ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))``; N counts every document of the
  index, deleted ones included until their segment is merged, as whoosh does.
- **BM25F** (Robertson, Zaragoza and Taylor, "Simple BM25 extension to multiple
  weighted fields", CIKM 2004; Robertson and Zaragoza, "The Probabilistic
  Relevance Framework: BM25 and Beyond", 2009, eq. 3.18): a word's frequencies
  in title, body and entity names are length-normalised per field and combined
  with the field weights *before* one saturation,
  ``tf~ = sum_f w_f * tf_f / (1 - b + b * len_f / avglen_f)``,
  ``score = boost * idf * tf~ * (k1 + 1) / (tf~ + k1)``,
  so a word repeated across fields saturates like a word repeated in one field,
  and cannot outweigh a rarer word present once.  The df of a word over several
  fields is its largest df among them (as Lucene's CombinedFieldQuery).  A word
  asked in one field (``title:x``) is BM25 on that field.  An exact value
  (entity, source...) scores its boost.
- **coordination**: with up to ``strict_words`` query words an event matching
  more of them always ranks first (as Meilisearch's ``words`` rule); with more
  words, an event matching all of them still ranks first, and the others' scores
  are multiplied by ``(matched / words) ** soft_power`` (a soft minimum-should-
  match, as Lucene's coordination factor).  ``strict_words`` 2 and
  ``soft_power`` 0 were chosen by 5-fold cross-validation (every fold chose them
  from {2, 3, 4} x {0, 1, 2}): story names, three words and more, are often
  only partly written in their events.
- **proximity** (as Solr edismax's ``pf2``): for each pair of consecutive query
  words, an event where they stand next to each other, in order, in its title or
  body gains ``proximity * (idf_a + idf_b) / 2``.
- **names**: a span of the query that is a known entity name gains events
  carrying that entity ``names * idf(entity)``.

Related events (``RelatedWeights``) and query expansion (``ExpansionWeights``)
have their own signals; their formulas are here too (``entity_idf``,
``time_decay``).  Weights chosen on labelled data were chosen by cross-validation
(bench/relevance, BENCHMARKS.md), ``feedback_docs`` 5 among them (of 5 and 10).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ExpansionWeights",
    "RelatedWeights",
    "Similarity",
    "entity_idf",
    "idf",
    "time_decay",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def idf(df: int | float, total: int) -> float:
    """BM25's inverse document frequency of a term in ``df`` of ``total`` documents."""
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def entity_idf(df: int, total: int) -> float:
    """The rarity of an entity carried by ``df`` of ``total`` events (at least 0)."""
    return idf(df, total)


def time_decay(days_apart: float, scale_days: float) -> float:
    """``exp(-days apart / scale)``: 1 on the same day, 1/e ``scale_days`` apart."""
    return math.exp(-abs(days_apart) / scale_days)


@dataclass(frozen=True)
class Similarity:
    """The search ranking's parameters (see the module docstring for the formulas)."""

    k1: float = 1.2
    b: float = 0.75
    title_weight: float = 2.0
    entity_weight: float = 1.0
    strict_words: int = 2
    soft_power: float = 0.0
    proximity: float = 0.5
    names: float = 0.5

    def weight(self, fieldname: str) -> float:
        """A text field's weight in BM25F: the body's is 1, the others' relative to it."""
        if fieldname == "title":
            return self.title_weight
        if fieldname == "entity":
            return self.entity_weight
        return 1.0

    def idf(self, df: int | float, total: int) -> float:
        return idf(df, total)

    def normalised(self, tf: FloatArray, lengths: FloatArray, average: float) -> FloatArray:
        """One field's term frequencies, length-normalised (BM25F's per-field part)."""
        norm = (1.0 - self.b) + self.b * lengths / (average or 1.0)
        result: FloatArray = tf / norm
        return result

    def saturate(self, combined: FloatArray, term_idf: float, boost: float) -> FloatArray:
        """BM25's saturation of combined, normalised term frequencies."""
        result: FloatArray = boost * term_idf * combined * (self.k1 + 1.0) / (combined + self.k1)
        return result

    def coordinated(
        self, scores: FloatArray, matched: IntArray, words: int
    ) -> tuple[IntArray, FloatArray]:
        """(tier, score) of each match: rank by tier, then score (both descending)."""
        if words <= 1:
            return np.zeros(len(scores), dtype=np.int64), scores
        if words <= self.strict_words:
            return matched, scores
        share = np.minimum(matched, words) / words
        tier = (matched >= words).astype(np.int64)
        return tier, scores * share**self.soft_power

    def pair_bonus(self, idf_a: float, idf_b: float) -> float:
        """What two consecutive query words standing together add (proximity)."""
        return self.proximity * (idf_a + idf_b) / 2.0


@dataclass(frozen=True)
class RelatedWeights:
    """How much each signal of relatedness counts, and how key terms are picked
    (as Lucene's MoreLikeThis: min term and document frequencies, a cap on the
    share of documents, at most ``max_terms``, ranked by tf-idf)."""

    terms: float = 1.0
    entities: float = 2.0
    link: float = 1.0
    time: float = 0.3
    category: float = 0.8
    time_scale_days: float = 14.0
    max_terms: int = 25
    min_term_freq: int = 1
    min_doc_freq: int = 2
    max_doc_ratio: float = 0.1
    term_candidates: int = 100
    entity_candidates: int = 300
    #: The fields key terms are looked for in (BM25F across them).
    term_fields: tuple[str, ...] = ("body", "entity")


@dataclass(frozen=True)
class ExpansionWeights:
    """Query expansion from the first results (RM3-style pseudo-relevance feedback):
    how many results vote, how many terms and entities win, how much they count."""

    feedback_docs: int = 5
    terms: int = 10
    entities: int = 5
    term_weight: float = 0.5
    entity_weight: float = 15.0
