"""Snippets: the best passage of a text for a query, HTML-escaped, matches in ``<mark>``."""

from __future__ import annotations

import html
from collections.abc import Collection

from search.text import Analyzer

__all__ = ["snippet"]

ELLIPSIS = "…"


def _matches(text: str, terms: Collection[str], analyzer: Analyzer) -> list[tuple[int, int, str]]:
    """The spans of ``text`` whose tokens are among ``terms``, overlapping ones merged."""
    found: list[tuple[int, int, str]] = []
    for token in analyzer.tokens(text):
        if token.term not in terms:
            continue
        if found and token.start < found[-1][1]:
            start, end, term = found[-1]
            found[-1] = (start, max(end, token.end), term)
        else:
            found.append((token.start, token.end, token.term))
    return found


def _cut_back(text: str, pos: int) -> int:
    """Move ``pos`` back to the start of the word it falls in."""
    while pos > 0 and not text[pos - 1].isspace():
        pos -= 1
    return pos


def _cut_forward(text: str, pos: int) -> int:
    """Move ``pos`` forward to the end of the word it falls in."""
    while pos < len(text) and not text[pos].isspace():
        pos += 1
    return pos


def snippet(text: str, terms: Collection[str], analyzer: Analyzer, width: int = 240) -> str:
    """The passage of ``text`` (about ``width`` characters) with the most distinct
    query ``terms`` (index forms), as escaped HTML where only ``<mark>`` is markup."""
    matches = _matches(text, terms, analyzer) if terms else []
    if len(text) <= width:
        start, end = 0, len(text)
    elif not matches:
        start, end = 0, _cut_forward(text, width)
    else:
        best, best_score = 0, -1
        for i, (first, _, _) in enumerate(matches):
            window = {t for s, e, t in matches[i:] if e <= first + width}
            if len(window) > best_score:
                best, best_score = i, len(window)
        start = _cut_back(text, max(0, matches[best][0] - width // 6))
        end = min(len(text), _cut_forward(text, start + width))
    parts = [ELLIPSIS] if start > 0 else []
    pos = start
    for first, last, _ in matches:
        if first < start or last > end:
            continue
        parts.append(html.escape(text[pos:first], quote=False))
        parts.append(f"<mark>{html.escape(text[first:last], quote=False)}</mark>")
        pos = last
    parts.append(html.escape(text[pos:end], quote=False))
    if end < len(text):
        parts.append(ELLIPSIS)
    return "".join(parts).strip()
