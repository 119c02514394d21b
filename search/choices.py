"""The enumerations of the engine's requests and answers, named once: the API
validates parameters and describes its answers from these."""

from __future__ import annotations

from search.dates import UNITS

__all__ = ["FACETS", "INTERVALS", "MATCHES", "SORTS", "SUGGESTION_KINDS", "UNITS"]

#: The facets a search can count.
FACETS = ("date", "entity", "source", "category")
#: Histogram intervals; ``auto`` picks one that gives a chart few enough bars.
INTERVALS = ("auto", *UNITS)
#: Result orders.
SORTS = ("relevance", "newest", "oldest")
#: ``any``: events matching more of the words rank first; ``all``: every word must match.
MATCHES = ("any", "all")
#: What a search-box suggestion is.
SUGGESTION_KINDS = ("entity", "phrase")
