"""The peers the suite measures beside our service, in the same run, on the same events
(story field left out, as in our index).  Each searches title, body and entity names
with the title weighted 2 and the query's words OR-ed (the words are the runs of
word characters of what is typed, ``\\w+``), ranked by BM25; and each answers
related-event lookups its own way:

- ``fts5``: SQLite FTS5 (``porter unicode61 remove_diacritics 2``), ranked by
  ``bm25(ev, 2.0, 1.0, 1.0)`` (title, body, entity names).  Related: an OR query of
  the source event's 10 top tf-idf terms of title and body (``fts5vocab``), numbers
  left out.
- ``tantivy``: tantivy's BM25 (k1 1.2, b 0.75), fields title (boost 2), body and
  entity names, analysed by its simple tokenizer, lower case, ASCII folding,
  ``remove_long(40)`` and its English (Snowball) stemmer; no stop words.  Related:
  tantivy's more-like-this query on the source event (its defaults, except a minimum
  term frequency of 1 and a minimum document frequency of 2: events are a sentence
  or two long).
- ``whoosh``: whoosh's own ``BM25F`` searcher (B 0.75, K1 1.2) on the index our
  service built (its live generation opened with ``whoosh.index.open_dir``), the
  query parsed by ``MultifieldParser`` over title (boost 2), body and entity with
  an OR group: our analyzer and our entity field (with the names the service finds
  in the text), whoosh's ranking.  Related: ``Searcher.more_like`` over the body
  field with the source's title and body text (whoosh's defaults: Bo1 model, 5
  terms).
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import tantivy
from whoosh import index as whoosh_index
from whoosh import qparser, scoring

from bench.relevance.systems import RELATED_DEPTH, SEARCH_DEPTH
from search.event import Event
from search.store import IndexStore

__all__ = ["PEERS", "Fts5Peer", "TantivyPeer", "WhooshPeer", "build_peers"]

TITLE_WEIGHT = 2.0
_WORD = re.compile(r"\w+")


def query_words(text: str) -> list[str]:
    """The words a peer ORs: runs of word characters, lower case."""
    return [w.lower() for w in _WORD.findall(text)]


def _without(ids: list[str], exclude: str, depth: int) -> list[str]:
    return [i for i in ids if i != exclude][:depth]


class Fts5Peer:
    """SQLite FTS5 with ``bm25()``, title weighted 2."""

    name = "fts5"

    def __init__(self, events: Sequence[Event]) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            "CREATE VIRTUAL TABLE ev USING fts5(title, body, entities, id UNINDEXED, "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        self.db.executemany(
            "INSERT INTO ev (rowid, title, body, entities, id) VALUES (?, ?, ?, ?, ?)",
            [
                (n, e.title, e.body, " ; ".join(e.entities), e.id)
                for n, e in enumerate(events, start=1)
            ],
        )
        self.db.execute("CREATE VIRTUAL TABLE terms USING fts5vocab(ev, 'instance')")
        self.db.execute("CREATE VIRTUAL TABLE vocab USING fts5vocab(ev, 'row')")
        self.rowid = {e.id: n for n, e in enumerate(events, start=1)}
        self.total = len(events)
        self.df: dict[str, int] = dict(self.db.execute("SELECT term, doc FROM vocab"))

    def _match(self, words: Sequence[str], depth: int) -> list[str]:
        if not words:
            return []
        expression = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        rows = self.db.execute(
            f"SELECT id FROM ev WHERE ev MATCH ? ORDER BY bm25(ev, {TITLE_WEIGHT}, 1.0, 1.0) "
            "LIMIT ?",
            (expression, depth),
        ).fetchall()
        return [r[0] for r in rows]

    def search(self, query: str) -> list[str]:
        return self._match(query_words(query), SEARCH_DEPTH)

    def related(self, event_id: str) -> list[str]:
        tf = Counter(
            term
            for (term,) in self.db.execute(
                "SELECT term FROM terms WHERE doc = ? AND col IN ('title', 'body')",
                (self.rowid[event_id],),
            )
        )
        ranked = sorted(
            ((tf[t] * math.log(self.total / self.df[t]), t) for t in tf if not t.isdigit()),
            reverse=True,
        )[:10]
        found = self._match([t for _, t in ranked], RELATED_DEPTH + 1)
        return _without(found, event_id, RELATED_DEPTH)

    def close(self) -> None:
        self.db.close()


class TantivyPeer:
    """tantivy's BM25, title boosted 2, English stemming."""

    name = "tantivy"
    _fields = ("title", "body", "entity")

    def __init__(self, events: Sequence[Event], path: Path) -> None:
        builder = tantivy.SchemaBuilder()
        for field in self._fields:
            builder.add_text_field(field, stored=True, tokenizer_name="en", index_option="position")
        builder.add_text_field("id", stored=True, tokenizer_name="raw")
        path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(builder.build(), str(path), reuse=False)
        self.index.register_tokenizer(
            "en",
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stemmer("english"))
            .build(),
        )
        writer = self.index.writer(heap_size=50_000_000, num_threads=1)
        for event in events:
            writer.add_document(
                tantivy.Document(
                    id=event.id,
                    title=event.title,
                    body=event.body,
                    entity=" ; ".join(event.entities),
                )
            )
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    def _ids(self, query: Any, depth: int) -> list[str]:
        hits = self.searcher.search(query, depth).hits
        return [str(self.searcher.doc(address)["id"][0]) for _, address in hits]

    def search(self, query: str) -> list[str]:
        words = query_words(query)
        if not words:
            return []
        parsed = self.index.parse_query(
            " ".join(f'"{w}"' for w in words),
            list(self._fields),
            field_boosts={"title": TITLE_WEIGHT},
            conjunction_by_default=False,
        )
        return self._ids(parsed, SEARCH_DEPTH)

    def related(self, event_id: str) -> list[str]:
        found = self.searcher.search(tantivy.Query.term_query(self.index.schema, "id", event_id), 1)
        if not found.hits:
            return []
        like = tantivy.Query.more_like_this_query(
            found.hits[0][1], min_doc_frequency=2, min_term_frequency=1
        )
        return _without(self._ids(like, RELATED_DEPTH + 1), event_id, RELATED_DEPTH)

    def close(self) -> None:
        """Nothing to do: tantivy lets its files go when the objects are collected."""


