"""Writing events: building a new generation, and updating the live one in place.

Callers hold the store's writer lock and give each id once (the indexer keeps
only the last copy of a repeated id).  After every commit the writer saves what
readers need beside the whoosh files: the columns of new segments, title
phrases, the vocabulary of entity mentions and the suggestion table, then
records the checksum of every file the commit reads in meta.json
(``store.Record``).

The order of writes keeps every record true while readers read: whoosh writes
its commit's files, then its table of contents (the commit point of whoosh); the
writer adds the commit's columns and sidecar tables under new names (segment ids,
``phrases.<commit>.json``), records them all, and only then removes what no
record names any more.  Readers serve the recorded commit, so none ever finds a
recorded file changed.  An update records its commit twice: first with the
previous suggestion table, which is still there, then, once the new table is
built (seconds on a large index), with the new one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from search.checksums import Checksum, Verifier, checksum, summary
from search.columns import COLUMNS_DIR, SegmentColumns, facet_column, path_of, save
from search.errors import BuildFailed, IndexDamaged
from search.event import Event
from search.mentions import MENTIONS_FILE, MentionVocabulary
from search.postings import POSTINGS_DIR, SegmentPostings, remove_unused
from search.schema import (
    FACET_FIELDS,
    create_index,
    document,
    latest_commit,
    open_index,
    toc_file,
)
from search.snapshot import SegmentCache, open_snapshot
from search.store import Generation, IndexStore, Record, versioned
from search.suggest import PHRASES_FILE, SUGGEST_FILE, PhraseCounter, build_suggester
from search.writer_hooks import EventCodec, ParallelWriter

__all__ = ["GenerationBuilder", "LiveUpdater", "default_processes"]

# Memory each whoosh writer may use before it spills postings to disk.
_LIMIT_MB = 256
# Segments are written as separate files, not whoosh's compound file: readers of a
# compound file hold much of it in their own memory.
# Title phrases offered as suggestions: the most frequent ones.
PHRASES_KEPT = 100_000


def _segment_columns(reader: Any, postings: SegmentPostings) -> SegmentColumns:
    """A segment's columns: days from whoosh's date column, facets from the postings."""
    doc_count = int(reader.doc_count_all())
    column = reader.column_reader("date", translate=False)
    days = np.fromiter((int(d) for d in column), dtype=np.int64, count=doc_count)
    return SegmentColumns(
        doc_count=doc_count,
        days=days,
        facets={
            name: facet_column(postings, fieldname, doc_count)
            for name, fieldname in FACET_FIELDS.items()
        },
    )


def _segment_ids(searcher: Any) -> list[str]:
    return [reader.segment().segment_id() for reader, _ in searcher.reader().leaf_readers()]


def _warm(generation: Generation, searcher: Any) -> None:
    """Save the columns of every segment that has none, and remove the arrays and
    columns of segments the index no longer has (merged away)."""
    wanted = set()
    for reader, _ in searcher.reader().leaf_readers():
        segment_id = reader.segment().segment_id()
        wanted.add(segment_id)
        path = path_of(generation.path, segment_id)
        if not path.exists():
            try:
                postings = SegmentPostings.open(generation.path, segment_id)
            except IndexDamaged as exc:
                raise BuildFailed(
                    f"segment {segment_id} was written without its arrays: {exc}"
                ) from None
            save(path, _segment_columns(reader, postings))
    remove_unused(generation.path, wanted)
    directory = generation.path / COLUMNS_DIR
    if directory.is_dir():
        for old in directory.iterdir():
            if old.suffix == ".npz" and old.stem not in wanted and not old.name.startswith("."):
                old.unlink(missing_ok=True)


def _commit_files(path: Path, commit: int, segment_ids: list[str]) -> list[str]:
    """Every file a commit reads (but its sidecar tables), relative to the
    generation: whoosh's table of contents and its segments' files, and each
    segment's postings arrays and columns."""
    prefixes = tuple(f"{segment_id}." for segment_id in segment_ids)
    names = [toc_file(commit)]
    names += sorted(p.name for p in path.iterdir() if p.name.startswith(prefixes) and p.is_file())
    for segment_id in segment_ids:
        arrays = path / POSTINGS_DIR / segment_id
        names += sorted(f"{POSTINGS_DIR}/{segment_id}/{p.name}" for p in arrays.iterdir())
        names.append(path_of(path, segment_id).relative_to(path).as_posix())
    return names


