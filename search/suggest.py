"""Search-box suggestions: entity names and title phrases for what a person has typed.

- Entity names come from the entity facet's columns, so their counts (events
  carrying the name) are exact and follow every index change.
- Phrases (one to three title words, not opening or closing on a stop word) are
  counted while events are written and kept in the generation's
  ``phrases.json``.  Counting is bounded in memory: when the table grows past
  its limit the rarest phrases are dropped, so the counts of rare phrases are
  lower bounds.  ``indexer add`` adds the new events' phrases; deleted events'
  phrases are forgotten at the next rebuild.

Matching is case- and accent-insensitive and works on several words: every typed
word but the last must be a whole word of the suggestion, the last a prefix of
the next word, starting at any word (``vladimir pu`` and ``putin`` both find
"Vladimir Putin").
"""

from __future__ import annotations

import bisect
import heapq
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from search.analysis import fold
from search.store import write_atomic

__all__ = ["PhraseCounter", "Suggester", "Suggestion"]

_WORD = re.compile(r"\w+(?:[.'’]\w+)*", re.UNICODE)
_STOP_WORDS = """a an and are as at be by for from has have he her his in is it its of on or
she that the their they this to was were will with after over into than"""
_STOP = frozenset(_STOP_WORDS.split())
PHRASES_FILE = "phrases.json"
# How many short prefixes get their best suggestions computed ahead.
_PRECOMPUTED_PREFIX = 2
_KEEP = 20


@dataclass(frozen=True)
class Suggestion:
    text: str
    kind: str
    count: int

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "kind": self.kind, "count": self.count}


def title_phrases(title: str) -> set[str]:
    """The phrases a title offers: 1 to 3 words, not opening or closing on a stop word."""
    words = _WORD.findall(title)
    found = set()
    for size in (1, 2, 3):
        for i in range(len(words) - size + 1):
            gram = words[i : i + size]
            if fold(gram[0]) in _STOP or fold(gram[-1]) in _STOP or gram[-1].isdigit():
                continue
            if any(len(word) < 2 for word in gram):
                continue
            found.add(" ".join(gram))
    return found


class PhraseCounter:
    """Counts title phrases by events, within a bounded table."""

    def __init__(self, limit: int = 1_000_000) -> None:
        self.limit = limit
        self.counts: Counter[str] = Counter()
        self.floor = 0

    def add(self, title: str) -> None:
        self.counts.update(title_phrases(title))
        if len(self.counts) > self.limit:
            # Drop the rarest until the table is back to half its limit.
            self.floor = sorted(self.counts.values())[-self.limit // 2]
            self.counts = Counter({p: c for p, c in self.counts.items() if c > self.floor})

    def save(self, path: Path, most: int = 300_000) -> None:
        """Write the ``most`` most frequent phrases, most frequent first."""
        best = self.counts.most_common(most)
        write_atomic(path, json.dumps(best, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def load(cls, path: Path) -> PhraseCounter:
        counter = cls()
        if path.exists():
            counter.counts = Counter(dict(json.loads(path.read_text(encoding="utf-8"))))
        return counter


def read_phrases(path: Path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    return [(p, int(c)) for p, c in json.loads(path.read_text(encoding="utf-8"))]


class Suggester:
    """A prefix table over entity names and phrases; immutable once built."""

    def __init__(self, entries: Iterable[tuple[str, str, int]]) -> None:
        # Each entry is reachable from every word it contains: (folded suffix, entry).
        self.entries: list[Suggestion] = []
        keyed: list[tuple[str, int]] = []
        seen: dict[str, int] = {}
        for text, kind, count in entries:
            folded = fold(text)
            if not folded or count <= 0:
                continue
            if folded in seen:  # the same words as an entity and a phrase: keep the entity
                continue
            seen[folded] = len(self.entries)
            self.entries.append(Suggestion(text, kind, count))
            words = folded.split(" ")
            for i in range(len(words)):
                keyed.append((" ".join(words[i:]), len(self.entries) - 1))
        keyed.sort()
        self.keys = [k for k, _ in keyed]
        self.targets = [t for _, t in keyed]
        self.ahead: dict[str, list[int]] = {}
        for length in range(1, _PRECOMPUTED_PREFIX + 1):
            groups: dict[str, set[int]] = {}
            for key, target in keyed:
                if len(key) >= length:
                    groups.setdefault(key[:length], set()).add(target)
            for prefix, targets in groups.items():
                self.ahead[prefix] = self._best(targets, _KEEP)

    def _best(self, targets: Iterable[int], size: int) -> list[int]:
        entries = self.entries
        return heapq.nsmallest(
            size, set(targets), key=lambda t: (-entries[t].count, entries[t].kind, t)
        )

    def suggest(self, typed: str, size: int) -> list[Suggestion]:
        """The ``size`` most frequent suggestions for what was typed."""
        prefix = " ".join(fold(typed).split())
        if not prefix:
            return []
        if len(prefix) <= _PRECOMPUTED_PREFIX and size <= _KEEP:
            return [self.entries[t] for t in self.ahead.get(prefix, [])[:size]]
        lo = bisect.bisect_left(self.keys, prefix)
        hi = bisect.bisect_left(self.keys, prefix + "\U0010ffff")
        return [self.entries[t] for t in self._best(self.targets[lo:hi], size)]
