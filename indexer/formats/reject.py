"""A document that could not be read as an event, and why."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from typing import Any

__all__ = ["InvalidRecord", "Reject", "not_regular"]


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


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
)


def not_regular(mode: int) -> str:
    """The reject reason for a path whose ``st_mode`` is not a regular file's:
    ``not a regular file but a FIFO (named pipe)``.  Only regular files are read: a
    FIFO or a device could keep a reader waiting for ever."""
    kind = next((name for test, name in _KINDS if test(mode)), "a file of another type")
    return f"not a regular file but {kind}"
