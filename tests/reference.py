"""The engine's scoring model (search/scoring.py) computed the slow and obvious way:
document by document, through whoosh's public API (its searcher, postings
matchers, lexicons and stored fields), with field lengths and word positions
found by analysing each stored event's text again.  Tests compare the engine's
arrays with it."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import orjson

from search.event import Event
from search.query import (
    Alternatives,
    And,
    AndMaybe,
    AndNot,
    DateRange,
    Every,
    Fuzzy,
    Not,
    Nothing,
    Or,
    Phrase,
    Prefix,
    Query,
    Term,
    Values,
)
from search.schema import document
from search.scoring import Similarity
from search.text import Analyzer

Scores = dict[int, tuple[float, int]]  # docnum -> (score, query words matched)


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance, by the textbook recurrence."""
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


class Reference:
    def __init__(self, searcher: Any, similarity: Similarity, analyzer: Analyzer) -> None:
        """``analyzer``: the index's, as its generation records it."""
        self.searcher = searcher
        self.analyzer = analyzer
        self.sim = similarity
        self.reader = searcher.reader()
        self.total = self.reader.doc_count_all()
        self._fields: dict[int, dict[str, Any]] = {}

    def live(self) -> list[int]:
        return list(self.reader.all_doc_ids())

    def _document(self, docnum: int) -> dict[str, Any]:
        found = self._fields.get(docnum)
        if found is None:
            stored = self.searcher.stored_fields(docnum)
            event = Event.from_dict(orjson.loads(stored["event"]))
            found = self._fields[docnum] = document(event, stored.get("mentions") or [])
        return found

    def _tokens(self, docnum: int, fieldname: str) -> list[Any]:
        text = self._document(docnum).get(fieldname) or ""
        return [(t.term, t.position) for t in self.analyzer.tokens(text)]

    def _in_place(self, docnum: int, q: Phrase, fieldname: str) -> bool:
        """Re-analyse the document's field text and look for the words at their offsets."""
        places: dict[str, set[int]] = {}
        for text, pos in self._tokens(docnum, fieldname):
            places.setdefault(text, set()).add(pos)
        for start in places.get(q.terms[0], set()):
            if all(
                any(abs(p - (start + off - q.offsets[0])) <= q.slop for p in places.get(w, set()))
                for w, off in zip(q.terms[1:], q.offsets[1:], strict=True)
            ):
                return True
        return False

    def _day(self, docnum: int) -> int:
        event = orjson.loads(self.searcher.stored_fields(docnum)["event"])
        return dt.date.fromisoformat(event["date"]).toordinal()

    def _postings(self, fieldname: str, term: str) -> dict[int, float]:
        if fieldname not in self.reader.schema or (fieldname, term) not in self.reader:
            return {}
        found = {}
        matcher = self.reader.postings(fieldname, term)
        while matcher.is_active():
            found[matcher.id()] = matcher.weight()
            matcher.next()
        return found

    def term(self, q: Term) -> Scores:
        df = max(self.reader.doc_frequency(f, q.term) for f in q.fields)
        if not df:
            return {}
        idf = math.log(1 + (self.total - df + 0.5) / (df + 0.5))
        per_field = {f: self._postings(f, q.term) for f in q.fields}
        docs = set().union(*per_field.values())
        scored = [f for f in q.fields if f in ("title", "body", "entity", "source")]
        found: Scores = {}
        for docnum in docs:
            if not scored:
                found[docnum] = (q.boost, 1)
                continue
            combined = 0.0
            for f in scored:
                tf = per_field[f].get(docnum, 0.0)
                if tf:
                    length = len(self._tokens(docnum, f))
                    average = self.reader.field_length(f) / self.total
                    norm = 1 - self.sim.b + self.sim.b * length / average
                    combined += self.sim.weight(f) * tf / norm
            k1 = self.sim.k1
            found[docnum] = (q.boost * idf * combined * (k1 + 1) / (combined + k1), 1)
        return found

    def _expansion(self, q: Prefix | Fuzzy) -> list[str]:
        terms: set[str] = set()
        for f in q.fields:
            for raw in self.reader.lexicon(f):
                word = raw.decode("utf-8")
                if isinstance(q, Prefix):
                    if word.startswith(q.prefix):
                        terms.add(word)
                elif word[: q.prefix_length] == q.word[: q.prefix_length] and (
                    edit_distance(word, q.word) <= q.max_edits
                ):
                    terms.add(word)
        return sorted(terms)

    def run(self, q: Query) -> Scores:
        match q:
            case Nothing():
                return {}
            case Term():
                return self.term(q)
            case Every():
                return {d: (0.0, 0) for d in self.live()}
            case Prefix() | Fuzzy():
                found: Scores = {}
                for word in self._expansion(q):
                    for docnum, (score, _) in self.term(Term(word, q.fields, q.boost)).items():
                        found[docnum] = (found.get(docnum, (0.0, 0))[0] + score, 1)
                return found
            case Phrase():
                words = [self.term(Term(w, q.fields, q.boost)) for w in q.terms]
                common = set(words[0]).intersection(*words[1:])
                return {
                    d: (sum(w[d][0] for w in words), 1)
                    for d in common
                    if any(self._in_place(d, q, f) for f in q.fields)
                }
            case Values(field=fieldname, values=values, boost=boost):
                docs = set().union(*(self._postings(fieldname, v) for v in values))
                return {d: (boost, 0) for d in docs}
            case DateRange(first=first, last=last):
                return {d: (0.0, 0) for d in self.live() if first <= self._day(d) <= last}
            case AndMaybe(required, optional):
                need, extra = self.run(required), self.run(optional)
                return {d: (s + extra.get(d, (0.0, 0))[0], m) for d, (s, m) in need.items()}
            case AndNot(positive, negative):
                drop = self.run(negative)
                return {d: v for d, v in self.run(positive).items() if d not in drop}
            case Not(part):
                drop = self.run(part)
                return {d: (0.0, 0) for d in self.live() if d not in drop}
            case And(parts):
                runs = [self.run(c) for c in parts]
                common = set(runs[0]).intersection(*runs[1:]) if runs else set()
                return {d: (sum(r[d][0] for r in runs), sum(r[d][1] for r in runs)) for d in common}
            case Alternatives(parts):
                either: Scores = {}
                for scores in [self.run(c) for c in parts]:
                    for d, (s, _) in scores.items():
                        either[d] = (either.get(d, (0.0, 0))[0] + s, 1)
                return either
            case Or(parts):
                merged: Scores = {}
                for scores in [self.run(c) for c in parts]:
                    for d, (s, m) in scores.items():
                        old = merged.get(d, (0.0, 0))
                        merged[d] = (old[0] + s, old[1] + m)
                return merged
        raise NotImplementedError(type(q).__name__)
