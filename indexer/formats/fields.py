"""Field checks shared by the record formats."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from indexer.formats.reject import InvalidRecord
from search.event import valid_id

__all__ = ["check_id", "parse_date", "title_from_text"]

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9\)\"'’])[.!?](?=\s+[A-Z\"'‘“(])")
TITLE_LENGTH = 160


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


def title_from_text(text: str) -> str:
    """A title for a record that has only a text: its first sentence, shortened at a word."""
    match = _SENTENCE_END.search(text)
    title = text[: match.end()] if match else text
    if len(title) > TITLE_LENGTH:
        cut = title.rfind(" ", 0, TITLE_LENGTH)
        title = title[: cut if cut > 0 else TITLE_LENGTH].rstrip(",;:") + "…"
    return title.strip()
