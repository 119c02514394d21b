"""The index directory: numbered generations, the pointer to the live one, the writer lock.

Layout of an index directory::

    CURRENT            name of the live generation, replaced atomically
    writer.lock        held (flock) by the one process that writes; says who and since when
    gen-000007/        a complete generation: whoosh files, meta.json, rejects.jsonl
    gen-000008/        a generation being built (no meta.json yet): never served

Readers open only the generation CURRENT names, and hold a shared flock on its
``readers.lock`` while they use it, so that pruning never removes a generation a
worker still reads.  Locks are flocks, which the kernel drops when a process
dies: a lock file left by a killed writer is recovered simply by locking it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from search.errors import IndexLocked, IndexUnavailable, RebuildNeeded

__all__ = [
    "INDEX_FORMAT",
    "Generation",
    "IndexStore",
    "ReaderLease",
    "WriterLock",
    "temp_path",
    "write_atomic",
]

#: The version of what a generation holds: the whoosh schema and its analysis, the
#: postings arrays and the columns.  A generation of another format is not served.
INDEX_FORMAT = 3

_GEN = re.compile(r"gen-(\d{6,})")
_TEMP = re.compile(r"\..+\.\d+\.tmp")
CURRENT = "CURRENT"
META = "meta.json"
READERS_LOCK = "readers.lock"


def _fsync_dir(path: Path) -> None:
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
    """Write ``data`` to ``path`` so that readers see the old or the new file, never half."""
    tmp = temp_path(path.parent, path.name)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


@dataclass(frozen=True)
class Generation:
    """One generation directory of the index."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def number(self) -> int:
        match = _GEN.fullmatch(self.name)
        return int(match.group(1)) if match else -1

    @property
    def complete(self) -> bool:
        """A generation is complete once its meta.json is written, and only then served."""
        return (self.path / META).is_file()

    def meta(self) -> dict[str, Any]:
        """What the build recorded: built_at, counts, seconds."""
        with open(self.path / META, "rb") as fh:
            data: dict[str, Any] = json.load(fh)
        return data

    def write_meta(self, meta: dict[str, Any]) -> None:
        """Record what the build did, with the index format it wrote."""
        meta = {"format": INDEX_FORMAT, **meta}
        write_atomic(self.path / META, json.dumps(meta, indent=2).encode())

    def stemmer(self) -> str:
        """The stemmer the generation's text was analysed with (search/text.py)."""
        stemmer: str = self.meta()["analysis"]["stemmer"]
        return stemmer

    def check_format(self) -> None:
        """RebuildNeeded unless the generation was written in INDEX_FORMAT."""
        try:
            found = self.meta().get("format", 1)
        except (OSError, ValueError, AttributeError) as exc:
            raise IndexUnavailable(f"{self.name}/{META} cannot be read: {exc}") from None
        if found != INDEX_FORMAT:
            raise RebuildNeeded(
                f"{self.name} was written in index format {found}, this version reads "
                f"format {INDEX_FORMAT}: rebuild needed (run indexer rebuild)"
            )


