"""Facets of a set of matches: value counts of the entity, source and category
facets, and the date histogram.

A facet value counts what filtering on it finds: values that fold alike
(``AccuWeather`` and ``Accuweather``; search/snapshot.py's ``facet_key``, the
fold filters use) are one entry, shown in its most common written form, and an
event counts once however many of its forms it carries.  A source filter also
matches sources by domain, so a source named like a domain (``weather.com``)
counts the events citing that domain too."""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

from search.dates import bucket_keys, choose_interval
from search.errors import BadRequest
from search.results import DateBucket, DateHistogram, FacetCount, Facets
from search.snapshot import Snapshot

__all__ = ["MAX_BUCKETS", "count_facets", "domain_pairs", "histogram", "warm_facets"]

IntArray = npt.NDArray[np.int64]

MAX_BUCKETS = 10_000


def count_facets(
    snap: Snapshot,
    docs: IntArray,
    names: tuple[str, ...],
    size: int,
    interval: str,
    first: dt.date | None,
    last: dt.date | None,
) -> Facets:
    """The facets ``names`` of ``docs``: each value facet's ``size`` most frequent
    values (ties in alphabetical order), and the date histogram by ``interval``
    (``first`` and ``last`` bound an empty one)."""
    found: dict[str, object] = {}
    for name in names:
        if name == "date":
            found["date"] = histogram(snap, docs, interval, first, last)
            continue
        values, counts = snap.facet_counts(name, docs)
        if name == "source":
            counts = _with_domains(snap, docs, counts)
        present = np.flatnonzero(counts)
        order = present[np.lexsort((present, -counts[present]))][:size]
        found[name] = tuple(FacetCount(values[i], int(counts[i])) for i in order)
    return Facets(**found)  # type: ignore[arg-type]


def _with_domains(snap: Snapshot, docs: IntArray, counts: IntArray) -> IntArray:
    """Source counts where a source name folds like a cited domain: the events
    carrying the name or citing the domain, as the source filter finds them."""
    keys, pairs_docs, pairs_keys = snap.computed(_DOMAIN_PAIRS, lambda: domain_pairs(snap))
    if not len(keys):
        return counts
    wanted = np.zeros(snap.doc_count_all, dtype=bool)
    wanted[docs] = True
    found = np.bincount(pairs_keys[wanted[pairs_docs]], minlength=len(keys))
    counts = counts.copy()
    counts[keys] = found
    return counts


_DOMAIN_PAIRS = "facets.domain_pairs"


def warm_facets(snap: Snapshot) -> None:
    """Compute what facet counting keeps per commit, before the snapshot is served."""
    snap.computed(_DOMAIN_PAIRS, lambda: domain_pairs(snap))


def domain_pairs(snap: Snapshot) -> tuple[IntArray, IntArray, IntArray]:
    """Per commit (``Snapshot.computed``): the source keys that fold like a cited
    domain, and every (live event, index into those keys) pair where the event
    carries the name or cites the domain; a search counts its events among them in
    one pass."""
    domains = snap.folded_terms("source_domain")
    names = snap.folded_terms("source_value")
    keys: list[int] = []
    pair_docs: list[IntArray] = []
    pair_keys: list[IntArray] = []
    for index, key in enumerate(snap.facet_keys("source")):
        if key in domains:
            found = [snap.term_docs("source_value", v.encode()) for v in names.get(key, [])]
            found += [snap.term_docs("source_domain", d.encode()) for d in domains[key]]
            union = np.unique(np.concatenate(found))
            pair_docs.append(union)
            pair_keys.append(np.full(len(union), len(keys), dtype=np.int64))
            keys.append(index)
    if not keys:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return (
        np.array(keys, dtype=np.int64),
        np.concatenate(pair_docs),
        np.concatenate(pair_keys),
    )


def histogram(
    snap: Snapshot,
    docs: IntArray,
    interval: str,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> DateHistogram:
    """Counts of ``docs`` per year, month or day, in ascending order from the first
    matching event to the last, empty buckets included.  BadRequest
    (``too_many_buckets``) past MAX_BUCKETS."""
    days = snap.days(docs)
    if interval == "auto":
        if len(days):
            low_day = dt.date.fromordinal(int(days.min()))
            high_day = dt.date.fromordinal(int(days.max()))
        else:
            low_day = first or dt.date(1970, 1, 1)
            high_day = last or low_day
        interval = choose_interval(low_day, high_day)
    if not len(days):
        return DateHistogram(interval, ())
    buckets = snap.buckets(docs, interval)
    low, high = int(buckets.min()), int(buckets.max())
    if high - low + 1 > MAX_BUCKETS:
        raise BadRequest(
            "too_many_buckets",
            f"interval={interval} would give {high - low + 1} buckets; at most "
            f"{MAX_BUCKETS}: narrow from/to or use a longer interval",
            "interval",
        )
    counts = np.bincount(buckets - low, minlength=high - low + 1)
    keys = bucket_keys(low, high, interval)
    return DateHistogram(
        interval, tuple(DateBucket(k, int(c)) for k, c in zip(keys, counts, strict=True))
    )
