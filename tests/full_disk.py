"""Run the ``indexer`` command on a disk that fills up at a chosen write.

    python -m tests.full_disk N INDEX_DIR [indexer arguments ...]

Every file opened for writing and every directory made under INDEX_DIR counts as
one write (with ``$FULL_DISK_MATCH`` set, only those whose name matches that
pattern: ``*.pst`` for the segment files writer processes create).  From the Nth
on, each of them fails with ``OSError(ENOSPC)``, as the kernel fails them when the
disk is full (and a full disk stays full).  The failure
is made by an audit hook (PEP 578), below the code of the indexer and of whoosh,
neither of which is changed or mocked.  N = 0 fails nothing and prints, on stderr
at exit, ``writes: K`` (the writes the command made), so a test can aim at each.

Writer processes forked by a parallel rebuild inherit the hook and count their own
writes from the parent's count when they were forked.  The writes opened before a
failure still succeed in full: this models a disk that fills up between two files.
(The tests on a size-limited tmpfs cover a disk that fills up within a file.)
"""

from __future__ import annotations

import atexit
import errno
import fnmatch
import os
import sys
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def install(fail_from: int, under: str, match: str = "*") -> None:
    """Fail every write under ``under`` whose name matches ``match`` from the
    ``fail_from``-th on (0: count only)."""
    root = os.path.realpath(under) + os.sep
    count = 0

    def hook(event: str, args: tuple[Any, ...]) -> None:
        nonlocal count
        if event == "open":
            path, _, flags = args
            if not isinstance(flags, int) or not flags & _WRITE_FLAGS:
                return
        elif event != "os.mkdir":
            return
        else:
            path = args[0]
        if not isinstance(path, (str, bytes, os.PathLike)):
            return  # a file descriptor
        full = os.path.realpath(os.fsdecode(path))
        if not (full + os.sep).startswith(root) or not fnmatch.fnmatch(
            os.path.basename(full), match
        ):
            return
        count += 1
        if fail_from and count >= fail_from:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), full)

    sys.addaudithook(hook)
    if not fail_from:
        atexit.register(lambda: print(f"writes: {count}", file=sys.stderr))


def main() -> None:
    fail_from, under, *args = sys.argv[1:]
    install(int(fail_from), under, os.environ.get("FULL_DISK_MATCH", "*"))
    from indexer.cli import cli

    cli.main(args, prog_name="indexer")


if __name__ == "__main__":
    main()
