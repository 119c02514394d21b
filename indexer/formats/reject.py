"""A document that could not be read as an event, and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["InvalidRecord", "Reject"]


class InvalidRecord(ValueError):
    """Raised by a format's parser: the message says what is wrong, for a person."""


@dataclass(frozen=True)
class Reject:
    """A rejected file or record: its path, its record number where it has one, the reason."""

    path: str
    record: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}, record {self.record}" if self.record is not None else self.path
        return f"{where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "record": self.record, "reason": self.reason}
