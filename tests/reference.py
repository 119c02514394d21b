"""The scoring model of ``search/execute.py``, computed the slow and obvious way:
document by document, through whoosh's own matchers and per-document lookups.
Tests compare the two."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import orjson
from whoosh import query as wq

from search.analysis import text_analyzer
from search.event import Event
from search.execute import K1, B, term_count
from search.schema import document

Scores = dict[int, tuple[float, int]]  # docnum -> (score, terms matched)


class Reference:
    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.total = self.reader.doc_count_all() or 1

    def live(self) -> list[int]:
        return list(self.reader.all_doc_ids())

    def _in_place(self, docnum: int, q: Any, offsets: list[int]) -> bool:
        """Re-analyse the document's field text and look for the words at their offsets."""
        stored = self.searcher.stored_fields(docnum)
        event = Event.from_dict(orjson.loads(stored["event"]))
        text = document(event, stored.get("mentions") or [])[q.fieldname]
        places: dict[str, set[int]] = {}
        for token in text_analyzer()(text, positions=True):
            places.setdefault(token.text, set()).add(token.pos)
        for start in places.get(q.words[0], set()):
            wanted = zip(q.words[1:], offsets[1:], strict=True)
            if q.slop <= 1:
                if all(start + off in places.get(w, set()) for w, off in wanted):
                    return True
            elif all(
                any(abs(p - (start + off)) < q.slop for p in places.get(w, set()))
                for w, off in wanted
            ):
                return True
        return False

    def _day(self, docnum: int) -> int:
        event = orjson.loads(self.searcher.stored_fields(docnum)["event"])
        return dt.date.fromisoformat(event["date"]).toordinal()

    def term(self, fieldname: str, text: Any, boost: float) -> Scores:
        if fieldname not in self.reader.schema:
            return {}
        field = self.reader.schema[fieldname]
        btext = field.to_bytes(text)
        if (fieldname, btext) not in self.reader:
            return {}
        found: Scores = {}
        matcher = self.reader.postings(fieldname, btext)
        df = self.reader.doc_frequency(fieldname, btext)
        idf = math.log(self.total / (df + 1)) + 1
        average = (self.reader.field_length(fieldname) / self.total) or 1.0
        while matcher.is_active():
            docnum, tf = matcher.id(), matcher.weight()
            if field.scorable:
                length = self.reader.doc_field_length(docnum, fieldname) or 0
                score = idf * tf * (K1 + 1) / (tf + K1 * ((1 - B) + B * length / average))
                found[docnum] = (score * boost, 1)
            else:
                found[docnum] = (boost, 1)
            matcher.next()
        return found

    def run(self, q: Any) -> Scores:
        if q is wq.NullQuery:
            return {}
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text, q.boost)
        if isinstance(q, wq.Every):
            return {d: (0.0, 0) for d in self.live()}
        if isinstance(q, (wq.Prefix, wq.FuzzyTerm)):
            found: Scores = {}
            for word in q._btexts(self.reader):
                for docnum, (score, _) in self.term(q.fieldname, word, q.boost).items():
                    found[docnum] = (found.get(docnum, (0.0, 0))[0] + score, 1)
            return found
        if isinstance(q, wq.Phrase):
            words = self.run(wq.And([wq.Term(q.fieldname, w, q.boost) for w in q.words]))
            offsets = getattr(q, "offsets", list(range(len(q.words))))
            return {d: v for d, v in words.items() if self._in_place(d, q, offsets)}
        if isinstance(q, wq.NumericRange):  # a date range: read each event's own date
            return {d: (0.0, 0) for d in self.live() if q.start <= self._day(d) <= q.end}
        if isinstance(q, wq.ConstantScoreQuery):
            return {d: (float(q.score), m) for d, (_, m) in self.run(q.child).items()}
        if isinstance(q, wq.AndMaybe):
            required, optional = self.run(q.a), self.run(q.b)
            return {
                d: (s + optional.get(d, (0.0, 0))[0], m + optional.get(d, (0.0, 0))[1])
                for d, (s, m) in required.items()
            }
        if isinstance(q, wq.AndNot):
            drop = self.run(q.b)
            return {d: v for d, v in self.run(q.a).items() if d not in drop}
        if isinstance(q, wq.Not):
            drop = self.run(q.query)
            return {d: (0.0, 0) for d in self.live() if d not in drop}
        if isinstance(q, wq.And):
            parts = [self.run(c) for c in q.subqueries]
            common = set(parts[0]).intersection(*parts[1:]) if parts else set()
            return {d: (sum(p[d][0] for p in parts), sum(p[d][1] for p in parts)) for d in common}
        if isinstance(q, wq.Or):
            parts = [self.run(c) for c in q.subqueries]
            found = {}
            for part in parts:
                for d, (s, m) in part.items():
                    old = found.get(d, (0.0, 0))
                    found[d] = (old[0] + s, old[1] + m)
            if q.scale:
                t = term_count(q)
                found = {
                    d: ((s + (m - 1) / (t - q.scale) ** 2) * ((t - 1) / t), m)
                    for d, (s, m) in found.items()
                }
            return {d: (s * q.boost, m) for d, (s, m) in found.items()}
        raise NotImplementedError(type(q).__name__)
