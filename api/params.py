"""Query parameters: declared once, used to validate requests and to write the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from search import BadRequest, parse_bound

__all__ = [
    "NOT_BLANK",
    "BoolParam",
    "ChoiceParam",
    "DateParam",
    "IntParam",
    "ListParam",
    "Param",
    "QueryParam",
    "TextParam",
    "has_text",
    "parse_params",
]

# ASCII digits, no white space: what the OpenAPI schemas say.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")
_YEAR = "(?!0000)[0-9]{4}"
#: A character that is neither white space nor NUL.  Spelt out, because ``\s`` means
#: different characters to Python, to ECMAScript and to other JSON Schema validators.
NOT_BLANK = (
    r"[^\u0000\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a"
    r"\u2028\u2029\u202f\u205f\u3000\ufeff]"
)
#: Text without NUL characters (the request middleware refuses them in query strings).
_NO_NUL = r"^[^\u0000]*$"
_NOT_BLANK = re.compile(NOT_BLANK)


def has_text(value: str) -> bool:
    """Whether ``value`` holds anything besides white space (and NUL)."""
    return _NOT_BLANK.search(value) is not None


@dataclass(frozen=True)
class Param:
    """A query parameter: its name, its help, whether it may repeat."""

    name: str
    description: str
    repeatable: bool = False
    default: str | None = None  # as it would be written in the query string

    def parse(self, raw: str) -> Any:
        return raw

    def default_value(self) -> Any:
        """The parsed default (None for no default)."""
        return None if self.default is None else self.parse(self.default)

    def schema_default(self) -> Any:
        """The default as the OpenAPI schema states it."""
        return self.default_value()

    def schema(self) -> dict[str, Any]:
        return {"type": "string"}

    def openapi(self) -> dict[str, Any]:
        schema = self.schema()
        if self.default is not None:
            schema["default"] = self.schema_default()
        if self.repeatable:
            schema = {"type": "array", "items": schema}
        spec: dict[str, Any] = {
            "name": self.name,
            "in": "query",
            "required": False,
            "description": self.description,
            "schema": schema,
        }
        if self.repeatable:
            spec["style"] = "form"
            spec["explode"] = True
        return spec

    def error(self, message: str) -> BadRequest:
        """400 ``invalid_parameter`` naming this parameter."""
        return BadRequest("invalid_parameter", f"{self.name}: {message}", self.name)


@dataclass(frozen=True)
class TextParam(Param):
    max_length: int = 200

    def parse(self, raw: str) -> str:
        if len(raw) > self.max_length:
            raise self.error(f"at most {self.max_length} characters, got {len(raw)}")
        if not self.repeatable or has_text(raw):
            return raw
        raise self.error("must not be empty")

    def schema(self) -> dict[str, Any]:
        schema = {"type": "string", "maxLength": self.max_length, "pattern": _NO_NUL}
        if self.repeatable:  # each value must have something besides white space
            schema["pattern"] = rf"^[^\u0000]*{NOT_BLANK}[^\u0000]*$"
            schema["minLength"] = 1
        return schema


@dataclass(frozen=True)
class QueryParam(TextParam):
    """The search query.  Its length, like the rest of the query language's limits, is
    checked by the engine's parser (400 ``query_too_long``); ``max_length`` only states
    that limit in the OpenAPI document."""

    def parse(self, raw: str) -> str:
        return raw


@dataclass(frozen=True)
class IntParam(Param):
    minimum: int = 0
    maximum: int | None = None  # None: no upper bound here (another rule bounds it)

    def parse(self, raw: str) -> int:
        if not _WHOLE_NUMBER.fullmatch(raw):
            raise self.error(f"must be a whole number, got {raw!r}")
        return self.check(int(raw))

    def check(self, value: int) -> int:
        """``value`` when it is within bounds; BadRequest otherwise."""
        if self.maximum is None:
            if value < self.minimum:
                raise self.error(f"must be at least {self.minimum}, got {value}")
        elif not self.minimum <= value <= self.maximum:
            raise self.error(f"must be from {self.minimum} to {self.maximum}, got {value}")
        return value

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer", "minimum": self.minimum}
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


@dataclass(frozen=True)
class ChoiceParam(Param):
    choices: tuple[str, ...] = ()

    def parse(self, raw: str) -> str:
        if raw not in self.choices:
            raise self.error(f"must be one of {', '.join(self.choices)}; got {raw!r}")
        return raw

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.choices)}


@dataclass(frozen=True)
class BoolParam(Param):
    def parse(self, raw: str) -> bool:
        value = raw.strip().lower()
        if value in ("true", "1", "yes"):
            return True
        if value in ("false", "0", "no"):
            return False
        raise self.error(f"must be true or false, got {raw!r}")

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class ListParam(Param):
    """A comma-separated list of choices."""

    choices: tuple[str, ...] = ()

    def parse(self, raw: str) -> tuple[str, ...]:
        items = [item.strip() for item in raw.split(",") if item.strip()]
        for item in items:
            if item not in self.choices:
                raise self.error(f"unknown value {item!r}; choose from {', '.join(self.choices)}")
        return tuple(dict.fromkeys(items))

    def schema_default(self) -> Any:
        return self.default

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": rf"^(({'|'.join(self.choices)})(,({'|'.join(self.choices)}))*)?$",
        }


@dataclass(frozen=True)
class DateParam(Param):
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; an end bound runs to the end of its span."""

    end: bool = False

    def parse(self, raw: str) -> dt.date:
        try:
            if not raw.isascii() or raw != raw.strip():
                raise ValueError(f"{raw!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD")
            return parse_bound(raw, end=self.end)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "anyOf": [
                {"pattern": f"^{_YEAR}$"},
                {"pattern": f"^{_YEAR}-(0[1-9]|1[0-2])$"},
                {"format": "date"},
            ],
        }


def parse_params(given: Mapping[str, str | list[str]], specs: Sequence[Param]) -> dict[str, Any]:
    """Validate a request's query parameters against ``specs``.

    Unknown parameters and repeats of a parameter that may not repeat are refused.
    Missing parameters take their default (a repeatable one: an empty tuple).
    """
    by_name = {p.name: p for p in specs}
    for name in given:
        if name not in by_name:
            raise BadRequest(
                "unknown_parameter",
                f"unknown parameter {name!r}; accepted: {', '.join(by_name)}",
                name,
            )
    values: dict[str, Any] = {}
    for spec in specs:
        raw = given.get(spec.name)
        if raw is None:
            values[spec.name] = () if spec.repeatable else spec.default_value()
        elif spec.repeatable:
            items = raw if isinstance(raw, list) else [raw]
            values[spec.name] = tuple(spec.parse(item) for item in items)
        elif isinstance(raw, list):
            message = f"{spec.name} is given {len(raw)} times; give it once"
            raise BadRequest("repeated_parameter", message, spec.name)
        else:
            values[spec.name] = spec.parse(raw)
    return values
