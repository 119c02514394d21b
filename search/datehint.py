"""Dates written in a query, proposed as a date filter.

A reader who types ``refugees Sept. 2015`` means events of September 2015, and no
event says "Sept.": the query's dates are found, their words need not match (see
``parse_query``), and the search answers a ``DateHint`` (from, to, the words
as typed) that the page offers as a filter to apply.  Nothing is filtered unasked.

What is a date (English, any case; a month may be abbreviated, with or without a
period, and a comma may follow the month or the day):

- a day: ``9 March 2016``, ``9th of March 2016``, ``March 9, 2016``,
  ``2016-03-09``: that day;
- a month: ``March 2016``, ``Sept. 2015``, ``2016-03``: its first to its last day;
- a bare year, a four-digit number from 1900 to 2099 standing alone (``2015``,
  not ``2015-16``, ``1,500`` or ``covid19``): its first to its last day.  A bare
  number is often not a year ("2000 migrants"), but the hint is only offered and
  the word still counts in the ranking, so a wrong guess costs a chip, not results.

A month or a day without a year (``March``, ``May 9``) is no date: month names are
words too ("the march on Washington", "May" the name) and the year would be a guess.
Numeric dates other than ISO (``9/11``, ``12/09/2015``) are not dates either: their
order of day and month is ambiguous.  A date inside a quoted phrase, named to a field
(``title:2015``), next to an operator (``NOT 2015``) or under query syntax (``2015*``)
is left to the query syntax.  Several dates give one hint, from the earliest to the
latest; only the first ``MOST_DATES`` (4) are read, so that a query of many dates
cannot hold a worker (a date not seen before costs dateparser 1 to 20 ms).

Spans are found with a regular expression of the shapes above (a query without a
month name or four digits costs one regular-expression search); the words of each
span are read by dateparser, which knows the names, abbreviations and ordinals and
refuses dates that do not exist (``31 Feb 2015``).  Loading it takes about a second
(its language data): ``warm`` does it in a thread when the service is made, and until
it is done queries are answered without hints, never waiting for it.  Parses are
cached by span.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from search.dates import parse_bound
from search.parse import QueryParser
from search.query import AndMaybe, Every, Nothing, Query
from search.results import DateHint

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

__all__ = [
    "MOST_DATES",
    "READER",
    "WAIT",
    "DateReader",
    "NotReady",
    "QueryDates",
    "find_dates",
    "parse_query",
    "ready",
    "warm",
]

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![^\W\d_])\.?"
)
_DAY = r"(?:[0-3]?[0-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[0-9]{3}|2[0-9]{3})"
#: Each shape names its period: d(ay), m(onth) or y(ear).
_DATE = re.compile(
    rf"""(?<![\w.,/:+*~^-])(?:
        (?P<d>{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}
            | {_MONTH}\s+{_DAY},?\s+{_YEAR}
            | {_YEAR}-[0-9]{{1,2}}-[0-9]{{1,2}})
        | (?P<m>{_MONTH},?\s+(?:of\s+)?{_YEAR} | {_YEAR}-[0-9]{{1,2}})
        | (?P<y>(?:19|20)[0-9]{{2}})
    )(?![\w/:*~^-]|[.,]\w)""",
    re.IGNORECASE | re.VERBOSE,
)
#: What a query holds when it may have a date: a month's name or abbreviation, or
#: four digits.  Most queries hold neither and cost only this search (about 10 us).
_MAYBE = re.compile(rf"(?<![^\W\d_]){_MONTH}|[0-9]{{4}}", re.IGNORECASE)
_OPERATOR = re.compile(r"(?:AND|OR|NOT|ANDNOT|ANDMAYBE)")
_ISO_FORMAT = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
_PERIOD = {"d": "day", "m": "month", "y": "year"}
_SETTINGS = {"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False}
#: The most dates of one query that are read: the first ones; the others are words.
MOST_DATES = 4


@dataclass(frozen=True)
class QueryDates:
    """The dates found in a query: the hint to answer, the spans they take in the
    query (start, end: character offsets), the query without them (``rest``), and
    their words (``words``, to be made optional)."""

    hint: DateHint
    spans: tuple[tuple[int, int], ...]
    rest: str
    words: str


class NotReady(Exception):
    """dateparser is still loading, or busy past ``WAIT`` seconds: the span is not read
    this time (the query is answered without its hint)."""


#: The longest a search waits for another thread's parse, in seconds.
WAIT = 0.05


class DateReader:
    """dateparser's parser, loaded once per process by ``load`` (about a second: its
    language data), never inside a search; parses are serialised (its caches are
    shared)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parser: DateDataParser | None = None

    def load(self) -> None:
        """Import dateparser and load its English data (blocks until done)."""
        with self._lock:
            if self._parser is None:
                from dateparser.date import DateDataParser  # about 0.3 s

                parser = DateDataParser(languages=["en"], settings=_SETTINGS)
                parser.get_date_data("March 2016")  # loads the data: about 1 s
                self._parser = parser

    def ready(self) -> bool:
        return self._parser is not None

    def read(self, span: str) -> tuple[dt.date, str] | None:
        """The date ``span`` names and its period (day, month or year), or None.
        NotReady before ``load`` is done, or when another parse holds it past WAIT."""
        parser = self._parser
        if parser is None or not self._lock.acquire(timeout=WAIT):
            raise NotReady
        try:
            data = parser.get_date_data(span)
        finally:
            self._lock.release()
        if data.date_obj is None or data.period not in _ISO_FORMAT:
            return None
        return data.date_obj.date(), str(data.period)

    def after_fork(self) -> None:
        """In a forked child: locks held by the parent's threads are not held here."""
        self._lock = threading.Lock()


