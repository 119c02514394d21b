"""The search service: ranked, filtered and faceted search over the live index."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh import query as wq

from config import Config
from search.analysis import TextAnalyzer, text_analyzer
from search.dates import bucket_keys, choose_interval
from search.deadline import Deadline
from search.errors import BadRequest, EventNotFound, SearchTimeout
from search.execute import Executor, Matches, and_maybe, union
from search.expansion import ExpansionWeights, expand
from search.highlight import snippet
from search.mentions import MENTIONS_FILE, MentionFinder, MentionVocabulary
from search.query import Limits, QueryParser, date_filter, values_filter
from search.reader import IndexReader, Snapshot
from search.related import RelatedQuery, RelatedWeights, duplicate_key, find_related
from search.spelling import Speller
from search.store import IndexStore
from search.suggest import (
    PHRASES_FILE,
    SUGGEST_FILE,
    Suggester,
    build_suggester,
    read_phrases,
)

__all__ = ["FACETS", "INTERVALS", "MATCHES", "SORTS", "SearchRequest", "SearchService"]

FACETS = ("date", "entity", "source", "category")
SORTS = ("relevance", "newest", "oldest")
MATCHES = ("any", "all")
INTERVALS = ("auto", "year", "month", "day")
DEFAULT_FACETS = ("date", "entity", "source")
MAX_BUCKETS = 10_000
_TEXT_FIELDS = ("title", "body", "entity")


@dataclass(frozen=True)
class SearchRequest:
    """One search, as the API validated it."""

    q: str = ""
    match: str = "any"
    expand: bool = True
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    entities: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    sort: str | None = None
    page: int = 1
    size: int = 10
    facets: tuple[str, ...] = DEFAULT_FACETS
    facet_size: int = 10
    interval: str = "auto"
    highlight: bool = True


@dataclass
class _Extras:
    suggester: Suggester
    finder: MentionFinder
    _speller: Speller | None = None

    def speller(self, analyzer: TextAnalyzer) -> Speller:
        """Built on first use: only queries with unknown words need it."""
        if self._speller is None:
            self._speller = Speller(analyzer, self.suggester.forms)
        return self._speller


def _postings(reader: Any, fieldname: str, value: str) -> list[int]:
    """Docnums carrying an exact value (none when the index has no such term)."""
    if (fieldname, value) not in reader:
        return []
    return list(reader.postings(fieldname, value).all_ids())


class SearchService:
    """Searches the live generation of an index directory."""

    def __init__(
        self,
        config: Config,
        reader: IndexReader | None = None,
        related_weights: RelatedWeights | None = None,
        expansion_weights: ExpansionWeights | None = None,
    ) -> None:
        self.config = config
        self.related_weights = related_weights or RelatedWeights()
        self.expansion_weights = expansion_weights or ExpansionWeights()
        self.store = IndexStore(config.index_dir)
        self.reader = reader or IndexReader(
            self.store,
            config.refresh_interval,
            postings_cache_bytes=config.postings_cache_mb * 1024 * 1024,
        )
        self.parser = QueryParser(
            Limits(
                config.max_query_length,
                config.max_query_terms,
                config.max_expansions,
                config.max_edits,
            )
        )
        self._local = threading.local()
        self._lock = threading.Lock()
        self._extras_by_key: dict[tuple[str, int], _Extras] = {}

    def _analyzer(self) -> Any:
        analyzer = getattr(self._local, "analyzer", None)
        if analyzer is None:
            analyzer = self._local.analyzer = text_analyzer()
        return analyzer

    # Searching

    def search(self, request: SearchRequest) -> dict[str, Any]:
        """Run a search; the result is ready to be sent as JSON."""
        started = time.perf_counter()
        if request.page * request.size > self.config.max_result_window:
            raise BadRequest(
                "result_window_too_large",
                f"page * size is {request.page * request.size}; at most "
                f"{self.config.max_result_window} results can be paged through",
                "page",
            )
        snap = self.reader.snapshot()
        # From here: opening a new generation is not the search's own time.
        deadline = Deadline(self.config.search_timeout)
        user_query = self.parser.parse(request.q, request.match)
        self.parser.check_expansions(user_query, snap.searcher.reader())
        filters = self._filters(request, snap)
        sort = request.sort or ("relevance" if request.q.strip() else "newest")
        matches, complete = self._matching(snap, user_query, filters, deadline)
        expansion = None
        if (
            request.expand
            and complete
            and sort == "relevance"
            and not isinstance(user_query, wq.Every)
        ):
            expansion = expand(
                snap,
                self._analyzer(),
                user_query,
                matches.top(self.expansion_weights.feedback_docs),
                self.expansion_weights,
            )
        if expansion is not None:
            # The literal matches are reused: only the added clauses are evaluated.
            extra, complete = self._matching(snap, expansion.query, filters, deadline)
            if request.match == "all":  # every word must still match: expansion only ranks
                matches = and_maybe(matches, extra)
            else:
                matches = union([matches, extra])
        docs = matches.docs
        hits = self._page(snap, user_query, matches, sort, request) if request.size > 0 else []
        if not complete and not hits and (request.size > 0 or not len(docs)):
            raise SearchTimeout(
                f"the search found nothing within {self.config.search_timeout:g} s; try again "
                "or narrow it"
            )
        terms = self._highlight_terms(snap, user_query) if request.highlight else set()
        results = [self._result(snap, docnum, score, terms) for docnum, score in hits]
        facets = self._facets(snap, docs, request)
        return {
            "total": len(docs),
            "page": request.page,
            "size": request.size,
            "sort": sort,
            "took_ms": round((time.perf_counter() - started) * 1000, 2),
            "timed_out": not complete,
            "results": results,
            "facets": facets,
            "did_you_mean": self._did_you_mean(snap, request.q),
            "expanded": (
                {"terms": expansion.terms, "entities": expansion.entities} if expansion else None
            ),
        }

    def _did_you_mean(self, snap: Snapshot, text: str) -> str | None:
        if not text.strip():
            return None
        speller = self._extras(snap).speller(self._analyzer())
        return speller.correct(
            snap.searcher.reader(),
            lambda stem: snap.doc_frequency("body", stem) + snap.doc_frequency("title", stem),
            text,
        )

    def _filters(self, request: SearchRequest, snap: Snapshot) -> list[Any]:
        filters = []
        dates = date_filter(request.date_from, request.date_to)
        if dates is not None:
            filters.append(dates)
        for entity in request.entities:  # every entity must match
            filters.append(
                values_filter(["entity_value"], [entity], self._lexicons(snap, "entity_value"))
            )
        if request.sources:
            fields = ["source_value", "source_domain"]
            filters.append(values_filter(fields, request.sources, self._lexicons(snap, *fields)))
        if request.categories:
            filters.append(
                values_filter(["category"], request.categories, self._lexicons(snap, "category"))
            )
        return filters

    @staticmethod
    def _lexicons(snap: Snapshot, *fieldnames: str) -> dict[str, dict[str, list[str]]]:
        return {name: snap.folded_lexicon(name) for name in fieldnames}

    @staticmethod
    def _combined(user_query: Any, filters: list[Any]) -> Any:
        parts = [] if isinstance(user_query, wq.Every) else [user_query]
        parts += [wq.ConstantScoreQuery(f, 0.0) for f in filters]
        if not parts:
            return wq.Every()
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def _matching(
        self,
        snap: Snapshot,
        user_query: Any,
        filters: list[Any],
        deadline: Deadline | None = None,
    ) -> tuple[Matches, bool]:
        """Every live event matching the query and the filters, with scores, and whether
        all segments were searched before the deadline."""
        if isinstance(user_query, wq.Every) and not filters:
            docs = snap.columns.live_docs()
            return Matches(docs, np.zeros(len(docs)), np.zeros(len(docs), dtype=np.int64)), True
        executor = Executor(snap, self.reader.postings, deadline.expired if deadline else None)
        return executor.run_by_segment(self._combined(user_query, filters))

    def _page(
        self,
        snap: Snapshot,
        query: Any,
        matches: Matches,
        sort: str,
        request: SearchRequest,
    ) -> list[tuple[int, float | None]]:
        first = (request.page - 1) * request.size
        last = request.page * request.size
        if sort == "relevance" and not isinstance(query, wq.Every):
            return [(docnum, round(score, 4)) for docnum, score in matches.top(last)[first:]]
        docs = matches.docs
        # One sortable number per document: its day, then its docnum.
        keys = snap.columns.days(docs) * (1 << 40) + docs
        if sort != "oldest":
            keys = -keys
        kept = np.argpartition(keys, last)[:last] if last < len(keys) else np.arange(len(keys))
        order = kept[np.argsort(keys[kept])]
        return [(int(docs[i]), None) for i in order[first:last]]

    def _highlight_terms(self, snap: Snapshot, user_query: Any) -> set[str]:
        if isinstance(user_query, wq.Every):
            return set()
        reader = snap.searcher.reader()
        # Not Query.existing_terms(): it drops every field but the first it meets.
        return {
            text.decode("utf-8") if isinstance(text, bytes) else str(text)
            for leaf in user_query.leaves()
            for field, text in leaf.expanded_terms(reader, phrases=True)
            if field in _TEXT_FIELDS
        }

    def _result(
        self, snap: Snapshot, docnum: int, score: float | None, terms: set[str]
    ) -> dict[str, Any]:
        event, mentions = snap.event(docnum)
        return {
            "id": event["id"],
            "date": event["date"],
            "title": event["title"],
            "snippet": snippet(event["body"] or event["title"], terms, self._analyzer()),
            # The explicit entities, then the known names the text mentions.
            "entities": event["entities"] + mentions,
            "sources": event["sources"],
            "category": event["category"],
            "story": event["story"],
            "image": event["image"],
            "score": score,
        }

    # Facets

    def _facets(self, snap: Snapshot, docs: Any, request: SearchRequest) -> dict[str, Any]:
        facets: dict[str, Any] = {}
        for name in request.facets:
            if name == "date":
                facets["date"] = self._histogram(snap, docs, request)
                continue
            values, counts = snap.columns.facet_counts(name, docs)
            present = np.flatnonzero(counts)
            # Most frequent first; ties in alphabetical order (values are sorted).
            order = present[np.lexsort((present, -counts[present]))][: request.facet_size]
            facets[name] = [{"value": values[i], "count": int(counts[i])} for i in order]
        return facets

    def _histogram(self, snap: Snapshot, docs: Any, request: SearchRequest) -> dict[str, Any]:
        days = snap.columns.days(docs)
        interval = request.interval
        if interval == "auto":
            if len(days):
                first = dt.date.fromordinal(int(days.min()))
                last = dt.date.fromordinal(int(days.max()))
            else:
                first = request.date_from or dt.date(1970, 1, 1)
                last = request.date_to or first
            interval = choose_interval(first, last)
        if not len(days):
            return {"interval": interval, "buckets": []}
        buckets = snap.columns.buckets(docs, interval)
        low, high = int(buckets.min()), int(buckets.max())
        if high - low + 1 > MAX_BUCKETS:
            raise BadRequest(
                "too_many_buckets",
                f"interval={interval} would give {high - low + 1} buckets; at most "
                f"{MAX_BUCKETS}: narrow from/to or use a longer interval",
                "interval",
            )
        counts = np.bincount(buckets - low, minlength=high - low + 1)
        keys = bucket_keys(low, high, interval)
        return {
            "interval": interval,
            "buckets": [{"key": k, "count": int(c)} for k, c in zip(keys, counts, strict=True)],
        }

    # Related events

    def related(
        self,
        event_id: str,
        size: int = 5,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> dict[str, Any]:
        """Events related to an indexed one, each with the reasons it is related."""
        snap = self.reader.snapshot()
        searcher = snap.searcher
        docnum = searcher.document_number(id=event_id)
        if docnum is None:
            raise EventNotFound(event_id)
        event, _ = snap.event(docnum)
        # Explicit links, both directions: the ones it makes and the ones made to it.
        links = {searcher.document_number(id=link["id"]) for link in event["related"]}
        links |= set(_postings(searcher.reader(), "related", event_id))
        links -= {None, docnum}
        source = RelatedQuery(
            text=f"{event['title']}\n{event['body']}",
            entities=snap.columns.values_of("entity", docnum),
            day=dt.date.fromisoformat(event["date"]).toordinal(),
            category=event["category"],
            links={int(d) for d in links},
            exclude={docnum},
            duplicate_key=duplicate_key(event["title"], event["body"]),
        )
        return self._related(snap, source, size, date_from, date_to)

    def related_to_text(
        self,
        text: str,
        size: int = 5,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> dict[str, Any]:
        """Events related to a text that is not in the index (a draft, a pasted article)."""
        snap = self.reader.snapshot()
        source = RelatedQuery(
            text=text,
            entities=self._extras(snap).finder.find(text),
            duplicate_key=duplicate_key("", text),
        )
        return self._related(snap, source, size, date_from, date_to)

    def _related(
        self,
        snap: Snapshot,
        source: RelatedQuery,
        size: int,
        date_from: dt.date | None,
        date_to: dt.date | None,
    ) -> dict[str, Any]:
        dates = date_filter(date_from, date_to)
        allowed = None if dates is None else self._matching(snap, wq.Every(), [dates])[0].docs
        executor = Executor(snap, self.reader.postings)
        hits = find_related(
            snap, executor, self._analyzer(), source, size, self.related_weights, allowed
        )
        results = []
        for hit in hits:
            item = self._result(snap, hit.docnum, hit.score, set())
            item["reasons"] = {"entities": hit.entities, "terms": hit.terms, "linked": hit.linked}
            results.append(item)
        return {"results": results}

    # The search box

    def suggest(self, typed: str, size: int = 8) -> dict[str, Any]:
        """Entity names and title phrases for what a person has typed, most frequent first."""
        snap = self.reader.snapshot()
        found = self._extras(snap).suggester.suggest(typed, size)
        return {"suggestions": [s.to_dict() for s in found]}

    def _extras(self, snap: Snapshot) -> _Extras:
        """The suggestion table and mention finder of the live generation, shared by the
        threads (both are read-only).  Writers save both beside the index at every
        commit; they are read again whenever the saved table changes."""
        path = snap.generation.path / SUGGEST_FILE
        try:
            key: tuple[str, int] = (snap.generation.name, path.stat().st_mtime_ns)
        except FileNotFoundError:
            key = (snap.generation.name, -snap.version[1])  # not saved: built here
        with self._lock:
            found = self._extras_by_key.get(key)
        if found is None:
            try:
                suggester = Suggester.load(path)
            except (FileNotFoundError, ValueError):
                # Not saved by this version's writers: built here, once per key.
                suggester = build_suggester(
                    snap.columns, read_phrases(snap.generation.path / PHRASES_FILE)
                )
            vocabulary = MentionVocabulary.load(snap.generation.path / MENTIONS_FILE)
            found = _Extras(suggester, vocabulary.finder())
            with self._lock:
                self._extras_by_key = {key: found}
        return found

    # Events and the index

    def event(self, event_id: str) -> dict[str, Any]:
        """An event in the canonical JSON shape; EventNotFound when there is none."""
        snap = self.reader.snapshot()
        docnum = snap.searcher.document_number(id=event_id)
        if docnum is None:
            raise EventNotFound(event_id)
        event, _ = snap.event(docnum)
        return dict(event)

    def stats(self) -> dict[str, Any]:
        """Documents, date range, generation and build time of the live index."""
        snap = self.reader.snapshot()
        days = snap.columns.days(snap.columns.live_docs())
        meta = snap.generation.meta()
        return {
            "documents": len(days),
            "first_date": dt.date.fromordinal(int(days.min())).isoformat() if len(days) else None,
            "last_date": dt.date.fromordinal(int(days.max())).isoformat() if len(days) else None,
            "generation": snap.generation.name,
            "built_at": meta.get("built_at"),
        }

    def check_ready(self) -> None:
        """Raise IndexUnavailable unless an index is open for searching."""
        self.reader.snapshot()

    def close(self) -> None:
        self.reader.close()
