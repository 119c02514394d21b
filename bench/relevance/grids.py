"""The parameter grids the suite cross-validates (``python -m bench relevance --grid
NAME``), each a union of Cartesian products (``bench.relevance.crossval``), the
service's defaults first (ties go to the first candidate).  Parameter names are
those of ``bench.relevance.systems.KNOBS``.

- ``default``: the small grid CI runs (5 search systems, 4 related ones: about a
  minute on the 2-core machine);
- ``wide``: more values of the same knobs (19 search systems, 36 related ones:
  about 10 minutes);
- ``none``: the defaults only (cross-validation then reports them as they are).
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.relevance.crossval import Grid

__all__ = ["GRIDS"]

_RELATED: dict[str, Sequence[object]] = {"related.entities": [2.0, 1.0], "related.time": [0.3, 0.1]}
_RELATED_WIDE: dict[str, Sequence[object]] = {
    "related.entities": [2.0, 1.0, 3.0],
    "related.time": [0.3, 0.1, 0.6],
    "related.category": [0.8, 0.0],
    "related.max_terms": [25, 15],
}

GRIDS: dict[str, Grid] = {
    "default": [
        {
            "request.expand": [True],
            "expansion.term_weight": [0.5, 0.25],
            "expansion.entity_weight": [15.0, 5.0],
            **_RELATED,
        },
        {"request.expand": [False], **_RELATED},
    ],
    "wide": [
        {
            "request.expand": [True],
            "expansion.feedback_docs": [10, 5],
            "expansion.term_weight": [0.5, 0.25, 1.0],
            "expansion.entity_weight": [15.0, 5.0, 30.0],
            **_RELATED_WIDE,
        },
        {"request.expand": [False], **_RELATED_WIDE},
    ],
    "none": [{}],
}
