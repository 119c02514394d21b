"""Text analysis: how words and exact values become index terms."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from whoosh.analysis import (
    Token,
    Tokenizer,
)
from whoosh.analysis.filters import STOP_WORDS
from whoosh.lang.porter2 import stem as porter2_stem
from whoosh.support.charset import accent_map

__all__ = [
    "FUNCTION_WORDS",
    "TextAnalyzer",
    "ValuesTokenizer",
    "fold",
    "stem",
    "text_analyzer",
    "words",
]

#: English function words: indexed (phrases need them) but never picked as a text's
#: key terms or as query expansions.
_FUNCTION_WORDS = """a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves also said says say one two new"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())


#: Stemming behind a thread-safe bounded cache (whoosh's own cache is not
#: thread-safe).  Module-level so that the pickled schema refers to it by name.
@functools.lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """The English (Porter2) stem of a word; abbreviations like ``u.s`` stay as they are."""
    if "." in word:
        return word
    return str(porter2_stem(word))


_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+(?:[.'’]\w+)*", re.UNICODE)


@functools.lru_cache(maxsize=500_000)
def fold(text: str) -> str:
    """Case- and accent-insensitive form of a value: ``"  München "`` -> ``"munchen"``."""
    if text.isascii():
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def words(text: str) -> list[str]:
    """The words of ``text``, folded, in order (no stemming, stop words kept)."""
    return _WORD.findall(fold(text))


class TextAnalyzer(Tokenizer):  # type: ignore[misc]
    """Words of title, body and name fields, in one pass: split on word characters
    (keeping ``U.S.``-style dots), lower case, accents folded, stop words and
    one-letter words dropped, English (Porter2) stems.  A dropped word keeps its
    place: positions count every word, so the phrase ``"temple bel"`` does not
    match "temple of bel", while ``"temple of bel"`` does (search/execute.py).

    It gives the same tokens as whoosh's ``RegexTokenizer | LowercaseFilter |
    CharsetFilter | StopFilter(renumber=False) | StemFilter`` chain, several times
    faster: each distinct word is worked out once and remembered."""

    _PATTERN = re.compile(r"\w+(\.?\w+)*", re.UNICODE)
    _CACHE_LIMIT = 200_000

    def __init__(self) -> None:
        self._terms: dict[str, str | None] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {}  # the cache is rebuilt, never pickled into the index

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._terms = {}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def term(self, word: str) -> str | None:
        """The index term of one word, or None for a stop word."""
        found = self._terms.get(word, "")
        if found != "":
            return found
        text = word.lower().translate(accent_map)
        term = None if len(text) < 2 or text in STOP_WORDS else stem(text)
        if len(self._terms) >= self._CACHE_LIMIT:
            self._terms.clear()
        self._terms[word] = term
        return term

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        # tokenize=False (wildcards, for instance): the whole value is one word.
        matches: Iterable[Any] = self._PATTERN.finditer(value) if tokenize else [_Whole(value)]
        for index, match in enumerate(matches):
            word = match.group(0)
            term = self.term(word)
            if term is None:
                if removestops:
                    continue
                token.stopped = True
                token.text = word.lower().translate(accent_map)
            else:
                token.stopped = False
                token.text = term
            token.boost = 1.0
            if keeporiginal or not tokenize:  # as whoosh's tokenizer does
                token.original = word
            if positions:
                token.pos = start_pos + index
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token


class _Whole:
    """The whole value standing in for a regular-expression match."""

    def __init__(self, value: str) -> None:
        self.value = value

    def group(self, _: int) -> str:
        return self.value

    def start(self) -> int:
        return 0

    def end(self) -> int:
        return len(self.value)


def text_analyzer() -> Any:
    """Analyzer of title, body and name fields (see TextAnalyzer)."""
    return TextAnalyzer()


class ValuesTokenizer(Tokenizer):  # type: ignore[misc]
    """One token per value of a sequence of exact values (entities, sources, ids)."""

    def __call__(
        self,
        value: str | Sequence[str],
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        values = [value] if isinstance(value, str) else list(value)
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, text in enumerate(values, start=start_pos + 1):
            token.text = text
            token.boost = 1.0
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char
                token.endchar = start_char + len(text)
            yield token
