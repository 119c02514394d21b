"""JSON text as the indexer reads it: strict, and a repeated key is an error.

JSON parsers keep the last value of a repeated key (``{"title": "a", "title": "b"}``
reads as ``{"title": "b"}``), which would index half of what a record says without a
word.  ``loads`` marks every object that repeats a key, and ``Parsed.check`` turns
the first mark inside a record into an InvalidRecord naming the key and where it
is, so that only that record is rejected.  Nothing beyond RFC 8259 is accepted: no
``NaN`` or ``Infinity``, no number too large for a double, and no lone surrogate
(``"\\ud800"``), which is not text and could not be stored.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from indexer.formats.reject import InvalidRecord

__all__ = ["JSONError", "Parsed", "loads"]

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONError(ValueError):
    """Text that is not JSON; the message says what and where, for a person."""


class _Repeats(dict[str, Any]):
    """An object that repeated a key; ``repeated`` is the first key repeated."""

    repeated = ""


def _constant(name: str) -> Any:
    raise JSONError(f"{name} is not a JSON value")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise JSONError(f"the number {text[:40]} is too large")
    return value


class Parsed:
    """One parsed JSON value, and whether any of it may fail ``check``."""

    def __init__(self, value: Any, suspect: bool) -> None:
        self.value = value
        self.suspect = suspect

    def check(self, record: Any) -> None:
        """InvalidRecord when ``record`` (the value or a part of it) repeats a key or
        holds a lone surrogate, naming the key and where it is (``sources[0]``)."""
        if not self.suspect:
            return
        stack: list[tuple[str, Any]] = [("", record)]
        while stack:
            where, value = stack.pop()
            if isinstance(value, dict):
                if isinstance(value, _Repeats):
                    raise InvalidRecord(f"the key {value.repeated!r} is repeated{_in(where)}")
                for key, item in reversed(value.items()):
                    if _SURROGATE.search(key):
                        raise InvalidRecord(f"a key{_in(where)} holds a lone surrogate")
                    stack.append((f"{where}.{key}" if where else key, item))
            elif isinstance(value, list):
                items = [(f"{where}[{n}]", item) for n, item in enumerate(value)]
                stack.extend(reversed(items))
            elif isinstance(value, str) and _SURROGATE.search(value):
                raise InvalidRecord(f"{where or 'the value'} holds a lone surrogate, not text")


def _in(where: str) -> str:
    return f" in {where}" if where else ""


def loads(text: str) -> Parsed:
    """Parse ``text``, one JSON value.  Raises JSONError saying what and where."""
    repeats = False

    def pairs_to_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeats
        value = dict(pairs)
        if len(value) == len(pairs):
            return value
        repeats = True
        marked = _Repeats(value)
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                marked.repeated = key
                break
            seen.add(key)
        return marked

    try:
        value = json.loads(
            text, object_pairs_hook=pairs_to_object, parse_constant=_constant, parse_float=_float
        )
    except json.JSONDecodeError as exc:
        raise JSONError(str(exc)) from None
    except RecursionError:
        raise JSONError("nested too deeply") from None
    return Parsed(value, repeats or _SURROGATE_ESCAPE.search(text) is not None)
