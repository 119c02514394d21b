"""Writing events: building a new generation, and updating the live one in place.

Callers hold the store's writer lock and give each id once (the indexer keeps
only the last copy of a repeated id).  After every commit the writer saves what
readers need beside the whoosh files: the vocabulary of entity mentions and the
suggestion table, counted from the live documents of the commit's segments (each
segment's postings arrays and columns, its documents' title phrases among them,
are written with it, by search/writer_hooks.py), then records the checksum of
every file the commit reads in meta.json (``store.Record``).  The writing side
never opens a reader's snapshot: what it needs it reads from the segments' files
and whoosh's writer.

The order of writes keeps every record true while readers read: whoosh writes
its commit's files, then its table of contents (the commit point of whoosh); the
writer adds the commit's sidecar tables under new names (``mentions.<commit>.json``),
records them all, and only then removes what no record names any more.  Readers
serve the recorded commit, so none ever finds a recorded file changed.  An update
records its commit twice: first with the previous suggestion table, which is still
there, then, once the new table is built (seconds on a large index), with the new
one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from whoosh.index import clean_files

from search.acronyms import ALIASES_FILE, AliasLearner
from search.checksums import Checksum, Verifier, checksum, summary
from search.columns import COLUMNS_DIR, load, load_phrases, path_of, shown_counts, value_counts
from search.errors import BuildFailed, IndexDamaged
from search.event import Event
from search.mentions import MENTIONS_FILE, MentionVocabulary
from search.postings import POSTINGS_DIR, remove_unused
from search.schema import create_index, document, latest_commit, open_index, toc_file
from search.store import Generation, IndexStore, Record, versioned
from search.suggest import SUGGEST_FILE, build_suggester
from search.text import DEFAULT_STEMMER, fold, shared_analyzer
from search.writer_hooks import EventCodec, ParallelWriter

__all__ = ["GenerationBuilder", "LiveUpdater", "default_processes"]

# Memory each whoosh writer may use before it spills postings to disk.
_LIMIT_MB = 256
# Segments are written as separate files, not whoosh's compound file: readers of a
# compound file hold much of it in their own memory.


def _live_segments(searcher: Any) -> list[tuple[str, frozenset[int]]]:
    """(segment id, deleted local docnums) of every segment of the commit a whoosh
    searcher reads, in docnum order (whoosh's public reader API)."""
    found = []
    for reader, _ in searcher.reader().leaf_readers():
        deleted = reader.deleted_docs_set if reader.has_deletions() else frozenset()
        found.append((reader.segment().segment_id(), frozenset(deleted)))
    return found


def _suggestions(path: Path, segments: list[tuple[str, frozenset[int]]], stemmer: str) -> Any:
    """The suggestion table of a commit, from its segments' columns: the entity names
    and title phrases of its live documents."""
    entities = []
    phrases = []
    for segment_id, deleted in segments:
        columns = load(path_of(path, segment_id))
        live = np.arange(columns.doc_count, dtype=np.int64)
        if deleted:
            live = np.setdiff1d(live, np.fromiter(deleted, dtype=np.int64, count=len(deleted)))
        entities.append((columns.facets["entity"], live))
        phrases.append((load_phrases(path_of(path, segment_id)), live))
    # Entity names compare as facet values do (folded).
    named = shown_counts(entities, fold)
    return build_suggester(named, value_counts(phrases).items(), shared_analyzer(stemmer))


def _check_segments(generation: Generation, segment_ids: list[str]) -> None:
    """Every segment of the commit has its arrays and columns (the codec's writers
    save them with the segment); those of segments merged away are removed."""
    for segment_id in segment_ids:
        if not path_of(generation.path, segment_id).exists():
            raise BuildFailed(f"segment {segment_id} was written without its columns")
    _keep_segments(generation.path, set(segment_ids))


def _keep_segments(path: Path, wanted: set[str]) -> None:
    """Remove the postings arrays and columns of every segment but ``wanted``."""
    remove_unused(path, wanted)
    directory = path / COLUMNS_DIR
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
    for name in (MENTIONS_FILE, SUGGEST_FILE, ALIASES_FILE):
        stem, _, suffix = name.rpartition(".")
        for path in generation.path.glob(f"{stem}.*.{suffix}"):
            if path.name not in kept and path.name[len(stem) + 1 : -len(suffix) - 1].isdigit():
                path.unlink(missing_ok=True)


class _Documents:
    """Events as index documents: the entity names their text mentions (found with
    the vocabulary) and their title phrases, counting the mentions added.  Writer
    processes each use their own copy (``report`` gives its counts)."""

    def __init__(self, vocabulary: MentionVocabulary) -> None:
        self.finder = vocabulary.finder()
        self.aliases = AliasLearner()
        self.events_with_mentions = 0
        self.mentions_added = 0

    def document(self, event: Event) -> dict[str, Any]:
        mentions = self.finder.mentions(event)
        if mentions:
            self.events_with_mentions += 1
            self.mentions_added += len(mentions)
        self.aliases.add(event, mentions)
        return document(event, mentions)

    def document_of(self, line: bytes) -> dict[str, Any]:
        """The document of an event encoded as canonical JSON (``Event.to_dict``)."""
        return self.document(Event.from_dict(orjson.loads(line)))

    def report(self) -> tuple[int, int, AliasLearner]:
        """Events that gained entities from their text, how many they gained, and the
        acronyms learned from the events."""
        return self.events_with_mentions, self.mentions_added, self.aliases

    def add_report(self, report: tuple[int, int, AliasLearner]) -> None:
        """Count what another copy (a writer process) made."""
        self.events_with_mentions += report[0]
        self.mentions_added += report[1]
        self.aliases.merge(report[2])


class _Sidecar:
    """What writers keep beside the whoosh files: the vocabulary entity mentions are
    found with, and the suggestion table."""

    def __init__(self, generation: Generation, vocabulary: MentionVocabulary, stemmer: str) -> None:
        self.generation = generation
        self.stemmer = stemmer
        self.vocabulary = vocabulary
        self.documents = _Documents(vocabulary)

    @property
    def mentions(self) -> tuple[int, int]:
        """Events that gained entities from their text, and how many entities they gained."""
        events, added, _ = self.documents.report()
        return events, added

    def save(self, searcher: Any, build: dict[str, Any], previous: Record | None) -> Record:
        """Save what readers need of the commit ``searcher`` reads (the vocabulary and
        the suggestion table) and record it.  ``previous``: the record of the
        generation's commit before (None for a new generation, which is recorded
        once, complete)."""
        path = self.generation.path
        commit = int(searcher.reader().generation())
        segments = _live_segments(searcher)
        segment_ids = [segment_id for segment_id, _ in segments]
        _check_segments(self.generation, segment_ids)
        sidecars = dict(previous.sidecars) if previous is not None else {}
        tables = (MENTIONS_FILE, self.vocabulary), (ALIASES_FILE, self.documents.aliases)
        for name, table in tables:
            sidecars[name] = versioned(name, commit)
            table.save(path / sidecars[name])
        known = previous
        if previous is not None:
            # Recorded at once, with the previous suggestion table, so that readers
            # need not wait for the new one.
            known = _record(self.generation, commit, segment_ids, sidecars, build, previous)
        sidecars[SUGGEST_FILE] = versioned(SUGGEST_FILE, commit)
        _suggestions(path, segments, self.stemmer).save(path / sidecars[SUGGEST_FILE])
        record = _record(self.generation, commit, segment_ids, sidecars, build, known)
        _remove_unrecorded_sidecars(self.generation, record, *([previous] if previous else []))
        return record


class GenerationBuilder:
    """Builds a complete new generation beside the live one.

    ``learn()`` the vocabulary of entity mentions, ``add()`` the events, then
    ``finish()`` checks and seals the generation and ``publish()`` makes it live.
    ``abort()`` (or an exception before ``finish``) removes the partial generation;
    the live one is never touched.  With ``processes`` > 1, that many worker
    processes analyse and write segments in parallel.  Text is analysed with
    ``stemmer`` (search/text.py's STEMMERS), which meta.json records.
    """

    def __init__(
        self, store: IndexStore, processes: int = 1, stemmer: str = DEFAULT_STEMMER
    ) -> None:
        self.store = store
        self.generation: Generation = store.new_generation()
        self.stemmer = stemmer
        self._ix = create_index(self.generation.path, stemmer)
        if processes > 1:
            # Each process writes its own segment: no merge at the end.
            self._writer: Any = ParallelWriter(
                self._ix,
                procs=processes,
                batchsize=256,
                multisegment=True,
                subargs={
                    "codec": EventCodec(),
                    # Less for whoosh's pool, as each process also keeps its
                    # documents' title phrases for the segment's columns.
                    "limitmb": _LIMIT_MB * 5 // 8 // processes,
                    "compound": False,
                },
                codec=EventCodec(),
                compound=False,
            )
        else:
            self._writer = self._ix.writer(codec=EventCodec(), limitmb=_LIMIT_MB, compound=False)
        self._sidecar = _Sidecar(self.generation, MentionVocabulary(), stemmer)
        if isinstance(self._writer, ParallelWriter):
            self._writer.documents = self._sidecar.documents
        self.added = 0
        self.started = time.monotonic()

    def learn(self, vocabulary: MentionVocabulary) -> None:
        """Find mentions with ``vocabulary`` (call before the first ``add``)."""
        self._sidecar = _Sidecar(self.generation, vocabulary, self.stemmer)
        if isinstance(self._writer, ParallelWriter):
            self._writer.documents = self._sidecar.documents

    @property
    def mentions(self) -> tuple[int, int]:
        return self._sidecar.mentions

    def add(self, event: Event) -> None:
        """Add one event (each id once)."""
        self._writer.add_document(**self._sidecar.documents.document(event))
        self.added += 1

    def add_encoded(self, line: bytes) -> None:
        """Add one event (each id once) encoded as canonical JSON (``Event.to_dict``,
        one line): with writer processes, they decode and analyse it."""
        if isinstance(self._writer, ParallelWriter):
            self._writer.add_encoded(line)
        else:
            self._writer.add_document(**self._sidecar.documents.document_of(line))
        self.added += 1

    def finish(self, extra_meta: dict[str, Any] | None = None) -> Generation:
        """Commit, check the result, save what readers need and write meta.json (the
        record of the generation's files: from then on it is complete)."""
        self._writer.commit()
        if isinstance(self._writer, ParallelWriter):
            self._writer.raise_if_failed()  # a writer process's own error, not only its loss
            for report in self._writer.reports():
                self._sidecar.documents.add_report(report)
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
                "events_with_mentions": self._sidecar.mentions[0],
                "mentions_added": self._sidecar.mentions[1],
                "analysis": {"stemmer": self.stemmer},
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
        self._sidecar = _Sidecar(self.generation, vocabulary, self.record.stemmer)
        self._sidecar.documents.aliases = AliasLearner.load(
            path / self.record.sidecars[ALIASES_FILE]
        )
        self._ix = open_index(path)
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
        return self._sidecar.mentions

    def upsert(self, event: Event) -> None:
        """Add an event, replacing any event with its id (each id once per batch)."""
        if self._before is not None and self._before.document_number(id=event.id) is not None:
            self.replaced += 1
        else:
            self.added += 1
        self._writer.update_document(**self._sidecar.documents.document(event))

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
        """Make the changes visible, then save what readers need beside them and record
        them: readers serve them once they are recorded."""
        self._close_before()
        self._writer.commit()
        self.committed = True
        with self._ix.searcher() as searcher:
            self.record = self._sidecar.save(searcher, dict(self.record.build), self.record)

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
    """Remove the segment files, columns and postings arrays no committed segment uses:
    what a writer that failed or was killed before its commit left (whoosh's own
    commit removes the files of segments it merged away in the same way)."""
    with ix.reader() as reader:
        segments = [r.segment() for r, _ in reader.leaf_readers() if hasattr(r, "segment")]
    clean_files(ix.storage, ix.indexname, ix.latest_generation(), segments)
    _keep_segments(path, {segment.segment_id() for segment in segments})
    shutil.rmtree(path / f"{ix.indexname}.tmp", ignore_errors=True)  # a writer's scratch files
