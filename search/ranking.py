"""Exact top-N scoring.

whoosh's default top-N collector prunes sub-queries whose estimated best score
cannot reach the current N-th score, and skips blocks by quality.  Its estimates
are wrong for boosted clauses on exact-value fields, so pages of different sizes
disagreed and top hits were lost.  Here every matching document is scored.
"""

from __future__ import annotations

from typing import Any

from whoosh import collectors

__all__ = ["top_hits"]


def top_hits(searcher: Any, query: Any, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best (docnum, score) pairs for ``query``, best first, ties by docnum."""
    collector = collectors.TopCollector(limit, usequality=False, replace=0)
    searcher.search_with_collector(query, collector)
    hits = [(hit.docnum, float(hit.score)) for hit in collector.results()]
    hits.sort(key=lambda hit: (-hit[1], hit[0]))
    return hits
