"""The index's terms: what a ``prefix*`` or a ``word~n`` expands to, and the distinct
values of a field, read from the segments' term dictionaries (search/postings.py).

Expansions are bounded while they are found, not after: at most ``cap`` terms
(``TooManyTerms`` beyond), and the scan stops when ``expired()`` says the
request's time is up (``OutOfTime``).  Edit distances are optimal string
alignment distances (Levenshtein with adjacent transpositions counting one
edit), computed by rapidfuzz.
"""

from __future__ import annotations

from collections.abc import Callable

from rapidfuzz.distance import OSA

from search.snapshot import Snapshot

__all__ = ["OutOfTime", "TooManyTerms", "edit_distance", "field_terms", "prefixed", "within"]

_CHUNK = 4096


class OutOfTime(Exception):
    """The request's time ran out."""


class TooManyTerms(Exception):
    """An expansion (``shown`` as typed, when known) found more terms than allowed."""

    def __init__(self, cap: int, shown: str = "") -> None:
        super().__init__(f"{shown or 'an expansion'} matches more than {cap} terms")
        self.cap = cap
        self.shown = shown


def edit_distance(a: str, b: str) -> int:
    """Edits (insertion, deletion, substitution, adjacent transposition) from a to b."""
    return int(OSA.distance(a, b))


def _never() -> bool:
    return False


def prefixed(
    snap: Snapshot,
    fieldname: str,
    prefix: str,
    cap: int,
    expired: Callable[[], bool] = _never,
) -> list[str]:
    """The field's terms that start with ``prefix``, sorted; TooManyTerms past ``cap``."""
    found: set[bytes] = set()
    start = prefix.encode("utf-8")
    for segment in snap.segments:
        postings = segment.postings
        for count, number in enumerate(postings.prefixed(fieldname, start)):
            if count % _CHUNK == 0 and expired():
                raise OutOfTime
            found.add(postings.term(number))
            if len(found) > cap:
                raise TooManyTerms(cap)
    return sorted(t.decode("utf-8") for t in found)


def within(
    snap: Snapshot,
    fieldname: str,
    word: str,
    max_edits: int,
    prefix_length: int,
    cap: int,
    expired: Callable[[], bool] = _never,
) -> list[str]:
    """The field's terms at most ``max_edits`` edits from ``word`` that share its first
    ``prefix_length`` characters, sorted; TooManyTerms past ``cap``."""
    found: set[str] = set()
    head = word[:prefix_length].encode("utf-8")
    low, high = len(word) - max_edits, len(word) + max_edits
    for segment in snap.segments:
        postings = segment.postings
        numbers = postings.prefixed(fieldname, head)
        for first in range(numbers.start, numbers.stop, _CHUNK):
            if expired():
                raise OutOfTime
            chunk = range(first, min(first + _CHUNK, numbers.stop))
            for number in chunk:
                term = postings.term(number).decode("utf-8")
                if low <= len(term) <= high and (
                    OSA.distance(word, term, score_cutoff=max_edits) <= max_edits
                ):
                    found.add(term)
                    if len(found) > cap:
                        raise TooManyTerms(cap)
    return sorted(found)


def field_terms(snap: Snapshot, fieldname: str) -> list[str]:
    """Every distinct term of a field in the index, sorted."""
    found: set[bytes] = set()
    for segment in snap.segments:
        postings = segment.postings
        found.update(postings.term(n) for n in postings.field_terms(fieldname))
    return sorted(t.decode("utf-8") for t in found)