READER = DateReader()
_started = threading.Lock()


def warm() -> None:
    """Load dateparser in a thread, once per process (``SearchService`` calls it when
    made).  Until it is loaded, queries are answered without date hints."""
    if not READER.ready() and _started.acquire(blocking=False):
        threading.Thread(target=READER.load, name="dateparser-load", daemon=True).start()


def ready() -> bool:
    """Whether dates in queries are read now (dateparser has loaded)."""
    return READER.ready()


def _after_fork() -> None:
    """A child forked while the loading thread ran (gunicorn's preload) loads anew."""
    global _started
    READER.after_fork()
    _started = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


@functools.lru_cache(maxsize=4096)
def _read(span: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of the date ``span`` names (one of the shapes above, its
    white space made single), or None when it names none."""
    match = _DATE.fullmatch(span)
    if match is None:
        return None
    period = _PERIOD[next(k for k, v in match.groupdict().items() if v)]
    found = READER.read(span)  # NotReady is not cached: the span is read next time
    if found is None or found[1] != period:  # "2015-13" is a day to dateparser: no date
        return None
    written = found[0].strftime(_ISO_FORMAT[period])
    return parse_bound(written, end=False), parse_bound(written, end=True)


def _syntax_around(text: str, start: int, end: int) -> bool:
    """Whether the span is inside a quoted phrase or next to an operator word."""
    if text.count('"', 0, start) % 2:
        return True
    before = text[:start].split()
    after = text[end:].split()
    return bool(
        (before and _OPERATOR.fullmatch(before[-1])) or (after and _OPERATOR.fullmatch(after[0]))
    )


def find_dates(text: str) -> QueryDates | None:
    """The dates written in a query (see the module docstring), or None."""
    if not _MAYBE.search(text):
        return None
    spans: list[tuple[int, int]] = []
    bounds: list[tuple[dt.date, dt.date]] = []
    for count, match in enumerate(_DATE.finditer(text)):
        if count == MOST_DATES:  # a date first seen costs dateparser up to ~20 ms
            break
        start, end = match.span()
        if _syntax_around(text, start, end):
            continue
        try:
            read = _read(" ".join(match.group().split()))
        except NotReady:
            warm()
            continue
        if read is not None:
            spans.append((start, end))
            bounds.append(read)
    if not spans:
        return None
    typed = [text[a:b] for a, b in spans]
    rest, last = [], 0
    for a, b in spans:
        rest.append(text[last:a])
        last = b
    rest.append(text[last:])
    hint = DateHint(
        min(first for first, _ in bounds),
        max(last for _, last in bounds),
        " \u2013 ".join(" ".join(t.split()) for t in typed),  # an en dash
    )
    return QueryDates(hint, tuple(spans), " ".join("".join(rest).split()), " ".join(typed))


def parse_query(parser: QueryParser, text: str, match: str) -> tuple[Query, QueryDates | None]:
    """The query tree of ``text``, in which its dates' words need not match, and its
    dates (None when it has none).  A query ``parser`` refuses (too long, too many words) is
    refused as without dates: BadRequest.

    - Only dates (and symbols): every event (``Sept. 2015`` alone matches nothing
      else that a reader means; the hint narrows it).
    - ``match=any``: the query as typed, where no word has to match already; the
      date words keep their place in coordination and expansion, as any word.
    - ``match=all``: the other words must match, the date words only add to the score.
    """
    whole = parser.parse(text, match)
    dates = find_dates(text)
    if dates is None:
        return whole, None
    if not any(c.isalnum() for c in dates.rest):
        return Every(), dates
    if match == "any":
        return whole, dates
    rest = parser.parse(dates.rest, match)
    if isinstance(rest, (Every, Nothing)):
        return Every(), dates
    optional = parser.parse(dates.words, "any")
    return (rest if isinstance(optional, (Every, Nothing)) else AndMaybe(rest, optional)), dates
