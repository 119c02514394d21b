"""Snippets: the best passage of a text for a query, HTML-escaped, matches in ``<mark>``.

A snippet is at most ``width`` characters of the text (ellipses included), for any
text: no spaces, one huge token, combining marks, emoji, CJK.  It is cut at a
word boundary where the text has one near the cut (whitespace first, then a
Unicode word boundary, UAX #29), and otherwise at a grapheme-cluster boundary
(``\\X``), never inside a grapheme cluster; ``…`` marks a cut.

The work is linear in the text read, and only what is needed is read (the shape
of Lucene's postings and unified highlighters, without offsets in the index):

1. **Candidates.**  Each query term's first letters (its index form, folded; a
   stem and its written words share all but at most their last letter or two,
   see ``_prefix``) are looked for in the text with C-speed substring search, chunk by chunk:
   ASCII chunks lower-cased, other chunks as UTF-8 bytes, and a chunk whose
   characters fold to something else (accents, capitals outside ASCII, marks,
   format characters, ligatures) folded character by character.
2. **Verification.**  The analyzer's own tokens (with character offsets) are
   computed around each candidate only, up to the next whitespace: a match is
   a token whose index term is a query term.  A phrase's word is a match only
   where the whole phrase stands, checked on the tokens of the few
   whitespace-separated words around it (as many as the phrase can reach).
3. **The best window.**  A sliding window over the matches keeps the passage
   with the most distinct query words (then the earliest); the scan stops as
   soon as a window holds all of them, after ``MAX_CANDIDATES`` verified
   candidates, after ``MAX_SCAN_CHARS`` characters, or when the search's
   deadline has passed (the best passage found so far is shown).
4. **The snippet.**  Only the chosen passage (at most ``width`` characters) is
   analysed again to place the ``<mark>`` tags.

What a search's snippets mark (``hit_highlighters``): for each event of the page
shown, the words of the query's clauses that matched that event
(search.query.matched_leaves), each leaf looked up for the page's events only
(search.evaluate.Evaluator.holds); nothing of a clause that did not match it, nor
of an excluded one.

Figures: BENCHMARKS.md, "Highlighting" (``python -m bench highlight``).
"""

from __future__ import annotations

import bisect
import functools
import html
import re
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import regex

from search.evaluate import Evaluator
from search.lexicon import OutOfTime, TooManyTerms
from search.query import Fuzzy, Leaf, Phrase, Prefix, Query, Term, leaves, matched_leaves
from search.schema import TEXT_FIELDS
from search.text import Analyzer, fold

__all__ = [
    "ELLIPSIS",
    "MAX_CANDIDATES",
    "MAX_SCAN_CHARS",
    "MAX_WORD_CHARS",
    "PRESENCE_CHECK_CHARS",
    "SNIPPET_WIDTH",
    "Highlighter",
    "PhraseMark",
    "hit_highlighters",
    "snippet",
]

ELLIPSIS = "…"
#: The longest snippet, in characters of the text, ellipses included.
SNIPPET_WIDTH = 240
#: The most characters of one text scanned for matches (Elasticsearch's
#: ``index.highlight.max_analyzed_offset`` is 1,000,000 by default); past it, the
#: best passage found before it is shown.
MAX_SCAN_CHARS = 10_000_000
#: Texts longer than this are searched only for the query terms the index says they hold.
PRESENCE_CHECK_CHARS = 20_000
#: The most candidate places verified for one snippet.
MAX_CANDIDATES = 5_000
#: The longest word marked, in characters (Lucene's standard tokenizer cuts at 255).
MAX_WORD_CHARS = 1000

