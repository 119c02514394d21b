"""The engine's query tree: small frozen dataclasses.

The parser (search/parse.py) turns what people type into this tree once; the
evaluator (search/evaluate.py), query expansion, related events and filters all
build and read it.  No whoosh class appears past the parser.

Leaves:

- ``Term``: an analysed word looked for in one or more text fields, scored by
  BM25F across them (search/scoring.py);
- ``Phrase``: analysed words at given places (``offsets[i]`` places after the
  first word) in one of the fields, each within ``slop`` places of its own;
- ``Prefix`` and ``Fuzzy``: stand for the OR of the index terms they expand to;
- ``Values``: exact values of a keyword field (entity, source, category, id...),
  scoring a constant ``boost``;
- ``DateRange``: events dated from ``first`` to ``last`` (day numbers,
  ``date.toordinal()``), inclusive; a filter, it scores 0;
- ``Every`` and ``Nothing``.

Branches: ``And``, ``Or``, ``Not``, ``AndNot`` (``positive`` without
``negative``) and ``AndMaybe`` (``required``, scored up where ``optional``
matches too).

Every text leaf that matches a document counts one *query word* for it; AND and
OR add them up; the optional part of ``AndMaybe`` adds score but no words.  The
ranking's coordination reads that count (search/scoring.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = [
    "And",
    "AndMaybe",
    "AndNot",
    "DateRange",
    "Every",
    "Fuzzy",
    "Leaf",
    "Not",
    "Nothing",
    "Or",
    "Phrase",
    "Prefix",
    "Query",
    "Term",
    "Values",
    "leaves",
    "matched_leaves",
    "word_count",
]


@dataclass(frozen=True)
class Term:
    term: str
    fields: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    terms: tuple[str, ...]
    offsets: tuple[int, ...]
    fields: tuple[str, ...]
    slop: int = 0
    boost: float = 1.0


@dataclass(frozen=True)
class Prefix:
    prefix: str
    fields: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Fuzzy:
    word: str
    fields: tuple[str, ...]
    max_edits: int = 1
    prefix_length: int = 1
    boost: float = 1.0


@dataclass(frozen=True)
class Values:
    field: str
    values: tuple[str, ...]
    boost: float = 0.0


@dataclass(frozen=True)
class DateRange:
    first: int
    last: int


@dataclass(frozen=True)
class Every:
    pass


@dataclass(frozen=True)
class Nothing:
    pass


@dataclass(frozen=True)
class And:
    parts: tuple[Query, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Query, ...]


@dataclass(frozen=True)
class Not:
    part: Query


@dataclass(frozen=True)
class AndNot:
    positive: Query
    negative: Query


@dataclass(frozen=True)
class AndMaybe:
    required: Query
    optional: Query


Query = (
    Term
    | Phrase
    | Prefix
    | Fuzzy
    | Values
    | DateRange
    | Every
    | Nothing
    | And
    | Or
    | Not
    | AndNot
    | AndMaybe
)
Leaf = Term | Phrase | Prefix | Fuzzy | Values | DateRange | Every | Nothing


def leaves(query: Query, negated: bool = False) -> Iterator[Leaf]:
    """Every leaf of the tree, left to right; with ``negated`` false, not the leaves
    under NOT (what a search looks for, as highlighting wants)."""
    match query:
        case And(parts) | Or(parts):
            for part in parts:
                yield from leaves(part, negated)
        case Not(part):
            if negated:
                yield from leaves(part, negated)
        case AndNot(positive, negative):
            yield from leaves(positive, negated)
            if negated:
                yield from leaves(negative, negated)
        case AndMaybe(required, optional):
            yield from leaves(required, negated)
            yield from leaves(optional, negated)
        case _:
            yield query


def matched_leaves(query: Query, holds: Callable[[Leaf], bool]) -> list[Leaf]:
    """The leaves, left to right, of the clauses that matched one document, given
    whether each leaf matches it (``holds``): every part of a matched AND, the matched
    parts of an OR, the optional part of AND-MAYBE when it matched; nothing of a
    clause that did not match, nor of a negated one (what a snippet marks)."""
    known: dict[Leaf, bool] = {}

    def leaf_holds(leaf: Leaf) -> bool:
        found = known.get(leaf)
        if found is None:
            found = known[leaf] = holds(leaf)
        return found

    def matched(node: Query) -> bool:
        match node:
            case Every():
                return True
            case Nothing():
                return False
            case And(parts):
                return all(matched(p) for p in parts)
            case Or(parts):
                return any([matched(p) for p in parts])
            case Not(part):
                return not matched(part)
            case AndNot(positive, negative):
                return matched(positive) and not matched(negative)
            case AndMaybe(required, _):
                return matched(required)
            case _:
                return leaf_holds(node)

    found: list[Leaf] = []

    def collect(node: Query) -> None:
        match node:
            case And(parts) | Or(parts):
                for part in parts:
                    if matched(part):
                        collect(part)
            case AndNot(positive, _):
                collect(positive)
            case AndMaybe(required, optional):
                collect(required)
                if matched(optional):
                    collect(optional)
            case Not() | Every() | Nothing():
                pass
            case _:
                found.append(node)

    if matched(query):
        collect(query)
    return found


def word_count(query: Query) -> int:
    """How many query words the tree can match at most (see the module docstring)."""
    match query:
        case Term() | Phrase() | Prefix() | Fuzzy():
            return 1
        case And(parts) | Or(parts):
            return sum(word_count(p) for p in parts)
        case AndNot(positive, _):
            return word_count(positive)
        case AndMaybe(required, _):
            return word_count(required)
        case _:
            return 0
