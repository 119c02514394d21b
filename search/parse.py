"""Turning what people type, and the filters they pick, into the engine's query tree.

whoosh's query parser reads the syntax: words, ``AND``/``OR``/``NOT``,
``"phrases"`` (``~n`` for sloppy ones), groups, ``field:value`` for title, body,
entity and source, ``prefix*`` and ``word~n``.  Its query objects are translated
once, here, into search/query.py's tree; nothing past this module sees a whoosh
class.  Plugins that let a query do unbounded work (ranges, regular expressions,
boosts, leading or inner wildcards) are not loaded or are refused.  Filters are
built as query nodes from exact values, never pasted into query text.

Words not named to a field are looked for in title, body and entity names at
once (``Term`` over TEXT_FIELDS, scored by BM25F).  With ``match=any`` a query's
plain words are OR-ed; its function words ("the", "in", ...), when it has other
words too, only add to the score: they neither widen the matches nor count as
matched words.  With ``match=all`` every word must match.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from whoosh import fields, qparser
from whoosh import query as wq
from whoosh.qparser import plugins

from search.analysis import TextTokenizer
from search.errors import BadRequest
from search.query import (
    And,
    AndMaybe,
    AndNot,
    DateRange,
    Every,
    Fuzzy,
    Not,
    Nothing,
    Or,
    Phrase,
    Prefix,
    Query,
    Term,
    Values,
)
from search.schema import QUERY_FIELDS, TEXT_FIELDS
from search.text import Analyzer, fold, parts_stand_apart, query_text

__all__ = ["Limits", "QueryParser", "date_filter", "values_filter"]

#: The parser's name for "every text field": plain words are parsed into it.
_ALL = "all"
_FIELDS: dict[str, tuple[str, ...]] = {_ALL: TEXT_FIELDS, **{f: (f,) for f in QUERY_FIELDS}}
# Query syntax that plain words never hold.
_SYNTAX = re.compile(r'[:*?~^()"]')


class _PlacedPhrase(wq.Phrase):  # type: ignore[misc]
    """A phrase that knows where each word stands, from the analyzer's positions:
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
        # whoosh's parser normalises the tree last, which copies phrases.
        found = super().normalize()
        if isinstance(found, _PlacedPhrase):
            found.offsets = self.offsets
        return found


