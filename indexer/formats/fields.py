"""Field checks shared by the record formats: dates, ids, web addresses and titles."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

import sentencex

from indexer.formats.reject import InvalidRecord
from search import valid_id

__all__ = [
    "NAME_PREFIXES",
    "check_id",
    "check_link",
    "check_web_url",
    "parse_date",
    "title_from_text",
]

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_NOT_IN_URL = re.compile(r"[\s\x00-\x1f\x7f]")
WEB_SCHEMES = ("http", "https")
TITLE_LENGTH = 160
# The first sentence of a text lies in its first characters; the splitter reads only
# these, so a title costs the same for a 1 MB text as for a short one.
_TITLE_SPAN = 4 * TITLE_LENGTH
# Abbreviations that come before a name and so never end a sentence: titles of
# people and the first word of place names.
NAME_PREFIXES = (
    *("Adm", "Capt", "Cmdr", "Col", "Cpl", "Dr", "Fr", "Ft", "Gen", "Gov", "Hon", "Lt", "Maj"),
    *("Messrs", "Mr", "Mrs", "Ms", "Mt", "Prof", "Pres", "Pt", "Pvt", "Rep", "Rev", "Sen"),
    *("Sgt", "St"),
)
_BEFORE_A_NAME = re.compile(rf"(?:^|\s)(?:{'|'.join(NAME_PREFIXES)})\.\s*$")


def parse_date(value: Any, field: str) -> dt.date:
    """A ``YYYY-MM-DD`` string as a date; InvalidRecord naming the field otherwise."""
    if value is None or value == "":
        raise InvalidRecord(f"no {field}")
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
        raise InvalidRecord(f"{field} {value!r} is not a date in the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRecord(f"impossible {field} {value.strip()!r}") from None


def check_id(value: str, field: str = "id") -> str:
    """``value`` when it can be an event id; InvalidRecord naming the field otherwise."""
    if not valid_id(value):
        raise InvalidRecord(
            f"{field} {value!r} is not valid: use up to 200 letters, digits and . _ ~ : -"
        )
    return value


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:80] + "…")


def check_web_url(value: str, field: str) -> str:
    """``value`` when it is an absolute ``http``/``https`` address with a host, as
    every stored address (sources, images) must be: a ``javascript:`` or ``data:``
    address in an event would run or show whatever it holds wherever the event is
    shown.  InvalidRecord naming the field otherwise."""
    if _NOT_IN_URL.search(value):
        raise InvalidRecord(f"{field} {_shown(value)} holds spaces or control characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise InvalidRecord(f"{field} {_shown(value)} is not a valid address") from None
    if parts.scheme.lower() not in WEB_SCHEMES:
        raise InvalidRecord(
            f"{field} {_shown(value)} is not a web address: only http and https are accepted"
        )
    if not host:
        raise InvalidRecord(f"{field} {_shown(value)} has no host")
    return value


def check_link(value: str, field: str) -> str:
    """``value`` when it is a path on the site (``/news/...``) or a web address
    (``check_web_url``); InvalidRecord naming the field otherwise."""
    if value.startswith("/") and not value.startswith("//"):
        if _NOT_IN_URL.search(value):
            raise InvalidRecord(f"{field} {_shown(value)} holds spaces or control characters")
        return value
    return check_web_url(value, field)


def title_from_text(text: str) -> str:
    """A title for a record that has only a text: its first sentence, shortened at a
    word to at most TITLE_LENGTH characters (then ending in ``…``).

    Sentences are found by ``sentencex`` (Wikimedia's sentence segmenter), which
    knows abbreviations: ``Mt. Gox``, ``St. Petersburg``, ``Gen. Smith`` and ``U.S.``
    do not end a sentence.  A sentence it ends with a title or place abbreviation
    that always comes before a name (``Ft. Lauderdale``: NAME_PREFIXES) goes on.
    """
    sentences = iter(sentencex.segment("en", text[:_TITLE_SPAN]))
    title = next(sentences, text[:_TITLE_SPAN])
    while _BEFORE_A_NAME.search(title):
        following = next(sentences, None)
        if following is None:
            break
        title += following
    title = title.strip()
    if len(title) > TITLE_LENGTH:
        cut = title.rfind(" ", 0, TITLE_LENGTH)
        title = title[: cut if cut > 0 else TITLE_LENGTH].rstrip(",;:") + "…"
    return title.strip()
