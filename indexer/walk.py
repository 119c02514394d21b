"""Finding input files.

A PATH named on the command line is read whatever its name.  Directories are
walked recursively in name order (a directory's files, then its subdirectories),
following symbolic links to files and to directories.  Every path under them
that is not read is a Reject with its path and reason:

- anything but a regular file or a directory (a FIFO, a socket, a device): reading
  a FIFO would wait for a writer for ever;
- a directory that cannot be listed, an entry that cannot be looked at, a broken link;
- a symbolic link loop (a directory reached again inside itself);
- a file or directory reached a second time (through another link, a hard link, or
  named twice): it is read once.

Entries whose names start with ``.`` inside a walked directory (``.git``, editors'
``.swp`` files) are skipped without a reject, as ``find``-style tools users know
do, and counted: the job's summary says how many.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from indexer.formats import Reject, not_regular

__all__ = ["input_files"]


def _stat_error(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        try:
            return f"broken symbolic link (to {os.readlink(path)}, which does not exist)"
        except OSError:
            pass
        return "no such file or directory"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of links)"
    return f"cannot read: {exc.strerror or exc}"


def input_files(paths: Iterable[Path], hidden: list[Path] | None = None) -> Iterator[Path | Reject]:
    """Every regular file under ``paths``, each once, in a stable order, and a Reject
    for every path that is not read.  Hidden entries skipped are appended to
    ``hidden`` when it is given."""
    seen: dict[tuple[int, int], Path] = {}  # (device, inode) -> where it was first found

    def visit(path: Path) -> tuple[Path | Reject | None, bool]:
        """What a path yields, and whether it is a directory to walk."""
        try:
            info = os.stat(path)
        except OSError as exc:
            return Reject(str(path), None, _stat_error(path, exc)), False
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            return Reject(str(path), None, not_regular(info.st_mode)), False
        key = (info.st_dev, info.st_ino)
        first = seen.get(key)
        if first is not None:
            if first in path.parents:
                reason = f"symbolic link loop: it leads back to {first}"
            else:
                kind = "directory" if stat.S_ISDIR(info.st_mode) else "file"
                reason = f"the same {kind} as {first}, which is read instead"
            return Reject(str(path), None, reason), False
        seen[key] = path
        if stat.S_ISDIR(info.st_mode):
            return None, True
        return path, False

    for top in paths:
        item, is_dir = visit(top)
        if item is not None:
            yield item
        if not is_dir:
            continue
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as entries:
                    names = sorted(entry.name for entry in entries)
            except OSError as exc:
                yield Reject(str(folder), None, f"cannot read directory: {exc.strerror or exc}")
                continue
            subfolders = []
            for name in names:
                path = folder / name
                if name.startswith("."):
                    if hidden is not None:
                        hidden.append(path)
                    continue
                item, is_dir = visit(path)
                if item is not None:
                    yield item
                if is_dir:
                    subfolders.append(path)
            stack.extend(reversed(subfolders))