class ReaderLease:
    """A shared lock on a generation, held while a worker reads it."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self._fh: IO[bytes] | None = open(generation.path / READERS_LOCK, "ab")  # noqa: SIM115
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_SH)

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing drops the flock
            self._fh = None


class WriterLock:
    """The exclusive lock of the one process allowed to write an index directory."""

    def __init__(self, path: Path, command: str) -> None:
        self.path = path
        self.command = command
        self._fh: IO[str] | None = None
        self.recovered_from: dict[str, Any] | None = None

    def acquire(self) -> None:
        fh = open(self.path, "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                fh.close()
                raise
            holder = self._read_holder(fh)
            fh.close()
            raise IndexLocked(
                holder.get("pid"), holder.get("since"), holder.get("command")
            ) from None
        previous = self._read_holder(fh)
        if previous.get("pid"):
            # A holder recorded but no lock held: that process died without releasing.
            self.recovered_from = previous
        fh.seek(0)
        fh.truncate()
        fh.write(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "command": self.command,
                }
            )
        )
        fh.flush()
        self._fh = fh

    @staticmethod
    def _read_holder(fh: IO[str]) -> dict[str, Any]:
        fh.seek(0)
        try:
            data = json.loads(fh.read() or "{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def release(self) -> None:
        if self._fh is not None:
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.close()
            self._fh = None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class IndexStore:
    """An index directory holding generations."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def writer_lock(self, command: str) -> WriterLock:
        """The writer lock; ``with store.writer_lock("rebuild"):`` holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        return WriterLock(self.root / "writer.lock", command)

    def generations(self) -> list[Generation]:
        """Every generation directory, oldest first (complete or not)."""
        if not self.root.is_dir():
            return []
        found = [Generation(p) for p in self.root.iterdir() if _GEN.fullmatch(p.name)]
        return sorted(found, key=lambda g: g.number)

    def current_name(self) -> str | None:
        """Name of the live generation, or None when none has been published."""
        try:
            name = (self.root / CURRENT).read_text().strip()
        except FileNotFoundError:
            return None
        return name if _GEN.fullmatch(name) else None

    def current(self) -> Generation:
        """The live generation; IndexUnavailable when there is none."""
        name = self.current_name()
        if name is None:
            raise IndexUnavailable("no index has been built yet: run indexer rebuild")
        generation = Generation(self.root / name)
        if not generation.complete:
            raise IndexUnavailable(f"the live generation {name} is incomplete")
        return generation

    def new_generation(self) -> Generation:
        """Create an empty directory for the next generation (call with the writer lock held)."""
        self.root.mkdir(parents=True, exist_ok=True)
        existing = self.generations()
        number = existing[-1].number + 1 if existing else 1
        path = self.root / f"gen-{number:06d}"
        path.mkdir()
        return Generation(path)

    def publish(self, generation: Generation) -> None:
        """Make a complete generation the live one, atomically."""
        if not generation.complete:
            raise ValueError(f"{generation.name} is not complete")
        write_atomic(self.root / CURRENT, generation.name.encode() + b"\n")

    def lease(self, generation: Generation) -> ReaderLease:
        """Hold a generation open for reading."""
        return ReaderLease(generation)

    def prune(self, keep: int) -> list[str]:
        """Remove generations older than the live one and the ``keep`` before it.

        Call it with the writer lock held: then any other generation is the leftover
        of a crashed build and is removed too.  A generation some worker still holds
        is left for a later prune.  Returns the names removed.
        """
        live = self.current_name()
        live_number = Generation(self.root / live).number if live else -1
        generations = self.generations()
        older = [g for g in generations if g.complete and g.number < live_number]
        keep_names = {g.name for g in older[-keep:]} if keep else set()
        removed = []
        for generation in generations:
            if generation.name == live or generation.name in keep_names:
                continue
            if self._remove_unused(generation):
                removed.append(generation.name)
        return removed

    def _remove_unused(self, generation: Generation) -> bool:
        """Remove a generation unless a reader holds it.  Under the exclusive lock it is
        first renamed out of the way, so a reader arriving meanwhile finds no such
        generation (and reads CURRENT again), never a half-removed one."""
        lock_path = generation.path / READERS_LOCK
        with contextlib.ExitStack() as stack:
            if lock_path.exists():
                fh = stack.enter_context(open(lock_path, "ab"))
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    return False
            doomed = temp_path(self.root, generation.name)
            generation.path.rename(doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        return True

    def remove_leftovers(self) -> list[Path]:
        """Remove what killed writers left in the index directory and in the live
        generation: temporary files, and generations a prune had begun to remove.  Call
        it with the writer lock held: no other writer runs then, so every temporary file
        is a dead writer's.  Returns what was removed."""
        folders = [self.root]
        live = self.current_name()
        if live is not None:
            # Columns and postings arrays are written under temporary names too.
            folders += [
                self.root / live,
                self.root / live / "columns",
                self.root / live / "postings",
            ]
        removed = []
        for folder in folders:
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if not _TEMP.fullmatch(path.name):
                    continue
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    def discard(self, generation: Generation) -> None:
        """Remove a generation that was never published."""
        shutil.rmtree(generation.path, ignore_errors=True)

    def iter_rejects(self, generation: Generation) -> Iterator[dict[str, Any]]:
        """The rejects a build recorded."""
        path = generation.path / "rejects.jsonl"
        if not path.exists():
            return
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)
