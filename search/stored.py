"""Stored events per segment, read without whoosh.

whoosh keeps every document's stored fields (the canonical event as JSON, and the
entity names its text mentions) in its own column, read through a file cursor that
one searcher owns: that would force a whoosh searcher per thread.  The codec's
per-document writer (search/writer_hooks.py) therefore also appends each document's
stored fields to a file of its own while whoosh writes them, for new segments and
for merged ones alike, and the segment's arrays directory (``postings/<segment>/``)
keeps them beside the postings:

- ``stored.bin``: the records, one after the other; record d is the JSON object
  ``{"e": <the event>, "m": [<mentioned names>]}``;
- ``stored_offsets.npy``: int64, shape (documents + 1,); record d is
  ``stored.bin[offsets[d]:offsets[d + 1]]``.

Readers map both into memory, so every thread and every worker of the machine shares
one copy through the page cache.  whoosh's own stored fields stay as they are: the
index remains a whoosh index that whoosh's searcher can open.
"""

from __future__ import annotations

import os
import threading
from array import array
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import orjson

from search.errors import IndexDamaged

__all__ = [
    "OFFSETS_FILE",
    "RECORDS_FILE",
    "STORED_FIELDS",
    "StoredEvents",
    "StoredWriter",
    "discard",
]

#: The stored fields of the schema that the records hold.
STORED_FIELDS = ("event", "mentions")
RECORDS_FILE = "stored.bin"
OFFSETS_FILE = "stored_offsets.npy"


def _record(fields: dict[str, Any]) -> bytes:
    event = fields.get("event") or "null"
    if isinstance(event, str):
        event = event.encode("utf-8")
    mentions = orjson.dumps(list(fields.get("mentions") or []))
    return b'{"e":' + bytes(event) + b',"m":' + mentions + b"}"


class StoredWriter:
    """Appends one segment's records to a temporary file as documents are written
    (no segment is held in memory), then hands the file and the offsets over to be
    saved with the segment's arrays."""

    def __init__(self, folder: Path, segment_id: str) -> None:
        self.folder = folder
        self.path = folder / f".stored-{segment_id}.{os.getpid()}.{threading.get_ident()}.tmp"
        self._fh: IO[bytes] | None = None  # opened with the first document
        self._offsets = array("q", [0])
        self._fields: dict[str, Any] = {}

    def start(self) -> None:
        self._fields = {}

    def add(self, fieldname: str, value: Any) -> None:
        if fieldname in STORED_FIELDS:
            self._fields[fieldname] = value

    def finish(self) -> None:
        """The current document is complete: append its record."""
        data = _record(self._fields)
        if self._fh is None:
            self.folder.mkdir(exist_ok=True)
            self._fh = open(self.path, "wb")  # noqa: SIM115 (closed in close)
        self._fh.write(data)
        self._offsets.append(self._offsets[-1] + len(data))
        self._fields = {}

    def cancel(self) -> None:
        self._fields = {}

    def close(self) -> tuple[Path, npt.NDArray[np.int64]]:
        """The records' file (to be moved into the segment's directory) and the offsets."""
        if self._fh is None:
            self.folder.mkdir(exist_ok=True)
            self._fh = open(self.path, "wb")  # noqa: SIM115 (closed at once)
        self._fh.close()
        return self.path, np.frombuffer(self._offsets, dtype=np.int64).copy()


def discard(stored: tuple[Path, Any] | None) -> None:
    """Remove a closed writer's file that no segment took (a segment without postings)."""
    if stored is not None:
        stored[0].unlink(missing_ok=True)


class StoredEvents:
    """One segment's records, memory-mapped (read-only; shared by every thread)."""

    def __init__(self, directory: Path) -> None:
        try:
            self.offsets = np.load(directory / OFFSETS_FILE, mmap_mode="r").view(np.ndarray)
            size = (directory / RECORDS_FILE).stat().st_size
            self._records: npt.NDArray[np.uint8] = (
                np.memmap(directory / RECORDS_FILE, dtype=np.uint8, mode="r").view(np.ndarray)
                if size
                else np.zeros(0, dtype=np.uint8)
            )
        except (OSError, ValueError) as exc:
            raise IndexDamaged(f"the stored events in {directory} cannot be read: {exc}") from None
        if len(self.offsets) == 0 or int(self.offsets[-1]) != len(self._records):
            raise IndexDamaged(f"the stored events in {directory} do not match their offsets")

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, docnum: int) -> tuple[dict[str, Any], list[str]]:
        """Document ``docnum``'s event (canonical shape) and the names its text mentions."""
        start, end = int(self.offsets[docnum]), int(self.offsets[docnum + 1])
        record = orjson.loads(self._records[start:end].tobytes())
        return record["e"], record["m"]
