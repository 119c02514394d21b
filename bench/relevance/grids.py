"""The parameter grids the suite cross-validates (``python -m bench relevance --grid
NAME``), each a union of Cartesian products (``bench.relevance.crossval``), the
service's defaults first (ties go to the first candidate).  Parameter names are
those of ``bench.relevance.systems.KNOBS``.

- ``default``: the small grid CI runs: coordination (``similarity.strict_words``,
  ``similarity.soft_power``), expansion on or off and its feedback depth, and the
  related weights (12 search systems, 4 related ones: a few minutes on the
  2-core machine);
- ``wide``: more values of the same knobs and the expansion weights;
- ``stemmer``: the two stemmers (``index.stemmer``: one index each), with
  expansion on and off;
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
_COORDINATION: dict[str, Sequence[object]] = {
    "similarity.strict_words": [2, 4],
    "similarity.soft_power": [0.0, 2.0],
}
_COORDINATION_WIDE: dict[str, Sequence[object]] = {
    "similarity.strict_words": [2, 3, 4],
    "similarity.soft_power": [0.0, 1.0, 2.0],
}

GRIDS: dict[str, Grid] = {
    "default": [
        {
            "request.expand": [True],
            **_COORDINATION,
            "expansion.feedback_docs": [5, 10],
            **_RELATED,
        },
        {"request.expand": [False], **_COORDINATION, **_RELATED},
    ],
    "wide": [
        {
            "request.expand": [True],
            **_COORDINATION_WIDE,
            "expansion.feedback_docs": [5, 10],
            "expansion.term_weight": [0.5, 0.25, 1.0],
            "expansion.entity_weight": [15.0, 5.0, 30.0],
            **_RELATED_WIDE,
        },
        {"request.expand": [False], **_COORDINATION_WIDE, **_RELATED_WIDE},
    ],
    "stemmer": [
        {
            "index.stemmer": ["minimal", "porter2"],
            "request.expand": [True, False],
            **_RELATED,
        }
    ],
    "none": [{}],
}
