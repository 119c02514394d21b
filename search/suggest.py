"""Search-box suggestions: entity names and title phrases for what a person has typed.

- Entity names come from the entity facet's columns, so their counts (events
  carrying the name) are exact.
- Phrases (one to three title words, not opening or closing on a stop word) are
  found once per event while it is written (``title_phrases``) and kept with its
  segment (search/columns.py), so their counts are exact too.

Writers build the table (``suggest.<commit>.json``) at every commit from the live
documents of the commit's segments, so it follows every index change: once a
commit that deletes or replaces an event is served, its names and phrases are
suggested only as far as live events still carry them.

Matching is case- and accent-insensitive and works on several words: every typed
word but the last must be a whole word of the suggestion, the last a prefix of
the next word, starting at any word (``vladimir pu`` and ``putin`` both find
"Vladimir Putin").  Punctuation inside names and phrases (hyphens, apostrophes
straight or typographic, periods, slashes, ampersands, any other) separates
words, in what is typed as in the table, so a name is found as far as it is
typed, punctuation and all: ``paris saint-g``, ``notre-d``, ``covid-1``,
``kenya's`` and ``kenya’s``, ``at&``, ``9/1``.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from search.files import write_atomic
from search.results import Suggestion
from search.text import Analyzer, fold

__all__ = [
    "PHRASES_KEPT",
    "SUGGEST_FILE",
    "Suggester",
    "Suggestion",
    "build_suggester",
    "title_phrases",
    "written_forms",
]

#: A title word: letters and digits, with the punctuation inside it ("Saint-Germain",
#: "COVID-19", "Kenya's", "AT&T", "9/11", "U.S").
_WORD = re.compile(r"\w+(?:[-\u2010\u2011.'\u2019/&]\w+)*", re.UNICODE)
_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)
_JOINS = re.compile(r"\s+(?:&\s+)?")  # what may stand between a phrase's words
_AFTER_ABBREVIATION = re.compile(r"\.\s+")
_ABBREVIATIONS = frozenset(
    {"St", "Mt", "Ft", "Dr", "Mr", "Mrs", "Ms", "Jr", "Sr", "Inc", "Ltd", "Co", "Corp"}
    | {"Gen", "Gov", "Sen", "Rep", "Prof", "Lt", "Col", "Capt", "Sgt"}
)
_STOP_WORDS = """a an and are as at be by for from has have he her his in is it its of on or
she that the their they this to was were will with after over into than"""
_STOP = frozenset(_STOP_WORDS.split())
#: Title phrases the table offers: the most frequent ones.
PHRASES_KEPT = 100_000
# How many short prefixes get their best suggestions computed ahead.
_PRECOMPUTED_PREFIX = 2
_KEEP = 20
# The most frequent entries whose words "did you mean" may offer.
SPELLING_ENTRIES = 50_000


def match_key(text: str) -> str:
    """The form suggestions are matched in: folded, punctuation turned into spaces,
    words separated by one space (``"Kenya’s  Saint-Germain"`` -> ``"kenya s saint
    germain"``)."""
    return _key_of_folded(fold(text))


def _key_of_folded(folded: str) -> str:
    """``match_key`` of a text already folded."""
    return " ".join(_PUNCTUATION.sub(" ", folded).split())


def _abbreviation(word: str) -> bool:
    """An initial (``A``), a dotted abbreviation (``U.S``) or a title (``St``): a period
    after it does not end a phrase."""
    return (len(word) == 1 and word.isupper()) or "." in word or word in _ABBREVIATIONS


def title_phrases(title: str) -> set[str]:
    """The phrases a title offers, as written: 1 to 3 words, not opening or closing on
    a stop word or an initial, not running across punctuation other than ``&`` or an
    abbreviation's period (``Procter & Gamble``, ``U.S. Open``, ``St. Louis``; never
    ``Brooklyn, New``); a typographic apostrophe is written straight, so both
    spellings count as one."""
    title = title.replace("\u2019", "'")
    spans = [m.span() for m in _WORD.finditer(title)]
    words = [title[a:b] for a, b in spans]
    joined = [
        bool(_JOINS.fullmatch(gap))
        or (_AFTER_ABBREVIATION.fullmatch(gap) is not None and _abbreviation(words[j]))
        for j, gap in enumerate(title[spans[k][1] : spans[k + 1][0]] for k in range(len(spans) - 1))
    ]
    # Each word folded once: whether it is a stop word, an initial or a number.
    opens = [fold(word) not in _STOP and len(word) >= 2 for word in words]  # may open a phrase
    closes = [ok and not word.isdigit() for ok, word in zip(opens, words, strict=True)]
    found = set()
    for size in (1, 2, 3):
        for i in range(len(words) - size + 1):
            last = i + size - 1
            if not opens[i] or not closes[last] or not all(joined[i:last]):
                continue
            found.add(title[spans[i][0] : spans[last][1]])
    return found


def written_forms(
    analyzer: Analyzer, written: Iterable[tuple[str, int]]
) -> dict[str, dict[str, int]]:
    """Stem -> written words (folded) -> how often, from texts with their counts (what
    did-you-mean offers for a stem; search/spelling.py).  Each distinct word is
    stemmed once."""
    totals: dict[str, int] = {}
    for text, count in written:
        for word in fold(text).split(" "):
            if word.isalpha():
                totals[word] = totals.get(word, 0) + count
    forms: dict[str, dict[str, int]] = {}
    for word, count in totals.items():
        stem = analyzer.term(word)
        if stem is not None:
            forms.setdefault(stem, {})[word] = count
    return forms


_KIND_ORDER = {"entity": 0, "phrase": 1}
SUGGEST_FILE = "suggest.json"
FORMAT = 3  # 3: keys by match_key
_OLDER_FORMAT = 2


class Suggester:
    """A prefix table over entity names and phrases, ranked once: entry ``i`` is the
    ``i``-th most frequent, so the best matches of a prefix are its smallest entries.
    Immutable once built; writers build it and save it beside the index."""

    def __init__(
        self,
        entries: list[tuple[str, str, int]],
        keys: list[str],
        targets: list[int],
        ahead: dict[str, list[int]],
        forms: dict[str, dict[str, int]],
    ) -> None:
        self.entries = entries  # (text, kind, count), best first
        self.forms = forms  # stem -> written words -> count, for "did you mean"
        self.keys = keys  # folded word-suffixes of the entries, sorted
        self.targets = np.asarray(targets, dtype=np.int32)  # key -> entry
        # Short prefixes match much of the table: their best entries are kept ready.
        self.ahead = ahead

    @classmethod
    def build(cls, entries: Iterable[tuple[str, str, int]], analyzer: Analyzer) -> Suggester:
        """Rank entries (most events first; an entity before a phrase of the same words);
        ``analyzer`` (the index's) stems their words for did-you-mean."""
        kept: dict[str, tuple[str, str, int]] = {}
        for text, kind, count in entries:
            folded = fold(text)
            if not folded or count <= 0:
                continue
            old = kept.get(folded)
            if old is None or (_KIND_ORDER[kind], -count) < (_KIND_ORDER[old[1]], -old[2]):
                kept[folded] = (text, kind, count)
        ranked = sorted(kept.items(), key=lambda fe: (-fe[1][2], _KIND_ORDER[fe[1][1]], fe[0]))
        keyed: list[tuple[str, int]] = []
        ahead: dict[str, list[int]] = {}
        for rank, (folded, _) in enumerate(ranked):
            key = _key_of_folded(folded)
            words = key.split(" ") if key else []
            for i in range(len(words)):
                key = " ".join(words[i:])
                keyed.append((key, rank))
                for length in range(1, min(_PRECOMPUTED_PREFIX, len(key)) + 1):
                    best = ahead.setdefault(key[:length], [])
                    if len(best) < _KEEP and (not best or best[-1] != rank):
                        best.append(rank)
        keyed.sort()
        entries = [entry for _, entry in ranked]
        forms = written_forms(
            analyzer, [(text, count) for text, _, count in entries[:SPELLING_ENTRIES]]
        )
        return cls(entries, [k for k, _ in keyed], [t for _, t in keyed], ahead, forms)

    def suggest(self, typed: str, size: int) -> list[Suggestion]:
        """The ``size`` most frequent suggestions for what was typed."""
        prefix = match_key(typed)
        if not prefix:
            return []
        if len(prefix) <= _PRECOMPUTED_PREFIX and size <= _KEEP:
            best = self.ahead.get(prefix, [])[:size]
        else:
            lo = bisect.bisect_left(self.keys, prefix)
            hi = bisect.bisect_left(self.keys, prefix + "\U0010ffff")
            best = np.unique(self.targets[lo:hi])[:size].tolist()
        return [Suggestion(*self.entries[t]) for t in best]

    def save(self, path: Path) -> None:
        data = {
            "format": FORMAT,
            "entries": self.entries,
            "keys": self.keys,
            "targets": self.targets.tolist(),
            "ahead": self.ahead,
            "forms": self.forms,
        }
        write_atomic(path, json.dumps(data, ensure_ascii=False).encode("utf-8"))

    @classmethod
    def load(cls, path: Path, analyzer: Analyzer) -> Suggester:
        """The table saved at ``path`` (``analyzer``: the index's, to build anew a table
        of the older format); ValueError when it is of another format."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") not in (_OLDER_FORMAT, FORMAT):
            raise ValueError(f"{path.name} is not a suggestion table of format {FORMAT}")
        entries = [(text, kind, count) for text, kind, count in data["entries"]]
        if data["format"] == _OLDER_FORMAT:  # its keys kept punctuation: built anew
            return cls.build(entries, analyzer)
        return cls(entries, data["keys"], data["targets"], data["ahead"], data["forms"])


def build_suggester(
    entities: Iterable[tuple[str, int]], phrases: Iterable[tuple[str, int]], analyzer: Analyzer
) -> Suggester:
    """The table for a commit: its entity names (as shown) with the live events carrying
    them, and title phrases with the live events whose titles hold them (the
    ``PHRASES_KEPT`` most frequent; of equal counts, the first in code-point order).
    ``analyzer``: the index's, for did-you-mean."""
    best = sorted(((-count, phrase) for phrase, count in phrases if count > 0))[:PHRASES_KEPT]
    entries = [(name, "entity", count) for name, count in entities if count > 0]
    entries += [(phrase, "phrase", -negative) for negative, phrase in best]
    return Suggester.build(entries, analyzer)
