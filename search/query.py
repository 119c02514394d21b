"""Turning what people type, and the filters they pick, into whoosh queries.

The parser understands words, ``AND``/``OR``/``NOT``, ``"phrases"``, groups,
``field:value`` for title, body, entity and source, and ``prefix*``.  Plugins
that let a query do unbounded work (ranges, regular expressions, fuzzy terms,
boosts, leading or inner wildcards) are not loaded or are refused.  Filters are
built as query objects from exact values, never pasted into query text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from whoosh import fields, qparser
from whoosh import query as wq
from whoosh.qparser import plugins

from search.analysis import fold, text_analyzer
from search.errors import BadRequest
from search.schema import DEFAULT_FIELDS, QUERY_FIELDS

__all__ = ["Limits", "QueryParser", "date_filter", "values_filter"]

_WORDS = re.compile(r"\w+", re.UNICODE)


class PlacedPhrase(wq.Phrase):  # type: ignore[misc]
    """A phrase that knows where each word stands: stop words are not indexed but
    keep their place, so ``"temple of bel"`` is temple, then bel two words on.
    ``offsets[i]`` is word i's place after the first word's."""

    def __init__(
        self,
        fieldname: str,
        words: list[str],
        slop: int = 1,
        boost: float = 1.0,
        char_ranges: Any = None,
        offsets: list[int] | None = None,
    ) -> None:
        super().__init__(fieldname, words, slop=slop, boost=boost, char_ranges=char_ranges)
        self.offsets = list(offsets) if offsets is not None else list(range(len(words)))

    def normalize(self) -> Any:
        found = super().normalize()
        if isinstance(found, PlacedPhrase):
            found.offsets = self.offsets
        return found


class _PositionalPhrasePlugin(plugins.PhrasePlugin):  # type: ignore[misc]
    """Phrases become PlacedPhrase, with the places of their words."""

    class PhraseNode(plugins.PhrasePlugin.PhraseNode):  # type: ignore[misc]
        def query(self, parser: Any) -> Any:
            q = super().query(parser)
            fieldname = self.fieldname or parser.fieldname
            if isinstance(q, wq.Phrase) and parser.schema and fieldname in parser.schema:
                field = parser.schema[fieldname]
                places = [t.pos for t in field.tokenize(self.text, mode="query", positions=True)]
                if len(places) == len(q.words):
                    q = PlacedPhrase(
                        q.fieldname,
                        q.words,
                        q.slop,
                        q.boost,
                        q.char_ranges,
                        [p - places[0] for p in places],
                    )
            return q

    class PhraseTagger(plugins.PhrasePlugin.PhraseTagger):  # type: ignore[misc]
        def create(self, parser: Any, match: Any) -> Any:
            slop = int(match.group("slop")) if match.group("slop") else 1
            return _PositionalPhrasePlugin.PhraseNode(
                match.group("text"), match.start("text"), slop
            )

    def taggers(self, parser: Any) -> list[tuple[Any, int]]:
        return [(self.PhraseTagger(self.expr), 0)]


@dataclass(frozen=True)
class Limits:
    """Bounds on the work one query may ask for."""

    max_query_length: int = 1000
    max_query_terms: int = 64
    max_expansions: int = 512
    max_edits: int = 2


class QueryParser:
    """Parses the ``q`` parameter.  Safe to share between threads."""

    def __init__(self, limits: Limits, coordination: float = 0.9) -> None:
        self.limits = limits
        # With match=any, how much matching more of the words lifts a score.
        self.coordination = coordination
        ana = text_analyzer()
        # A schema of only the fields a person may name: any other ``name:`` is plain text.
        schema = fields.Schema(**{name: fields.TEXT(analyzer=ana) for name in QUERY_FIELDS})
        self._fields = list(DEFAULT_FIELDS)
        self._plugins = [
            plugins.WhitespacePlugin(),
            plugins.FieldsPlugin(),
            _PositionalPhrasePlugin(),
            plugins.GroupPlugin(),
            plugins.OperatorsPlugin(),
            plugins.WildcardPlugin(),
            plugins.FuzzyTermPlugin(),
        ]
        self._schema = schema

    def _parser(self, match: str = "all") -> Any:
        # whoosh parsers keep state while parsing: one per call keeps threads apart.
        group = qparser.AndGroup if match == "all" else qparser.OrGroup.factory(self.coordination)
        return qparser.MultifieldParser(
            self._fields,
            self._schema,
            fieldboosts=DEFAULT_FIELDS,
            plugins=self._plugins,
            group=group,
        )

    def parse(self, text: str, match: str = "all") -> Any:
        """The query for ``text``; ``Every()`` when it is empty.

        A syntax error degrades to the plain words.  Raises BadRequest for a query
        that is too long, has too many terms or uses a refused wildcard.
        """
        if len(text) > self.limits.max_query_length:
            raise BadRequest(
                "query_too_long",
                f"the query has {len(text)} characters; at most "
                f"{self.limits.max_query_length} are allowed",
                "q",
            )
        if not text.strip() or text.strip() == "*":  # "*" alone: every event, as empty
            return wq.Every()
        if len(_WORDS.findall(text)) > self.limits.max_query_terms:
            raise BadRequest(
                "too_many_terms",
                f"the query has more than {self.limits.max_query_terms} words",
                "q",
            )
        try:
            parsed = self._parser(match).parse(text)
        except Exception:  # noqa: BLE001 - whoosh raises assorted errors on odd syntax
            parsed = None
        if parsed is None or (parsed is wq.NullQuery and _WORDS.search(text)):
            parsed = self.plain_words(text, match)
        parsed = _normalise(parsed)
        _refuse_wildcards(parsed, text)
        for leaf in _leaves(parsed):
            if isinstance(leaf, wq.FuzzyTerm) and leaf.maxdist > self.limits.max_edits:
                raise BadRequest(
                    "too_many_edits",
                    f"{leaf.text}~{leaf.maxdist}: at most {self.limits.max_edits} edits "
                    "are allowed",
                    "q",
                )
        return parsed

    def plain_words(self, text: str, match: str = "all") -> Any:
        """The words of ``text`` with every operator and symbol taken as plain text."""
        # Lower case, AND/OR/NOT are words, not operators.
        words = " ".join(w.lower() for w in _WORDS.findall(text))
        try:
            return self._parser(match).parse(words)
        except Exception:  # noqa: BLE001 - nothing parseable is left: match nothing
            return wq.NullQuery

    def check_expansions(self, parsed: Any, reader: Any) -> None:
        """Refuse a ``prefix*`` or ``word~`` that matches more index terms than allowed."""
        cap = self.limits.max_expansions
        for leaf in _leaves(parsed):
            if isinstance(leaf, wq.FuzzyTerm):
                words = reader.terms_within(
                    leaf.fieldname, leaf.text, leaf.maxdist, leaf.prefixlength
                )
                shown = f"{leaf.text}~{leaf.maxdist}"
            elif isinstance(leaf, wq.Prefix):
                words = reader.expand_prefix(leaf.fieldname, leaf.text)
                shown = f"{leaf.text}*"
            else:
                continue
            for count, _ in enumerate(words, 1):
                if count > cap:
                    raise BadRequest(
                        "too_many_expansions",
                        f"{shown} matches more than {cap} words; type more letters",
                        "q",
                    )


def _leaves(q: Any) -> Iterator[Any]:
    if q.is_leaf():
        yield q
    else:
        for child in q.children():
            yield from _leaves(child)


def _refuse_wildcards(parsed: Any, text: str) -> None:
    """Only a trailing ``*`` is allowed: ``*gees`` or ``r?fugee`` would scan every term."""
    if any(isinstance(leaf, wq.Wildcard) for leaf in _leaves(parsed)):
        word = next((w for w in text.split() if "*" in w or "?" in w), text)
        raise BadRequest(
            "wildcard_not_allowed",
            f"{word!r}: a wildcard may only end a word, as in refug*",
            "q",
        )


def _normalise(q: Any) -> Any:
    """Fold the case and accents of prefixes, which the parser leaves as typed, and
    make ``NOT`` exclude under match=any too (whoosh reads ``a NOT b`` there as
    ``a OR (NOT b)``, which matches nearly everything)."""
    if isinstance(q, wq.Prefix):
        q.text = fold(q.text)
        return q
    if q.is_leaf():
        return q
    if isinstance(q, wq.Or):
        children = [_normalise(c) for c in q.subqueries]
        excluded = [c.query for c in children if isinstance(c, wq.Not)]
        kept = [c for c in children if not isinstance(c, wq.Not)]
        # Keep the OR's own coordination factor; Query.apply() would drop it.
        q.subqueries = kept
        if excluded and kept:
            return wq.AndNot(q, wq.Or(excluded) if len(excluded) > 1 else excluded[0])
        if excluded:
            return wq.Not(wq.Or(excluded) if len(excluded) > 1 else excluded[0])
        return q
    return q.apply(_normalise)


def date_filter(first: dt.date | None, last: dt.date | None) -> Any | None:
    """Events dated from ``first`` to ``last``, both inclusive; None for no bounds."""
    if first is None and last is None:
        return None
    # Open ends are given as the extreme dates: whoosh mishandles a None bound here.
    return wq.NumericRange(
        "date",
        (first or dt.date.min).toordinal(),
        (last or dt.date.max).toordinal(),
        constantscore=True,
    )


def values_filter(
    fieldnames: Sequence[str],
    wanted: Iterable[str],
    folded_lexicons: Mapping[str, Mapping[str, Sequence[str]]],
) -> Any:
    """Events carrying any of ``wanted`` in any of ``fieldnames``, compared folded
    (case and accents ignored) against the exact values in the index."""
    terms = []
    for value in wanted:
        key = fold(value)
        for fieldname in fieldnames:
            for term in folded_lexicons[fieldname].get(key, ()):
                terms.append(wq.Term(fieldname, term))
    if not terms:
        return wq.NullQuery
    return wq.Or(terms) if len(terms) > 1 else terms[0]
