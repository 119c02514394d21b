"""Text analysis: how words and exact values become index terms."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.lang.porter2 import stem as porter2_stem
from whoosh.support.charset import accent_map

__all__ = [
    "FUNCTION_WORDS",
    "ValuesTokenizer",
    "fold",
    "stem",
    "text_analyzer",
    "words",
    "words_analyzer",
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


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a value: ``"  München "`` -> ``"munchen"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def words(text: str) -> list[str]:
    """The words of ``text``, folded, in order (no stemming, stop words kept)."""
    return _WORD.findall(fold(text))


def text_analyzer() -> Any:
    """Analyzer of title, body and name fields: words, lower case, accents folded, stemmed."""
    return (
        RegexTokenizer(r"\w+(\.?\w+)*")
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter()
        | StemFilter(stemfn=stem, cachesize=None)
    )


def words_analyzer() -> Any:
    """Analyzer of the spelling field: words as written, lower case, accents folded."""
    return RegexTokenizer(r"[^\W\d_]{2,}") | LowercaseFilter() | CharsetFilter(accent_map)


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
