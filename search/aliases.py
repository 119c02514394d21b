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

import functools
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from search.event import Event
from search.query import Alternatives, And, AndMaybe, AndNot, Not, Or, Phrase, Query, Term
from search.schema import TEXT_FIELDS
from search.store import write_atomic
from search.text import FUNCTION_WORDS, Analyzer

__all__ = [
    "ALIASES_FILE",
    "AliasLearner",
    "Aliases",
    "Synonyms",
    "SynonymsError",
    "expand",
]

#: The sidecar table of learned acronyms, beside every commit.
ALIASES_FILE = "aliases.json"
#: Long forms kept per acronym, most often seen first.
_LONG_FORMS_KEPT = 3
#: How far before a parenthesised acronym its long form is looked for, in characters.
_LONG_FORM_REACH = 300
#: Longest synonym entry, in words.
_MAX_SYNONYM_WORDS = 8

# A short form in parentheses: 2 to 10 characters, a capital first, two capitals
# at least (WHO, VW, U.S., MSF).
_PARENTHESISED = re.compile(r"\(([A-Z][A-Za-z0-9&.\-]{1,9})\)")
# A word in capitals, possibly dotted (WHO, U.S., UNHCR).
_CAPITALS = re.compile(r"\b[A-Z](?:\.[A-Z])+\b|\b[A-Z][A-Z]+\b")
# Where a long form cannot reach back past.
_CLAUSE_END = re.compile(r"[.;:!?()\[\]\"“”]|,\s")


class SynonymsError(ValueError):
    """A synonyms file cannot be read; the message names the file and the line."""


# --- Learning acronyms at index time --------------------------------------------


def _long_form(short: str, before: str) -> str | None:
    """The long form a parenthesised ``short`` abbreviates in the text ``before`` it
    (Schwartz and Hearst: each letter of the short form, from its last, found in
    the long form right to left, its first at the start of a word), or None."""
    letters = [c.lower() for c in short if c.isalnum()]
    if len(letters) < 2 or sum(c.isupper() for c in short) < 2:
        return None
    words = before.split()[-min(len(letters) + 5, len(letters) * 2) :]
    candidate = " ".join(words)
    s, at = len(letters) - 1, len(candidate) - 1
    while s >= 0:
        c = letters[s]
        while at >= 0 and (
            candidate[at].lower() != c or (s == 0 and at > 0 and candidate[at - 1].isalnum())
        ):
            at -= 1
        if at < 0:
            return None
        at -= 1
        s -= 1
    found = candidate[candidate.rfind(" ", 0, at + 1) + 1 :]
    if not found[:1].isupper() or len(found) <= len(short) or short in found.split():
        return None
    return found


@functools.lru_cache(maxsize=65_536)
def _initials(name: str) -> str:
    """The initials of a multi-word name whose words but function words are
    capitalised: "United States" -> "US", "Bank of England" -> "BE"; "" otherwise."""
    words = [w for w in name.split() if w.lower() not in FUNCTION_WORDS]
    if len(words) < 2 or not all(w[:1].isupper() for w in words):
        return ""
    return "".join(w[0] for w in words)


def _abbreviates(short: str, name: str) -> bool:
    """Whether ``short``'s letters stand in order in ``name``, its first starting the
    name and its last in the name's last word (Volkswagen and VW)."""
    letters = short.lower()
    words = name.lower().split()
    if not words or words[0][:1] != letters[0]:
        return False
    at = 1
    text = " ".join(words)
    for c in letters[1:]:
        at = text.find(c, at) + 1
        if at == 0:
            return False
    return at > len(text) - len(words[-1])


class AliasLearner:
    """Acronyms and the long forms the events write for them, counted by events:
    ``{"WHO": [{"World Health Organization": 3}, {}]}``.  Strong evidence first (a
    parenthesised acronym, an entity's initials), then weak (an acronym in capitals
    whose letters abbreviate an entity of the same event, as VW does Volkswagen),
    kept only for acronyms without strong evidence.  Built at index time from every
    event added (``add``), saved beside each commit (``save``), read by the service
    (``load``, ``table``)."""

    def __init__(self, counts: Mapping[str, Sequence[Mapping[str, int]]] | None = None) -> None:
        self.counts: dict[str, tuple[Counter[str], Counter[str]]] = {
            short: (Counter(strong), Counter(weak))
            for short, (strong, weak) in (counts or {}).items()
        }

    def add(self, event: Event, mentions: Sequence[str] = ()) -> None:
        """Learn from one event: its parenthesised acronyms, and its multi-word
        entities (given and ``mentions``) whose initials its text writes."""
        text = f"{event.title}\n{event.body}"
        strong: dict[str, str] = {}
        weak: dict[str, str] = {}
        if "(" in text:
            for match in _PARENTHESISED.finditer(text):
                window = text[max(0, match.start() - _LONG_FORM_REACH) : match.start()]
                before = _CLAUSE_END.split(window)[-1]
                long = _long_form(match.group(1), before)
                if long is not None:
                    strong[match.group(1).replace(".", "")] = long
        capitals = {m.group().replace(".", "") for m in _CAPITALS.finditer(text)}
        names = list(dict.fromkeys([*event.entities, *mentions]))
        for short in sorted(capitals):
            for name in names:
                if name.upper() == short:
                    continue
                if _initials(name) == short:
                    strong.setdefault(short, name)
                elif short not in strong and _abbreviates(short, name):
                    weak.setdefault(short, name)
        for short, long in strong.items():
            self._counts(short)[0][long] += 1
        for short, long in weak.items():
            if short not in strong:
                self._counts(short)[1][long] += 1

    def _counts(self, short: str) -> tuple[Counter[str], Counter[str]]:
        found = self.counts.get(short)
        if found is None:
            found = self.counts[short] = (Counter(), Counter())
        return found

    def table(self) -> dict[str, tuple[str, ...]]:
        """Each acronym's long forms, most often written first (at most three)."""
        return {
            short: tuple(f for f, _ in (strong or weak).most_common(_LONG_FORMS_KEPT))
            for short, (strong, weak) in self.counts.items()
        }

    def save(self, path: Path) -> None:
        """Write the table to ``path`` (JSON, replaced atomically)."""
        data = {
            short: [dict(strong.most_common()), dict(weak.most_common())]
            for short, (strong, weak) in sorted(self.counts.items())
        }
        write_atomic(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> AliasLearner:
        """The table saved at ``path``; empty when there is none."""
        if not path.exists():
            return cls()
        return cls(json.loads(path.read_text(encoding="utf-8")))


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
