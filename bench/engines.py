"""The engines the benchmark compares, each answering a ``Query`` the same way.

Every engine returns an ``Outcome``: the total, the ids of the page of hits
(each hit's stored event decoded, as the service does) and, when asked, the
three facets: a date histogram (interval chosen as the service does, empty
buckets included), and the top entity and source values with their counts over
all matches (most frequent first, ties alphabetical).

- ``OursEngine``: ``search.SearchService`` on a built index (highlighting off:
  no peer builds snippets); literal, as the peers (every word must match, no
  query expansion), or as the service runs by default.
- ``SqliteEngine``: SQLite FTS5 (``porter unicode61 remove_diacritics 2``,
  ``bm25()`` with the service's field weights); filters and facets by joins and
  GROUP BY over an events table and entity and source tables.  With facets, the
  matches and their scores are put once into a temporary table that the top
  hits and the GROUP BYs read.
- ``TantivyEngine``: tantivy with an analyzer like ours on the generated words
  (Unicode words, lower case, ASCII folding, every word kept, Snowball English
  stemming, which changes none of the generated content words);
  facets through its aggregations (terms on raw fast fields, with a
  per-segment size that makes counts exact; min/max of the day, then a
  histogram over a day, month or year fast field).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson
import tantivy

from bench.queries import Query
from config import Config
from search import SearchRequest, SearchService, Similarity
from search.dates import bucket_keys, bucket_of_days, choose_interval
from search.event import Event
from search.schema import TEXT_FIELDS, source_domain
from search.text import fold

__all__ = [
    "Engine",
    "OursEngine",
    "Outcome",
    "SqliteEngine",
    "TantivyEngine",
]

Pairs = list[tuple[str, int]]
_BATCH = 5000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
#: Fields plain words are looked for in, and their weights in ranking: the service's own.
WORD_FIELDS: dict[str, float] = {f: Similarity().weight(f) for f in TEXT_FIELDS}
_TEXT_FIELDS = tuple(WORD_FIELDS)
_WORD_PATTERN = r"\w+"  # words of letters and digits, as the generated text has
_EXACT_SEGMENT_SIZE = 1 << 24  # more values than any segment holds: exact term counts


@dataclass
class Outcome:
    """What an engine answered."""

    total: int
    ids: list[str] = field(default_factory=list)
    facets: dict[str, Any] = field(default_factory=dict)
    timed_out: bool = False  # a partial answer (the service's search time limit)


class Engine(Protocol):
    name: str

    def run(self, query: Query, facets: bool) -> Outcome:
        """Answer ``query``: the top hits and the total, and its facets when ``facets``."""
        ...

    def close(self) -> None: ...


def _text_fields(event: Event) -> dict[str, str]:
    """The text of each searchable field, as the service indexes it."""
    domains = sorted({d for d in (source_domain(s.url) for s in event.sources) if d})
    return {
        "title": event.title,
        "body": event.body,
        "entity": " ; ".join(event.entities),
        "source": " ; ".join([*(s.name for s in event.sources), *domains]),
    }


def _buckets(interval: str, low: int, high: int, counts: dict[int, int]) -> dict[str, Any]:
    keys = bucket_keys(low, high, interval)
    return {
        "interval": interval,
        "buckets": [(k, counts.get(low + i, 0)) for i, k in enumerate(keys)],
    }


def _bucket_columns(days: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
    """Day, month and year bucket numbers (as ``search.dates.bucket_of_days``) of day numbers."""
    array = np.array(days, dtype=np.int64)
    return (
        bucket_of_days(array, "day").tolist(),
        bucket_of_days(array, "month").tolist(),
        bucket_of_days(array, "year").tolist(),
    )


def _top(pairs: Iterable[tuple[str, int]], size: int) -> Pairs:
    return sorted(pairs, key=lambda kv: (-kv[1], kv[0]))[:size]


def _chunks(events: Iterable[Event], size: int = _BATCH) -> Iterator[list[Event]]:
    it = iter(events)
    while chunk := list(islice(it, size)):
        yield chunk


#: What makes the service's search literal, as the peers' are: every word must match,
#: and the query is not widened by its first results.  Settings the service does not
#: have (yet, or any more) are left out.
LITERAL: dict[str, Any] = {"match": "all", "expand": False}


class OursEngine:
    """The service's own search layer: literal (as the peers), or with its defaults."""

    def __init__(self, index_dir: Path, literal: bool = True) -> None:
        settings = {f.name for f in dataclasses.fields(Config)}
        # No time limit: every answer is complete, whatever the machine's load.
        unlimited = {"search_timeout": 3600.0} if "search_timeout" in settings else {}
        self.service = SearchService(Config.from_env({}, index_dir=index_dir, **unlimited))
        self.name = "ours" if literal else "ours-default"
        known = {f.name for f in dataclasses.fields(SearchRequest)}
        self.overrides: dict[str, Any] = (
            {k: v for k, v in LITERAL.items() if k in known} if literal else {}
        )

    def run(self, query: Query, facets: bool) -> Outcome:
        request = query.search_request(facets=facets, highlight=False)
        found = self.service.search(dataclasses.replace(request, **self.overrides))
        out = Outcome(found.total, [r.id for r in found.results], timed_out=found.timed_out)
        counted = found.facets
        if counted.date is not None:
            buckets = [(b.key, b.count) for b in counted.date.buckets]
            interval = counted.date.interval if buckets else None  # no matches: no interval
            out.facets["date"] = {"interval": interval, "buckets": buckets}
        for name in ("entity", "source", "category"):
            values = getattr(counted, name)
            if values is not None:
                out.facets[name] = [(v.value, v.count) for v in values]
        return out

    def close(self) -> None:
        self.service.close()


