"""The index directory: numbered generations, the pointer to the live one, the writer lock.

Layout of an index directory::

    CURRENT            name of the live generation, replaced atomically
    writer.lock        held (flock) by the one process that writes; says who and since when
    gen-000007/        a complete generation: whoosh files, meta.json, rejects.jsonl
    gen-000008/        a generation being built (no meta.json yet): never served

Readers open only the generation CURRENT names, and hold a shared flock on its
``readers.lock`` while they use it, so that pruning never removes a generation a
worker still reads.  The writer creates ``readers.lock`` with the generation, and
readers open it read-only: serving needs no write access to the index directory.
Locks are flocks, which the kernel drops when a process dies: a lock file left by
a killed writer is recovered simply by locking it again.

A generation's ``meta.json`` is its record (``Record``): how it was built, the
whoosh commit it describes, the file names of that commit's sidecar tables
(``suggest.7.json``: written per commit, never rewritten), and the size and
checksum of every file the commit reads (search/checksums.py).  It carries its own
checksum too, and is replaced atomically at every commit.
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
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from search.checksums import HASH, Checksum, Verifier, checksum_bytes
from search.errors import IndexDamaged, IndexLocked, IndexUnavailable, RebuildNeeded
from search.files import temp_path, write_atomic
from search.text import STEMMERS

__all__ = [
    "INDEX_FORMAT",
    "UNRECORDED",
    "Generation",
    "IndexStore",
    "ReaderLease",
    "Record",
    "WriterLock",
    "versioned",
]

#: The version of what a generation holds: the whoosh schema and its analysis, the
#: postings arrays, the stored events, the columns, and the record of every file's
#: checksum.  A generation of another format is not served.
INDEX_FORMAT = 7

_GEN = re.compile(r"gen-(\d{6,})")
_TEMP = re.compile(r"\..+\.\d+\.tmp")
CURRENT = "CURRENT"
META = "meta.json"
READERS_LOCK = "readers.lock"
REJECTS = "rejects.jsonl"
#: The files of a generation that no record names: the record itself, the readers'
#: lock, and the log of rejected input (appended by every add; no search reads it).
UNRECORDED = frozenset({META, READERS_LOCK, REJECTS})
# CURRENT holds a generation's name and a newline; more is not a name.
_CURRENT_MAX = 64


REBUILD = "run indexer rebuild"


def _bad_current(what: str) -> str:
    return f"{CURRENT}, which names the live generation, {what}: {REBUILD}"


def versioned(name: str, commit: int) -> str:
    """The file name of a sidecar table as written at a commit: ``suggest.json`` at
    commit 7 is ``suggest.7.json``."""
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{commit}.{suffix}" if dot else f"{name}.{commit}"


def _meta_digest(data: Mapping[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return checksum_bytes(canonical.encode()).digest


@dataclass(frozen=True)
class Record:
    """What a generation's meta.json says of its last commit.

    ``commit`` is whoosh's generation number of the commit (its TOC) the record
    describes; ``files`` the checksum of every file that commit reads, by path
    relative to the generation; ``sidecars`` the file holding each sidecar table
    (``suggest.json`` -> ``suggest.7.json``); ``build`` what the build recorded
    (built_at, documents, seconds...).
    """

    commit: int
    files: Mapping[str, Checksum]
    sidecars: Mapping[str, str]
    build: Mapping[str, Any]

    @property
    def stemmer(self) -> str:
        """The stemmer the generation's text was analysed with (search/text.py)."""
        return str(self.build["analysis"]["stemmer"])


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

    def rejects_path(self) -> Path:
        """The log of the documents the generation's jobs rejected: JSON Lines, one
        object per document (job, path, record, reason), written by the rebuild that
        made the generation and appended to by every add.  No search reads it."""
        return self.path / REJECTS

    def spool_path(self) -> Path:
        """Where a rebuild building this generation keeps the documents it has parsed
        until it writes them (a writer's temporary file): removed by the rebuild, or
        with the generation when the build never finishes."""
        return temp_path(self.path, "spool")

    def meta(self) -> dict[str, Any]:
        """meta.json as written, unchecked (``record`` checks it)."""
        with open(self.path / META, "rb") as fh:
            data: dict[str, Any] = json.load(fh)
        return data

    def record(self) -> Record:
        """The record of the generation's last commit.  RebuildNeeded when it was
        written in another index format; IndexDamaged when meta.json is missing,
        unreadable, or not as written."""
        where = f"{self.name}/{META}"
        try:
            raw = (self.path / META).read_bytes()
        except FileNotFoundError:
            raise IndexDamaged(f"{where} is missing: run indexer rebuild") from None
        except OSError as exc:
            raise IndexDamaged(f"{where} cannot be read ({exc.strerror})") from None
        try:
            data = json.loads(raw)
        except ValueError:
            raise IndexDamaged(f"{where} is not valid JSON: run indexer rebuild") from None
        if not isinstance(data, dict):
            raise IndexDamaged(f"{where} does not hold a record: run indexer rebuild")
        claimed = data.pop("meta_checksum", None)
        if claimed is not None and claimed != _meta_digest(data):
            raise IndexDamaged(
                f"{where} does not hold what was written (its checksum differs): "
                "run indexer rebuild"
            )
        found = data.get("format", 1)
        if found != INDEX_FORMAT:
            # Only a format number is shown: any other value is what meta.json holds.
            known = type(found) is int and 0 < found < 1_000_000
            written = f"index format {found}" if known else "an unknown index format"
            raise RebuildNeeded(
                f"{self.name} was written in {written}, this version reads "
                f"format {INDEX_FORMAT}: rebuild needed (run indexer rebuild)"
            )
        try:
            if claimed is None or data["hash"] != HASH:
                raise ValueError("no checksums")
            commit = data["commit"]
            if not isinstance(commit, int):
                raise ValueError("no commit")
            files = {str(k): Checksum.from_json(v) for k, v in data["checksums"].items()}
            sidecars = {str(k): str(v) for k, v in data["sidecars"].items()}
            if data["analysis"]["stemmer"] not in STEMMERS:
                raise ValueError("no analysis")
        except (KeyError, TypeError, ValueError, AttributeError):
            raise IndexDamaged(
                f"{where} lacks the record of the generation's files and analysis: "
                "run indexer rebuild"
            ) from None
        build = {k: v for k, v in data.items() if k not in _RECORD_KEYS}
        return Record(commit, files, sidecars, build)

    def verify(self, record: Record) -> list[str]:
        """Read every file ``record`` names whole and say which are not as recorded:
        one sentence per bad file, naming it; empty when every file holds its checksum."""
        problems = Verifier().problems(self.path, record.files, rehash=True)
        return [f"{self.name}/{problem}" for problem in problems]

    def write_record(
        self,
        build: Mapping[str, Any],
        commit: int,
        files: Mapping[str, Checksum],
        sidecars: Mapping[str, str],
    ) -> None:
        """Replace meta.json, atomically, with the record of ``commit``: the build's
        figures, the sidecar files and every file's checksum, in INDEX_FORMAT."""
        meta: dict[str, Any] = {
            "format": INDEX_FORMAT,
            **{k: v for k, v in build.items() if k not in _RECORD_KEYS},
            "commit": commit,
            "sidecars": dict(sidecars),
            "hash": HASH,
            "checksums": {name: files[name].to_json() for name in sorted(files)},
        }
        meta["meta_checksum"] = _meta_digest(meta)
        write_atomic(self.path / META, json.dumps(meta, indent=1).encode())


