"""What synthetic events look like: a vocabulary, pools of entities and sources,
length and count distributions, a date range.

A model is either built in (synthetic words only) or learned from a WikiTimes
export (its words, entities and sources first, in order of frequency, then
synthetic ones to make the long tail).  Both are deterministic for a seed.

Built-in words are made so that no stemmer changes them (they end in a
consonant no English suffix rule touches), so every engine compared in
``bench/peers.py`` reads them as the same term.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from indexer.formats import read_file
from search import Event, source_domain

__all__ = [
    "CorpusModel",
    "ZipfSampler",
    "builtin_model",
    "learn_model",
    "load_model",
    "synthetic_words",
]

VOCABULARY_SIZE = 50_000
ENTITY_POOL = 20_000
SOURCE_POOL = 300
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2024, 12, 31)  # 25 years
MAX_ENTITIES = 6
MAX_SOURCES = 3

# Function words of English news text: the top of the built-in vocabulary.
_FUNCTION_WORDS = "the of in a and to on for by at with from as after is its was that"
_ONSETS = "bdfgklmnprstvz"
_VOWELS = "aiou"
_CODAS = "kpbgzx"  # no English suffix rule ends in these letters
_OUTLET_SUFFIXES = (
    "Times Post Herald News Tribune Journal Observer Gazette Chronicle Express "
    "Monitor Press Daily Radio Online"
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True)
class CorpusModel:
    """Everything the generator draws from.  Ranked lists are most frequent first."""

    words: tuple[str, ...]
    entities: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]  # (name, domain)
    lengths: tuple[tuple[int, int], ...]  # (title words, body words), body >= title
    entity_counts: tuple[float, ...]  # weight of 1..MAX_ENTITIES entities per event
    source_counts: tuple[float, ...]  # weight of 1..MAX_SOURCES sources per event
    first_day: dt.date = FIRST_DAY
    last_day: dt.date = LAST_DAY
    learned_from: str | None = None

    def midpoint(self) -> dt.date:
        """The day that splits the date range in two halves."""
        return self.first_day + (self.last_day - self.first_day) / 2

    def describe(self) -> dict[str, object]:
        """A summary for result files."""
        return {
            "learned_from": self.learned_from,
            "words": len(self.words),
            "entities": len(self.entities),
            "sources": len(self.sources),
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
        }


class ZipfSampler:
    """Draws ranks 0..n-1 with probability proportional to 1 / (rank + q) ** s."""

    def __init__(self, n: int, s: float = 1.0, q: float = 2.7) -> None:
        weights = 1.0 / (np.arange(n, dtype=np.float64) + 1.0 + q) ** s
        self.cdf = np.cumsum(weights / weights.sum())
        self.cdf[-1] = 1.0

    def draw(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.int64]:
        """``size`` ranks."""
        ranks: npt.NDArray[np.int64] = np.searchsorted(self.cdf, rng.random(size), side="right")
        return ranks


def synthetic_words(rng: np.random.Generator, count: int, exclude: Iterable[str] = ()) -> list[str]:
    """``count`` distinct made-up words (2 to 4 syllables and a closing consonant)."""
    seen = {w.lower() for w in exclude}
    found: list[str] = []
    while len(found) < count:
        batch = max(1024, 2 * (count - len(found)))
        syllables = rng.integers(2, 5, size=batch)
        onsets = rng.integers(0, len(_ONSETS), size=(batch, 4))
        vowels = rng.integers(0, len(_VOWELS), size=(batch, 4))
        codas = rng.integers(0, len(_CODAS), size=batch)
        for i in range(batch):
            word = "".join(
                _ONSETS[onsets[i, j]] + _VOWELS[vowels[i, j]] for j in range(syllables[i])
            )
            word += _CODAS[codas[i]]
            if word not in seen:
                seen.add(word)
                found.append(word)
                if len(found) == count:
                    break
    return found


def _synthetic_entities(rng: np.random.Generator, count: int, exclude: Iterable[str]) -> list[str]:
    taken = {e.lower() for e in exclude}
    parts = synthetic_words(rng, 2 * count + 16, exclude=taken)
    names: list[str] = []
    for i in range(0, len(parts) - 1, 2):
        if len(names) == count:
            break
        # One name in four is a single word (a place, an organisation), the rest two.
        single = rng.random() < 0.25
        name = (
            parts[i].capitalize()
            if single
            else f"{parts[i].capitalize()} {parts[i + 1].capitalize()}"
        )
        if name.lower() not in taken:
            taken.add(name.lower())
            names.append(name)
    return names


def _synthetic_sources(
    rng: np.random.Generator, count: int, exclude: Iterable[str]
) -> list[tuple[str, str]]:
    taken = {s.lower() for s in exclude}
    stems = synthetic_words(rng, count + 16, exclude=taken)
    sources: list[tuple[str, str]] = []
    for stem in stems:
        if len(sources) == count:
            break
        suffixes = _OUTLET_SUFFIXES.split()
        suffix = suffixes[int(rng.integers(len(suffixes)))]
        name = f"{stem.capitalize()} {suffix}"
        if name.lower() not in taken:
            taken.add(name.lower())
            sources.append((name, f"{stem}{suffix.lower()}.com"))
    return sources


def _builtin_lengths(rng: np.random.Generator, count: int = 2000) -> list[tuple[int, int]]:
    # Shaped like the WikiTimes events: titles of 4 to 31 words (median about 20),
    # and about half the bodies longer than their title (median about 24, up to 136).
    titles = np.clip(np.round(rng.lognormal(np.log(19.0), 0.35, count)), 4, 31).astype(int)
    extra = np.where(
        rng.random(count) < 0.5, 0, np.round(rng.lognormal(np.log(14.0), 0.8, count))
    ).astype(int)
    bodies = np.minimum(titles + extra, 136)
    return [(int(t), int(b)) for t, b in zip(titles, bodies, strict=True)]


def builtin_model(seed: int = 0) -> CorpusModel:
    """A model of made-up words, entities and sources, shaped like real news events."""
    rng = np.random.default_rng([seed, 1])
    function_words = _FUNCTION_WORDS.split()
    words = [*function_words, *synthetic_words(rng, VOCABULARY_SIZE - len(function_words))]
    entities = _synthetic_entities(rng, ENTITY_POOL, exclude=words)
    sources = _synthetic_sources(rng, SOURCE_POOL, exclude=[*words, *entities])
    return CorpusModel(
        words=tuple(words),
        entities=tuple(entities),
        sources=tuple(sources),
        lengths=tuple(_builtin_lengths(rng)),
        # As in the WikiTimes events: mostly 2 to 4 entities, mostly 1 source.
        entity_counts=(0.09, 0.20, 0.26, 0.20, 0.12, 0.13),
        source_counts=(0.70, 0.22, 0.08),
    )


def _clamped_weights(counts: Sequence[int], high: int) -> tuple[float, ...]:
    tally = Counter(min(max(c, 1), high) for c in counts)
    total = sum(tally.values())
    return tuple(tally.get(k, 0) / total for k in range(1, high + 1))


def learn_model(path: Path, seed: int = 0) -> CorpusModel:
    """A model whose most frequent words, entities and sources, and whose lengths and
    counts, are those of the events in ``path`` (any format the indexer reads)."""
    events = [e for e in read_file(path) if isinstance(e, Event)]
    if not events:
        raise ValueError(f"{path}: no events to learn from")
    rng = np.random.default_rng([seed, 2])
    words_seen: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for event in events:
        for word in _WORD.findall(event.body or event.title):
            key = word.lower()
            words_seen[key] += 1
            forms.setdefault(key, Counter())[word] += 1
    # Each word in the form it is most often written in ("Syria", "the").
    learned_words = [forms[w].most_common(1)[0][0] for w, _ in words_seen.most_common()]
    words = learned_words + synthetic_words(
        rng, max(0, VOCABULARY_SIZE - len(learned_words)), exclude=learned_words
    )
    entity_seen = Counter(name for e in events for name in e.entities)
    learned_entities = [name for name, _ in entity_seen.most_common()]
    entities = learned_entities + _synthetic_entities(
        rng, max(0, ENTITY_POOL - len(learned_entities)), exclude=[*words, *learned_entities]
    )
    source_seen = Counter(s.name for e in events for s in e.sources)
    domains: dict[str, str] = {}
    for event in events:
        for source in event.sources:
            domain = source_domain(source.url)
            if domain:
                domains.setdefault(source.name, domain)
    learned_sources = [
        (name, domains.get(name, re.sub(r"[^a-z0-9]+", "", name.lower()) + ".com"))
        for name, _ in source_seen.most_common(SOURCE_POOL)
    ]
    sources = learned_sources + _synthetic_sources(
        rng,
        max(0, SOURCE_POOL - len(learned_sources)),
        exclude=[*words, *entities, *(n for n, _ in learned_sources)],
    )
    lengths = []
    for event in events:
        title_words = len(_WORD.findall(event.title))
        body_words = len(_WORD.findall(event.body or event.title))
        if title_words:
            lengths.append((title_words, max(title_words, body_words)))
    return CorpusModel(
        words=tuple(words),
        entities=tuple(entities),
        sources=tuple(sources),
        lengths=tuple(lengths),
        entity_counts=_clamped_weights([len(e.entities) for e in events], MAX_ENTITIES),
        source_counts=_clamped_weights([len(e.sources) for e in events], MAX_SOURCES),
        learned_from=str(path),
    )


def load_model(learn_from: Path | None, seed: int) -> CorpusModel:
    """The model to draw from: learned from a corpus file, or built in."""
    return learn_model(learn_from, seed) if learn_from else builtin_model(seed)
