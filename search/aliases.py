"""Other ways to write a typed word: marked forms, acronyms learned from the events,
and the operator's synonyms, applied to a query when it is parsed.

Three sources, one rule: a plain query word that has alternatives becomes
``Alternatives`` of it and them (search/query.py: one query word, matched by
any of them, scored by all that match), so that adding a synonym, or learning an
acronym at the next commit, needs no rebuild of the index.  It is done after
parsing (``Aliases.expand``): a parsed tree is kept per typed text, the aliases
are the commit's.

- **Marked forms** (``Analyzer.marks``): an acronym typed in capitals also looks
  for its capitals (``WHO`` ranks "the WHO" above "who said"), a number typed
  against a currency symbol or percent sign for that form (``$250`` ranks "$250"
  above "€250").
- **Learned acronyms** (``AliasLearner``, a sidecar table of every commit): a
  parenthesised acronym after the name it abbreviates ("World Health Organization
  (WHO)", "Volkswagen (VW)"), found by the algorithm of A. Schwartz and M. Hearst,
  "A simple algorithm for identifying abbreviation definitions in biomedical
  text", PSB 2003; and the initials of an event's multi-word entity when its text
  uses them in capitals ("United States" and "U.S."); and an acronym in capitals
  whose letters abbreviate an entity of the same event ("VW", "Volkswagen"),
  kept only for acronyms without the first two kinds of evidence.  An acronym
  applies when typed in capitals, or in lower case unless it is a function word
  (``who``, ``us`` and ``it`` stay words) or the index writes it in lower case
  more often than in capitals.
- **Synonyms** (``Synonyms``, the file ``EVENTSEARCH_SYNONYMS`` names), in
  Solr's synonyms.txt format: ``a, b, c`` (each means all of them) and ``a, b =>
  c, d`` (``a`` and ``b`` also mean ``c`` or ``d``; not the other way: the typed
  word itself is always kept, where Solr would replace it); ``#`` starts a comment
  line; ``\\,`` is a comma inside an entry; entries of several words are phrases.

Phrases keep their words as typed: ``"WHO chief"`` is the phrase of who and chief.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from search.acronyms import ALIASES_FILE, AliasLearner
from search.query import Alternatives, And, AndMaybe, AndNot, Not, Or, Phrase, Query, Term
from search.schema import TEXT_FIELDS
from search.text import FUNCTION_WORDS, Analyzer

__all__ = [
    "ALIASES_FILE",
    "AliasLearner",
    "Aliases",
    "Synonyms",
    "SynonymsError",
    "expand",
]

#: Longest synonym entry, in words.
_MAX_SYNONYM_WORDS = 8


class SynonymsError(ValueError):
    """A synonyms file cannot be read; the message names the file and the line."""


# --- The operator's synonyms ------------------------------------------------------

_Words = tuple[str, ...]


def _entries(side: str, path: Path, number: int) -> list[str]:
    entries = [e.replace("\\,", ",").strip() for e in re.split(r"(?<!\\),", side)]
    if not all(entries):
        raise SynonymsError(f"{path}, line {number}: an empty entry")
    return entries


class Synonyms:
    """The rules of a synonyms file: (entries, what they mean).  ``Synonyms()`` has
    none."""

    def __init__(self, rules: Sequence[tuple[tuple[str, ...], tuple[str, ...]]] = ()) -> None:
        self.rules = tuple(rules)

    @classmethod
    def load(cls, path: Path) -> Synonyms:
        """The rules of the file at ``path`` (UTF-8, Solr's synonyms.txt format: the
        module docstring).  SynonymsError names the file and line of a bad rule, or
        says the file cannot be read."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise SynonymsError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
        rules = []
        for number, line in enumerate(lines, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            sides = line.split("=>")
            if len(sides) > 2:
                raise SynonymsError(f"{path}, line {number}: more than one '=>'")
            left = _entries(sides[0], path, number)
            right = _entries(sides[1], path, number) if len(sides) == 2 else left
            if any(len(e.split()) > _MAX_SYNONYM_WORDS for e in (*left, *right)):
                raise SynonymsError(
                    f"{path}, line {number}: an entry of more than {_MAX_SYNONYM_WORDS} words"
                )
            rules.append((tuple(left), tuple(right)))
        return cls(rules)


# --- Expanding a query -------------------------------------------------------------

_Form = tuple[_Words, tuple[int, ...]]


def _form(analyzer: Analyzer, text: str) -> _Form | None:
    """The query terms of a written alternative and their places (None: no words)."""
    tokens = analyzer.query_tokens(text)
    if not tokens:
        return None
    first = tokens[0].position
    return tuple(t.term for t in tokens), tuple(t.position - first for t in tokens)


class Aliases:
    """What a commit's learned acronyms (``learned``: acronym -> long forms) and the
    operator's ``synonyms`` say typed words also mean, in ``analyzer``'s terms.
    Built once per commit (a few hundred entries analysed); read-only after."""

    def __init__(
        self,
        learned: Mapping[str, Sequence[str]],
        synonyms: Synonyms,
        analyzer: Analyzer,
        frequency: Callable[[str, bytes], int] | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.acronyms: dict[str, tuple[_Form, ...]] = {}
        # Acronyms that mean the same typed in lower case: not function words, and
        # (given ``frequency``, documents per field and term) written in capitals in
        # at least half the events that write the word (vw yes; aid, for an "AID",
        # no: the word is mostly the word).
        self.lowercase: set[str] = set()
        for short, longs in learned.items():
            forms = tuple(f for f in (_form(analyzer, long) for long in longs) if f)
            if not forms:
                continue
            self.acronyms[short] = forms
            plain = analyzer.term(short.lower())
            if plain is None or plain in FUNCTION_WORDS:
                continue
            if frequency is None or 2 * _documents(frequency, short) >= _documents(
                frequency, plain
            ):
                self.lowercase.add(short)
        self.synonyms: dict[_Words, tuple[_Form, ...]] = {}
        for left, right in synonyms.rules:
            meant = [f for f in (_form(analyzer, e) for e in right) if f]
            for entry in left:
                key = _form(analyzer, entry)
                if key is None:
                    continue
                found = [f for f in meant if f != key]
                if found:
                    old = self.synonyms.get(key[0], ())
                    self.synonyms[key[0]] = old + tuple(f for f in found if f not in old)
        self.longest = max((len(k) for k in self.synonyms), default=0)

    def expand(self, query: Query, typed: str) -> Query:
        """``query``, parsed from the ``typed`` text, with each plain word's other
        forms (the module's ``expand``, with ``Analyzer.marks`` of the typed text)."""
        return expand(query, self.analyzer.marks(typed), self)

    def alternatives(self, terms: _Words, marked: str | None) -> tuple[_Form, ...]:
        """The other forms of a typed word or span: synonyms, then long forms of an
        acronym (typed in capitals: ``marked``; or a lower-case word that is not a
        function word)."""
        found = self.synonyms.get(terms, ())
        if len(terms) == 1:
            term = terms[0]
            if marked is not None and marked.isupper():
                found += self.acronyms.get(marked, ())
            elif term.upper() in self.lowercase:
                found += self.acronyms[term.upper()]
        return found


def _documents(frequency: Callable[[str, bytes], int], term: str) -> int:
    """The most documents any text field holds ``term`` in."""
    return max(frequency(field, term.encode("utf-8")) for field in TEXT_FIELDS)


def _node(form: _Form, fields: tuple[str, ...], boost: float) -> Query:
    terms, offsets = form
    if len(terms) == 1:
        return Term(terms[0], fields, boost)
    return Phrase(terms, offsets, fields, 0, boost)


def _word(term: Term, marks: Mapping[str, str], aliases: Aliases | None) -> Query:
    """A typed word and its other forms: its marked form first, then its aliases."""
    marked = marks.get(term.term)
    forms = aliases.alternatives((term.term,), marked) if aliases is not None else ()
    others = [_node(f, term.fields, term.boost) for f in forms]
    if marked is not None:
        others.insert(0, Term(marked, term.fields, term.boost))
    if not others:
        return term
    return Alternatives((term, *dict.fromkeys(others)))


def _span(parts: Sequence[Query], i: int, aliases: Aliases) -> tuple[Query, int] | None:
    """The longest run of plain words from ``parts[i]`` that a synonym names, as one
    word: the phrase of them or one of the synonym's forms; and its length; None
    when there is none."""
    for size in range(min(aliases.longest, len(parts) - i), 1, -1):
        span = parts[i : i + size]
        terms = [p for p in span if isinstance(p, Term)]
        if len(terms) < size or any(t.fields != terms[0].fields for t in terms):
            continue
        others = aliases.synonyms.get(tuple(t.term for t in terms))
        if others:
            typed = tuple(t.term for t in terms)
            phrase = _node((typed, tuple(range(size))), terms[0].fields, terms[0].boost)
            nodes = [_node(f, terms[0].fields, terms[0].boost) for f in others]
            return Alternatives((phrase, *nodes)), size
    return None


def expand(query: Query, marks: Mapping[str, str], aliases: Aliases | None) -> Query:
    """``query`` with each plain word that has other forms made ``Alternatives`` of
    it and them (module docstring).  ``marks``: ``Analyzer.marks`` of the typed
    text; ``aliases``: the commit's (None: marked forms only)."""
    if aliases is None and not marks:
        return query
    return _expand(query, marks, aliases)


def _expand(query: Query, marks: Mapping[str, str], aliases: Aliases | None) -> Query:
    match query:
        case Term():
            return _word(query, marks, aliases)
        case And(parts) | Or(parts):
            group = And if isinstance(query, And) else Or
            expanded: list[Query] = []
            i = 0
            while i < len(parts):
                span = _span(parts, i, aliases) if aliases and aliases.longest > 1 else None
                if span is not None:
                    expanded.append(span[0])
                    i += span[1]
                else:
                    expanded.append(_expand(parts[i], marks, aliases))
                    i += 1
            return group(tuple(expanded))
        case AndMaybe(required, optional):
            return AndMaybe(_expand(required, marks, aliases), _expand(optional, marks, aliases))
        case AndNot(positive, negative):
            return AndNot(_expand(positive, marks, aliases), negative)
        case Not():
            return query
    return query
