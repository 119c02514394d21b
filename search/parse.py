"""Turning what people type, and the filters they pick, into the engine's query tree.

whoosh's query parser reads the syntax (the README's "Query syntax" table lists
every form): words, ``AND``/``OR``/``NOT`` in capitals, ``-clause`` (excluded) and
``+clause`` (required), ``"phrases"`` (``~n`` for sloppy ones), groups,
``field:value`` for title, body, entity and source in any case, ``prefix*`` and
``word~n``.  The parts whoosh reads otherwise are this module's: an operator with
nothing on one side is the lower-case word; any other ``name:`` is the plain word;
the signs are resolved in each group before whoosh merges nested groups; a ``~``
suffix is checked on the text as typed (BadRequest quoting it); a prefix or fuzzy
word joined by hyphens is looked for joined, as the index also holds it.  Its
query objects are translated once, here, into search/query.py's tree; nothing past
this module sees a whoosh class.  Plugins that let a query do unbounded work
(ranges, regular expressions, boosts, leading or inner wildcards) are not loaded
or are refused.  Filters are built as query nodes from exact values, never pasted
into query text.

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
from whoosh.qparser import plugins, syntax
from whoosh.qparser.taggers import RegexTagger

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
# Where a clause may begin: the start, after white space or "(", or after a sign there.
_CLAUSE_START = r"(?:^|(?<=[\s(])|(?<=^[-+])|(?<=[\s(][-+]))"
# A ``name:`` before a clause: a known field in any case, or any other name (plain text).
_FIELD = re.compile(
    _CLAUSE_START
    + "(?:(?P<field>(?i:"
    + "|".join(QUERY_FIELDS)
    + r")):(?=[^\s)])|(?P<word>[^\W\d_]\w*):(?=[\w\"(]))"
)
# The operators, written in capitals, each standing apart from its neighbours.
_OPERATOR = r"(?:^|(?<=[\s(])){}(?=[\s)]|$)"
# A sign before a clause: ``-`` excludes it, ``+`` requires it.
_SIGN = r"(?:^|(?<=[\s(])){}(?=[^\s)+-])"
# A phrase, or a ``~`` ending a word, with what follows the ``~`` up to white space or
# ")" (a ``~`` inside a phrase is text).
_TILDE = re.compile(r'"[^"]*"(?:~(?P<slop>[^\s()]*))?|(?P<word>[^\s()~"]*)~(?P<tail>[^\s()]*)')
# A word of letters or digits joined by hyphens, as the index also holds it joined.
_HYPHENATED = re.compile(r"[^\W_]+(?:[-\u2010][^\W_]+)+")
_HYPHEN = re.compile(r"[-\u2010]")


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


class _FieldsPlugin(plugins.FieldsPlugin):  # type: ignore[misc]
    """``title:``, ``body:``, ``entity:`` and ``source:`` in any case name a field;
    any other ``name:`` before a word is that name as a plain word."""

    class FieldnameTagger(RegexTagger):  # type: ignore[misc]
        def create(self, parser: Any, match: Any) -> Any:
            if match.group("field"):
                return syntax.FieldnameNode(match.group("field").lower(), match.group(0))
            return syntax.WordNode(match.group("word"))

    def __init__(self) -> None:
        super().__init__(_FIELD, remove_unknown=False)


class _WhooshParser(qparser.QueryParser):  # type: ignore[misc]
    """whoosh's parser, noting the operators it reads as words (``loose``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loose: list[str] = []


def _as_word(operator: Any, parser: Any) -> Any:
    """An operator with nothing to apply to: the word it spells, as if typed in lower
    case (a function word: with ``match=any`` it only adds to the score)."""
    word = syntax.WordNode(operator.text.lower())
    word.startchar, word.endchar = operator.startchar, operator.endchar
    if isinstance(parser, _WhooshParser):
        parser.loose.append(word.text)
    return word


class _Infix(syntax.InfixOperator):  # type: ignore[misc]
    """``AND``/``OR`` between two clauses; without one of them, a word."""

    def replace_self(self, parser: Any, group: Any, position: int) -> int:
        if 0 < position < len(group) - 1 and not any(
            isinstance(group[p], syntax.Operator) for p in (position - 1, position + 1)
        ):
            return int(super().replace_self(parser, group, position))
        group[position] = _as_word(self, parser)
        return position


class _Prefix(syntax.PrefixOperator):  # type: ignore[misc]
    """``NOT``, ``-`` or ``+`` before a clause; with no clause after it, a word."""

    def replace_self(self, parser: Any, group: Any, position: int) -> int:
        if position < len(group) - 1 and not isinstance(group[position + 1], syntax.Operator):
            return int(super().replace_self(parser, group, position))
        group[position] = _as_word(self, parser)
        return position


