"""Dates as people write them in filters, and the buckets of date histograms."""

from __future__ import annotations

import calendar
import datetime as dt
import re

import numpy as np
import numpy.typing as npt

__all__ = [
    "UNITS",
    "bucket_keys",
    "bucket_of_days",
    "choose_interval",
    "parse_bound",
]

#: The units of date histograms, longest first.
UNITS = ("year", "month", "day")
_BOUND = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")

# date.toordinal() of 1970-01-01: day numbers minus this are numpy datetime64[D] values.
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


def parse_bound(value: str, *, end: bool) -> dt.date:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as the first day of that span,
    or its last day when ``end`` is true (``2015-09`` -> 2015-09-30).

    Raises ValueError with a message a person understands.
    """
    match = _BOUND.fullmatch(value)
    if not match:
        raise ValueError(f"{value!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if year < 1:
        raise ValueError(f"{value!r} is not a date: there is no year 0")
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"{value!r} is not a date: month {month} does not exist")
    if month is None:
        return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
    last_day = calendar.monthrange(year, month)[1]
    if day is None:
        return dt.date(year, month, last_day if end else 1)
    if not 1 <= day <= last_day:
        raise ValueError(f"{value!r} is not a date: {year:04d}-{month:02d} has no day {day}")
    return dt.date(year, month, day)


def choose_interval(first: dt.date, last: dt.date) -> str:
    """The interval that gives a chart few enough bars: days up to two months,
    months up to five years, years beyond."""
    days = (last - first).days
    if days <= 62:
        return "day"
    months = (last.year - first.year) * 12 + last.month - first.month
    return "month" if months <= 60 else "year"


def bucket_of_days(days: npt.NDArray[np.int64], interval: str) -> npt.NDArray[np.int64]:
    """Bucket numbers of day numbers (``date.toordinal()``): days, months or years
    since 1970, comparable and consecutive."""
    if interval == "day":
        return days - _EPOCH_ORDINAL
    stamps = (days - _EPOCH_ORDINAL).astype("datetime64[D]")
    unit = "M" if interval == "month" else "Y"
    return stamps.astype(f"datetime64[{unit}]").astype(np.int64)


def bucket_keys(first: int, last: int, interval: str) -> list[str]:
    """Labels of buckets ``first..last`` (as from ``bucket_of_days``): ``2015``,
    ``2015-09`` or ``2015-09-01``."""
    unit = {"day": "D", "month": "M", "year": "Y"}[interval]
    span = np.arange(first, last + 1, dtype=np.int64).astype(f"datetime64[{unit}]")
    return [str(x) for x in span]
