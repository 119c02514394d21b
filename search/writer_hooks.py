"""Every hook the engine has into whoosh's writer, each with the reason it exists.

whoosh writes the index (the system of record); these subclasses change how it
writes, never what it stores, and nothing outside this module relies on whoosh's
internals.  The read side uses whoosh's public API only.

- ``EventCodec``: whoosh's W3 format without per-block length statistics (whoosh
  keeps each block's shortest and longest document for its own block skipping,
  which this engine never uses: it scores whole postings arrays; gathering them
  costs a file-system check per posting), postings blocks not compressed (whoosh's
  postings are read only to find a document by id; zlib cost about 7% of a
  rebuild's CPU time for 10% of the index's size), a per-document writer that
  also keeps each document's day and title phrases and appends its stored
  fields to a file readers map (search/stored.py), and a
  field writer that also saves the segment's postings arrays (search/postings.py)
  and columns (search/columns.py) while whoosh writes them: for new segments and
  for merged ones alike, in the writer process (parallel writers do it in
  parallel), and before whoosh's commit names the segment, so a reader never
  finds a segment without them.
- ``decode_gaps``: whoosh's Positions format stores a posting's word positions as
  a 4-byte count and a pickled list of gaps; the arrays need the positions.
- ``ParallelWriter``: whoosh's multiprocess writer, whose writer processes die
  with the rebuild that forked them (whoosh's do not: a killed rebuild would leave
  them holding the writer lock), report their errors (a full disk) to it, and
  are stopped by a cancel; whoosh waits for room in the job queue for ever, which
  a dead writer process never makes, and skips a dead one's segment at commit.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import pickle
import queue
import signal
import sys
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3PerDocWriter
from whoosh.multiproc import MpWriter, SubWriterTask

from search.columns import FacetColumn, SegmentColumns, facet_column, path_of, save, value_column
from search.errors import BuildFailed
from search.postings import POSTINGS_DIR, PostingsCollector, SegmentPostings
from search.schema import FACET_FIELDS
from search.stored import OFFSETS_FILE, RECORDS_FILE, StoredWriter, discard
from search.suggest import title_phrases

__all__ = ["EventCodec", "ParallelWriter", "decode_gaps"]


def decode_gaps(value: bytes) -> list[int]:
    """The gaps between a posting's word positions, from whoosh's Positions value."""
    encoded = value[4:]
    gaps: list[int] = pickle.loads(encoded if encoded[-1:] == b"." else encoded + b".")
    return gaps


class _PerDocWriter(W3PerDocWriter):  # type: ignore[misc]
    """whoosh's per-document writer, which also keeps every document's day (its
    ``date`` column value) and title phrases (its ``phrases`` field, which is not
    stored: a merged document's come from its stored title) for the segment's
    columns."""

    def __init__(self, codec: EventCodec, storage: Any, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self._days: dict[int, int] = {}
        self._phrases = _PhraseRows()
        self._event: bytes | None = None
        self._current = -1
        self._count = 0
        self._event_codec = codec
        folder = getattr(storage, "folder", None)
        self._stored = (
            StoredWriter(Path(folder) / POSTINGS_DIR, segment.segment_id()) if folder else None
        )

    def start_doc(self, docnum: int) -> None:
        super().start_doc(docnum)
        self._current = docnum
        self._count += 1
        if self._stored is not None:
            self._stored.start()

    def add_field(self, fieldname: str, fieldobj: Any, value: Any, length: Any) -> None:
        if fieldname == PHRASES_FIELD:  # kept in the segment's columns, never stored
            self._phrases.add(self._current, value or ())
            return
        if fieldname == "event":
            self._event = value
        super().add_field(fieldname, fieldobj, value, length)
        if self._stored is not None and value is not None:
            self._stored.add(fieldname, value)

    def finish_doc(self) -> None:
        if self._current not in self._phrases.rows and self._event is not None:
            # A merged document (or one whose title has none): its title's phrases.
            self._phrases.add(self._current, title_phrases(orjson.loads(self._event)["title"]))
        self._event = None
        super().finish_doc()
        if self._stored is not None:
            self._stored.finish()

    def add_column_value(self, fieldname: str, column: Any, value: Any) -> None:
        super().add_column_value(fieldname, column, value)
        if fieldname == "date":
            self._days[self._current] = int(value)

    def cancel_doc(self) -> None:
        super().cancel_doc()
        self._days.pop(self._current, None)
        self._phrases.rows.pop(self._current, None)
        self._count -= 1
        if self._stored is not None:
            self._stored.cancel()

    def close(self) -> None:
        super().close()
        days = np.zeros(self._count, dtype=np.int64)
        for docnum, day in self._days.items():
            days[docnum] = day
        segment_id = self._segment.segment_id()
        self._event_codec.days[segment_id] = days
        self._event_codec.phrases[segment_id] = self._phrases.column(self._count)
        if self._stored is not None:
            self._event_codec.stored[segment_id] = self._stored.close()


# The schema's field of a document's title phrases (search/schema.py).
PHRASES_FIELD = "phrases"


class _PhraseRows:
    """Each document's title phrases as ordinals into the segment's phrases, each
    phrase held once."""

    def __init__(self) -> None:
        self.ordinal: dict[str, int] = {}
        self.rows: dict[int, array[int]] = {}

    def add(self, docnum: int, phrases: Iterable[str]) -> None:
        ordinal = self.ordinal
        self.rows[docnum] = array("i", [ordinal.setdefault(p, len(ordinal)) for p in phrases])

    def column(self, doc_count: int) -> FacetColumn:
        empty = array("i")
        rows = [self.rows.get(d, empty) for d in range(doc_count)]
        return value_column(list(self.ordinal), rows)


class _FieldWriter(W3FieldWriter):  # type: ignore[misc]
    """whoosh's field writer, which also saves the segment's postings arrays and,
    with the days its per-document writer kept, its columns."""

    def __init__(self, codec: EventCodec, storage: Any, segment: Any) -> None:
        super().__init__(codec, storage, segment)
        self._collector: PostingsCollector | None = None
        self._event_codec = codec

    def add_postings(self, schema: Any, lengths: Any, items: Iterable[tuple[Any, ...]]) -> None:
        self._collector = PostingsCollector()
        super().add_postings(schema, lengths, self._collector.tee(items, decode_gaps))

    def close(self) -> None:
        super().close()
        folder = getattr(self._storage, "folder", None)
        if self._collector is None:  # no postings, no segment: nothing of it is kept
            discard(self._event_codec.stored.pop(self._segment.segment_id(), None))
        if self._collector is not None and folder:
            segment_id = self._segment.segment_id()
            stored = self._event_codec.stored.pop(segment_id, None)
            extra = {}
            if stored is not None:
                records, offsets = stored
                extra = {RECORDS_FILE: records, OFFSETS_FILE: offsets}
            directory = self._collector.save(Path(folder), segment_id, extra)
            self._collector = None
            days = self._event_codec.days.pop(segment_id)
            phrases = self._event_codec.phrases.pop(segment_id)
            postings = SegmentPostings(directory)
            facets = {
                name: facet_column(postings, fieldname, len(days))
                for name, fieldname in FACET_FIELDS.items()
            }
            columns = SegmentColumns(len(days), days, facets, phrases=phrases)
            save(path_of(Path(folder), segment_id), columns)


class EventCodec(W3Codec):  # type: ignore[misc]
    """whoosh's W3 format as this engine writes it (see the module docstring)."""

    length_stats = False

    def __init__(self, blocklimit: int = 128, compression: int = 0, inlinelimit: int = 1) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)
        #: Segment id -> every document's day, from the per-document writer to the
        #: field writer (whoosh closes the first before the second).
        self.days: dict[str, Any] = {}
        #: Segment id -> every document's title phrases, likewise.
        self.phrases: dict[str, FacetColumn] = {}
        #: Segment id -> its stored events (search/stored.py): the records' file and
        #: the offsets, from the per-document writer to the field writer likewise.
        self.stored: dict[str, tuple[Path, Any]] = {}

    def per_document_writer(self, storage: Any, segment: Any) -> W3PerDocWriter:
        return _PerDocWriter(self, storage, segment)

    def field_writer(self, storage: Any, segment: Any) -> W3FieldWriter:
        return _FieldWriter(self, storage, segment)


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
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


