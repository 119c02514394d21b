"""Entity mentions: known entity names found in an event's title and body.

Events without a ``Related:`` section or an entity list still name people, places
and organisations in their text.  The names known from the whole corpus (the
explicit entities of every event) are looked for in each event's title and body,
word by word, case- and accent-insensitively, and the ones found are added to
the event's entity field.  Names of the same words are one name ("Al Qaeda",
"Al-Qaeda"): one that an event already carries as its own is not added again.

Short and common names would match by accident ("Girl", "Police", "car bomb").
A name made only of words the corpus also writes in lower case matches only
where the text writes it as a name: capitalised, and either not opening a
sentence or with a later word capitalised too ("United States" opens sentences
safely, "Car bomb" does not).  One-word names under four letters must be
written exactly (``EU``, ``UN``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from search.event import Event
from search.files import write_atomic
from search.text import fold, shared_analyzer

__all__ = ["MENTIONS_FILE", "MentionFinder", "MentionVocabulary"]

#: The vocabulary a generation was built with, kept in it for later additions.
MENTIONS_FILE = "mentions.json"

_SENTENCE_END = re.compile(r"[.!?:;]\s*$")
_MAX_WORDS = 8
#: Words as search/text.py cuts them (stemming plays no part in mentions).
_WORDS = shared_analyzer()


def _tokens(text: str) -> list[tuple[str, str, int, int]]:
    """The written words of ``text``: (as written, folded, start, end)."""
    return [(text[t.start : t.end], t.word, t.start, t.end) for t in _WORDS.query_tokens(text)]


def _name_words(name: str) -> tuple[str, ...]:
    """The folded words of a name: names of the same words are one name."""
    return tuple(word for _, word, _, _ in _tokens(name))


@dataclass
class MentionVocabulary:
    """What the corpus teaches: entity names, and words it uses in lower case."""

    names: set[str] = field(default_factory=set)
    lowercase_words: set[str] = field(default_factory=set)

    def observe(self, event: Event) -> None:
        """Learn from one event (call for every event before finding mentions)."""
        self.names.update(event.entities)
        for text in (event.title, event.body):
            for written, word, _, _ in _tokens(text):
                if written.islower():
                    self.lowercase_words.add(word)

    def finder(self) -> MentionFinder:
        return MentionFinder(self.names, self.lowercase_words)

    def save(self, path: Path) -> None:
        data = {"names": sorted(self.names), "lowercase_words": sorted(self.lowercase_words)}
        write_atomic(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> MentionVocabulary:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(set(data["names"]), set(data["lowercase_words"]))


class MentionFinder:
    """Finds known names in texts."""

    def __init__(self, names: Iterable[str], lowercase_words: Iterable[str]) -> None:
        common = set(lowercase_words)
        # First folded word -> [(folded words, name, strict)], longest first.
        self._by_first: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}
        # Name -> its folded words, each name analysed once.
        self._words: dict[str, tuple[str, ...]] = {}
        for name in sorted(names):  # the same finder whatever the set's order
            words = self._words[name] = _name_words(name)
            if not words or len(words) > _MAX_WORDS:
                continue
            strict = all(w in common for w in words) or (len(words) == 1 and len(words[0]) < 4)
            self._by_first.setdefault(words[0], []).append((words, name, strict))
        for entries in self._by_first.values():
            entries.sort(key=lambda entry: -len(entry[0]))

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_first.values())

    @staticmethod
    def _written_as_name(
        text: str, tokens: list[tuple[str, str, int, int]], i: int, n: int, name: str
    ) -> bool:
        first, _, start, _ = tokens[i]
        if n == 1 and len(fold(name)) < 4:
            return first == name
        if not first[:1].isupper():
            return False
        if any(word[:1].isupper() for word, _, _, _ in tokens[i + 1 : i + n]):
            return True
        before = text[:start].rstrip()
        return bool(before) and not _SENTENCE_END.search(before)

    def find(self, *texts: str) -> list[str]:
        """Names mentioned in ``texts``, in order of first mention."""
        found: list[str] = []
        for text in texts:
            tokens = _tokens(text)
            folded = [word for _, word, _, _ in tokens]
            i = 0
            while i < len(tokens):
                matched = 0
                for words, name, strict in self._by_first.get(folded[i], ()):
                    n = len(words)
                    if tuple(folded[i : i + n]) != words:
                        continue
                    if strict and not self._written_as_name(text, tokens, i, n, name):
                        continue
                    if name not in found:
                        found.append(name)
                    matched = n
                    break
                i += max(matched, 1)
        return found

    def mentions(self, event: Event) -> list[str]:
        """Names the event mentions that are not already among its entities, however
        written: a name of the same words as one of them ("Al Qaeda" for "Al-Qaeda")
        is that entity."""
        own = {self.words(e) for e in event.entities}
        return [n for n in self.find(event.title, event.body) if self.words(n) not in own]

    def words(self, name: str) -> tuple[str, ...]:
        """The folded words of a name (names of the same words are one name)."""
        found = self._words.get(name)
        return found if found is not None else _name_words(name)
