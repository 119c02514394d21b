"""The search service: ranked, filtered and faceted search over the live index,
related events, suggestions, events and statistics."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cachetools
import numpy as np

from config import Config
from search.datehint import QueryDates, parse_query
from search.datehint import ready as dates_ready
from search.datehint import warm as warm_dates
from search.deadline import Deadline
from search.errors import BadRequest, EventNotFound, SearchTimeout
from search.evaluate import Evaluator, Expansions, OutOfTime
from search.event import Event, Source
from search.expansion import expand
from search.facets import count_facets, warm_facets
from search.highlight import Highlighter, hit_highlighters
from search.lexicon import TooManyTerms
from search.live import LiveIndex
from search.matches import Matches
from search.mentions import MENTIONS_FILE, MentionFinder, MentionVocabulary
from search.parse import Limits, QueryParser, date_filter, values_filter
from search.query import And, Every, Nothing, Query, word_count
from search.rank import NameIndex, Ranking, rank, with_expansion
from search.related import Fingerprint, RelatedQuery, find_related
from search.results import (
    EventView,
    Expanded,
    Hit,
    IndexStats,
    Reasons,
    RelatedHit,
    RelatedPage,
    SearchPage,
    Suggestions,
)
from search.schema import TEXT_FIELDS
from search.scoring import ExpansionWeights, RelatedWeights, Similarity
from search.snapshot import Snapshot, facet_key
from search.spelling import Speller
from search.store import IndexStore
from search.suggest import SUGGEST_FILE, Suggester

__all__ = ["SearchRequest", "SearchService"]

DEFAULT_FACETS = ("date", "entity", "source")
#: Parsed queries kept per process (search/service.py ``SearchService.parse``).
_PARSED_KEPT = 4096


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


@dataclass(frozen=True)
class _CommitState:
    """What the service keeps per commit (``Snapshot.extras``), built while the
    snapshot is warmed and shared by the threads: the suggestion table, the mention
    finder, the entity names queries are matched against, and did-you-mean."""

    suggester: Suggester
    finder: MentionFinder
    names: NameIndex
    speller: Speller


def _never() -> bool:
    return False


class SearchService:
    """Searches the live generation of an index directory."""

    def __init__(
        self,
        config: Config,
        live: LiveIndex | None = None,
        similarity: Similarity | None = None,
        related_weights: RelatedWeights | None = None,
        expansion_weights: ExpansionWeights | None = None,
    ) -> None:
        self.config = config
        self.similarity = similarity or Similarity()
        self.related_weights = related_weights or RelatedWeights()
        self.expansion_weights = expansion_weights or ExpansionWeights()
        self.store = IndexStore(config.index_dir)
        self.live = live or LiveIndex(
            self.store,
            config.refresh_interval,
            memo_bytes=config.postings_cache_mb * 1024 * 1024,
            warm=self._warm,
        )
        if self.live.warm is None:
            self.live.warm = self._warm
        # CPU-bound work runs this many at a time per process (the others wait for a
        # turn within their deadline): threads beyond the cores only share them.
        self._turns = threading.BoundedSemaphore(config.search_concurrency)
        self.limits = Limits(
            config.max_query_length,
            config.max_query_terms,
            config.max_expansions,
            config.max_edits,
            config.max_slop,
        )
        self._parsers: dict[str, QueryParser] = {}
        self._lock = threading.Lock()
        # Parsed queries by (stemmer, text, match): a search box sends the same ones
        # again and again.  A parse depends on nothing else (no commit: prefixes and
        # fuzzy words are expanded when evaluated), and the trees are immutable.
        self._parsed: cachetools.LRUCache[tuple[str, str, str], tuple[Query, QueryDates | None]] = (
            cachetools.LRUCache(_PARSED_KEPT)
        )
        warm_dates()  # the date parser's data, before the first query with a date

    def start(self) -> None:
        """Open and warm the live commit now, and keep it current from a refresher
        thread (a served process calls this once; without it requests refresh)."""
        self.live.start()

    def deadline(self, since: float | None = None) -> Deadline:
        """The deadline of a request that started at ``since`` (``time.perf_counter``;
        None: now)."""
        return Deadline(self.config.search_timeout, since=since)

    @contextlib.contextmanager
    def _turn(self, deadline: Deadline) -> Iterator[None]:
        """Wait for a turn to run CPU-bound work, until the deadline at most."""
        if not self._turns.acquire(timeout=max(deadline.remaining(), 0.0)):
            raise SearchTimeout(
                f"the search waited {self.config.search_timeout:g} s for its turn; the "
                "service is busy: try again"
            )
        try:
            yield
        finally:
            self._turns.release()

    def parser(self, snap: Snapshot) -> QueryParser:
        """The query parser of a snapshot's analysis (shared by the threads)."""
        stemmer = snap.analyzer.stemmer
        found = self._parsers.get(stemmer)
        if found is None:
            with self._lock:
                found = self._parsers.setdefault(stemmer, QueryParser(self.limits, snap.analyzer))
        return found

    def _evaluator(self, snap: Snapshot, deadline: Deadline | None = None) -> Evaluator:
        return Evaluator(
            snap,
            self.similarity,
            self.live.memo,
            deadline.expired if deadline else None,
            Expansions(self.config.max_expansions),
        )

    # Searching

    def search(self, request: SearchRequest, since: float | None = None) -> SearchPage:
        """Run a search.  ``since``: when the request started (``time.perf_counter``);
        its deadline counts from then."""
        started = time.perf_counter() if since is None else since
        if request.page * request.size > self.config.max_result_window:
            raise BadRequest(
                "result_window_too_large",
                f"page * size is {request.page * request.size}; at most "
                f"{self.config.max_result_window} results can be paged through",
                "page",
            )
        deadline = self.deadline(started)
        with self._turn(deadline), self.live.acquire() as snap:
            return self._search(snap, request, started, deadline)

    def parse(self, snap: Snapshot, text: str, match: str) -> tuple[Query, QueryDates | None]:
        """The query tree of ``text`` as the snapshot's analysis reads it, and its dates
        (``datehint.parse_query``), kept for repeated queries once dates can be read;
        BadRequest as ``QueryParser.parse``."""
        key = (snap.analyzer.stemmer, text, match)
        with self._lock:
            found = self._parsed.get(key)
        if found is None:
            found = parse_query(self.parser(snap), text, match)
            if dates_ready():  # else a date was not read this time: not kept
                with self._lock:
                    self._parsed[key] = found
        return found

    def _search(
        self, snap: Snapshot, request: SearchRequest, started: float, deadline: Deadline
    ) -> SearchPage:
        query, dates = self.parse(snap, request.q, request.match)
        sort = request.sort or ("relevance" if request.q.strip() else "newest")
        evaluator = self._evaluator(snap, deadline)
        matches, complete = self._matching(evaluator, query, self._filters(request, snap))
        extras = self._state(snap)
        ranked = None
        expanded = None
        if sort == "relevance" and not isinstance(query, Every) and len(matches.docs):
            try:
                names = extras.names.spans(snap.analyzer.words(request.q))
                ranked = rank(evaluator, self.similarity, matches, query, names)
                # Expansion reorders only the events that lack a query word: it finds
                # what the words miss, and leaves the complete ones in their order and
                # above them (measured: it only lost known-item searches).  So it runs
                # only when such events reach the page shown.
                docs = matches.docs[matches.matched < word_count(query)]
                shown = request.page * request.size
                reaches_page = len(docs) and len(matches.docs) - len(docs) < shown
                if request.expand and complete and reaches_page:
                    first = ranked.top(self.expansion_weights.feedback_docs)
                    expansion = expand(
                        snap,
                        snap.analyzer,
                        query,
                        first,
                        self.expansion_weights,
                        deadline.expired,
                    )
                    if expansion is not None:
                        extra = self._restricted(evaluator, expansion.query, docs)
                        ranked = with_expansion(ranked, extra)
                        expanded = Expanded(tuple(expansion.terms), tuple(expansion.entities))
            except OutOfTime:
                complete = False
        hits = self._page(snap, matches, ranked, sort, request) if request.size > 0 else []
        if not complete and not hits and (request.size > 0 or not len(matches.docs)):
            raise SearchTimeout(
                f"the search found nothing within {self.config.search_timeout:g} s; try again "
                "or narrow it"
            )
        marked = query if request.highlight else Nothing()
        marks = hit_highlighters(evaluator, marked, [d for d, _ in hits], snap.analyzer)
        results = tuple(
            self._hit(snap, docnum, score, marks[docnum], deadline) for docnum, score in hits
        )
        # Past the deadline, facets are left out (what is ready is returned, timed out).
        counted = () if deadline.expired() else request.facets
        complete = complete and len(counted) == len(request.facets)
        facets = count_facets(
            snap,
            matches.docs,
            counted,
            request.facet_size,
            request.interval,
            request.date_from,
            request.date_to,
        )
        keep = dates.spans if dates else ()
        did_you_mean, corrected = self._did_you_mean(snap, request.q, deadline, keep)
        complete = complete and corrected
        return SearchPage(
            total=len(matches.docs),
            page=request.page,
            size=request.size,
            sort=sort,
            took_ms=round((time.perf_counter() - started) * 1000, 2),  # all of the above
            timed_out=not complete,
            results=results,
            facets=facets,
            did_you_mean=did_you_mean,
            expanded=expanded,
            date_hint=dates.hint if dates else None,
        )

    def _restricted(self, evaluator: Evaluator, query: Query, docs: np.ndarray) -> Matches:
        """``query``'s matches among ``docs`` (the literal matches): expansion only ranks."""
        found = evaluator.run(query)
        return found.select(np.isin(found.docs, docs, assume_unique=True))

    def _did_you_mean(
        self, snap: Snapshot, text: str, deadline: Deadline, keep: tuple[tuple[int, int], ...]
    ) -> tuple[str | None, bool]:
        """The corrected query (None: nothing to correct), and whether the words were
        all checked before the deadline (if not, no correction is offered); the spans
        ``keep`` (the query's dates) are left as typed."""
        if not text.strip():
            return None, True
        speller = self._state(snap).speller
        try:
            corrected = speller.correct(
                snap,
                lambda stem: sum(snap.doc_frequency(f, stem.encode()) for f in TEXT_FIELDS),
                text,
                deadline.expired,
                keep,
            )
        except OutOfTime:
            return None, False
        return corrected, True

    def _filters(self, request: SearchRequest, snap: Snapshot) -> list[Query]:
        filters: list[Query] = []
        dates = date_filter(request.date_from, request.date_to)
        if dates is not None:
            filters.append(dates)
        for entity in request.entities:  # every entity must match
            filters.append(
                values_filter(["entity_value"], [entity], self._lexicons(snap), facet_key)
            )
        if request.sources:
            fields = ["source_value", "source_domain"]
            filters.append(values_filter(fields, request.sources, self._lexicons(snap), facet_key))
        if request.categories:
            filters.append(
                values_filter(["category"], request.categories, self._lexicons(snap), facet_key)
            )
        return filters

    def _lexicons(self, snap: Snapshot) -> dict[str, dict[str, list[str]]]:
        """Exact values of the filter fields, keyed by their folded form."""
        fields = ("entity_value", "source_value", "source_domain", "category")
        return {name: snap.folded_terms(name) for name in fields}

    def _matching(
        self, evaluator: Evaluator, query: Query, filters: list[Query]
    ) -> tuple[Matches, bool]:
        """Every live event matching the query and the filters, with scores, and whether
        all segments were searched before the deadline."""
        if isinstance(query, Every) and not filters:
            return Matches.unscored(evaluator.snap.live_docs()), True
        parts = ([] if isinstance(query, Every) else [query]) + filters
        combined = parts[0] if len(parts) == 1 else And(tuple(parts))
        try:
            return evaluator.run_by_segment(combined)
        except TooManyTerms as exc:
            raise BadRequest(
                "too_many_expansions",
                f"{exc.shown} matches more than {exc.cap} words; type more letters",
                "q",
            ) from None

    def _page(
        self,
        snap: Snapshot,
        matches: Matches,
        ranked: Ranking | None,
        sort: str,
        request: SearchRequest,
    ) -> list[tuple[int, float | None]]:
        first = (request.page - 1) * request.size
        last = request.page * request.size
        if sort == "relevance":
            if ranked is not None:
                return [(d, round(s, 4)) for d, s in ranked.top(last)[first:]]
            if len(matches.docs) and not np.any(matches.scores):
                sort = "newest"  # nothing to rank by: every event, newest first
            else:
                return [(d, round(s, 4)) for d, s in matches.top(last)[first:]]
        docs = matches.docs
        # One sortable number per document: its day, then its docnum.
        keys = snap.days(docs) * (1 << 40) + docs
        if sort != "oldest":
            keys = -keys
        kept = np.argpartition(keys, last)[:last] if last < len(keys) else np.arange(len(keys))
        order = kept[np.argsort(keys[kept])]
        return [(int(docs[i]), None) for i in order[first:last]]

    def _hit(
        self,
        snap: Snapshot,
        docnum: int,
        score: float | None,
        marks: Highlighter,
        deadline: Deadline,
    ) -> Hit:
        return Hit(**self._hit_fields(snap, docnum, score, marks, deadline))

    def _hit_fields(
        self,
        snap: Snapshot,
        docnum: int,
        score: float | None,
        marks: Highlighter,
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        event, mentions = snap.event(docnum)
        field = "body" if event["body"] else "title"
        return dict(
            id=event["id"],
            date=dt.date.fromisoformat(event["date"]),
            title=event["title"],
            snippet=marks.snippet(
                event[field],
                expired=deadline.expired if deadline else _never,
                holds=lambda term: snap.has_term(field, term.encode(), docnum),
            ),
            # The explicit entities, then the known names the text mentions.
            entities=tuple(event["entities"] + mentions),
            sources=tuple(Source(s["name"], s.get("url")) for s in event["sources"]),
            category=event["category"],
            story=event["story"],
            image=event["image"],
            score=score,
        )

    # Related events

    def related(
        self,
        event_id: str,
        size: int = 5,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        since: float | None = None,
    ) -> RelatedPage:
        """Events related to an indexed one, each with the reasons it is related."""
        deadline = self.deadline(since)
        with self._turn(deadline), self.live.acquire() as snap:
            return self._related_to_event(snap, event_id, size, date_from, date_to, deadline)

    def _related_to_event(
        self,
        snap: Snapshot,
        event_id: str,
        size: int,
        date_from: dt.date | None,
        date_to: dt.date | None,
        deadline: Deadline,
    ) -> RelatedPage:
        docnum = snap.docnum(event_id)
        if docnum is None:
            raise EventNotFound(event_id)
        event, _ = snap.event(docnum)
        # Explicit links, both directions: the ones it makes and the ones made to it.
        links = {snap.docnum(link["id"]) for link in event["related"]}
        links |= set(snap.term_docs("related", event_id.encode("utf-8")).tolist())
        day = dt.date.fromisoformat(event["date"]).toordinal()
        source = RelatedQuery(
            text=f"{event['title']}\n{event['body']}",
            entities=snap.values_of("entity", docnum),
            day=day,
            category=event["category"],
            links={int(d) for d in links if d is not None and d != docnum},
            exclude={docnum},
            fingerprint=Fingerprint.of(event["title"], event["body"], day),
        )
        return self._related(snap, source, size, date_from, date_to, deadline)

    def related_to_text(
        self,
        text: str,
        size: int = 5,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        since: float | None = None,
    ) -> RelatedPage:
        """Events related to a text that is not in the index (a draft, a pasted article)."""
        deadline = self.deadline(since)
        with self._turn(deadline), self.live.acquire() as snap:
            source = RelatedQuery(
                text=text,
                entities=self._state(snap).finder.find(text),
                fingerprint=Fingerprint.of("", text),
            )
            if deadline.expired():
                raise self._related_timeout()
            return self._related(snap, source, size, date_from, date_to, deadline)

    def _related(
        self,
        snap: Snapshot,
        source: RelatedQuery,
        size: int,
        date_from: dt.date | None,
        date_to: dt.date | None,
        deadline: Deadline,
    ) -> RelatedPage:
        evaluator = self._evaluator(snap, deadline)
        dates = date_filter(date_from, date_to)
        try:
            allowed = None if dates is None else evaluator.run(dates).docs
            hits = find_related(
                snap, evaluator, snap.analyzer, source, size, self.related_weights, allowed
            )
        except OutOfTime:
            raise self._related_timeout() from None
        unmarked = Highlighter({}, snap.analyzer)
        return RelatedPage(
            tuple(
                RelatedHit(
                    **self._hit_fields(snap, hit.docnum, hit.score, unmarked),
                    reasons=Reasons(tuple(hit.entities), tuple(hit.terms), hit.linked),
                )
                for hit in hits
            )
        )

    def _related_timeout(self) -> SearchTimeout:
        return SearchTimeout(
            f"finding related events took more than {self.config.search_timeout:g} s; try again"
        )

    # The search box

    def suggest(self, typed: str, size: int = 8) -> Suggestions:
        """Entity names and title phrases for what a person has typed, most frequent first."""
        with self.live.acquire() as snap:
            return Suggestions(tuple(self._state(snap).suggester.suggest(typed, size)))

    def _warm(self, snap: Snapshot) -> None:
        """Build the extras of a snapshot's commit (``LiveIndex``'s warm hook, before
        the snapshot is served).  Writers save the suggestion table and the mention
        vocabulary beside the index at every commit, under the names the commit's
        record gives."""
        suggester = Suggester.load(snap.sidecar(SUGGEST_FILE))
        vocabulary = MentionVocabulary.load(snap.sidecar(MENTIONS_FILE))
        names: dict[tuple[str, ...], list[str]] = {}
        for value in snap.facet_values("entity"):
            names.setdefault(tuple(snap.analyzer.words(value)), []).append(value)
        speller = Speller(snap.analyzer, suggester.forms)
        speller.warm(snap)
        warm_facets(snap)
        snap.extras = _CommitState(suggester, vocabulary.finder(), NameIndex(names), speller)

    def _state(self, snap: Snapshot) -> _CommitState:
        """The extras of the snapshot's commit (built when it was warmed)."""
        if snap.extras is None:  # a snapshot opened without the service's hook
            self._warm(snap)
        state: _CommitState = snap.extras
        return state

    # Events and the index

    def event(self, event_id: str) -> EventView:
        """An event and the names its text mentions; EventNotFound when there is none."""
        with self.live.acquire() as snap:
            docnum = snap.docnum(event_id)
            if docnum is None:
                raise EventNotFound(event_id)
            stored, mentions = snap.event(docnum)
        event = Event.from_dict(stored)
        values = {f.name: getattr(event, f.name) for f in dataclasses.fields(Event)}
        return EventView(**values, mentions=tuple(mentions))

    def stats(self) -> IndexStats:
        """Documents, date range, generation and build time of the live index."""
        with self.live.acquire() as snap:
            days = snap.days(snap.live_docs())
            meta = snap.record.build if snap.record is not None else {}
        return IndexStats(
            documents=len(days),
            first_date=dt.date.fromordinal(int(days.min())) if len(days) else None,
            last_date=dt.date.fromordinal(int(days.max())) if len(days) else None,
            generation=snap.generation.name,
            built_at=meta.get("built_at"),
        )

    def check_ready(self) -> None:
        """Raise IndexUnavailable (or a subclass) unless an index is open for searching."""
        with self.live.acquire():
            pass

    def close(self) -> None:
        self.live.close()
