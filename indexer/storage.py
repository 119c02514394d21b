"""What the indexer says when the index directory cannot be written.

An OSError met while a job writes the index (no permission, a read-only file
system, a full disk, an I/O error) becomes IndexWriteFailed, whose message names
the index directory, the file where the system said which, and the cause in
plain words with what to do; the command prints it and exits 1.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from search import BuildFailed

__all__ = ["IndexWriteFailed", "write_errors"]

_FULL = "the disk is full; free some space and run the job again"
_CAUSES = {
    errno.ENOSPC: _FULL,
    errno.EDQUOT: "the disk quota is used up; free some space and run the job again",
    errno.EFBIG: "a file would be larger than the system allows",
    errno.EROFS: "the file system is mounted read-only",
    errno.EIO: "input/output error (a failing disk?)",
}


def _no_access() -> str:
    return (
        f"permission denied: the indexer runs as uid {os.geteuid()}, "
        "which needs write access to the index directory"
    )


class IndexWriteFailed(BuildFailed):
    """The index directory could not be written; ``errno`` and ``filename`` are the
    system's.  ``committed``: the job's changes are in all the same (what failed was
    saving what readers keep beside the index; the next job saves it again)."""

    def __init__(self, root: Path, exc: OSError, *, committed: bool = False) -> None:
        if exc.errno in (errno.EACCES, errno.EPERM):
            cause = _no_access()
        else:
            cause = _CAUSES.get(exc.errno or 0) or (exc.strerror or str(exc))
        where = f" ({exc.filename})" if exc.filename else ""
        message = f"cannot write the index in {root}{where}: {cause}"
        if committed:
            message = (
                "the changes are committed, but the files kept beside them (the record "
                "readers check them by, the tables for suggestions) are not all saved; "
                f"the next indexer job saves them: {message}"
            )
        super().__init__(message)
        self.errno = exc.errno
        self.filename = exc.filename
        self.committed = committed


@contextlib.contextmanager
def write_errors(root: Path) -> Iterator[None]:
    """Turn an OSError raised inside into IndexWriteFailed for the index at ``root``."""
    try:
        yield
    except OSError as exc:
        raise IndexWriteFailed(root, exc) from exc