_CHUNK = 32_768  # characters scanned at a time
_OVERLAP = 64  # a prefix found across a chunk's end is found in the next chunk's overlap
_REGION = MAX_WORD_CHARS + 1  # the most characters analysed from one candidate on
_CJK_REGION = 64  # a candidate inside a run without spaces: the words just after it
_REGIONS_KEPT = 20_000  # analysed stretches remembered by one highlighter
_ASCII_BYTES = bytes(range(128))
_LONE = "surrogatepass"  # a lone surrogate is kept as it is, never an error
_SPACE = re.compile(r"\s")
_LAST_SPACE = regex.compile(r"\s", regex.REVERSE)  # searched backwards: the last one
_NON_SPACE = re.compile(r"\S")
_WORD_BOUNDARY = regex.compile(r"\b", regex.WORD)  # UAX #29 default word boundaries
_CLUSTER = regex.compile(r"\X")  # UAX #29 extended grapheme clusters
# Scripts written without spaces between words: a term may start inside a run.
_UNSPACED = frozenset(
    {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN"}
    | {"IDEOGRAPHIC", "HALFWIDTH"}
)

Expired = Callable[[], bool]


def _never() -> bool:
    return False


def _folded(text: str) -> str:
    """The one folding call of this module (search/text.py's)."""
    return fold(text)


@functools.lru_cache(maxsize=65_536)
def _char_fold(char: str) -> str:
    """How one character reads folded ('' for marks and ignorable characters)."""
    if unicodedata.category(char) in ("Mn", "Me", "Cf") or char == "\u0640":  # tatweel
        return ""
    return _folded(char) if not char.isspace() else char


def _joins(char: str) -> bool:
    """Whether a word can go on after ``char`` (a letter or digit; the analyzer cuts
    a word at an underscore, ``foo_bar`` is ``foo`` and ``bar``, and a candidate
    after a mark is kept, for analyzers that split words at marks)."""
    return char.isalnum()


def _may_start(before: str, char: str) -> bool:
    """Whether a token may begin at ``char``, after ``before``, as the analyzer cuts
    the folded text: a character that folds into several (``¼`` is 1, a fraction slash and 4) may
    hold a cut inside it; otherwise a token begins where the folded characters do
    not join, where letters meet digits, or in a script written without spaces."""
    folded = _char_fold(char)
    if len(folded) != 1:
        return True
    last = _char_fold(before)[-1:] or before
    return (
        not _joins(folded)
        or not _joins(last)
        or _run_starts(last, folded)
        or _unspaced(char)
        or _unspaced(before)
    )


def _run_starts(before: str, char: str) -> bool:
    """Whether a run of letters or of digits of an ASCII word starts at ``char``
    (the analyzer indexes each run of ``MH17``)."""
    return before.isascii() and char.isascii() and before.isdigit() != char.isdigit()


@functools.lru_cache(maxsize=4096)
def _unspaced(char: str) -> bool:
    return unicodedata.name(char, "").split(" ")[0] in _UNSPACED


#: The most letters of a term a candidate is looked for by: a term joined from a
#: word written with a hyphen or an apostrophe (``railharbour`` from "rail-harbour",
#: ``covid19`` from "COVID-19") is written with its first part's letters first.
_PREFIX_LETTERS = 4


def _prefix(term: str) -> str:
    """The first letters every written form of an index term starts with, folded.

    A stem (Porter2's or the S-stemmer's) is its words' first letters, but for its
    last letter when that is ``i`` (happy -> happi), ``l`` (ability -> abl), ``e``
    (hoping -> hope) or ``y`` (skies -> sky, queries -> query), and for its last
    two in Porter2's exceptional forms (dying -> die, lying -> lie, tying -> tie);
    a joined term's written form may break after its first part, so at most
    _PREFIX_LETTERS letters are taken.  Checked on every word of the real corpus and
    its inflections, for both stemmers (tests/test_highlight.py)."""
    if term[-1:] in ("i", "l", "e", "y"):
        term = term[:1] if len(term) <= 3 and term.endswith("e") else (term[:-1] or term)
    return term[:_PREFIX_LETTERS]


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    group: int


@dataclass(frozen=True)
class PhraseMark:
    """A phrase whose words are marked only where it stands: ``terms`` at ``offsets``
    (places after the first word's, as search.query.Phrase), each within ``slop``
    places of its own; ``group`` is the query word it stands for."""

    terms: tuple[str, ...]
    offsets: tuple[int, ...]
    slop: int
    group: int

    @property
    def reach(self) -> int:
        """How many words around one of its words a phrase can reach."""
        return max(self.offsets) - min(self.offsets) + self.slop + 1


#: Characters looked at per word of context, at most, when checking a phrase around a word.
_CONTEXT_CHARS = 64
#: A text at most this long is searched for the phrases once, whole.
_WHOLE_TEXT = 4096
#: The most words each way a phrase is looked for around one of its words: the words of
#: a sloppier phrase that stand farther apart are not marked.
_MAX_REACH = 64
_WORD_RUN = re.compile(r"\S+")


class Highlighter:
    """Finds and marks one query's terms in texts.  Built once per query.

    ``terms``: index term -> query word it stands for (``{"harbour": 0,
    "harbor": 0, "rail": 1}``), or a collection of terms (each its own word),
    marked wherever they stand.  ``phrases``: phrases whose words are marked only
    where the whole phrase stands (consecutive, in order, as the phrase matcher
    finds it), checked on the words around each candidate.
    ``analyzer``: the index's text analyzer.
    """

    def __init__(
        self,
        terms: Mapping[str, int] | Collection[str],
        analyzer: Analyzer,
        phrases: Collection[PhraseMark] = (),
    ) -> None:
        if isinstance(terms, Mapping):
            self.groups: dict[str, int] = dict(terms)
        else:
            self.groups = {term: i for i, term in enumerate(sorted(terms))}
        self.analyzer = analyzer
        self.phrases = tuple(phrases)
        self._phrase_terms = frozenset(t for p in self.phrases for t in p.terms)
        self._reach = min(max((p.reach for p in self.phrases), default=0), _MAX_REACH) + 2
        self._whole: tuple[str, dict[tuple[int, int], int]] | None = None
        prefixes = {_prefix(_folded(term)) for term in (*self.groups, *self._phrase_terms)}
        # An acronym's term is its letters ("us"), written with full stops ("U.S.").
        prefixes |= {".".join(p) for p in prefixes if len(p) > 1 and p.isalpha()}
        prefixes.discard("")
        self.prefixes = sorted(prefixes)
        self._regions: dict[tuple[str, int, int, bool, bool], tuple[tuple[int, int, int], ...]] = {}
        self._byte_prefixes = [p.encode("utf-8", _LONE) for p in self.prefixes]

    # Step 1: candidates

    def _candidates(self, text: str, start: int, stop: int) -> list[int]:
        """Sorted offsets in [start, stop) where a term's first letters may begin a
        token: after a character that cannot go on a word, at a character that is no
        letter or digit (a symbol or emoji is a token of its own), and anywhere in
        scripts written without spaces."""
        chunk = text[start : min(len(text), stop + _OVERLAP)]
        if chunk.isascii():
            lowered = chunk.lower()
            found: Iterable[int] = (i for p in self.prefixes for i in _find_all(lowered, p))
        else:
            found = self._folded_find(chunk)
        return sorted(
            p
            for p in {start + i for i in found}
            if p < stop and (p == 0 or _may_start(text[p - 1], text[p]))
        )

    def _folded_find(self, chunk: str) -> Iterator[int]:
        """Prefix offsets in a chunk with non-ASCII characters.  Each distinct character
        that reads otherwise folded is replaced by its folded form (C-speed
        ``str.replace``; a fold of another length is remembered to map offsets back),
        then the UTF-8 bytes are searched, ASCII lower-cased."""
        others = chunk.encode("utf-8", _LONE).translate(None, _ASCII_BYTES)
        distinct = set(others.decode("utf-8", _LONE))
        resized: list[tuple[int, int]] = []  # (offset in chunk, folded length) of resized chars
        folded = chunk
        for char in distinct:
            into = _char_fold(char)
            if into == char:
                continue
            if len(into) != 1:
                resized.extend((i, len(into)) for i in _find_all(chunk, char))
            folded = folded.replace(char, into)
        data = folded.encode("utf-8", _LONE)
        lowered = data.lower()
        places = sorted(i for p in self._byte_prefixes for i in _find_all(lowered, p))
        back = _OffsetMap(sorted(resized))
        done_bytes = done_chars = 0
        for place in places:
            done_chars += len(data[done_bytes:place].decode("utf-8", _LONE))
            done_bytes = place
            yield back.original(done_chars)

    # Step 2: verification

    def _verify(self, text: str, position: int, done: int) -> tuple[list[_Match], int]:
        """The matches among the analyzer's tokens of the stretch between white space
        that holds ``position`` (from the previous white space, or ``done``, to the
        next: the analyzer cuts tokens the same way there as over the whole text; at
        most _REGION characters each way, CJK runs _CJK_REGION), and where that stretch
        ends."""
        reach = _CJK_REGION if _unspaced(text[position]) else _REGION
        space = _SPACE.search(text, position, position + reach)
        end = space.start() if space else min(len(text), position + reach)
        cut = space is None and end < len(text)
        begin = _stretch_start(text, position, max(done, position - reach))
        cut_begin = begin > 0 and not text[begin - 1].isspace()
        if self.phrases and len(text) <= _WHOLE_TEXT:  # phrases found once for the text
            matches = self._tokens(text, begin, end, cut_start=cut_begin, cut_end=cut)
            return matches, end
        # The same words come back many times in a long text: each is analysed once
        # (with the words around it when a phrase may reach them).
        low, high = self._context(text, begin, end) if self.phrases else (begin, end)
        key = (text[low:high], begin - low, end - low, cut_begin, cut)
        found = self._regions.get(key)
        if found is None:
            if len(self._regions) >= _REGIONS_KEPT:
                self._regions.clear()
            matches = self._tokens(text, begin, end, cut_start=cut_begin, cut_end=cut)
            found = self._regions[key] = tuple(
                (m.start - begin, m.end - begin, m.group) for m in matches
            )
        return [_Match(begin + s, begin + e, g) for s, e, g in found], end

    def _context(self, text: str, start: int, end: int) -> tuple[int, int]:
        """The stretch around text[start:end] that a phrase through it may reach:
        ``_reach`` whitespace-separated words each way (at most _CONTEXT_CHARS
        characters a word), from and to white space where there is some near."""
        floor = max(0, start - self._reach * _CONTEXT_CHARS)
        runs = [m.start() for m in _WORD_RUN.finditer(text, floor, start)]
        low = runs[-self._reach] if len(runs) >= self._reach else floor
        low = _stretch_start(text, low, max(0, low - _CONTEXT_CHARS))
        ceiling = min(len(text), end + self._reach * _CONTEXT_CHARS)
        runs = [m.end() for m in _WORD_RUN.finditer(text, end, ceiling)]
        high = runs[self._reach - 1] if len(runs) >= self._reach else ceiling
        return low, _stretch_end(text, high, min(len(text), high + _CONTEXT_CHARS))

    def _phrase_spans(self, text: str, start: int, end: int) -> dict[tuple[int, int], int]:
        """(start, end) -> phrase group of the tokens of text[start:end] (and maybe of
        others) that are part of one of the phrases where it stands: in a text of at
        most _WHOLE_TEXT characters, found once over the whole text; in a longer one,
        judged on the words around text[start:end]."""
        if len(text) <= _WHOLE_TEXT:
            if self._whole is None or self._whole[0] is not text:
                self._whole = (text, self._spans(text, 0, len(text), 0, len(text)))
            return self._whole[1]
        low, high = self._context(text, start, end)
        return self._spans(text, low, high, start, end)

    def _spans(
        self, text: str, low: int, high: int, start: int, end: int
    ) -> dict[tuple[int, int], int]:
        """The phrases' tokens in text[start:end], found among the tokens of text[low:high]."""
        by_term: dict[str, list[tuple[int, int, int]]] = {}
        for token in self.analyzer.tokens(text[low:high]):
            if token.term in self._phrase_terms:
                by_term.setdefault(token.term, []).append(
                    (token.position, low + token.start, low + token.end)
                )
        spans: dict[tuple[int, int], int] = {}
        for phrase in self.phrases:
            for first in by_term.get(phrase.terms[0], ()):
                chosen = [first]
                for term, offset in zip(phrase.terms[1:], phrase.offsets[1:], strict=True):
                    want = first[0] + offset - phrase.offsets[0]
                    near = sorted(
                        (abs(t[0] - want), t)
                        for t in by_term.get(term, ())
                        if abs(t[0] - want) <= phrase.slop
                    )
                    if not near:
                        break
                    chosen.append(near[0][1])
                else:
                    for _, begin, finish in chosen:
                        if start <= begin and finish <= end:
                            spans.setdefault((begin, finish), phrase.group)
        return spans

    def _tokens(
        self, text: str, start: int, end: int, cut_start: bool, cut_end: bool
    ) -> list[_Match]:
        """Matches among the analyzer's tokens of text[start:end]; a token touching a
        cut (where the text goes on inside a word) is not whole and is left out."""
        found = []
        in_phrases: dict[tuple[int, int], int] | None = None
        for token in self.analyzer.tokens(text[start:end]):
            group = self.groups.get(token.term)
            if group is None and token.term in self._phrase_terms:
                if in_phrases is None:
                    in_phrases = self._phrase_spans(text, start, end)
                group = in_phrases.get((start + token.start, start + token.end))
            if group is None:
                continue
            first, last = start + token.start, start + token.end
            if (cut_start and first == start) or (cut_end and last == end):
                continue
            found.append(_Match(first, last, group))
        return found

    # Step 3: the best window

    def best_match(
        self, text: str, span: int, expired: Expired = _never
    ) -> tuple[_Match, int] | None:
        """The passage of at most ``span`` characters with the most distinct query
        words (the earliest of equals), as its first match and where its last match
        ends; None when no match is found."""
        wanted = len(set(self.groups.values()) | {p.group for p in self.phrases})
        window: deque[_Match] = deque()
        words: Counter[int] = Counter()
        best: tuple[int, _Match, int] | None = None
        analysed = 0
        done = 0  # the text before this offset has been verified
        limit = min(len(text), MAX_SCAN_CHARS)
        for start in range(0, limit, _CHUNK):
            if expired() or analysed >= MAX_CANDIDATES:
                break
            for position in self._candidates(text, start, min(limit, start + _CHUNK)):
                if position < done:
                    continue
                analysed += 1
                matches, done = self._verify(text, position, done)
                for match in matches:
                    window.append(match)
                    words[match.group] += 1
                    while window[0] is not match and window[0].start < match.end - span:
                        gone = window.popleft()
                        words[gone.group] -= 1
                        if not words[gone.group]:
                            del words[gone.group]
                    if best is None or len(words) > best[0]:
                        best = (len(words), window[0], match.end)
                    if best[0] >= wanted:
                        return best[1], best[2]
        return (best[1], best[2]) if best else None

    # Step 4: the snippet

    def snippet(
        self,
        text: str,
        width: int = SNIPPET_WIDTH,
        expired: Expired = _never,
        holds: Callable[[str], bool] | None = None,
    ) -> str:
        """The passage of ``text`` (at most ``width`` characters, ellipses included)
        with the most distinct query words, as escaped HTML where only ``<mark>`` is
        markup; the beginning of the text when no query word is in it.

        ``holds(term)`` tells whether the text holds a term (from the index's
        postings): a text over ``PRESENCE_CHECK_CHARS`` is only searched for the
        terms it holds, so a word it lacks is not looked for to its end.
        ``expired()`` says when the search's time is up (the best passage found by
        then is shown).  ValueError when ``width`` is under 3."""
        if width < 3:
            raise ValueError("a snippet is at least 3 characters wide")
        marks = self
        if holds is not None and marks.prefixes and len(text) > PRESENCE_CHECK_CHARS:
            marks = Highlighter(
                {t: g for t, g in self.groups.items() if holds(t)},
                self.analyzer,
                [p for p in self.phrases if all(holds(t) for t in p.terms)],
            )
        best = marks.best_match(text, (width * 2) // 3, expired) if marks.prefixes else None
        if len(text) <= width:
            start, end = 0, len(text)
        elif best is None:
            start, end = 0, _cut_end(text, width - width // 4, width - 1)
        else:
            # The passage, with a sixth of the width before it: it all fits.
            first, last = best[0].start, best[1]
            start = max(0, first - width // 6)
            if start + width - (start > 0) >= len(text):
                # It reaches the end of the text: one ellipsis, at the start.
                start = len(text) - width + 1
                start = _cut_start(text, start, max(start, min(first, start + width // 4)))
                end = len(text)
            else:
                if start > 0:
                    start = _cut_start(text, start, min(first, start + width // 4))
                end = start + width - (start > 0) - 1
                end = _cut_end(text, max(start + 1, end - width // 4, min(last, end)), end)
        # No white space at either end; never inside a grapheme cluster (CR LF).
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start > 0:
            start = min(end, _cluster_ceil(text, start))
        if end < len(text):
            end = max(start, _cluster_floor(text, end))
        return marks._render(text, start, end, best[0] if best else None)

    def _render(self, text: str, start: int, end: int, keep: _Match | None) -> str:
        """text[start:end] as escaped HTML, its matches (``keep`` among them) in
        ``<mark>``; a word cut by either end is marked as far as it is shown."""
        marks: list[_Match] = []
        if self.prefixes:
            low = _stretch_start(text, start, max(0, start - _REGION))
            high = _stretch_end(text, end, min(len(text), end + _REGION))
            cut_low = low > 0 and not text[low - 1].isspace()
            cut_high = high < len(text) and not text[high].isspace()
            marks = self._tokens(text, low, high, cut_low, cut_high)
            if keep is not None and all(m.start != keep.start for m in marks):
                marks = sorted([*marks, keep], key=lambda m: m.start)
            marks = [m for m in marks if m.end > start and m.start < end]
        parts = [ELLIPSIS] if _NON_SPACE.search(text, 0, start) else []
        pos = start
        for match in marks:
            first = max(start, pos, _cluster_floor(text, match.start))
            last = min(end, _cluster_ceil(text, match.end))
            if first >= last:
                continue
            parts.append(html.escape(text[pos:first], quote=False))
            parts.append(f"<mark>{html.escape(text[first:last], quote=False)}</mark>")
            pos = last
        parts.append(html.escape(text[pos:end], quote=False))
        if _NON_SPACE.search(text, end):
            parts.append(ELLIPSIS)
        return "".join(parts).strip()


class _OffsetMap:
    """Offsets in a folded chunk -> offsets in the chunk, when some characters were
    folded into another number of characters (``(offset, folded length)``, sorted)."""

    def __init__(self, resized: list[tuple[int, int]]) -> None:
        self.starts: list[int] = []  # where each resized character's fold starts
        self.resized = resized
        self.shifts: list[int] = []  # folded - original offsets after it
        shift = 0
        for offset, length in resized:
            self.starts.append(offset + shift)
            shift += length - 1
            self.shifts.append(shift)

    def original(self, folded: int) -> int:
        k = bisect.bisect_right(self.starts, folded) - 1
        if k < 0:
            return folded
        offset, length = self.resized[k]
        if folded < self.starts[k] + length:
            return offset
        return folded - self.shifts[k]


def _stretch_start(text: str, position: int, limit: int) -> int:
    """Where the stretch without white space that ``position`` falls in begins (not
    before ``limit``)."""
    space = _LAST_SPACE.search(text, limit, position)
    return space.end() if space else limit


def _stretch_end(text: str, position: int, limit: int) -> int:
    """Where the stretch without white space that ``position`` falls in ends (not
    after ``limit``)."""
    space = _SPACE.search(text, position, limit)
    return space.start() if space else limit


def _find_all(haystack: Any, needle: Any) -> Iterator[int]:
    """Every offset of ``needle`` in ``haystack`` (str or bytes), overlapping ones too."""
    at = haystack.find(needle)
    while at >= 0:
        yield at
        at = haystack.find(needle, at + 1)


def _safe_start(text: str, position: int) -> int:
    """An offset at or before ``position`` where a grapheme cluster surely starts
    (before whitespace or a printable ASCII character), looking back a little."""
    low = max(0, position - 256)
    at = min(position, len(text) - 1)
    while at > low:
        char = text[at]
        if (char.isspace() or " " <= char <= "~") and text[at - 1] != "\r":
            return at
        at -= 1
    return low


def _cluster_floor(text: str, position: int) -> int:
    """The last grapheme-cluster boundary at or before ``position``."""
    if position >= len(text):
        return len(text)
    first = _safe_start(text, position)
    best = first
    for cluster in _CLUSTER.finditer(text[first : position + 1]):
        if first + cluster.end() > position:
            break
        best = first + cluster.end()
    return best


def _cluster_ceil(text: str, position: int) -> int:
    """The first grapheme-cluster boundary at or after ``position``."""
    floor = _cluster_floor(text, position)
    if floor == position:
        return position
    found = _CLUSTER.match(text[floor : floor + 4096])
    return floor + (found.end() if found else 1)


def _cut_start(text: str, low: int, high: int) -> int:
    """Where a snippet starting at or after ``low`` (before ``high``) begins: after a
    space, else at a word boundary, else at a grapheme-cluster boundary."""
    high = max(low, high)
    space = _SPACE.search(text, low - 1, high)
    if space is not None:
        at = space.end()
        while at < high and text[at].isspace():
            at += 1
        return at
    for boundary in _word_boundaries(text, low, high):
        return boundary
    # Inside one long word: the first cluster boundary (past ``high`` only when one
    # cluster spans the whole stretch).
    return _cluster_ceil(text, low)


def _cut_end(text: str, low: int, high: int) -> int:
    """Where a snippet ending at or before ``high`` (after ``low``) ends: before a
    space, else at a word boundary, else at a grapheme-cluster boundary."""
    low = min(low, high)
    last_space = None
    for space in _SPACE.finditer(text, low, high + 1):
        last_space = space.start()
    if last_space is not None and last_space > low:
        return last_space
    boundaries = [b for b in _word_boundaries(text, low, high) if b > low]
    if boundaries:
        return boundaries[-1]
    return _cluster_floor(text, high)


def _word_boundaries(text: str, low: int, high: int) -> list[int]:
    """The Unicode word boundaries (UAX #29) from ``low`` to ``high``, inclusive
    (read on a copy of the stretch and a few characters around it)."""
    first = _safe_start(text, max(0, low - 1))
    local = text[first : min(len(text), high + 8)]
    found = (first + m.start() for m in _WORD_BOUNDARY.finditer(local))
    return [b for b in found if low <= b <= high and (b < len(text) or high >= len(text))]


def snippet(
    text: str,
    terms: Mapping[str, int] | Collection[str],
    analyzer: Analyzer,
    width: int = SNIPPET_WIDTH,
    expired: Expired = _never,
) -> str:
    """The best passage of ``text`` for the index ``terms`` (see Highlighter)."""
    return Highlighter(terms, analyzer).snippet(text, width, expired)


def _leaf_marks(
    found: Iterable[Leaf], expanded: Callable[[Prefix | Fuzzy], list[str]], analyzer: Analyzer
) -> Highlighter:
    """The highlighter of some leaves of a query: each word in a text field, phrase,
    prefix or fuzzy word one query word (a prefix's or fuzzy word's terms are what it
    expanded to); other leaves mark nothing."""
    groups: dict[str, int] = {}
    phrases: list[PhraseMark] = []
    word = 0
    for leaf in found:
        if isinstance(leaf, (Term, Phrase, Prefix, Fuzzy)) and not set(leaf.fields) & set(
            TEXT_FIELDS
        ):
            continue
        match leaf:
            case Term(term=term):
                groups.setdefault(term, word)
            case Phrase(terms=terms, offsets=offsets, slop=slop):
                phrases.append(PhraseMark(terms, offsets, slop, word))
            case Prefix() | Fuzzy():
                for term in expanded(leaf):
                    groups.setdefault(term, word)
            case _:
                continue
        word += 1
    return Highlighter(groups, analyzer, phrases)


def hit_highlighters(
    evaluator: Evaluator, query: Query, docs: Collection[int], analyzer: Analyzer
) -> dict[int, Highlighter]:
    """docnum -> the highlighter of one shown event (``docs``, a page of results of
    ``query``): only the words of the clauses that matched that event are marked
    (search.query.matched_leaves), looked up for those events alone; a phrase's words
    only where the phrase stands."""
    shown = np.array(sorted(set(docs)), dtype=np.int64)
    if not len(shown):
        return {}
    every = dict.fromkeys(leaves(query, negated=True))
    held = {leaf: evaluator.holds(leaf, shown) for leaf in every}

    def expanded(leaf: Prefix | Fuzzy) -> list[str]:
        try:
            return evaluator.expansions.terms(evaluator.snap, leaf, _never)
        except (TooManyTerms, OutOfTime):  # what the search could not expand marks nothing
            return []

    found: dict[int, Highlighter] = {}
    built: dict[tuple[Leaf, ...], Highlighter] = {}  # events that matched alike share one
    for at, docnum in enumerate(shown.tolist()):
        matched = tuple(matched_leaves(query, functools.partial(_held_at, held, at)))
        marks = built.get(matched)
        if marks is None:
            marks = built[matched] = _leaf_marks(matched, expanded, analyzer)
        found[docnum] = marks
    return found


def _held_at(held: Mapping[Leaf, npt.NDArray[np.bool_]], at: int, leaf: Leaf) -> bool:
    return bool(held[leaf][at])
