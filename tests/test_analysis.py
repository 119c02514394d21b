"""whoosh's view of the analysis contract: the tokenizer its schema holds gives exactly
search/text.py's tokens (terms, positions, offsets) in index and query mode, and is
pickled into the index as its stemmer's name."""

from __future__ import annotations

import json
import pickle

import pytest

from search.analysis import TextTokenizer
from search.text import STEMMERS, Analyzer
from tests.corpus import DEMO_DIR, corpus_file


def _texts() -> list[str]:
    texts = [e["description"] for e in json.loads(corpus_file().read_text())]
    texts += [p.read_text() for p in sorted(DEMO_DIR.iterdir())]
    return [*texts, "The U.S. and AT&T: C++ 5-4 COVID-19 東京都で地震 Café MÜNCHEN!", "", "  "]


@pytest.mark.parametrize("stemmer", STEMMERS)
@pytest.mark.parametrize("mode", ["index", "query"])
def test_the_tokenizer_gives_the_analyzers_tokens(stemmer: str, mode: str) -> None:
    tokenizer, analyzer = TextTokenizer(stemmer), Analyzer(stemmer)
    for text in _texts():
        got = [
            (t.text, t.pos, t.startchar, t.endchar)
            for t in tokenizer(text, positions=True, chars=True, mode=mode)
        ]
        expected = analyzer.query_tokens(text) if mode == "query" else analyzer.tokens(text)
        assert got == [(t.term, t.position, t.start, t.end) for t in expected]


def test_the_tokenizer_pickles_as_its_stemmer() -> None:
    for stemmer in STEMMERS:
        again = pickle.loads(pickle.dumps(TextTokenizer(stemmer)))
        assert again == TextTokenizer(stemmer) and again.analyzer.stemmer == stemmer
    assert TextTokenizer("porter2") != TextTokenizer("minimal")
    assert len(pickle.dumps(TextTokenizer("minimal"))) < 200  # no cache inside