class WhooshPeer:
    """whoosh's BM25F searcher on our own index (its live generation)."""

    name = "whoosh"

    def __init__(self, events: Sequence[Event], index_dir: Path) -> None:
        generation = IndexStore(index_dir).current()
        self.index = whoosh_index.open_dir(str(generation.path))
        self.searcher = self.index.searcher(weighting=scoring.BM25F())
        self.parser = qparser.MultifieldParser(
            ["title", "body", "entity"],
            self.index.schema,
            fieldboosts={"title": TITLE_WEIGHT},
            group=qparser.OrGroup,
        )
        self.text = {e.id: f"{e.title}\n{e.body}" for e in events}

    def search(self, query: str) -> list[str]:
        words = query_words(query)
        if not words:
            return []
        hits = self.searcher.search(self.parser.parse(" ".join(words)), limit=SEARCH_DEPTH)
        return [hit["id"] for hit in hits]

    def related(self, event_id: str) -> list[str]:
        docnum = self.searcher.document_number(id=event_id)
        if docnum is None:
            return []
        hits = self.searcher.more_like(docnum, "body", text=self.text[event_id], top=RELATED_DEPTH)
        return _without([hit["id"] for hit in hits], event_id, RELATED_DEPTH)

    def close(self) -> None:
        self.searcher.close()
        self.index.close()


#: The peers, in report order.
PEERS = ("fts5", "tantivy", "whoosh")


def build_peers(
    events: Sequence[Event], index_dir: Path, workdir: Path
) -> list[Fts5Peer | TantivyPeer | WhooshPeer]:
    """Every peer, on ``events`` (without their stories) and our index at ``index_dir``."""
    return [
        Fts5Peer(events),
        TantivyPeer(events, workdir / "tantivy"),
        WhooshPeer(events, index_dir),
    ]
