"""Exceptions raised by the search engine.

The hierarchy::

    SearchError             base class of every error the engine raises on purpose
    +-- IndexUnavailable    there is no live index generation to read (not built yet)
    |   +-- IndexDamaged    the live generation's files cannot be read as written
    |   +-- RebuildNeeded   the live generation was written in another index format
    +-- EventNotFound       no event has the requested id
    +-- IndexLocked         another process is writing the index; names its pid and start
    +-- BuildFailed         a rebuild or update was stopped and nothing was switched
    +-- BadRequest          input refused, by the engine or by the API; carries a ``code``
                            (the API's registry gives its 4xx status) and the
                            ``parameter`` it came from
    +-- SearchTimeout       a search ran out of time before it found anything to return

Anything else escaping the engine is a bug, not a user error.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "BuildFailed",
    "EventNotFound",
    "IndexDamaged",
    "IndexLocked",
    "IndexUnavailable",
    "RebuildNeeded",
    "SearchError",
    "SearchTimeout",
]


class SearchError(Exception):
    """Base class of the engine's errors."""


class IndexUnavailable(SearchError):
    """No live index generation exists in the index directory."""


class IndexDamaged(IndexUnavailable):
    """A file of the live generation is missing, unreadable or not as written."""


class RebuildNeeded(IndexUnavailable):
    """The live generation was written in an index format this version does not read."""


class EventNotFound(SearchError):
    """No event has the requested id."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"no event with id {event_id!r}")
        self.event_id = event_id


class IndexLocked(SearchError):
    """Another process holds the index's writer lock."""

    def __init__(self, pid: int | None, since: str | None, command: str | None = None) -> None:
        who = f"pid {pid}" if pid else "another process"
        what = f" ({command})" if command else ""
        when = f" since {since}" if since else ""
        super().__init__(f"the index is being written by {who}{what}{when}")
        self.pid = pid
        self.since = since


class BuildFailed(SearchError):
    """A rebuild or update did not complete; the live generation is unchanged."""


class BadRequest(SearchError):
    """Input refused (by the engine or the API), with a machine-readable code and its
    parameter."""

    def __init__(self, code: str, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.parameter = parameter


class SearchTimeout(SearchError):
    """The search's time limit passed before it had anything to return."""