class _PositionalPhrasePlugin(plugins.PhrasePlugin):  # type: ignore[misc]
    """Phrases become _PlacedPhrase, with the places of their words."""

    class PhraseNode(plugins.PhrasePlugin.PhraseNode):  # type: ignore[misc]
        def query(self, parser: Any) -> Any:
            q = super().query(parser)
            fieldname = self.fieldname or parser.fieldname
            if isinstance(q, wq.Phrase) and parser.schema and fieldname in parser.schema:
                field = parser.schema[fieldname]
                places = [t.pos for t in field.tokenize(self.text, mode="query", positions=True)]
                if len(places) == len(q.words):
                    q = _PlacedPhrase(
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


class _Unsupported(Exception):
    """A whoosh query the engine has no node for."""


class QueryParser:
    """Parses the ``q`` parameter, its words analysed by ``analyzer`` (the index's).
    Safe to share between threads."""

    def __init__(self, limits: Limits, analyzer: Analyzer) -> None:
        self.limits = limits
        self.analyzer = analyzer
        tokenizer = TextTokenizer(analyzer.stemmer)
        # A schema of only the fields a person may name, and "all": any other
        # ``name:`` is plain text.  A typed word that gives several tokens (COVID-19,
        # a CJK run) is the phrase of them.
        self._schema = fields.Schema(
            **{
                name: fields.TEXT(analyzer=tokenizer, multitoken_query="phrase")
                for name in (_ALL, *QUERY_FIELDS)
            }
        )
        self._plugins = [
            plugins.WhitespacePlugin(),
            plugins.FieldsPlugin(),
            _PositionalPhrasePlugin(),
            plugins.GroupPlugin(),
            plugins.OperatorsPlugin(),
            plugins.WildcardPlugin(),
            plugins.FuzzyTermPlugin(),
        ]

    def _parser(self, match: str) -> Any:
        # whoosh parsers keep state while parsing: one per call keeps threads apart.
        group = qparser.AndGroup if match == "all" else qparser.OrGroup
        return qparser.QueryParser(_ALL, self._schema, plugins=self._plugins, group=group)

    def parse(self, text: str, match: str = "all") -> Query:
        """The query tree for ``text``; ``Every()`` when it is empty.

        A syntax error degrades to the plain words.  Raises BadRequest for a query
        that is too long, has too many terms or edits, or uses a refused wildcard.
        """
        if len(text) > self.limits.max_query_length:
            raise BadRequest(
                "query_too_long",
                f"the query has {len(text)} characters; at most "
                f"{self.limits.max_query_length} are allowed",
                "q",
            )
        text = query_text(text)
        if not text.strip() or text.strip() == "*":  # "*" alone: every event, as empty
            return Every()
        words = self.analyzer.words(_SYNTAX.sub(" ", text))
        if len(words) > self.limits.max_query_terms:
            raise BadRequest(
                "too_many_terms",
                f"the query has more than {self.limits.max_query_terms} words",
                "q",
            )
        try:
            parsed = self._parser(match).parse(text)
            if parsed is wq.NullQuery and words:
                raise _Unsupported("nothing parsed")
            query = _translate(parsed, text, self.limits, match)
        except BadRequest:
            raise
        except Exception:  # noqa: BLE001 - whoosh raises assorted errors on odd syntax
            query = self.plain_words(text, match)
        return _function_words_optional(query, self._function_terms(text), match)

    def plain_words(self, text: str, match: str = "all") -> Query:
        """The words of ``text`` with every operator and symbol taken as plain text
        (AND, OR and NOT are words): each typed word a term, or the phrase of its
        tokens."""
        parts: list[Query] = []
        for chunk in _SYNTAX.sub(" ", text).split():
            tokens = self.analyzer.query_tokens(chunk)
            if len(tokens) == 1:
                parts.append(Term(tokens[0].term, TEXT_FIELDS))
            elif tokens:
                first = tokens[0].position
                parts.append(
                    _typed_word(
                        [t.term for t in tokens],
                        [t.position - first for t in tokens],
                        TEXT_FIELDS,
                        match,
                    )
                )
        if not parts:
            return Nothing()
        if len(parts) == 1:
            return parts[0]
        return Or(tuple(parts)) if match == "any" else And(tuple(parts))

    def _function_terms(self, text: str) -> set[str]:
        """The index terms of the query's function words (none written in capitals)."""
        tokens = self.analyzer.query_tokens(_SYNTAX.sub(" ", text))
        function = {t.term for t in tokens if t.function}
        return function - {t.term for t in tokens if not t.function}


def _typed_word(
    terms: Sequence[str],
    offsets: Sequence[int],
    fields: tuple[str, ...],
    match: str,
    boost: float = 1.0,
) -> Query:
    """One typed word that gives several query terms: the phrase of them, or, for the
    parts of a hyphen-joined word of words (search.text.parts_stand_apart), each
    part a word of the query like the others (AND-ed with ``match=all``, OR-ed with
    ``match=any``; coordination and proximity then rank the events that hold them
    all, side by side, first)."""
    if parts_stand_apart(terms):
        parts = tuple(Term(t, fields, boost) for t in dict.fromkeys(terms))
        return Or(parts) if match == "any" else And(parts)
    return Phrase(tuple(terms), tuple(offsets), fields, 0, boost)


def _fields(fieldname: str) -> tuple[str, ...]:
    return _FIELDS.get(fieldname, TEXT_FIELDS)


def _translate(q: Any, text: str, limits: Limits, match: str) -> Query:
    """The engine's tree for a whoosh query."""
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return Nothing()
    if isinstance(q, wq.Every):
        return Every()
    if isinstance(q, wq.FuzzyTerm):
        if q.maxdist > limits.max_edits:
            raise BadRequest(
                "too_many_edits",
                f"{q.text}~{q.maxdist}: at most {limits.max_edits} edits are allowed",
                "q",
            )
        return Fuzzy(q.text, _fields(q.fieldname), int(q.maxdist), int(q.prefixlength), q.boost)
    if isinstance(q, wq.Prefix):
        return Prefix(fold(q.text), _fields(q.fieldname), q.boost)
    if isinstance(q, wq.Wildcard):
        word = next((w for w in text.split() if "*" in w or "?" in w), text)
        raise BadRequest(
            "wildcard_not_allowed",
            f"{word!r}: a wildcard may only end a word, as in refug*",
            "q",
        )
    if isinstance(q, wq.Term):
        return Term(str(q.text), _fields(q.fieldname), q.boost)
    if isinstance(q, _PlacedPhrase):
        return Phrase(
            tuple(q.words), tuple(q.offsets), _fields(q.fieldname), max(int(q.slop) - 1, 0), q.boost
        )
    if isinstance(q, wq.Phrase):  # one typed word of several tokens
        return _typed_word(q.words, list(range(len(q.words))), _fields(q.fieldname), match, q.boost)
    if isinstance(q, wq.AndMaybe):
        return AndMaybe(_translate(q.a, text, limits, match), _translate(q.b, text, limits, match))
    if isinstance(q, wq.AndNot):
        return AndNot(_translate(q.a, text, limits, match), _translate(q.b, text, limits, match))
    if isinstance(q, wq.Not):
        return Not(_translate(q.query, text, limits, match))
    if isinstance(q, wq.And):
        return And(tuple(_translate(c, text, limits, match) for c in q.subqueries))
    if isinstance(q, wq.Or):
        # whoosh reads ``a NOT b`` under an OR group as ``a OR (NOT b)``, which matches
        # nearly everything: NOT excludes instead.
        children = [_translate(c, text, limits, match) for c in q.subqueries]
        excluded = [c.part for c in children if isinstance(c, Not)]
        kept = [c for c in children if not isinstance(c, Not)]
        if not excluded:
            return Or(tuple(kept))
        drop = Or(tuple(excluded)) if len(excluded) > 1 else excluded[0]
        if kept:
            return AndNot(Or(tuple(kept)) if len(kept) > 1 else kept[0], drop)
        return Not(drop)
    raise _Unsupported(type(q).__name__)


def _function_words_optional(query: Query, function: set[str], match: str) -> Query:
    """With ``match=any`` and other words present, a query's function words only add to
    the score (with ``match=all`` every word must match, as asked)."""
    if not function or match != "any" or not isinstance(query, Or):
        return query
    optional = [p for p in query.parts if isinstance(p, Term) and p.term in function]
    required = [p for p in query.parts if p not in optional]
    if not optional or not required:
        return query
    kept = Or(tuple(required)) if len(required) > 1 else required[0]
    return AndMaybe(kept, Or(tuple(optional)))


def date_filter(first: dt.date | None, last: dt.date | None) -> DateRange | None:
    """Events dated from ``first`` to ``last``, both inclusive; None for no bounds."""
    if first is None and last is None:
        return None
    return DateRange((first or dt.date.min).toordinal(), (last or dt.date.max).toordinal())


def values_filter(
    fieldnames: Sequence[str],
    wanted: Iterable[str],
    folded_lexicons: Mapping[str, Mapping[str, Sequence[str]]],
    fold_value: Callable[[str], str] = fold,
) -> Query:
    """Events carrying any of ``wanted`` in any of ``fieldnames``, compared folded
    (case and accents ignored) against the exact values in the index."""
    parts: list[Query] = []
    for fieldname in fieldnames:
        values = tuple(
            value
            for wish in wanted
            for value in folded_lexicons[fieldname].get(fold_value(wish), ())
        )
        if values:
            parts.append(Values(fieldname, values))
    if not parts:
        return Nothing()
    return Or(tuple(parts)) if len(parts) > 1 else parts[0]
