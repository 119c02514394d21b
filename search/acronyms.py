"""Acronyms and the long forms the events write for them, learned at index time
(``AliasLearner``) and saved beside every commit; the service applies them to
queries (search/aliases.py).  Writing code reads this module, never the query side.

Found by the algorithm of A. Schwartz and M. Hearst, "A simple algorithm for
identifying abbreviation definitions in biomedical text", PSB 2003 (a
parenthesised acronym after the name it abbreviates), and by the initials of an
event's multi-word entity when its text writes them in capitals.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from search.event import Event
from search.files import write_atomic
from search.text import FUNCTION_WORDS

__all__ = ["ALIASES_FILE", "AliasLearner"]

#: The sidecar table of learned acronyms, beside every commit.
ALIASES_FILE = "aliases.json"
#: Long forms kept per acronym, most often seen first.
_LONG_FORMS_KEPT = 3
#: How far before a parenthesised acronym its long form is looked for, in characters.
_LONG_FORM_REACH = 300

# A short form in parentheses: 2 to 10 characters, a capital first, two capitals
# at least (WHO, VW, U.S., MSF).
_PARENTHESISED = re.compile(r"\(([A-Z][A-Za-z0-9&.\-]{1,9})\)")
# A word in capitals, possibly dotted (WHO, U.S., UNHCR).
_CAPITALS = re.compile(r"\b[A-Z](?:\.[A-Z])+\b|\b[A-Z][A-Z]+\b")
# Where a long form cannot reach back past.
_CLAUSE_END = re.compile(r"[.;:!?()\[\]\"“”]|,\s")


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

    def merge(self, other: AliasLearner) -> None:
        """Add what ``other`` learned (from other events: a writer process's)."""
        for short, (strong, weak) in other.counts.items():
            mine = self._counts(short)
            mine[0].update(strong)
            mine[1].update(weak)

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
