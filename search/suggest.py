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
the next word (a whole word too when white space follows it: the next word then
begins), starting at any word (``vladimir pu`` and ``putin`` both find
"Vladimir Putin").  Punctuation inside names and phrases (hyphens, apostrophes
straight or typographic, periods, slashes, ampersands, any other) separates
words, in what is typed as in the table, so a name is found as far as it is
typed, punctuation and all: ``paris saint-g``, ``notre-d``, ``covid-1``,
``kenya's`` and ``kenya’s``, ``at&``, ``9/1``.
"""

from __future__ import annotations

import bisect
import json
import mmap
import re
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

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
_KINDS = ("entity", "phrase")
SUGGEST_FILE = "suggest.bin"
FORMAT = 4  # 4: one binary file of arrays, memory-mapped by readers
_MAGIC = b"EVSUGGST"
_HEADER = struct.Struct("<8sQ")  # magic, then the JSON header's length in bytes
_ALIGN = 8


class _Strings:
    """A sorted or ranked list of strings kept as one UTF-8 blob and its offsets
    (``offsets[i]:offsets[i + 1]``): a sequence of bytes for ``bisect``."""

    def __init__(self, blob: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64]) -> None:
        self.blob = blob
        self.offsets = offsets

    @classmethod
    def of(cls, texts: Iterable[str]) -> _Strings:
        data = [t.encode("utf-8") for t in texts]
        offsets = np.zeros(len(data) + 1, dtype=np.int64)
        np.cumsum([len(d) for d in data], out=offsets[1:])
        return cls(np.frombuffer(b"".join(data), dtype=np.uint8), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: int) -> bytes:
        return self.blob[self.offsets[index] : self.offsets[index + 1]].tobytes()

    def text(self, index: int) -> str:
        return self[index].decode("utf-8")


class Suggester:
    """A prefix table over entity names and phrases, ranked once: entry ``i`` is the
    ``i``-th most frequent, so the best matches of a prefix are its smallest entries.
    Immutable once built; writers build it and save it beside the index, and readers
    map the saved arrays into memory (every worker shares one copy through the page
    cache) rather than hold a Python object per entry."""

    def __init__(
        self,
        entries: list[tuple[str, str, int]],
        keys: list[str],
        targets: list[int],
        ahead: dict[str, list[int]],
        forms: dict[str, dict[str, int]],
    ) -> None:
        """``entries``: (text, kind, count), best first; ``keys``: the folded word
        suffixes of the entries, sorted, and ``targets`` the entry of each;
        ``ahead``: the best entries of every prefix of up to _PRECOMPUTED_PREFIX
        characters; ``forms``: stem -> written words -> count, for did-you-mean."""
        self._texts = _Strings.of(text for text, _, _ in entries)
        self._kinds = np.array([_KINDS.index(kind) for _, kind, _ in entries], dtype=np.uint8)
        self._counts = np.array([count for _, _, count in entries], dtype=np.int64)
        self._keys = _Strings.of(keys)
        self._targets = np.asarray(targets, dtype=np.int32)
        self.ahead = ahead
        self.forms = forms

    def __len__(self) -> int:
        """How many entries (names and phrases) the table holds."""
        return len(self._counts)

    def entry(self, index: int) -> Suggestion:
        """Entry ``index`` (0: the most frequent)."""
        return Suggestion(
            self._texts.text(index), _KINDS[int(self._kinds[index])], int(self._counts[index])
        )

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
        ranked_entries = [entry for _, entry in ranked]
        forms = written_forms(
            analyzer, [(text, count) for text, _, count in ranked_entries[:SPELLING_ENTRIES]]
        )
        return cls(ranked_entries, [k for k, _ in keyed], [t for _, t in keyed], ahead, forms)

    def suggest(self, typed: str, size: int) -> list[Suggestion]:
        """The ``size`` most frequent suggestions for what was typed.  White space
        after the last word ends it: what follows is the next word (``russia `` offers
        "Russia Ukraine", not "Russian ..."), so only suggestions that go on after
        that word, whole, are offered."""
        prefix = match_key(typed)
        if not prefix:
            return []
        if typed[-1:].isspace():
            prefix += " "
        if len(prefix) <= _PRECOMPUTED_PREFIX and size <= _KEEP:
            best = self.ahead.get(prefix, [])[:size]
        else:
            low = prefix.encode("utf-8")
            lo = bisect.bisect_left(self._keys, low)
            # UTF-8 never holds the byte 0xff: every key with the prefix sorts before.
            hi = bisect.bisect_left(self._keys, low + b"\xff", lo=lo)
            best = np.unique(self._targets[lo:hi])[:size].tolist()
        return [self.entry(t) for t in best]

    def save(self, path: Path) -> None:
        """One file: a header (magic, length, JSON: format, where each array is, the
        precomputed prefixes and the written forms), then the arrays, 8-byte aligned."""
        arrays: dict[str, npt.NDArray[Any]] = {
            "texts": self._texts.blob,
            "text_offsets": self._texts.offsets,
            "kinds": self._kinds,
            "counts": self._counts,
            "keys": self._keys.blob,
            "key_offsets": self._keys.offsets,
            "targets": self._targets,
        }
        places: dict[str, tuple[str, int, int]] = {}
        at = 0
        for name, array in arrays.items():
            places[name] = (array.dtype.str, at, len(array))
            at += -(-array.nbytes // _ALIGN) * _ALIGN
        header = json.dumps(
            {"format": FORMAT, "arrays": places, "ahead": self.ahead, "forms": self.forms},
            ensure_ascii=False,
        ).encode("utf-8")
        header += b" " * (-(len(header) + _HEADER.size) % _ALIGN)
        parts = [_HEADER.pack(_MAGIC, len(header)), header]
        for array in arrays.values():
            data = array.tobytes()
            parts += [data, b"\0" * (-len(data) % _ALIGN)]
        write_atomic(path, b"".join(parts))

    @classmethod
    def load(cls, path: Path) -> Suggester:
        """The table saved at ``path``, its arrays memory-mapped; ValueError when it is
        not a suggestion table of this format."""
        with open(path, "rb") as fh:
            try:
                mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file
                raise ValueError(f"{path.name} is not a suggestion table") from None
        if len(mapped) < _HEADER.size:
            raise ValueError(f"{path.name} is not a suggestion table")
        magic, length = _HEADER.unpack_from(mapped, 0)
        try:
            if magic != _MAGIC:
                raise ValueError("no magic")
            header = json.loads(mapped[_HEADER.size : _HEADER.size + length])
            if header.get("format") != FORMAT:
                raise ValueError("another format")
            base = _HEADER.size + length
            arrays = {
                name: np.frombuffer(mapped, dtype=np.dtype(dtype), count=count, offset=base + at)
                for name, (dtype, at, count) in header["arrays"].items()
            }
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{path.name} is not a suggestion table of format {FORMAT}: {exc}"
            ) from None
        table = cls.__new__(cls)
        table._texts = _Strings(arrays["texts"], arrays["text_offsets"])
        table._kinds = arrays["kinds"]
        table._counts = arrays["counts"]
        table._keys = _Strings(arrays["keys"], arrays["key_offsets"])
        table._targets = arrays["targets"]
        table.ahead = header["ahead"]
        table.forms = header["forms"]
        return table


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
