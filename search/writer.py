"""Writing events: building a new generation, and updating the live one in place.

Callers hold the store's writer lock and give each id once (the indexer keeps
only the last copy of a repeated id).  After every commit the writer saves what
readers need beside the whoosh files: the columns of new segments, title
phrases, the vocabulary of entity mentions and the suggestion table.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
from pathlib import Path
from typing import Any

from whoosh.index import clean_files

from search.columns import COLUMNS_DIR, path_of
from search.errors import BuildFailed
from search.event import Event
from search.mentions import MENTIONS_FILE, MentionVocabulary
from search.postings import remove_unused
from search.schema import create_index, document, open_index
from search.snapshot import SegmentCache, open_snapshot
from search.store import Generation, IndexStore
from search.suggest import PHRASES_FILE, SUGGEST_FILE, PhraseCounter, build_suggester
from search.text import DEFAULT_STEMMER
from search.writer_hooks import EventCodec, ParallelWriter

__all__ = ["GenerationBuilder", "LiveUpdater", "default_processes"]

# Memory each whoosh writer may use before it spills postings to disk.
_LIMIT_MB = 256
# Segments are written as separate files, not whoosh's compound file: readers of a
# compound file hold much of it in their own memory.
# Title phrases offered as suggestions: the most frequent ones.
PHRASES_KEPT = 100_000


def _check_segments(generation: Generation, searcher: Any) -> None:
    """Every segment of the commit has its arrays and columns (the codec's writers
    save them with the segment); those of segments merged away are removed."""
    wanted = set()
    for reader, _ in searcher.reader().leaf_readers():
        segment_id = reader.segment().segment_id()
        wanted.add(segment_id)
        if not path_of(generation.path, segment_id).exists():
            raise BuildFailed(f"segment {segment_id} was written without its columns")
    _keep_segments(generation.path, wanted)


def _keep_segments(path: Path, wanted: set[str]) -> None:
    """Remove the postings arrays and columns of every segment but ``wanted``."""
    remove_unused(path, wanted)
    directory = path / COLUMNS_DIR
    if directory.is_dir():
        for old in directory.iterdir():
            if old.suffix == ".npz" and old.stem not in wanted and not old.name.startswith("."):
                old.unlink(missing_ok=True)


class _Sidecar:
    """What writers keep beside the whoosh files: title phrases for suggestions, and
    the vocabulary entity mentions are found with."""

    def __init__(
        self,
        generation: Generation,
        vocabulary: MentionVocabulary,
        phrases: PhraseCounter,
        stemmer: str,
    ) -> None:
        self.generation = generation
        self.stemmer = stemmer
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
        path = self.generation.path
        self.phrases.save(path / PHRASES_FILE)
        self.vocabulary.save(path / MENTIONS_FILE)
        _check_segments(self.generation, searcher)
        snap = open_snapshot(self.generation, searcher, SegmentCache(), 0, self.stemmer)
        phrases = self.phrases.counts.most_common(PHRASES_KEPT)
        build_suggester(snap, phrases).save(path / SUGGEST_FILE)


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
                    "limitmb": _LIMIT_MB // processes,
                    "compound": False,
                },
                codec=EventCodec(),
                compound=False,
            )
        else:
            self._writer = self._ix.writer(codec=EventCodec(), limitmb=_LIMIT_MB, compound=False)
        self._sidecar = _Sidecar(self.generation, MentionVocabulary(), PhraseCounter(), stemmer)
        self.added = 0
        self.started = time.monotonic()

    def learn(self, vocabulary: MentionVocabulary) -> None:
        """Find mentions with ``vocabulary`` (call before the first ``add``)."""
        self._sidecar = _Sidecar(self.generation, vocabulary, self._sidecar.phrases, self.stemmer)

    @property
    def mentions(self) -> tuple[int, int]:
        return self._sidecar.mentions

    def add(self, event: Event) -> None:
        """Add one event (each id once)."""
        self._writer.add_document(**self._sidecar.document(event))
        self.added += 1

    def finish(self, extra_meta: dict[str, Any] | None = None) -> Generation:
        """Commit, check the result, save what readers need and write meta.json."""
        self._writer.commit()
        if isinstance(self._writer, ParallelWriter):
            self._writer.raise_if_failed()  # a writer process's own error, not only its loss
        with self._ix.searcher() as searcher:
            count = searcher.doc_count()
            if count != self.added:
                raise BuildFailed(
                    f"check failed: {count} documents in the new index, {self.added} expected"
                )
            self._sidecar.save(searcher)
        meta = {
            "generation": self.generation.name,
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "documents": count,
            "events_with_mentions": self._sidecar.events_with_mentions,
            "mentions_added": self._sidecar.mentions_added,
            "seconds": round(time.monotonic() - self.started, 3),
            "analysis": {"stemmer": self.stemmer},
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
        self.generation.check_format()
        path = self.generation.path
        vocabulary = MentionVocabulary.load(path / MENTIONS_FILE)
        if learn is not None:
            vocabulary.names |= learn.names
            vocabulary.lowercase_words |= learn.lowercase_words
        self._sidecar = _Sidecar(
            self.generation,
            vocabulary,
            PhraseCounter.load(path / PHRASES_FILE),
            self.generation.stemmer(),
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
        self._writer.update_document(**self._sidecar.document(event))

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
            self._sidecar.save(searcher)

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
