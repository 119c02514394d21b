"""The time a search may take."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Deadline"]


class Deadline:
    """A point in time a search must finish by: ``seconds`` after ``since`` (a reading
    of ``clock``, ``time.perf_counter`` by default: the request's start), or after now."""

    def __init__(
        self,
        seconds: float,
        clock: Callable[[], float] = time.perf_counter,
        since: float | None = None,
    ) -> None:
        self.clock = clock
        self.end = (clock() if since is None else since) + seconds

    def remaining(self) -> float:
        return self.end - self.clock()

    def expired(self) -> bool:
        return self.remaining() <= 0
