"""Query expansion from the top results (pseudo-relevance feedback, RM3-style).

The best ``feedback_docs`` events of the literal query vote, in proportion to
their scores, for the terms they use (weighted by term share and rarity) and for
the entities they carry (weighted by rarity).  The best ``terms`` and
``entities`` are added to the query as optional clauses.  Story names need
knowledge the words lack ("Boko Haram insurgency" is about bombings in
Maiduguri); the entities of the first hits carry it.  The weights were chosen on
the story judgements of bench/relevance.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from search.lexicon import OutOfTime
from search.query import Or, Query, Term, Values, leaves
from search.scoring import ExpansionWeights, idf
from search.snapshot import Snapshot
from search.text import Analyzer

__all__ = ["FEEDBACK_CHARS", "Expansion", "expand"]

#: What of a feedback event's body votes: a news event's text is far shorter; a body
#: of a megabyte would otherwise be analysed whole within the search's time.
FEEDBACK_CHARS = 20_000


@dataclass(frozen=True)
class Expansion:
    """The clauses to add to the query (an OR of them), and what they are, for the
    response."""

    query: Query
    terms: list[str]
    entities: list[str]


def _best(votes: dict[str, float], count: int) -> list[tuple[str, float]]:
    """The ``count`` best-voted keys with a positive vote, best first (ties by key)."""
    ranked = sorted((item for item in votes.items() if item[1] > 0), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:count]


def expand(
    snap: Snapshot,
    analyzer: Analyzer,
    user_query: Query,
    first_hits: list[tuple[int, float]],
    weights: ExpansionWeights,
    expired: Callable[[], bool] = lambda: False,
) -> Expansion | None:
    """Expand ``user_query`` with what ``first_hits`` (docnum, score) have in common:
    each votes with its title and the first FEEDBACK_CHARS characters of its body.
    OutOfTime when ``expired()`` says so (checked before each event)."""
    if not first_hits:
        return None
    total = snap.doc_count_all or 1
    score_sum = sum(score for _, score in first_hits) or 1.0
    asked = {leaf.term for leaf in leaves(user_query) if isinstance(leaf, Term)}
    term_votes: dict[str, float] = defaultdict(float)
    written: dict[str, str] = {}
    entity_votes: dict[str, float] = defaultdict(float)
    for docnum, score in first_hits:
        if expired():
            raise OutOfTime
        share = score / score_sum
        event, _ = snap.event(docnum)
        body = event["body"][:FEEDBACK_CHARS]
        counts, words = analyzer.content_terms(f"{event['title']} {body}")
        for term, word in words.items():
            written.setdefault(term, word)
        length = sum(counts.values()) or 1
        for term, tf in counts.items():
            if term in asked:
                continue
            df = snap.doc_frequency("body", term.encode("utf-8"))
            if df < 2:
                continue
            term_votes[term] += share * tf / length * idf(df, total)
        for entity in snap.values_of("entity", docnum):
            df = snap.doc_frequency("entity_value", entity.encode("utf-8"))
            entity_votes[entity] += share * idf(max(df, 1), total)
    clauses: list[Query] = []
    terms = _best(term_votes, weights.terms)
    if terms:
        top = terms[0][1]
        clauses += [
            Term(term, ("title", "body"), boost=weights.term_weight * vote / top)
            for term, vote in terms
        ]
    entities = _best(entity_votes, weights.entities)
    if entities:
        top = entities[0][1]
        clauses += [
            Values("entity_value", (name,), boost=weights.entity_weight * vote / top)
            for name, vote in entities
        ]
    if not clauses:
        return None
    return Expansion(
        query=Or(tuple(clauses)),
        terms=[written[t] for t, _ in terms],
        entities=[name for name, _ in entities],
    )