class Documents(Protocol):
    """What makes index documents of encoded events in a writer process."""

    def document_of(self, line: bytes) -> dict[str, Any]:
        """The index document of one encoded event."""

    def report(self) -> Any:
        """What the process made, for the rebuild (picklable)."""


# A job file's entry: whoosh's own (0, fields), or ours (_ENCODED, an encoded event).
_ENCODED = 1


class _SubWriter(SubWriterTask):  # type: ignore[misc]
    """One writer process of a parallel rebuild; it never outlives the rebuild, and
    an error it meets (a full disk) goes to the rebuild, not to the terminal.  It
    makes the documents of the encoded events it is given (``documents``), so that
    the analysis of every event is done in the writer processes, in parallel."""

    parent = 0  # the rebuild's pid, set before the process starts
    errors: Any = None  # the rebuild's queue of writer processes' errors
    reports: Any = None  # the rebuild's queue of what the processes made
    documents: Documents | None = None

    def _process_file(self, filename: str, doc_count: int) -> None:
        writer = self.writer
        storage = writer.temp_storage()
        with storage.open_file(filename).raw_file() as fh:
            for _ in range(doc_count):
                code, args = pickle.load(fh)
                if code == _ENCODED and self.documents is not None:
                    writer.add_document(**self.documents.document_of(args))
                else:
                    writer.add_document(**args)
        storage.delete_file(filename)

    def run(self) -> None:
        die_with_parent(self.parent)
        try:
            super().run()
            if self.documents is not None:
                self.reports.put(self.documents.report())
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

    def __init__(self, jobs: Any, writer: ParallelWriter) -> None:
        self._jobs = jobs
        self._writer = writer

    def put(self, item: Any) -> None:
        while True:
            try:
                self._jobs.put(item, timeout=0.2)
                return
            except queue.Full:
                self._writer.raise_if_failed()