class SqliteEngine:
    """SQLite FTS5 with tables for dates, entities and sources."""

    name = "sqlite"
    weights = ", ".join(str(WORD_FIELDS[f]) for f in _TEXT_FIELDS)

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA cache_size = -524288")  # 512 MB: the whole index stays in memory
        self.db.execute("PRAGMA mmap_size = 4294967296")
        self.db.execute("PRAGMA temp_store = MEMORY")
        self.db.execute("CREATE TEMP TABLE m (rowid INTEGER PRIMARY KEY, score REAL)")

    @classmethod
    def build(cls, events: Iterable[Event], path: Path) -> SqliteEngine:
        """Write a new database of ``events`` at ``path``."""
        path.unlink(missing_ok=True)
        db = sqlite3.connect(path)
        columns = ", ".join(_TEXT_FIELDS)
        db.executescript(
            f"""
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            CREATE TABLE events (rowid INTEGER PRIMARY KEY, id TEXT, day INTEGER,
                                 month INTEGER, year INTEGER, event BLOB);
            CREATE TABLE entity (rowid INTEGER, value TEXT, key TEXT);
            CREATE TABLE source (rowid INTEGER, value TEXT);
            CREATE VIRTUAL TABLE fts USING fts5(
                {columns}, content='', tokenize='porter unicode61 remove_diacritics 2');
            """
        )
        insert_text = f"INSERT INTO fts(rowid, {columns}) VALUES (?{', ?' * len(_TEXT_FIELDS)})"
        rowid = 0
        for chunk in _chunks(events):
            _, months, years = _bucket_columns([e.date.toordinal() for e in chunk])
            rows, texts, entities, sources = [], [], [], []
            for i, event in enumerate(chunk):
                rowid += 1
                rows.append(
                    (
                        rowid,
                        event.id,
                        event.date.toordinal(),
                        months[i],
                        years[i],
                        orjson.dumps(event.to_dict()),
                    )
                )
                fields = _text_fields(event)
                texts.append((rowid, *(fields[f] for f in _TEXT_FIELDS)))
                entities += [(rowid, e, fold(e)) for e in event.entities]
                sources += [(rowid, s) for s in dict.fromkeys(s.name for s in event.sources)]
            db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.executemany(insert_text, texts)
            db.executemany("INSERT INTO entity VALUES (?, ?, ?)", entities)
            db.executemany("INSERT INTO source VALUES (?, ?)", sources)
        db.executescript(
            """
            CREATE INDEX events_day ON events (day);
            CREATE INDEX entity_key ON entity (key, rowid);
            CREATE INDEX entity_row ON entity (rowid, value);
            CREATE INDEX source_row ON source (rowid, value);
            INSERT INTO fts(fts) VALUES ('optimize');
            ANALYZE;
            """
        )
        db.commit()
        db.close()
        return cls(path)

    @staticmethod
    def _match(query: Query) -> str:
        quoted = ['"' + w.replace('"', '""') + '"' for w in query.words]
        if query.phrase:
            return '"' + " ".join(w.replace('"', '""') for w in query.words) + '"'
        return " AND ".join(quoted)

    def _matches_sql(self, query: Query) -> tuple[str, list[Any]]:
        """SELECT rowid, score of every match (score NULL without words)."""
        where: list[str] = []
        args: list[Any] = []
        if query.words:
            sql = f"SELECT fts.rowid, bm25(fts, {self.weights}) FROM fts"
            where.append("fts MATCH ?")
            args.append(self._match(query))
            key = "fts.rowid"
        else:
            sql = "SELECT e.rowid, NULL FROM events e"
            key = "e.rowid"
        if query.date_from or query.date_to:
            low = (query.date_from or dt.date.min).toordinal()
            high = (query.date_to or dt.date.max).toordinal()
            if query.words:
                where.append(f"{key} IN (SELECT rowid FROM events WHERE day BETWEEN ? AND ?)")
            else:
                where.append("e.day BETWEEN ? AND ?")
            args += [low, high]
        if query.entity:
            where.append(f"{key} IN (SELECT rowid FROM entity WHERE key = ?)")
            args.append(fold(query.entity))
        return sql + (" WHERE " + " AND ".join(where) if where else ""), args

    def _fetch(self, rowids: list[int]) -> list[str]:
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        found = {
            rowid: orjson.loads(blob)["id"]
            for rowid, blob in self.db.execute(
                f"SELECT rowid, event FROM events WHERE rowid IN ({marks})", rowids
            )
        }
        return [found[r] for r in rowids]

    def run(self, query: Query, facets: bool) -> Outcome:
        sql, args = self._matches_sql(query)
        if not facets:
            total = self.db.execute(f"SELECT count(*) FROM ({sql})", args).fetchone()[0]
            if query.words:
                top = f"{sql} ORDER BY 2 LIMIT ?"
            else:
                top = f"{sql} ORDER BY e.day DESC, e.rowid DESC LIMIT ?"
            rowids = [r for r, _ in self.db.execute(top, [*args, query.size])]
            return Outcome(total, self._fetch(rowids))
        self.db.execute("DELETE FROM m")
        total = self.db.execute(f"INSERT INTO m {sql}", args).rowcount
        ids: list[str] = []
        if query.size:
            if query.words:
                top = "SELECT rowid FROM m ORDER BY score, rowid LIMIT ?"
            else:
                top = (
                    "SELECT m.rowid FROM m JOIN events e ON e.rowid = m.rowid "
                    "ORDER BY e.day DESC, m.rowid DESC LIMIT ?"
                )
            ids = self._fetch([r for (r,) in self.db.execute(top, [query.size])])
        out = Outcome(total, ids)
        for name in query.facets:
            if name == "date":
                out.facets["date"] = self._histogram()
            else:
                out.facets[name] = self.db.execute(
                    f"SELECT x.value, count(*) AS c FROM m JOIN {name} x ON x.rowid = m.rowid "
                    "GROUP BY x.value ORDER BY c DESC, x.value LIMIT 10"
                ).fetchall()
        return out

    def _histogram(self) -> dict[str, Any]:
        first, last = self.db.execute(
            "SELECT min(e.day), max(e.day) FROM m JOIN events e ON e.rowid = m.rowid"
        ).fetchone()
        if first is None:
            return {"interval": None, "buckets": []}
        interval = choose_interval(dt.date.fromordinal(first), dt.date.fromordinal(last))
        # Bucket numbers as search.dates.bucket_of_days gives them: days since 1970 for days.
        bucket = f"e.day - {_EPOCH_ORDINAL}" if interval == "day" else f"e.{interval}"
        counts = dict(
            self.db.execute(
                f"SELECT {bucket}, count(*) FROM m JOIN events e ON e.rowid = m.rowid GROUP BY 1"
            ).fetchall()
        )
        return _buckets(interval, min(counts), max(counts), counts)

    def close(self) -> None:
        self.db.close()