class _Require(_Prefix):
    """``+`` before a clause (a class of its own: whoosh applies prefix operators by
    class)."""


class _Required(wq.Query):  # type: ignore[misc]
    """A clause written with ``+``: it must match, the others may."""

    def __init__(self, query: Any, boost: float = 1.0) -> None:
        self.query = query
        self.boost = boost

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Required) and other.query == self.query

    def __hash__(self) -> int:
        return hash((_Required, self.query))

    def __repr__(self) -> str:
        return f"_Required({self.query!r})"

    def is_leaf(self) -> bool:
        return False

    def children(self) -> Any:
        yield self.query

    def apply(self, fn: Callable[[Any], Any]) -> Any:
        return _Required(fn(self.query))

    def normalize(self) -> Any:
        found = self.query.normalize()
        return found if found is wq.NullQuery else _Required(found)


class _RequiredGroup(syntax.Wrapper):  # type: ignore[misc]
    qclass = _Required


def _operators() -> plugins.OperatorsPlugin:
    """``AND``, ``OR`` and ``NOT`` (in capitals), ``-clause`` and ``+clause``.  Prefix
    operators apply right to left (``NOT -a`` is NOT (NOT a))."""
    tagger = plugins.OperatorsPlugin.OpTagger
    return plugins.OperatorsPlugin(
        [
            (tagger(_OPERATOR.format("NOT"), syntax.NotGroup, _Prefix, False, "not"), 0),
            (tagger(_SIGN.format("-"), syntax.NotGroup, _Prefix, False, "minus"), 0),
            (tagger(_SIGN.format(r"\+"), _RequiredGroup, _Require, False, "plus"), 0),
            (tagger(_OPERATOR.format("AND"), syntax.AndGroup, _Infix, True, "and"), 0),
            (tagger(_OPERATOR.format("OR"), syntax.OrGroup, _Infix, True, "or"), 0),
        ],
        clean=True,
    )


@dataclass(frozen=True)
class Limits:
    """Bounds on the work one query may ask for."""

    max_query_length: int = 1000
    max_query_terms: int = 64
    max_expansions: int = 512
    max_edits: int = 2
    max_slop: int = 1000


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
            _FieldsPlugin(),
            _PositionalPhrasePlugin(),
            plugins.GroupPlugin(),
            _operators(),
            plugins.WildcardPlugin(),
            plugins.FuzzyTermPlugin(),
        ]

    def _parser(self, match: str) -> _WhooshParser:
        # whoosh parsers keep state while parsing: one per call keeps threads apart.
        group = qparser.AndGroup if match == "all" else qparser.OrGroup
        return _WhooshParser(_ALL, self._schema, plugins=self._plugins, group=group)

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
        _check_tildes(text, self.limits)
        function = self._function_terms(text)
        try:
            parser = self._parser(match)
            parsed = _signs(parser.parse(text, normalize=False)).normalize()
            if parsed is wq.NullQuery and words:
                raise _Unsupported("nothing parsed")
            query = _translate(parsed, text, match, self.analyzer)
            function |= self._function_terms(" ".join(parser.loose))
        except BadRequest:
            raise
        except Exception:  # noqa: BLE001 - whoosh raises assorted errors on odd syntax
            query = self.plain_words(text, match)
        return _function_words_optional(query, function, match)

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


def _fields(fieldname: str | None) -> tuple[str, ...]:
    return _FIELDS.get(fieldname or _ALL, TEXT_FIELDS)


def _check_tildes(text: str, limits: Limits) -> None:
    """BadRequest, quoting the word as typed, for a ``~`` that is not ``word~``,
    ``word~N`` (N edits, at most ``limits.max_edits`` and fewer than the word's
    characters) or ``"phrase"~N``."""
    for found in _TILDE.finditer(text):
        word, tail, slop = found.group("word"), found.group("tail"), found.group("slop")
        typed = found.group()
        if slop is not None:
            if slop and (not slop.isdigit() or not slop.isascii()):
                raise BadRequest(
                    "invalid_parameter",
                    f"{typed}: a phrase may end in ~N, N the number of words allowed "
                    "between its words",
                    "q",
                )
            if slop and int(slop) > limits.max_slop:
                raise BadRequest(
                    "slop_too_large",
                    f"{typed}: a phrase may allow at most {limits.max_slop} words between "
                    "its words",
                    "q",
                )
            continue
        if not word or not any(c.isalnum() for c in word):  # a phrase without ~, or symbols
            continue
        if tail and (not tail.isdigit() or not tail.isascii()):
            raise BadRequest(
                "invalid_parameter",
                f"{typed}: a fuzzy word ends in ~ (1 edit) or ~N, N a number of edits "
                f"from 0 to {limits.max_edits}",
                "q",
            )
        edits = int(tail) if tail else 1
        if edits > limits.max_edits:
            raise BadRequest(
                "too_many_edits",
                f"{typed}: at most {limits.max_edits} edits are allowed",
                "q",
            )
        letters = len(_joined(fold(word.split(":")[-1].lstrip("+-"))))
        if edits and edits >= letters:
            raise BadRequest(
                "too_many_edits",
                f"{typed}: {edits} edit{'s' if edits > 1 else ''} on a word of {letters} "
                f"character{'s' if letters > 1 else ''} would match any short word; a fuzzy "
                "word needs more characters than edits",
                "q",
            )


