"""whoosh's view of the analysis contract (search/text.py): the tokenizers its schema
holds for text fields and for exact values.  Nothing here decides what a word is."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from whoosh.analysis import Token, Tokenizer

from search.text import fold, shared_analyzer

__all__ = ["TextTokenizer", "ValuesTokenizer"]


class TextTokenizer(Tokenizer):  # type: ignore[misc]
    """The tokens of ``search.text.Analyzer`` as whoosh tokens: index mode when
    whoosh indexes, query mode when its parser reads a query (``mode="query"``).
    Every token is kept (``stopped`` is never set); whoosh's positions are the
    contract's positions, its character offsets the tokens' offsets.  Pickled into
    the schema as the analyzer's stemmer's name; uses the process's shared analyzer
    of that stemmer."""

    def __init__(self, stemmer: str) -> None:
        self.analyzer = shared_analyzer(stemmer)

    def __getstate__(self) -> dict[str, Any]:
        return {"stemmer": self.analyzer.stemmer}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.analyzer = shared_analyzer(state["stemmer"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextTokenizer) and other.analyzer == self.analyzer

    def __hash__(self) -> int:
        return hash((TextTokenizer, self.analyzer))

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
        if not tokenize:  # a wildcard's or a range's text: the whole value, folded
            token.text = fold(value)
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        found = (
            self.analyzer.query_tokens(value) if mode == "query" else self.analyzer.tokens(value)
        )
        for item in found:
            token.text = item.term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = item.word
            if positions:
                token.pos = start_pos + item.position
            if chars:
                token.startchar = start_char + item.start
                token.endchar = start_char + item.end
            yield token


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
