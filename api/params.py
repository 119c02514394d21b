"""Query parameters: declared once, used to validate requests and to write the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from search.dates import parse_bound

__all__ = [
    "BoolParam",
    "ChoiceParam",
    "DateParam",
    "IntParam",
    "ListParam",
    "Param",
    "ParamError",
    "TextParam",
    "parse_params",
]


class ParamError(ValueError):
    """A parameter's value is not acceptable; ``code`` and ``parameter`` say which and why."""

    def __init__(self, parameter: str, message: str, code: str = "invalid_parameter") -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.code = code


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

    def error(self, message: str) -> ParamError:
        return ParamError(self.name, f"{self.name}: {message}")


@dataclass(frozen=True)
class TextParam(Param):
    max_length: int = 200
    too_long_code: str = "invalid_parameter"

    def parse(self, raw: str) -> str:
        if len(raw) > self.max_length:
            raise ParamError(
                self.name,
                f"{self.name}: at most {self.max_length} characters, got {len(raw)}",
                self.too_long_code,
            )
        if not self.repeatable or raw.strip():
            return raw
        raise self.error("must not be empty")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length}


@dataclass(frozen=True)
class IntParam(Param):
    minimum: int = 0
    maximum: int = 2**31

    def parse(self, raw: str) -> int:
        text = raw.strip()
        if not text.lstrip("-").isdigit() or len(text) > 12:
            raise self.error(f"must be a whole number, got {raw!r}")
        value = int(text)
        if not self.minimum <= value <= self.maximum:
            raise self.error(f"must be from {self.minimum} to {self.maximum}, got {value}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


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
            return parse_bound(raw, end=self.end)
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"}


def parse_params(given: Mapping[str, str | list[str]], specs: Sequence[Param]) -> dict[str, Any]:
    """Validate a request's query parameters against ``specs``.

    Unknown parameters and repeats of a parameter that may not repeat are refused.
    Missing parameters take their default (a repeatable one: an empty tuple).
    """
    by_name = {p.name: p for p in specs}
    for name in given:
        if name not in by_name:
            raise ParamError(
                name,
                f"unknown parameter {name!r}; accepted: {', '.join(by_name)}",
                "unknown_parameter",
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
            raise ParamError(
                spec.name,
                f"{spec.name} is given {len(raw)} times; give it once",
                "repeated_parameter",
            )
        else:
            values[spec.name] = spec.parse(raw)
    return values
