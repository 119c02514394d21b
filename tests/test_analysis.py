"""The one-pass text analyzer gives exactly the tokens of whoosh's filter chain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.support.charset import accent_map

from search.analysis import fold, stem, text_analyzer
from tests.corpus import CORPUS, DEMO_DIR


def _chain() -> Any:
    return (
        RegexTokenizer(r"\w+(\.?\w+)*")
        | LowercaseFilter()
        | CharsetFilter(accent_map)
        | StopFilter(renumber=False)
        | StemFilter(stemfn=stem, cachesize=None)
    )


def _texts() -> list[str]:
    texts = [e["description"] for e in json.loads(CORPUS.read_text())]
    texts += [p.read_text() for p in sorted(DEMO_DIR.iterdir())]
    return [*texts, "The U.S. and the E.U.: a b Café MÜNCHEN, it's São Paulo!", "", "  "]


def _seen(token: Any) -> tuple[Any, ...]:
    return tuple(
        getattr(token, a, None)
        for a in ("text", "pos", "startchar", "endchar", "original", "stopped", "boost")
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"positions": True, "chars": True, "keeporiginal": True},
        {"positions": True, "removestops": False},
        {"mode": "query", "start_pos": 5, "start_char": 7, "positions": True, "chars": True},
        {"tokenize": False, "removestops": False},
        {"tokenize": False, "chars": True, "positions": True},
    ],
)
def test_same_tokens_as_the_whoosh_chain(options: dict[str, Any]) -> None:
    fast, chain = text_analyzer(), _chain()
    for text in _texts():
        assert [_seen(t) for t in fast(text, **options)] == [
            _seen(t) for t in chain(text, **options)
        ], text[:80]


def test_fold() -> None:
    assert fold("  München  Hbf ") == "munchen hbf"
    assert fold("ÉLYSÉE") == "elysee"
    assert fold("A\tB") == "a b"
