"""The wire format: how the engine's answers (frozen dataclasses, search/results.py)
become JSON, and their JSON Schemas for the OpenAPI document.

Both come from the same declarations, the dataclasses' fields, so the shapes the
API sends and the shapes it documents cannot drift apart:

- a dataclass is an object whose keys are its field names, every one required,
  no others allowed; a field whose ``metadata`` says ``omit_none`` is left out
  when None (and is not required);
- ``str``, ``int``, ``float``, ``bool`` are JSON's string, integer, number,
  boolean; ``datetime.date`` is an ISO 8601 date string; ``tuple[X, ...]`` is an
  array of X; ``X | None`` is X or null;
- ``metadata`` may add a ``description``, the ``enum`` of a field's values, and
  the ``key`` that stands for the field in JSON when its name cannot (``from``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from typing import Any

__all__ = ["schema_of", "to_json"]


def to_json(value: Any) -> Any:
    """``value`` (a result dataclass, or what its fields hold) as JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found: dict[str, Any] = {}
        for item in dataclasses.fields(value):
            inner = getattr(value, item.name)
            if inner is None and item.metadata.get("omit_none"):
                continue
            found[item.metadata.get("key", item.name)] = to_json(inner)
        return found
    if isinstance(value, (tuple, list)):
        return [to_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def schema_of(annotation: Any, components: dict[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a type; dataclasses are added to ``components`` (by class
    name) and referred to."""
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        name = annotation.__name__
        if name not in components:
            components[name] = {}  # taken, for types that refer to themselves
            components[name] = _object_schema(annotation, components)
        return {"$ref": f"#/components/schemas/{name}"}
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in args if a is not type(None)]
        if len(options) != 1:
            raise TypeError(f"no wire format for {annotation!r}")
        inner = schema_of(options[0], components)
        if set(inner) == {"type"} or set(inner) <= {"type", "format"}:
            return {**inner, "type": [inner["type"], "null"]}
        return {"oneOf": [{"type": "null"}, inner]}
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": schema_of(args[0], components)}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if annotation in simple:
        return {"type": simple[annotation]}
    if annotation is dt.date:
        return {"type": "string", "format": "date"}
    raise TypeError(f"no wire format for {annotation!r}")


def _object_schema(cls: type, components: dict[str, Any]) -> dict[str, Any]:
    hints = _hints(cls)
    properties: dict[str, Any] = {}
    required = []
    for item in dataclasses.fields(cls):
        schema = schema_of(hints[item.name], components)
        if "enum" in item.metadata:
            schema = {**schema, "enum": list(item.metadata["enum"])}
        if "description" in item.metadata:
            schema = {**schema, "description": item.metadata["description"]}
        key = item.metadata.get("key", item.name)
        properties[key] = schema
        if not item.metadata.get("omit_none"):
            required.append(key)
    found: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):
        found["description"] = " ".join(cls.__doc__.split())
    return found
