"""The straightforward answers, computed from the parsed corpus, that the index must match."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache

from indexer.formats import read_file
from search import Event
from search.schema import source_domain
from search.text import fold
from tests.corpus import DEMO_DIR, corpus_file, seed_dir


@cache
def all_events() -> tuple[Event, ...]:
    """Every event of the test index (corpus, seed page, demo pages)."""
    events: list[Event] = []
    for path in [corpus_file(), *sorted(seed_dir().iterdir()), *sorted(DEMO_DIR.iterdir())]:
        events.extend(e for e in read_file(path) if isinstance(e, Event))
    return tuple(events)


# --- Entity mentions: a plain reference, independent of search/mentions.py ---------
#
# The rules (the contract search/mentions.py documents), computed the obvious way:
#
# - Known names are the explicit entities of every event of the index.  A name's words
#   are the runs of letters and digits of its folded form (folded: NFKD without
#   combining marks, then casefold), so "Al-Qaeda" and "Al Qaeda" are the same words.
# - A name is mentioned where its words stand next to each other in the folded text,
#   whole words, whatever punctuation or space lies between them ("Al Qaeda-linked").
# - A strict name is one of a single word of fewer than 4 characters ("EU"), or one
#   whose every word the corpus also writes in lower case ("Car bomb").  A short name
#   is mentioned only where written exactly as it is (case and accents); any other
#   strict name only where written as a name: with a capital, and either not opening a
#   sentence or with a later word capitalised too.
# - A mention inside a longer one found at the same place does not count ("United
#   States" does not also mention "States").
# - An event mentions each name once, in order of first mention (title, then body);
#   names of the same words are one name, shown in the form first in code-point order,
#   and a name of the same words as one of the event's own entities is not added.

_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"[.!?:;]\s*$")


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` folded character by character, with the index in ``text`` of each
    folded character."""
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        decomposed = unicodedata.normalize("NFKD", char)
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        out.append(folded)
        origin.extend([i] * len(folded))
    return "".join(out), origin


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(_folded(text)[0]))


_Names = dict[tuple[str, ...], tuple[str, re.Pattern[str], re.Pattern[str] | None]]


def _lowercase_words(events: Iterable[Event]) -> frozenset[str]:
    """Folded words that some title or body writes in lower case."""
    return frozenset(
        _folded(word)[0]
        for event in events
        for text in (event.title, event.body)
        for word in _WORD.findall(text)
        if word.islower()
    )


def _known_names(events: Iterable[Event]) -> _Names:
    """Words -> (the name shown, its pattern in folded text, the pattern of its exact
    written form when it is short)."""
    names: _Names = {}
    for name in sorted({n for e in events for n in e.entities}):
        words = _words(name)
        if not words or words in names:
            continue
        folded = r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, words)) + r"(?![^\W_])"
        short = len(words) == 1 and len(words[0]) < 4
        exact = re.compile(r"(?<![^\W_])" + re.escape(name) + r"(?![^\W_])") if short else None
        names[words] = (name, re.compile(folded), exact)
    return names


def _written_as_name(text: str, start: int, end: int) -> bool:
    written = _WORD.findall(text[start:end])
    if not written[0][:1].isupper():
        return False
    before = text[:start].rstrip()
    later_capital = any(word[:1].isupper() for word in written[1:])
    return later_capital or (bool(before) and not _SENTENCE_END.search(before))


def _found(
    text: str, names: _Names, common: frozenset[str]
) -> list[tuple[int, int, tuple[str, ...]]]:
    """(start, end, words) of every mention in ``text``, by the rules above."""
    folded, origin = _folded(text)
    present = set(_WORD.findall(folded))
    hits = []
    for words, (_, pattern, exact) in names.items():
        if words[0] not in present:
            continue
        if exact is not None:
            hits += [(m.start(), m.end(), words) for m in exact.finditer(text)]
            continue
        strict = all(word in common for word in words)
        for match in pattern.finditer(folded):
            start, end = origin[match.start()], origin[match.end() - 1] + 1
            if not strict or _written_as_name(text, start, end):
                hits.append((start, end, words))
    return [
        (s, e, w)
        for s, e, w in hits
        if not any(s2 <= s and e <= e2 and e2 - s2 > e - s for s2, e2, _ in hits)
    ]


def mentions_in(
    events: Iterable[Event], corpus: Iterable[Event] | None = None
) -> dict[str, list[str]]:
    """Event id -> the names its text mentions besides its own entities, the known
    names and lower-case words being those of ``corpus`` (default: ``events``, as
    when they are what an index holds)."""
    events = list(events)
    taught = events if corpus is None else list(corpus)
    names, common = _known_names(taught), _lowercase_words(taught)
    out: dict[str, list[str]] = {}
    for event in events:
        first: dict[tuple[str, ...], tuple[int, int]] = {}
        for number, text in enumerate((event.title, event.body)):
            for start, _, words in _found(text, names, common):
                first[words] = min(first.get(words, (number, start)), (number, start))
        own = {_words(name) for name in event.entities}
        ordered = sorted((where, words) for words, where in first.items() if words not in own)
        out[event.id] = [names[words][0] for _, words in ordered]
    return out


@cache
def _test_index_mentions() -> dict[str, list[str]]:
    return mentions_in(all_events())


def mentions_of(event: Event) -> list[str]:
    """The known names an event of the test index mentions, besides its own entities."""
    return list(_test_index_mentions()[event.id])


def entities_of(event: Event) -> list[str]:
    """An event's entity field: its explicit entities, then the known names its text mentions."""
    return [*event.entities, *mentions_of(event)]


def matching(predicate: Callable[[Event], bool]) -> list[Event]:
    return [e for e in all_events() if predicate(e)]


def has_entity(name: str) -> Callable[[Event], bool]:
    return lambda e: fold(name) in {fold(x) for x in entities_of(e)}


def cites(name_or_domain: str) -> Callable[[Event], bool]:
    key = fold(name_or_domain)
    return lambda e: any(fold(s.name) == key or source_domain(s.url) == key for s in e.sources)


def between(first: dt.date, last: dt.date) -> Callable[[Event], bool]:
    return lambda e: first <= e.date <= last


def facet_values_of(facet: str, event: Event) -> set[str]:
    """The values, as written, an event carries in a facet (entity, source, category)."""
    if facet == "entity":
        return set(entities_of(event))
    if facet == "source":
        return {s.name for s in event.sources}
    return {event.category} if event.category else set()


@cache
def shown_forms(facet: str) -> dict[str, str]:
    """Folded value -> the written form a facet shows: the one most events of the
    index carry, of equals the first in code-point order."""
    written = Counter(v for e in all_events() for v in facet_values_of(facet, e))
    best: dict[str, str] = {}
    for value in sorted(written):
        key = fold(value)
        if key not in best or written[value] > written[best[key]]:
            best[key] = value
    return best


def top_values(facet: str, events: Iterable[Event], size: int) -> list[dict[str, object]]:
    """Facet values as the API gives them: one per folded value (events carrying any
    written form of it), shown in its most common form, most frequent first, ties in
    alphabetical order."""
    counts = Counter(key for e in events for key in {fold(v) for v in facet_values_of(facet, e)})
    shown = shown_forms(facet)
    ordered = sorted(counts.items(), key=lambda kc: (-kc[1], shown[kc[0]]))[:size]
    return [{"value": shown[k], "count": c} for k, c in ordered]
