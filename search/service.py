"""The search service: ranked, filtered and faceted search over the live index,
related events, suggestions, events and statistics."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from config import Config
from search.datehint import parse_query, warm
from search.deadline import Deadline
from search.errors import BadRequest, EventNotFound, SearchTimeout
from search.evaluate import Evaluator, Expansions, OutOfTime
from search.event import Event, Source
from search.expansion import expand
from search.facets import count_facets
from search.highlight import Highlighter
from search.lexicon import TooManyTerms
from search.live import LiveIndex
from search.matches import Matches
from search.mentions import MENTIONS_FILE, MentionFinder, MentionVocabulary
from search.parse import Limits, QueryParser, date_filter, values_filter
from search.query import And, Every, Fuzzy, Phrase, Prefix, Query, Term, leaves, word_count
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
from search.text import Analyzer

__all__ = ["SearchRequest", "SearchService"]

DEFAULT_FACETS = ("date", "entity", "source")


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
class _CommitState:
    """What the service keeps per generation commit, shared by the threads (read-only
    once built): the suggestion table, the mention finder, the entity names queries
    are matched against, and did-you-mean."""

    suggester: Suggester
    finder: MentionFinder
    names: NameIndex
    _speller: Speller | None = None

    def speller(self, analyzer: Analyzer) -> Speller:
        """Built on first use: only queries with unknown words need it."""
        if self._speller is None:
            self._speller = Speller(analyzer, self.suggester.forms)
        return self._speller


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
            self.store, config.refresh_interval, memo_bytes=config.postings_cache_mb * 1024 * 1024
        )
        self.limits = Limits(
            config.max_query_length,
            config.max_query_terms,
            config.max_expansions,
            config.max_edits,
        )
        self._parsers: dict[str, QueryParser] = {}
        self._local = threading.local()
        self._lock = threading.Lock()
        self._states_by_key: dict[tuple[str, int, str], _CommitState] = {}
        warm()  # the date parser's data, before the first query with a date

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

    def search(self, request: SearchRequest) -> SearchPage:
        """Run a search."""
        started = time.perf_counter()
        if request.page * request.size > self.config.max_result_window:
            raise BadRequest(
                "result_window_too_large",
                f"page * size is {request.page * request.size}; at most "
                f"{self.config.max_result_window} results can be paged through",
                "page",
            )
        snap = self.live.snapshot()
        # From here: opening a new generation is not the search's own time.
        deadline = Deadline(self.config.search_timeout)
        query, dates = parse_query(self.parser(snap), request.q, request.match)
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
                if request.expand and complete:
                    first = ranked.top(self.expansion_weights.feedback_docs)
                    expansion = expand(snap, snap.analyzer, query, first, self.expansion_weights)
                    if expansion is not None:
                        # Expansion reorders only the events that lack a query word: it
                        # finds what the words miss, and leaves the complete ones in
                        # their order (measured: it only lost known-item searches).
                        docs = matches.docs[matches.matched < word_count(query)]
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
        terms = self._highlight_terms(evaluator, query) if request.highlight else {}
        marks = Highlighter(terms, snap.analyzer)
        results = tuple(self._hit(snap, docnum, score, marks, deadline) for docnum, score in hits)
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
        speller = self._state(snap).speller(snap.analyzer)
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

    def _highlight_terms(self, evaluator: Evaluator, query: Query) -> dict[str, int]:
        """The index terms a snippet marks, each with the query word it stands for: the
        query's words in text fields (each word of a phrase too), and what its prefixes
        and fuzzy words expanded to."""
        found: dict[str, int] = {}
        for leaf in leaves(query):
            match leaf:
                case Term(term=term, fields=fields) if set(fields) & set(TEXT_FIELDS):
                    found.setdefault(term, len(found))
                case Phrase(terms=terms):
                    for term in terms:
                        found.setdefault(term, len(found))
                case Prefix() | Fuzzy():
                    word = len(found)
                    with contextlib.suppress(TooManyTerms, OutOfTime):
                        for term in evaluator.expansions.terms(evaluator.snap, leaf, _never):
                            found.setdefault(term, word)
        return found

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
    ) -> RelatedPage:
        """Events related to an indexed one, each with the reasons it is related."""
        snap = self.live.snapshot()
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
        return self._related(snap, source, size, date_from, date_to)

    def related_to_text(
        self,
        text: str,
        size: int = 5,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> RelatedPage:
        """Events related to a text that is not in the index (a draft, a pasted article)."""
        snap = self.live.snapshot()
        source = RelatedQuery(
            text=text,
            entities=self._state(snap).finder.find(text),
            fingerprint=Fingerprint.of("", text),
        )
        return self._related(snap, source, size, date_from, date_to)

    def _related(
        self,
        snap: Snapshot,
        source: RelatedQuery,
        size: int,
        date_from: dt.date | None,
        date_to: dt.date | None,
    ) -> RelatedPage:
        deadline = Deadline(self.config.search_timeout)
        evaluator = self._evaluator(snap, deadline)
        dates = date_filter(date_from, date_to)
        try:
            allowed = None if dates is None else evaluator.run(dates).docs
            hits = find_related(
                snap, evaluator, snap.analyzer, source, size, self.related_weights, allowed
            )
        except OutOfTime:
            raise SearchTimeout(
                f"finding related events took more than {self.config.search_timeout:g} s; try again"
            ) from None
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

    # The search box

    def suggest(self, typed: str, size: int = 8) -> Suggestions:
        """Entity names and title phrases for what a person has typed, most frequent first."""
        snap = self.live.snapshot()
        return Suggestions(tuple(self._state(snap).suggester.suggest(typed, size)))

    def _state(self, snap: Snapshot) -> _CommitState:
        """The extras of the snapshot's commit.  Writers save the suggestion table and
        the mention vocabulary beside the index at every commit, under the names the
        commit's record gives."""
        path = snap.sidecar(SUGGEST_FILE)
        key = (snap.generation.name, snap.version[1], path.name)
        with self._lock:
            found = self._states_by_key.get(key)
        if found is None:
            suggester = Suggester.load(path, snap.analyzer)
            vocabulary = MentionVocabulary.load(snap.sidecar(MENTIONS_FILE))
            names: dict[tuple[str, ...], list[str]] = {}
            for value in snap.facet_values("entity"):
                names.setdefault(tuple(snap.analyzer.words(value)), []).append(value)
            found = _CommitState(suggester, vocabulary.finder(), NameIndex(names))
            with self._lock:
                self._states_by_key = {key: found}
        return found

    # Events and the index

    def event(self, event_id: str) -> EventView:
        """An event and the names its text mentions; EventNotFound when there is none."""
        snap = self.live.snapshot()
        docnum = snap.docnum(event_id)
        if docnum is None:
            raise EventNotFound(event_id)
        stored, mentions = snap.event(docnum)
        event = Event.from_dict(stored)
        values = {f.name: getattr(event, f.name) for f in dataclasses.fields(Event)}
        return EventView(**values, mentions=tuple(mentions))

    def stats(self) -> IndexStats:
        """Documents, date range, generation and build time of the live index."""
        snap = self.live.snapshot()
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
        self.live.snapshot()

    def close(self) -> None:
        self.live.close()
