"""Did you mean: corrections for query words the index does not know, or barely.

Words are compared as written (the ``spell`` field holds every title and body
word folded but not stemmed).  A word found in at most ``rare`` events is
replaced by the closest word within one edit (two for words of six letters or
more; a swap of two letters is one edit) that is at least ``ratio`` times as
frequent; ties go to the more frequent word.  The query is never rewritten by
itself: the corrected string is only offered.
"""

from __future__ import annotations

import re
from typing import Any

from search.analysis import fold

__all__ = ["correct", "edit_distance"]

_WORD = re.compile(r"(?<![\w:*])([^\W\d_]{3,})(?![\w:*(])", re.UNICODE)
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count one edit)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (ca != cb),
            )
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _better_word(reader: Any, word: str, rare: int, ratio: float) -> str | None:
    known = reader.doc_frequency("spell", word)
    if known > rare:
        return None
    limit = 2 if len(word) >= 6 else 1
    best: tuple[int, int, str] | None = None
    # The index's automaton counts a transposition as two edits: ask for two, then
    # judge by Damerau-Levenshtein distance.
    for candidate in reader.terms_within("spell", word, 2, prefix=1):
        if candidate == word:
            continue
        frequency = reader.doc_frequency("spell", candidate)
        if frequency < max(2, ratio * max(known, 1)):
            continue
        key = (edit_distance(word, candidate), -frequency, candidate)
        if key[0] <= limit and (best is None or key < best):
            best = key
    return best[2] if best else None


def correct(reader: Any, text: str, rare: int = 1, ratio: float = 5.0) -> str | None:
    """``text`` with its unknown or rare words corrected, or None when none needs it."""
    changed = False

    def fix(match: re.Match[str]) -> str:
        nonlocal changed
        written = match.group(1)
        if written in _OPERATORS:
            return written
        better = _better_word(reader, fold(written), rare, ratio)
        if better is None:
            return written
        changed = True
        return better.capitalize() if written[:1].isupper() else better

    corrected = _WORD.sub(fix, text)
    return corrected if changed else None