class ParallelWriter(MpWriter):  # type: ignore[misc]
    """whoosh's multiprocess writer, with writer processes that die with the rebuild,
    whose errors the rebuild raises (``raise_if_failed``), and which a cancel stops."""

    jobqueue: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._jobs: Any = self.jobqueue  # what the writer processes take jobs from
        self.jobqueue = _WatchedQueue(self._jobs, self)
        self._errors: Any = multiprocessing.SimpleQueue()
        self._reports: Any = multiprocessing.SimpleQueue()
        #: Makes the documents of encoded events (``add_encoded``); set before the
        #: first is added.
        self.documents: Documents | None = None

    def add_encoded(self, line: bytes) -> None:
        """Add one encoded event; a writer process makes its document (``documents``)."""
        if self.documents is None:
            raise ValueError("add_encoded needs the writer's documents set")
        self.docbuffer.append((_ENCODED, line))
        if len(self.docbuffer) >= self.batchsize:
            self._enqueue()
        self._added_sub = True

    def reports(self) -> list[Any]:
        """What each writer process made (``Documents.report``), once committed."""
        found = []
        while not self._reports.empty():
            found.append(self._reports.get())
        return found

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
        task.reports = self._reports
        task.documents = self.documents
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

    def cancel(self) -> None:
        for task in self.tasks:
            if task.is_alive():
                task.terminate()
                task.join(5)
        super().cancel()
