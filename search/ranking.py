"""Collecting matches: exact top-N scoring and matching document sets, under a deadline.

whoosh's default top-N collector prunes sub-queries whose estimated best score
cannot reach the current N-th score, and skips blocks by quality.  Its estimates
are wrong for boosted clauses on exact-value fields, so pages of different sizes
disagreed and top hits were lost.  Here every matching document is scored.

Each step checks a Deadline; when it passes, the step stops and says so, and the
caller answers with what it has.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh import collectors
from whoosh.searching import TimeLimit

__all__ = ["Deadline", "matching_docs", "top_hits"]

_CHUNK = 8192


class Deadline:
    """A point in time a search must finish by."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.end = clock() + seconds

    def remaining(self) -> float:
        return self.end - self.clock()

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0


def top_hits(
    searcher: Any, query: Any, limit: int, deadline: Deadline | None = None
) -> tuple[list[tuple[int, float]], bool]:
    """The ``limit`` best (docnum, score) pairs, best first, ties by docnum, and whether
    scoring finished before the deadline (if not, the best among those scored)."""
    top = collectors.TopCollector(limit, usequality=False, replace=0)
    complete = True
    if deadline is None:
        searcher.search_with_collector(query, top)
    elif deadline.expired:
        return [], False
    else:
        # use_alarm=False: a timer thread, not SIGALRM, which belongs to the server.
        limited = collectors.TimeLimitCollector(top, deadline.remaining(), use_alarm=False)
        try:
            searcher.search_with_collector(query, limited)
        except TimeLimit:
            complete = False
    hits = [(hit.docnum, float(hit.score)) for hit in top.results()]
    hits.sort(key=lambda hit: (-hit[1], hit[0]))
    return hits, complete


def matching_docs(
    searcher: Any, query: Any, deadline: Deadline | None = None, chunk: int = _CHUNK
) -> tuple[npt.NDArray[np.int64], bool]:
    """Sorted docnums of every live document matching ``query``, and whether all were
    collected before the deadline (checked every ``chunk`` documents)."""
    parts = []
    complete = True
    for leaf, offset in searcher.leaf_searchers():
        ids = query.matcher(leaf).all_ids()
        while True:
            got = np.fromiter(itertools.islice(ids, chunk), dtype=np.int64)
            if len(got):
                parts.append(got + offset)
            if len(got) < chunk:
                break
            if deadline is not None and deadline.expired:
                complete = False
                break
        if not complete:
            break
    docs = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    docs.sort()
    return docs, complete
