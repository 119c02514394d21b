"""Writing files so that readers never see half of one: a writer's temporary names,
and the atomic replacement of a file (written beside it, synced, renamed over it)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["fsync_dir", "temp_path", "write_atomic"]


def fsync_dir(path: Path) -> None:
    """Make the entries of directory ``path`` (a rename into it) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path(folder: Path, name: str) -> Path:
    """A writer's temporary file in ``folder``: ``.NAME.PID.tmp``.  What a killed writer
    leaves under such a name is removed by the next one (``IndexStore.remove_leftovers``)."""
    return folder / f".{name}.{os.getpid()}.tmp"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half;
    OSError when it cannot be written (the old file, if any, is left as it was)."""
    tmp = temp_path(path.parent, path.name)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
