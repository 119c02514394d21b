"""Writing events: building a new generation, and updating the live one in place.

Both writers keep "the last one wins" for an id that comes twice: the earlier
copies are deleted once the batch is committed, when their document numbers are
known.  Callers hold the store's writer lock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from search.columns import ColumnCache, SnapshotColumns, warm
from search.errors import BuildFailed
from search.event import Event
from search.mentions import MENTIONS_FILE, MentionVocabulary
from search.schema import build_schema, document
from search.store import Generation, IndexStore
from search.suggest import PHRASES_FILE, SUGGEST_FILE, PhraseCounter, build_suggester

__all__ = ["GenerationBuilder", "LiveUpdater"]

# Memory the whoosh writer may use before it spills postings to disk.
_LIMIT_MB = 256
# Title phrases offered as suggestions: the most frequent ones.
PHRASES_KEPT = 200_000


def _drop_earlier_copies(ix: Any, ids: Iterable[str]) -> int:
    """Delete every copy of each id but the one added last (the highest docnum)."""
    ids = list(ids)
    if not ids:
        return 0
    deleted = 0
    writer = ix.writer()
    try:
        with ix.searcher() as searcher:
            for event_id in ids:
                docnums = sorted(searcher.document_numbers(id=event_id))
                for docnum in docnums[:-1]:
                    writer.delete_document(docnum)
                    deleted += 1
    except BaseException:
        writer.cancel()
        raise
    writer.commit(merge=False)
    return deleted


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

    def save(self, searcher: Any) -> None:
        """Keep the phrases and the vocabulary, ready the columns of new segments and
        the suggestion table for the index as committed (``searcher``)."""
        self.phrases.save(self.path / PHRASES_FILE)
        self.vocabulary.save(self.path / MENTIONS_FILE)
        warm(self.path, searcher)
        columns = SnapshotColumns(self.path, searcher, ColumnCache())
        phrases = self.phrases.counts.most_common(PHRASES_KEPT)
        build_suggester(columns, phrases).save(self.path / SUGGEST_FILE)


class GenerationBuilder:
    """Builds a complete new generation beside the live one.

    ``add()`` the events, then ``finish()`` checks and seals the generation and
    ``publish()`` makes it live.  ``abort()`` (or an exception before ``finish``)
    removes the partial generation; the live one is never touched.  Entity
    mentions are looked for with ``vocabulary``, which should have observed every
    event to be added.
    """

    def __init__(self, store: IndexStore, vocabulary: MentionVocabulary | None = None) -> None:
        self.store = store
        self.generation: Generation = store.new_generation()
        self._ix = whoosh_index.create_in(str(self.generation.path), build_schema())
        self._writer = self._ix.writer(limitmb=_LIMIT_MB)
        self._extras = _Extras(
            self.generation.path, vocabulary or MentionVocabulary(), PhraseCounter()
        )

    def learn(self, vocabulary: MentionVocabulary) -> None:
        """Find mentions with ``vocabulary`` from now on (before the first ``add``)."""
        self._extras = _Extras(self.generation.path, vocabulary, self._extras.phrases)
        self._seen: set[str] = set()
        self._duplicated: set[str] = set()
        self.added = 0
        self.started = time.monotonic()

    @property
    def duplicates(self) -> int:
        """How many events replaced an earlier event with the same id."""
        return self.added - len(self._seen)

    def add(self, event: Event) -> bool:
        """Add one event; returns False when it replaces an earlier one with its id."""
        self._writer.add_document(**self._extras.document(event))
        self.added += 1
        if event.id in self._seen:
            self._duplicated.add(event.id)
            return False
        self._seen.add(event.id)
        return True

    def finish(self, extra_meta: dict[str, Any] | None = None) -> Generation:
        """Commit, drop replaced copies, check the result and write meta.json."""
        self._writer.commit()
        _drop_earlier_copies(self._ix, self._duplicated)
        with self._ix.searcher() as searcher:
            self._extras.save(searcher)
        with self._ix.searcher() as searcher:
            count = searcher.doc_count()
            warm(self.generation.path, searcher)
        if count != len(self._seen):
            raise BuildFailed(
                f"check failed: {count} documents in the new index, {len(self._seen)} expected"
            )
        meta = {
            "generation": self.generation.name,
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "documents": count,
            "duplicates": self.duplicates,
            "events_with_mentions": self._extras.events_with_mentions,
            "mentions_added": self._extras.mentions_added,
            "seconds": round(time.monotonic() - self.started, 3),
            **(extra_meta or {}),
        }
        self.generation.write_meta(meta)
        return self.generation

    @property
    def mentions(self) -> tuple[int, int]:
        """Events that gained entities from their text, and how many entities they gained."""
        return self._extras.events_with_mentions, self._extras.mentions_added

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
        self._writer = self._ix.writer(limitmb=_LIMIT_MB)
        self._before = self._ix.searcher()  # the index as it was, to tell adds from replaces
        self._seen: set[str] = set()
        self._duplicated: set[str] = set()
        self.added = 0
        self.replaced = 0
        self.deleted = 0

    @property
    def mentions(self) -> tuple[int, int]:
        """Events that gained entities from their text, and how many entities they gained."""
        return self._extras.events_with_mentions, self._extras.mentions_added

    def upsert(self, event: Event) -> None:
        """Add an event, replacing any event with its id."""
        if event.id in self._seen:
            self._duplicated.add(event.id)
            self.replaced += 1
        else:
            self._seen.add(event.id)
            if self._before.document_number(id=event.id) is not None:
                self.replaced += 1
            else:
                self.added += 1
        self._writer.update_document(**self._extras.document(event))

    def delete(self, event_id: str) -> bool:
        """Delete an event by id; False when there was none."""
        removed = self._writer.delete_by_term("id", event_id)
        self.deleted += removed
        return bool(removed)

    def commit(self) -> None:
        """Make the changes visible."""
        self._before.close()
        self._writer.commit()
        _drop_earlier_copies(self._ix, self._duplicated)
        with self._ix.searcher() as searcher:
            self._extras.save(searcher)

    def cancel(self) -> None:
        """Drop uncommitted changes."""
        self._before.close()
        self._writer.cancel()