def _joined(word: str) -> str:
    """A folded word of letters or digits joined by hyphens as the index also holds it:
    the parts written together (``saint-germain`` -> ``saintgermain``), unless all
    are numbers (``5-4`` is two numbers, never joined)."""
    if _HYPHENATED.fullmatch(word) and not _HYPHEN.sub("", word).isdigit():
        return _HYPHEN.sub("", word)
    return word


def _is_every(q: Any) -> bool:
    """Whether a whoosh query is ``*`` (whoosh normalises a lone ``*`` to Every)."""
    return isinstance(q, wq.Every) or (isinstance(q, wq.Wildcard) and q.text == "*")


def _signs(q: Any) -> Any:
    """The whoosh tree with ``-``/``NOT`` and ``+`` resolved in each group, before
    whoosh merges nested groups: in an OR group, the excluded clauses are taken away
    from the rest, the required ones must match and the others only add to the score
    (``a +b -c`` is b, scored up by a, without c); in an AND group every clause is
    required anyway.  A ``*`` beside other clauses is left out (alone it is every
    event)."""
    if isinstance(q, (wq.Not, _Required)):
        return type(q)(_signs(q.query))
    if not isinstance(q, (wq.And, wq.Or)):
        return q.query if isinstance(q, _Required) else q
    parts = [_signs(s) for s in q.subqueries]
    if any(not _is_every(p) for p in parts):
        parts = [p for p in parts if not _is_every(p)]
    if isinstance(q, wq.And):
        return wq.And([p.query if isinstance(p, _Required) else p for p in parts], boost=q.boost)
    excluded = [p.query for p in parts if isinstance(p, wq.Not)]
    required = [p.query for p in parts if isinstance(p, _Required)]
    optional = [p for p in parts if not isinstance(p, (wq.Not, _Required))]
    positive: Any = None
    if required:
        positive = wq.And(required) if len(required) > 1 else required[0]
        if optional:
            positive = wq.AndMaybe(positive, wq.Or(optional))
    elif optional:
        positive = wq.Or(optional, boost=q.boost)
    if not excluded:
        return positive
    drop = wq.Or(excluded) if len(excluded) > 1 else excluded[0]
    return wq.AndNot(positive, drop) if positive is not None else wq.Not(drop)


def _translate(q: Any, text: str, match: str, analyzer: Analyzer) -> Query:
    """The engine's tree for a whoosh query."""

    def sub(part: Any) -> Query:
        return _translate(part, text, match, analyzer)

    def typed(word: str, fieldname: str | None, boost: float) -> Query:
        # The word as if typed without its ``*`` or ``~0``.
        tokens = analyzer.query_tokens(word)
        if len(tokens) == 1:
            return Term(tokens[0].term, _fields(fieldname), boost)
        if not tokens:
            return Nothing()
        places = [t.position - tokens[0].position for t in tokens]
        return _typed_word([t.term for t in tokens], places, _fields(fieldname), match, boost)

    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return Nothing()
    if isinstance(q, wq.Every):
        return Every()
    if isinstance(q, (wq.FuzzyTerm, wq.Prefix)):
        word = _joined(q.text)
        if word == q.text and _HYPHENATED.fullmatch(q.text):
            # Numbers joined by hyphens are never joined in the index: as typed.
            return typed(q.text, q.fieldname, q.boost)
        if isinstance(q, wq.Prefix):
            return Prefix(word, _fields(q.fieldname), q.boost)
        if not q.maxdist:
            return typed(q.text, q.fieldname, q.boost)
        return Fuzzy(word, _fields(q.fieldname), int(q.maxdist), int(q.prefixlength), q.boost)
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
        return AndMaybe(sub(q.a), sub(q.b))
    if isinstance(q, wq.AndNot):
        return AndNot(sub(q.a), sub(q.b))
    if isinstance(q, wq.Not):
        return Not(sub(q.query))
    if isinstance(q, _Required):
        return sub(q.query)
    if isinstance(q, wq.And):
        return And(tuple(sub(c) for c in q.subqueries))
    if isinstance(q, wq.Or):
        return Or(tuple(sub(c) for c in q.subqueries))
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