_RECORD_KEYS = frozenset({"format", "commit", "sidecars", "hash", "checksums", "meta_checksum"})


class ReaderLease:
    """A shared lock on a generation, held while a worker reads it.

    ``readers.lock`` is opened read-only (a flock needs no write access), so a
    service without write access to the index directory can read it.
    FileNotFoundError when the generation is gone (pruned meanwhile)."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        path = generation.path / READERS_LOCK
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            # Only a generation missing its lock file gets here; create it if allowed.
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
            except FileNotFoundError:
                raise
            except OSError as exc:
                raise IndexDamaged(
                    f"{generation.name}/{READERS_LOCK} is missing and cannot be created "
                    f"({exc.strerror}): run indexer rebuild"
                ) from None
        except OSError as exc:
            raise IndexDamaged(
                f"{generation.name}/{READERS_LOCK} cannot be opened ({exc.strerror})"
            ) from None
        self._fd: int | None = fd
        fcntl.flock(fd, fcntl.LOCK_SH)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


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
        """Name of the live generation, or None when none has been published.

        IndexDamaged when CURRENT is there but names no generation: not a regular
        file (a symbolic link, a directory, a FIFO), unreadable, not UTF-8, empty or
        something else.  No message shows what a file holds: it may be any file's start."""
        path = self.root / CURRENT
        try:
            # Non-blocking: a FIFO put in CURRENT's place must not hang a reader.
            # Not followed: a link put in CURRENT's place is named, never read (its
            # target could be any file, and what it holds must not reach a message).
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP and path.is_symlink():
                raise IndexDamaged(_bad_current("is a symbolic link, not a file")) from None
            if isinstance(exc, IsADirectoryError):
                raise IndexDamaged(_bad_current("is a directory, not a file")) from None
            raise IndexDamaged(_bad_current(f"cannot be read ({exc.strerror})")) from None
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise IndexDamaged(_bad_current("is a directory, not a file"))
            if not stat.S_ISREG(mode):
                raise IndexDamaged(_bad_current("is not a regular file"))
            raw = os.read(fd, _CURRENT_MAX + 1)
        except OSError as exc:
            raise IndexDamaged(_bad_current(f"cannot be read ({exc.strerror})")) from None
        finally:
            os.close(fd)
        try:
            name = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise IndexDamaged(_bad_current("holds bytes that are not UTF-8 text")) from None
        if not name:
            raise IndexDamaged(_bad_current("is empty"))
        if len(raw) > _CURRENT_MAX or not _GEN.fullmatch(name):
            # Named, never shown: what it holds may be any file's start.
            raise IndexDamaged(_bad_current("holds what is not a generation's name (gen-NNNNNN)"))
        return name

    def current_problem(self) -> str | None:
        """What is wrong with CURRENT or the generation it names, or None (also when
        no index has been published): what a rebuild repairs by replacing CURRENT."""
        try:
            self.current()
        except IndexDamaged as exc:
            return str(exc).removesuffix(f": {REBUILD}")
        except IndexUnavailable:
            return None
        return None

    def live_name(self) -> str | None:
        """The live generation's name for writers: None when CURRENT names none."""
        try:
            return self.current_name()
        except IndexDamaged:
            return None

    def current(self) -> Generation:
        """The live generation; IndexUnavailable when there is none, IndexDamaged when
        CURRENT is damaged or names a generation that is missing or incomplete."""
        name = self.current_name()
        while True:
            if name is None:
                raise IndexUnavailable("no index has been built yet: run indexer rebuild")
            generation = Generation(self.root / name)
            if generation.complete:
                return generation
            # CURRENT may have moved on meanwhile (a rebuild switched and pruned).
            again = self.current_name()
            if again != name:
                name = again
                continue
            state = "is incomplete" if generation.path.is_dir() else "does not exist"
            raise IndexDamaged(f"{CURRENT} names {name}, which {state}: run indexer rebuild")

    def new_generation(self) -> Generation:
        """Create an empty directory for the next generation, with the lock file its
        readers will share (call with the writer lock held)."""
        self.root.mkdir(parents=True, exist_ok=True)
        existing = self.generations()
        number = existing[-1].number + 1 if existing else 1
        path = self.root / f"gen-{number:06d}"
        path.mkdir()
        (path / READERS_LOCK).touch()
        return Generation(path)

    def publish(self, generation: Generation) -> None:
        """Make a complete generation the live one, atomically, whatever CURRENT was:
        a CURRENT that is not a regular file (a directory) is first moved aside."""
        if not generation.complete:
            raise ValueError(f"{generation.name} is not complete")
        target = self.root / CURRENT
        if target.exists() and not target.is_symlink() and not target.is_file():
            aside = temp_path(self.root, f"{CURRENT}-damaged")
            target.rename(aside)
            if aside.is_dir():
                shutil.rmtree(aside, ignore_errors=True)
            else:
                aside.unlink(missing_ok=True)
        write_atomic(target, generation.name.encode() + b"\n")

    def lease(self, generation: Generation) -> ReaderLease:
        """Hold a generation open for reading."""
        return ReaderLease(generation)

    def prune(self, keep: int) -> list[str]:
        """Remove generations older than the live one and the ``keep`` before it.

        Call it with the writer lock held: then any other generation is the leftover
        of a crashed build and is removed too.  A generation some worker still holds
        is left for a later prune.  Returns the names removed.
        """
        live = self.live_name()
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
        live = self.live_name()
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

    def spool_path(self) -> Path:
        """Where a job that changes the live generation in place (an add) keeps the
        documents it has parsed until it writes them: a writer's temporary file in the
        index directory, removed by the job, or by ``remove_leftovers`` after a crash."""
        return temp_path(self.root, "spool")

    def discard(self, generation: Generation) -> None:
        """Remove a generation that was never published."""
        shutil.rmtree(generation.path, ignore_errors=True)

    def iter_rejects(self, generation: Generation) -> Iterator[dict[str, Any]]:
        """The rejects a build recorded."""
        path = generation.rejects_path()
        if not path.exists():
            return
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)