def _record(
    generation: Generation,
    commit: int,
    segment_ids: list[str],
    sidecars: dict[str, str],
    build: dict[str, Any],
    known: Record | None,
) -> Record:
    """Write the record of ``commit``: the checksum of every file it reads.  Files
    ``known`` already records are not read again (a recorded file never changes)."""
    old = known.files if known is not None else {}
    names = _commit_files(generation.path, commit, segment_ids) + sorted(sidecars.values())
    files: dict[str, Checksum] = {}
    for name in names:
        found = old.get(name)
        files[name] = found if found is not None else checksum(generation.path / name)
    generation.write_record(build, commit, files, sidecars)
    return Record(commit, files, dict(sidecars), dict(build))


def _remove_unrecorded_sidecars(generation: Generation, *records: Record) -> None:
    """Remove the sidecar tables of earlier commits that none of ``records`` names
    (readers of the record before the newest one may still be loading its tables)."""
    kept = {name for record in records for name in record.sidecars.values()}
    for name in (PHRASES_FILE, MENTIONS_FILE, SUGGEST_FILE):
        stem, _, suffix = name.rpartition(".")
        for path in generation.path.glob(f"{stem}.*.{suffix}"):
            if path.name not in kept and path.name[len(stem) + 1 : -len(suffix) - 1].isdigit():
                path.unlink(missing_ok=True)


