"""Checksums of a generation's files, and the check that its files still hold them.

Every commit records, in the generation's meta.json (``store.Generation.record``),
the size and the XXH3-128 digest of every file it reads from: whoosh's files, the
postings arrays, the columns and the sidecar tables.  A recorded file never changes
afterwards: a commit writes its new files under new names (segment ids, commit
numbers) and records them, then removes what no record names any more.  So a
digest checked once stays good while the file's inode, size, modification and
change times (``st_ctime`` cannot be set back by a program) stay as they were.

Hash: XXH3-128 (the ``xxhash`` package, pinned), a checksum made to detect damage
to data, not forgery: whoever can rewrite a file can rewrite the record too.  It
hashes about 8 GB/s on the development machine, against 0.8 for BLAKE3 and 0.2
for hashlib's BLAKE2b (BENCHMARKS.md, "Verifying a generation").
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import xxhash

__all__ = ["HASH", "Checksum", "Verifier", "checksum", "checksum_bytes", "summary"]

#: The name of the hash recorded beside the checksums.
HASH = "xxh3_128"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Checksum:
    """A file's size in bytes and the hex XXH3-128 digest of its bytes."""

    size: int
    digest: str

    def to_json(self) -> list[int | str]:
        return [self.size, self.digest]

    @classmethod
    def from_json(cls, value: object) -> Checksum:
        """ValueError unless ``value`` is ``[size, digest]`` as ``to_json`` wrote it."""
        if (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], int)
            and value[0] >= 0
            and isinstance(value[1], str)
            and len(value[1]) == 32
        ):
            return cls(value[0], value[1])
        raise ValueError("not a checksum: a [size, digest] pair was expected")


def checksum_bytes(data: bytes) -> Checksum:
    """The checksum of ``data``."""
    return Checksum(len(data), xxhash.xxh3_128_hexdigest(data))


def checksum(path: Path) -> Checksum:
    """The checksum of a file's bytes (read in 1 MiB chunks).  OSError when unreadable."""
    digest = xxhash.xxh3_128()
    size = 0
    with open(path, "rb") as fh:
        buffer = bytearray(_CHUNK)
        view = memoryview(buffer)
        while read := fh.readinto(buffer):
            digest.update(view[:read])
            size += read
    return Checksum(size, digest.hexdigest())


def summary(generation: str, problems: list[str]) -> str:
    """The first of ``problems`` (as ``Verifier.problems`` words them) under the
    generation's name, and how many more there are."""
    more = f" (and {len(problems) - 1} more files)" if len(problems) > 1 else ""
    return f"{generation}/{problems[0]}{more}"


_StatKey = tuple[int, int, int, int]


def _stat_key(st: os.stat_result) -> _StatKey:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class Verifier:
    """Checks files against their recorded checksums, and remembers which files it
    found good (their inode, size and times) so that a file is hashed again only
    when it has changed.  One per process, shared by its threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._good: dict[Path, tuple[_StatKey, Checksum]] = {}

    def problems(
        self, root: Path, expected: Mapping[str, Checksum], *, rehash: bool = False
    ) -> list[str]:
        """What is wrong with the files ``expected`` names (paths relative to
        ``root``), one sentence per bad file, in name order; empty when all hold what
        was recorded.  A file whose inode, size and times are as when it was last
        found good is not read again unless ``rehash``."""
        found = []
        for name in sorted(expected):
            problem = self._problem(root / name, name, expected[name], rehash)
            if problem:
                found.append(problem)
        return found

    def _problem(self, path: Path, name: str, want: Checksum, rehash: bool) -> str | None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return f"{name} is missing"
        except OSError as exc:
            return f"{name} cannot be read ({exc.strerror})"
        if stat.S_ISLNK(st.st_mode):
            return f"{name} is a symbolic link, not a file the indexer wrote"
        if not stat.S_ISREG(st.st_mode):
            return f"{name} is not a regular file"
        if st.st_size != want.size:
            return f"{name} has {st.st_size} bytes, {want.size} were written"
        key = _stat_key(st)
        with self._lock:
            known = self._good.get(path)
        if not rehash and known == (key, want):
            return None
        try:
            got = checksum(path)
        except OSError as exc:
            return f"{name} cannot be read ({exc.strerror})"
        if got != want:
            return f"{name} does not hold what was written (its checksum differs)"
        with self._lock:
            self._good[path] = (key, want)
        return None

    def keep_only(self, paths: Iterable[Path]) -> None:
        """Forget every file but ``paths`` (the files of the commits still read)."""
        kept = set(paths)
        with self._lock:
            self._good = {p: v for p, v in self._good.items() if p in kept}
