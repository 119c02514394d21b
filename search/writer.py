"""Writing events: building a new generation, and updating the live one in place.

Callers hold the store's writer lock and give each id once (the indexer keeps
only the last copy of a repeated id).  After every commit the writer saves what
readers need beside the whoosh files: the columns of new segments, title
phrases, the vocabulary of entity mentions and the suggestion table.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as dt
import multiprocessing
import os
import queue
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.multiproc import MpWriter, SubWriterTask

from search.codec import EventCodec
from search.columns import ColumnCache, SnapshotColumns, warm
from search.errors import BuildFailed
from search.event import Event
from search.mentions import MENTIONS_FILE, MentionVocabulary
from search.schema import build_schema, document
from search.store import Generation, IndexStore
from search.suggest import PHRASES_FILE, SUGGEST_FILE, PhraseCounter, build_suggester
from search.termindex import build_segment_postings, remove_unused

__all__ = ["GenerationBuilder", "LiveUpdater"]

# Memory each whoosh writer may use before it spills postings to disk.
_LIMIT_MB = 256
# Segments are written as separate files, not whoosh's compound file: readers of a
# compound file hold much of it in their own memory.
# Title phrases offered as suggestions: the most frequent ones.
PHRASES_KEPT = 100_000


class _Extras:
    """What writers keep beside the whoosh files: title phrases for suggestions, and
    the vocabulary entity mentions are found with."""

    def __init__(self, path: Path, vocabulary: MentionVocabulary, phrases: PhraseCounter) -> None:
        self.path = path
        self.vocabulary = vocabulary
        self.finder = vocabulary.finder()
        self.phrases = phrases
        self.events_with_mentions = 0
        self.mentions_added = 0

    def document(self, event: Event) -> dict[str, Any]:
        mentions = self.finder.mentions(event)
        if mentions:
            self.events_with_mentions += 1
            self.mentions_added += len(mentions)
        self.phrases.add(event.title)
        return document(event, mentions)

    @property
    def mentions(self) -> tuple[int, int]:
        """Events that gained entities from their text, and how many entities they gained."""
        return self.events_with_mentions, self.mentions_added

    def save(self, searcher: Any) -> None:
        """Keep the phrases and the vocabulary, ready the columns of new segments and
        the suggestion table for the index as committed (``searcher``)."""
        self.phrases.save(self.path / PHRASES_FILE)
        self.vocabulary.save(self.path / MENTIONS_FILE)
        segments = searcher.reader().leaf_readers()
        for reader, _ in segments:
            # The codec's writers saved them already; this covers any they did not.
            build_segment_postings(self.path, reader)
        remove_unused(self.path, {r.segment().segment_id() for r, _ in segments})
        warm(self.path, searcher)
        columns = SnapshotColumns(self.path, searcher, ColumnCache())
        phrases = self.phrases.counts.most_common(PHRASES_KEPT)
        build_suggester(columns, phrases).save(self.path / SUGGEST_FILE)


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent (pid ``parent``) dies (Linux).

    A writer process forked by a rebuild inherits the writer lock's file: if the
    rebuild were killed and its writer processes lived on, waiting for work that
    never comes, the lock would stay held for ever."""
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(libc_name, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        # The rebuild died between the fork and the line above: no signal will come.
        os._exit(1)


class _SubWriter(SubWriterTask):  # type: ignore[misc]
    """One writer process of a parallel rebuild; it never outlives the rebuild, and
    an error it meets (a full disk) goes to the rebuild, not to the terminal."""

    parent = 0  # the rebuild's pid, set before the process starts
    errors: Any = None  # the rebuild's queue of writer processes' errors

    def run(self) -> None:
        _die_with_parent(self.parent)
        try:
            super().run()
        except BaseException as exc:  # noqa: BLE001 - reported to the rebuild, which fails
            if isinstance(exc, OSError):
                self.errors.put((exc.errno, exc.strerror, exc.filename))
            else:
                self.errors.put((None, f"{type(exc).__name__}: {exc}", None))
            sys.exit(1)


class _WatchedQueue:
    """The job queue as the rebuild puts to it.  whoosh waits for room for ever; a
    writer process that died (of a full disk) would never make any, so each wait
    gives up, with the writer process's error, once one has died."""

    def __init__(self, jobs: Any, writer: _ParallelWriter) -> None:
        self._jobs = jobs
        self._writer = writer

    def put(self, item: Any) -> None:
        while True:
            try:
                self._jobs.put(item, timeout=0.2)
                return
            except queue.Full:
                self._writer.raise_if_failed()


class _ParallelWriter(MpWriter):  # type: ignore[misc]
    """whoosh's multiprocess writer, with writer processes that die with the rebuild,
    whose errors fail the commit, and which a cancel stops."""

    jobqueue: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._jobs: Any = self.jobqueue  # what the writer processes take jobs from
        self.jobqueue = _WatchedQueue(self._jobs, self)
        self._errors: Any = multiprocessing.SimpleQueue()

    def _new_task(self) -> _SubWriter:
        task = _SubWriter(
            self.storage,
            self.indexname,
            self._jobs,
            self.resultqueue,
            self.subargs,
            self.multisegment,
        )
        task.daemon = True
        task.parent = os.getpid()
        task.errors = self._errors
        self.tasks.append(task)
        task.start()
        return task

    def raise_if_failed(self) -> None:
        """Raise the error of a writer process that failed: an OSError as the process
        met it, BuildFailed otherwise."""
        for task in self.tasks:
            if task.exitcode in (None, 0):
                continue
            if self._errors.empty():
                raise BuildFailed(f"a writer process died (exit code {task.exitcode})")
            number, text, filename = self._errors.get()
            if number is None:
                raise BuildFailed(f"a writer process failed: {text}")
            raise OSError(number, text, filename)

    def _commit(self, *args: Any) -> None:
        super()._commit(*args)
        self.raise_if_failed()

    def cancel(self) -> None:
        for task in self.tasks:
            if task.is_alive():
                task.terminate()
                task.join(5)
        super().cancel()


class GenerationBuilder:
    """Builds a complete new generation beside the live one.

    ``learn()`` the vocabulary of entity mentions, ``add()`` the events, then
    ``finish()`` checks and seals the generation and ``publish()`` makes it live.
    ``abort()`` (or an exception before ``finish``) removes the partial generation;
    the live one is never touched.  With ``processes`` > 1, that many worker
    processes analyse and write segments in parallel.
    """

    def __init__(self, store: IndexStore, processes: int = 1) -> None:
        self.store = store
        self.generation: Generation = store.new_generation()
        self._ix = whoosh_index.create_in(str(self.generation.path), build_schema())
        if processes > 1:
            # Each process writes its own segment: no merge at the end.
            self._writer: Any = _ParallelWriter(
                self._ix,
                procs=processes,
                batchsize=256,
                multisegment=True,
                subargs={
                    "codec": EventCodec(),
                    "limitmb": _LIMIT_MB // processes,
                    "compound": False,
                },
                codec=EventCodec(),
                compound=False,
            )
        else:
            self._writer = self._ix.writer(codec=EventCodec(), limitmb=_LIMIT_MB, compound=False)
        self._extras = _Extras(self.generation.path, MentionVocabulary(), PhraseCounter())
        self.added = 0
        self.started = time.monotonic()

    def learn(self, vocabulary: MentionVocabulary) -> None:
        """Find mentions with ``vocabulary`` (call before the first ``add``)."""
        self._extras = _Extras(self.generation.path, vocabulary, self._extras.phrases)

    @property
    def mentions(self) -> tuple[int, int]:
        return self._extras.mentions

    def add(self, event: Event) -> None:
        """Add one event (each id once)."""
        self._writer.add_document(**self._extras.document(event))
        self.added += 1

    def finish(self, extra_meta: dict[str, Any] | None = None) -> Generation:
        """Commit, check the result, save what readers need and write meta.json."""
        self._writer.commit()
        with self._ix.searcher() as searcher:
            count = searcher.doc_count()
            if count != self.added:
                raise BuildFailed(
                    f"check failed: {count} documents in the new index, {self.added} expected"
                )
            self._extras.save(searcher)
        meta = {
            "generation": self.generation.name,
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "documents": count,
            "events_with_mentions": self._extras.events_with_mentions,
            "mentions_added": self._extras.mentions_added,
            "seconds": round(time.monotonic() - self.started, 3),
            **(extra_meta or {}),
        }
        self.generation.write_meta(meta)
        return self.generation

    def publish(self, keep: int) -> list[str]:
        """Switch the live index to this generation; returns the generations pruned."""
        self.store.publish(self.generation)
        return self.store.prune(keep)

    def abort(self) -> None:
        """Throw the partial generation away."""
        # Already failing: a writer that cannot cancel must not stop the clean-up.
        with contextlib.suppress(Exception):
            self._writer.cancel()
        self.store.discard(self.generation)


def default_processes() -> int:
    """Writer processes for a rebuild: one per core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


class LiveUpdater:
    """Upserts and deletes events in the live generation; readers see them after commit."""

    def __init__(self, store: IndexStore, learn: MentionVocabulary | None = None) -> None:
        """Open the live generation; ``learn`` (from the events to add) extends the
        vocabulary of mentions the generation was built with."""
        self.generation = store.current()
        path = self.generation.path
        vocabulary = MentionVocabulary.load(path / MENTIONS_FILE)
        if learn is not None:
            vocabulary.names |= learn.names
            vocabulary.lowercase_words |= learn.lowercase_words
        self._extras = _Extras(path, vocabulary, PhraseCounter.load(path / PHRASES_FILE))
        self._ix = whoosh_index.open_dir(str(path))
        _remove_uncommitted(self._ix, path)  # what a killed or failed writer left
        try:
            self._writer = self._ix.writer(codec=EventCodec(), limitmb=_LIMIT_MB, compound=False)
        except BaseException:
            with contextlib.suppress(OSError):  # already failing: clean up what can be
                _remove_uncommitted(self._ix, path)
            raise
        # The index as it was, to tell adds from replaces.
        self._before: Any = self._ix.searcher()
        self.added = 0
        self.replaced = 0
        self.deleted = 0
        self.committed = False  # True once the changes are visible (even if saving failed)

    @property
    def mentions(self) -> tuple[int, int]:
        return self._extras.mentions

    def upsert(self, event: Event) -> None:
        """Add an event, replacing any event with its id (each id once per batch)."""
        if self._before is not None and self._before.document_number(id=event.id) is not None:
            self.replaced += 1
        else:
            self.added += 1
        self._writer.update_document(**self._extras.document(event))

    def delete(self, event_id: str) -> bool:
        """Delete an event by id; False when there was none."""
        removed = self._writer.delete_by_term("id", event_id)
        self.deleted += removed
        return bool(removed)

    def _close_before(self) -> None:
        if self._before is not None:
            self._before.close()
            self._before = None

    def commit(self) -> None:
        """Make the changes visible, then save what readers need beside them."""
        self._close_before()
        self._writer.commit()
        self.committed = True
        with self._ix.searcher() as searcher:
            self._extras.save(searcher)

    def cancel(self) -> None:
        """Drop uncommitted changes and remove the files written for them, so that
        nothing a failed writer wrote (on a full disk) stands in the way of the next."""
        self._close_before()
        # Already failing (the disk may still be full): clean up as far as possible.
        try:
            self._writer.cancel()
        except Exception:  # noqa: BLE001 - whoosh's cancel stopped half-way: finish it
            with contextlib.suppress(Exception):
                self._writer.writelock.release()
            with contextlib.suppress(Exception):
                self._writer.temp_storage().destroy()
        with contextlib.suppress(OSError):
            _remove_uncommitted(self._ix, self.generation.path)


def _remove_uncommitted(ix: Any, path: Path) -> None:
    """Remove the segment files and postings arrays no committed segment uses: what a
    writer that failed or was killed before its commit left (whoosh's own commit
    removes the files of segments it merged away in the same way)."""
    with ix.reader() as reader:
        segments = [r.segment() for r, _ in reader.leaf_readers() if hasattr(r, "segment")]
    whoosh_index.clean_files(ix.storage, ix.indexname, ix.latest_generation(), segments)
    remove_unused(path, {segment.segment_id() for segment in segments})
    shutil.rmtree(path / f"{ix.indexname}.tmp", ignore_errors=True)  # a writer's scratch files