class _Sidecar:
    """What writers keep beside the whoosh files: title phrases for suggestions, and
    the vocabulary entity mentions are found with."""

    def __init__(
        self, generation: Generation, vocabulary: MentionVocabulary, phrases: PhraseCounter
    ) -> None:
        self.generation = generation
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

    def save(self, searcher: Any, build: dict[str, Any], previous: Record | None) -> Record:
        """Save what readers need of the commit ``searcher`` reads (the columns of
        new segments, the phrases, the vocabulary and the suggestion table) and record
        it.  ``previous``: the record of the generation's commit before (None for a
        new generation, which is recorded once, complete)."""
        path = self.generation.path
        commit = int(searcher.reader().generation())
        _warm(self.generation, searcher)
        segment_ids = _segment_ids(searcher)
        sidecars = dict(previous.sidecars) if previous is not None else {}
        for name, table in ((PHRASES_FILE, self.phrases), (MENTIONS_FILE, self.vocabulary)):
            sidecars[name] = versioned(name, commit)
            table.save(path / sidecars[name])
        known = previous
        if previous is not None:
            # Recorded at once, with the previous suggestion table, so that readers
            # need not wait for the new one.
            known = _record(self.generation, commit, segment_ids, sidecars, build, previous)
        snap = open_snapshot(self.generation, searcher, SegmentCache(), commit)
        phrases = self.phrases.counts.most_common(PHRASES_KEPT)
        sidecars[SUGGEST_FILE] = versioned(SUGGEST_FILE, commit)
        build_suggester(snap, phrases).save(path / sidecars[SUGGEST_FILE])
        record = _record(self.generation, commit, segment_ids, sidecars, build, known)
        _remove_unrecorded_sidecars(self.generation, record, *([previous] if previous else []))
        return record


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
        self._ix = create_index(self.generation.path)
        if processes > 1:
            # Each process writes its own segment: no merge at the end.
            self._writer: Any = ParallelWriter(
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
        self._sidecar = _Sidecar(self.generation, MentionVocabulary(), PhraseCounter())
        self.added = 0
        self.started = time.monotonic()

    def learn(self, vocabulary: MentionVocabulary) -> None:
        """Find mentions with ``vocabulary`` (call before the first ``add``)."""
        self._sidecar = _Sidecar(self.generation, vocabulary, self._sidecar.phrases)

    @property
    def mentions(self) -> tuple[int, int]:
        return self._sidecar.mentions

    def add(self, event: Event) -> None:
        """Add one event (each id once)."""
        self._writer.add_document(**self._sidecar.document(event))
        self.added += 1

    def finish(self, extra_meta: dict[str, Any] | None = None) -> Generation:
        """Commit, check the result, save what readers need and write meta.json (the
        record of the generation's files: from then on it is complete)."""
        self._writer.commit()
        with self._ix.searcher() as searcher:
            count = searcher.doc_count()
            if count != self.added:
                raise BuildFailed(
                    f"check failed: {count} documents in the new index, {self.added} expected"
                )
            build = {
                "generation": self.generation.name,
                "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "documents": count,
                "events_with_mentions": self._sidecar.events_with_mentions,
                "mentions_added": self._sidecar.mentions_added,
                **(extra_meta or {}),
            }
            build["seconds"] = round(time.monotonic() - self.started, 3)
            self._sidecar.save(searcher, build, None)
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


def _checked(generation: Generation) -> Record:
    """The generation's record, once every file it names is found as recorded (all
    bytes read).  A commit that whoosh wrote but its writer did not record (the
    writer was killed) may have removed files the record names: those are left out,
    and the next commit records what the index then holds."""
    record = generation.record()
    path = generation.path
    expected = record.files
    missing = [name for name in expected if not (path / name).exists()]
    if missing and latest_commit(path) > record.commit:
        expected = {n: c for n, c in expected.items() if n not in missing}
    problems = Verifier().problems(path, expected)
    if problems:
        raise IndexDamaged(f"{summary(generation.name, problems)}: run indexer rebuild")
    return record


def default_processes() -> int:
    """Writer processes for a rebuild: one per core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


class LiveUpdater:
    """Upserts and deletes events in the live generation; readers see them after commit."""

    def __init__(self, store: IndexStore, learn: MentionVocabulary | None = None) -> None:
        """Open the live generation; ``learn`` (from the events to add) extends the
        vocabulary of mentions the generation was built with.  IndexDamaged (nothing
        is written) when a file of the live generation is not as recorded."""
        self.generation = store.current()
        self.record = _checked(self.generation)
        path = self.generation.path
        vocabulary = MentionVocabulary.load(path / self.record.sidecars[MENTIONS_FILE])
        if learn is not None:
            vocabulary.names |= learn.names
            vocabulary.lowercase_words |= learn.lowercase_words
        self._sidecar = _Sidecar(
            self.generation,
            vocabulary,
            PhraseCounter.load(path / self.record.sidecars[PHRASES_FILE]),
        )
        self._ix = open_index(path)
        self._writer = self._ix.writer(codec=EventCodec(), limitmb=_LIMIT_MB, compound=False)
        self._before = self._ix.searcher()  # the index as it was, to tell adds from replaces
        self.added = 0
        self.replaced = 0
        self.deleted = 0

    @property
    def mentions(self) -> tuple[int, int]:
        return self._sidecar.mentions

    def upsert(self, event: Event) -> None:
        """Add an event, replacing any event with its id (each id once per batch)."""
        if self._before.document_number(id=event.id) is not None:
            self.replaced += 1
        else:
            self.added += 1
        self._writer.update_document(**self._sidecar.document(event))

    def delete(self, event_id: str) -> bool:
        """Delete an event by id; False when there was none."""
        removed = self._writer.delete_by_term("id", event_id)
        self.deleted += removed
        return bool(removed)

    def commit(self) -> None:
        """Make the changes visible: readers serve them once they are recorded."""
        self._before.close()
        self._writer.commit()
        with self._ix.searcher() as searcher:
            self.record = self._sidecar.save(searcher, dict(self.record.build), self.record)

    def cancel(self) -> None:
        """Drop uncommitted changes."""
        self._before.close()
        self._writer.cancel()
