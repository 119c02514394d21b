"""Did you mean: corrections for query words the index does not know.

A word is looked up as the index holds it (its stem).  A word that matches, in
any event however few, is never replaced (``wombat`` in one event stays
``wombat``, not "woman").  For a stem in no event, the index's stems within two
edits (with the same first letter) that are in at least ``least`` events are
candidates; the closest, then the most frequent, wins.  A stem is turned back into a word people
write from the words of the suggestion table (entity names and title phrases),
taking the written form closest to what was typed: ``refugess`` -> ``refuge``
-> ``refugees``.  The query is never rewritten by itself: the corrected string is
only offered.

Left alone, whatever the index says of them: URLs, e-mail addresses, domains
(``bbc.com``, ``nasa.gov``), numbers and words with digits (``covid19``,
``5-4``), the words of the index's entity names, source names and source
domains (a name is spelt as it is, however rare its words are in the text), and
the stretches the caller names (the dates a query holds: ``Sept. 2015``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from search.lexicon import TooManyTerms, edit_distance, within
from search.snapshot import Snapshot
from search.text import Analyzer, fold

__all__ = ["Speller"]

#: The most index terms one word's candidates are looked for among.
_CANDIDATES = 2000

Expired = Callable[[], bool]
_WORD = re.compile(r"(?<![\w:*])([^\W\d_]{3,})(?![\w:*(~])", re.UNICODE)
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
#: Stretches of a query that are not words to correct.
_LEFT_ALONE = re.compile(
    r"""[^\s"'()]*://[^\s"'()]*                # URLs
    | [^\s"'()@]+@[^\s"'()@]+                  # e-mail addresses
    | (?<![\w.])(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w.]\w)  # domains
    | [^\s"'()]*\d[^\s"'()]*                  # numbers, words with digits
    """,
    re.VERBOSE,
)


class Speller:
    """Corrects query words against one index snapshot."""

    def __init__(
        self,
        analyzer: Analyzer,
        forms: dict[str, dict[str, int]],
        least: int = 5,
    ) -> None:
        """``forms``: stem -> the words people write for it, with how often
        (search/suggest.py's ``written_forms``, kept in the suggestion table); ``least``: the fewest
        events a correction's stem is in."""
        self.analyzer = analyzer
        self.least = least
        self._written = forms
        self._names: frozenset[str] | None = None

    def warm(self, snap: Snapshot) -> None:
        """Build what corrections read of the snapshot, before it is served."""
        self._name_words(snap)

    def _name_words(self, snap: Snapshot) -> frozenset[str]:
        """The folded words of the index's entity names, source names and domains."""
        if self._names is None:
            names = [*snap.facet_values("entity"), *snap.facet_values("source")]
            names += list(snap.folded_terms("source_domain"))
            self._names = frozenset(w for name in names for w in snap.analyzer.words(name))
        return self._names

    def _better(
        self, snap: Snapshot, frequency: Callable[[str], int], typed: str, expired: Expired
    ) -> str | None:
        """The written word to offer for ``typed``, if it needs one."""
        stem = self.analyzer.term(typed)
        if stem is None:
            return None
        if frequency(stem):  # it matches: it is not offered another word
            return None
        limit = 2 if len(typed) >= 6 else 1
        best: tuple[int, int, int, str] | None = None
        # Stems can be further apart than the words (hungray/hungari, hungary): ask
        # for one edit more, then judge the written forms.
        try:
            candidates = within(snap, "body", stem, limit + 1, 1, _CANDIDATES, expired)
        except TooManyTerms:
            return None
        for candidate in candidates:
            forms = self._written.get(candidate)
            if candidate == stem or not forms:
                continue
            count = frequency(candidate)
            if count < self.least:
                continue
            # The written form closest to what was typed, then the most used.
            word = min(forms, key=lambda w: (edit_distance(typed, w), -forms[w], w))
            distance = edit_distance(typed, word)
            key = (distance, -count, -forms[word], word)
            if distance <= limit and (best is None or key < best):
                best = key
        return best[3] if best else None

    def correct(
        self,
        snap: Snapshot,
        frequency: Callable[[str], int],
        text: str,
        expired: Expired = lambda: False,
        keep: Iterable[tuple[int, int]] = (),
    ) -> str | None:
        """``text`` with its unknown words corrected, or None when none needs it.
        ``frequency(stem)`` tells in how many events a stem is (0: it matches none);
        ``keep``: spans of ``text`` (start, end) left as they are."""
        changed = False
        alone = [m.span() for m in _LEFT_ALONE.finditer(text)] + list(keep)
        names = self._name_words(snap)

        def fix(match: re.Match[str]) -> str:
            nonlocal changed
            written = match.group(1)
            if written in _OPERATORS or fold(written) in names:
                return written
            if any(first <= match.start() < last for first, last in alone):
                return written
            better = self._better(snap, frequency, fold(written), expired)
            if better is None:
                return written
            changed = True
            return better.capitalize() if written[:1].isupper() else better

        corrected = _WORD.sub(fix, text)
        return corrected if changed else None