def _analyzer() -> Any:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(_WORD_PATTERN))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def _tantivy_schema() -> Any:
    builder = tantivy.SchemaBuilder()
    for name in _TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name="ours", index_option="position")
    builder.add_text_field("entity_value", tokenizer_name="raw", fast=True)
    builder.add_text_field("entity_key", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("source_value", tokenizer_name="raw", fast=True)
    for name in ("day", "month", "year"):
        builder.add_integer_field(name, fast=True, indexed=(name == "day"))
    builder.add_bytes_field("event", stored=True)
    return builder.build()


class TantivyEngine:
    """tantivy, through its Python package."""

    name = "tantivy"

    def __init__(self, path: Path) -> None:
        self.index = tantivy.Index.open(str(path))
        self.index.register_tokenizer("ours", _analyzer())
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    @classmethod
    def build(cls, events: Iterable[Event], path: Path) -> TantivyEngine:
        """Write a new index of ``events`` in the directory ``path``."""
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(_tantivy_schema(), str(path), reuse=False)
        index.register_tokenizer("ours", _analyzer())
        writer = index.writer(heap_size=512_000_000, num_threads=2)
        for chunk in _chunks(events):
            _, months, years = _bucket_columns([e.date.toordinal() for e in chunk])
            for i, event in enumerate(chunk):
                doc = tantivy.Document()
                for name, text in _text_fields(event).items():
                    doc.add_text(name, text)
                for entity in event.entities:
                    doc.add_text("entity_value", entity)
                    doc.add_text("entity_key", fold(entity))
                for name in dict.fromkeys(s.name for s in event.sources):
                    doc.add_text("source_value", name)
                doc.add_integer("day", event.date.toordinal())
                doc.add_integer("month", months[i])
                doc.add_integer("year", years[i])
                doc.add_bytes("event", orjson.dumps(event.to_dict()))
                writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        return cls(path)

    def _query(self, query: Query) -> tuple[Any, bool]:
        """The tantivy query, and whether it has words (else: sort by date)."""
        parts = []
        if query.words:
            if query.phrase:
                text = '"' + " ".join(query.words) + '"'
            else:
                text = " ".join('"' + w.replace('"', "") + '"' for w in query.words)
            parts.append(
                self.index.parse_query(
                    text,
                    list(_TEXT_FIELDS),
                    field_boosts=WORD_FIELDS,
                    conjunction_by_default=True,
                )
            )
        filters = []
        if query.date_from or query.date_to:
            filters.append(
                tantivy.Query.range_query(
                    self.schema,
                    "day",
                    tantivy.FieldType.Integer,
                    (query.date_from or dt.date.min).toordinal(),
                    (query.date_to or dt.date.max).toordinal(),
                )
            )
        if query.entity:
            filters.append(tantivy.Query.term_query(self.schema, "entity_key", fold(query.entity)))
        parts += [tantivy.Query.const_score_query(f, 0.0) for f in filters]
        if not parts:
            return tantivy.Query.all_query(), False
        if len(parts) == 1:
            return parts[0], bool(query.words)
        combined = tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])
        return combined, bool(query.words)

    def _ids(self, hits: list[tuple[Any, Any]]) -> list[str]:
        return [orjson.loads(self.searcher.doc(addr)["event"][0])["id"] for _, addr in hits]

    def run(self, query: Query, facets: bool) -> Outcome:
        q, scored = self._query(query)
        out = Outcome(0)
        if not facets or query.size:
            found: Any = self.searcher.search(
                q, max(query.size, 1), count=True, order_by_field=None if scored else "day"
            )
            out = Outcome(found.count, self._ids(found.hits[: query.size]))
            if not facets:
                return out
        aggs: dict[str, Any] = {
            "first": {"min": {"field": "day"}},
            "last": {"max": {"field": "day"}},
            "count": {"value_count": {"field": "day"}},
        }
        for name in query.facets:
            if name != "date":
                aggs[name] = {
                    "terms": {
                        "field": f"{name}_value",
                        "size": 10,
                        "segment_size": _EXACT_SEGMENT_SIZE,
                    }
                }
        result = self.searcher.aggregate(q, aggs)
        if not query.size:
            out.total = int(result["count"]["value"])
        for name in query.facets:
            if name == "date":
                out.facets["date"] = self._histogram(q, result)
            else:
                pairs = [(b["key"], int(b["doc_count"])) for b in result[name]["buckets"]]
                out.facets[name] = _top(pairs, 10)
        return out

    def _histogram(self, q: Any, stats: dict[str, Any]) -> dict[str, Any]:
        if stats["first"]["value"] is None:
            return {"interval": None, "buckets": []}
        first, last = int(stats["first"]["value"]), int(stats["last"]["value"])
        interval = choose_interval(dt.date.fromordinal(first), dt.date.fromordinal(last))
        found = self.searcher.aggregate(q, {"h": {"histogram": {"field": interval, "interval": 1}}})
        shift = _EPOCH_ORDINAL if interval == "day" else 0
        counts = {
            int(b["key"]) - shift: int(b["doc_count"])
            for b in found["h"]["buckets"]
            if b["doc_count"]
        }
        return _buckets(interval, min(counts), max(counts), counts)

    def close(self) -> None:
        """Nothing to do: tantivy lets its files go when the objects are collected."""
