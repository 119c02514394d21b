"""Request bodies: read within a size and a time limit, parsed as JSON, checked field by
field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import falcon
import orjson

from api.inflight import BODY_CUT
from api.params import NOT_BLANK, IntParam, Param, has_text
from search import BadRequest

__all__ = ["BodyReader", "RelatedBody"]


def _refuse_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            times = sum(1 for k, _ in pairs if k == key)
            raise BadRequest(
                "duplicate_key", f"the body gives {key!r} {times} times; give it once", key
            )
        seen.add(key)
    return dict(pairs)


@dataclass(frozen=True)
class BodyReader:
    """Reads a JSON request body: at most ``max_bytes`` bytes, with a ``Content-Length``
    or chunked.  The server reads it before the application runs and cuts a body later
    than ``seconds`` (``EVENTSEARCH_BODY_TIMEOUT``), saying so with ``BODY_CUT`` in the
    environ (``api/worker.py``)."""

    max_bytes: int
    seconds: float

    def read_json(self, req: falcon.Request) -> Any:
        """The body's JSON value; BadRequest with the reason (400, 408, 413 or 415)
        when it cannot be had."""
        if req.content_length is not None and req.content_length > self.max_bytes:
            raise BadRequest(
                "body_too_large",
                f"the body has {req.content_length} bytes; at most {self.max_bytes}",
            )
        media_type = (req.content_type or "").split(";")[0].strip().lower()
        if media_type != falcon.MEDIA_JSON:
            raise BadRequest(
                "unsupported_media_type",
                f"send the body as application/json, not {media_type or 'nothing'}",
            )
        data = self._read(req)
        if len(data) > self.max_bytes:
            raise BadRequest("body_too_large", f"the body has more than {self.max_bytes} bytes")
        if not data.strip():
            raise BadRequest("invalid_body", "the body is empty; send a JSON object")
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise BadRequest("invalid_body", f"the body is not valid JSON: {exc}") from None
        # orjson keeps the last of repeated keys; the standard parser can tell.  The
        # body is valid JSON by now, which it reads the same way.
        json.loads(data, object_pairs_hook=_refuse_repeated_keys)
        return value

    def _read(self, req: falcon.Request) -> bytes:
        try:
            if req.content_length is not None:
                data = req.bounded_stream.read(self.max_bytes + 1)
            elif req.env.get("wsgi.input_terminated"):
                # Chunked: the server ends the stream where the body ends.
                data = req.stream.read(self.max_bytes + 1)
            else:
                data = b""
            complete = req.content_length is None or len(data) >= req.content_length
        except OSError:  # the connection ended before the body did
            data, complete = b"", False
        if req.env.get(BODY_CUT):
            raise BadRequest("body_timeout", f"the body did not arrive within {self.seconds:g} s")
        if complete:
            return bytes(data)
        raise BadRequest("invalid_body", "the connection ended before the whole body arrived")


def _shown(value: Any, limit: int = 40) -> str:
    """A JSON value as the sender wrote it, shortened for an error message."""
    text = orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class RelatedBody:
    """``{"text": "...", "size": 5, "from": "2015", "to": "2016"}`` of ``POST /api/related``."""

    max_text: int
    # size, from and to: the same specs as the query parameters of GET .../related.
    fields: tuple[Param, ...]

    def parse(self, body: Any) -> dict[str, Any]:
        """Validated values; BadRequest naming the field otherwise."""
        if not isinstance(body, dict):
            raise BadRequest("invalid_body", "the body must be a JSON object with a text")
        known = {"text", *(f.name for f in self.fields)}
        for key in body:
            if key not in known:
                raise BadRequest(
                    "unknown_parameter",
                    f"unknown field {key!r}; accepted: {', '.join(sorted(known))}",
                    key,
                )
        text = body.get("text")
        if not isinstance(text, str) or not has_text(text):
            raise BadRequest(
                "invalid_parameter", "text: give the text to find related events for", "text"
            )
        if len(text) > self.max_text:
            raise BadRequest(
                "text_too_long", f"text has {len(text)} characters; at most {self.max_text}", "text"
            )
        values: dict[str, Any] = {"text": text}
        for spec in self.fields:
            if spec.name not in body:
                values[spec.name] = spec.default_value()
                continue
            raw = body[spec.name]
            if isinstance(spec, IntParam):
                # JSON has one kind of number: 5.0 is the whole number 5 (as in JSON Schema).
                if isinstance(raw, float) and raw.is_integer():
                    raw = int(raw)
                if isinstance(raw, bool) or not isinstance(raw, int):
                    raise spec.error(f"must be a whole number, got {_shown(raw)}")
                values[spec.name] = spec.check(raw)
            elif not isinstance(raw, str):
                raise spec.error(f"must be a string, got {_shown(raw)}")
            else:
                values[spec.name] = spec.parse(raw)
        return values

    def openapi(self) -> dict[str, Any]:
        """The request body's JSON schema."""
        properties: dict[str, Any] = {
            "text": {
                "type": "string",
                "minLength": 1,
                "maxLength": self.max_text,
                "pattern": NOT_BLANK,
            }
        }
        for spec in self.fields:
            properties[spec.name] = spec.openapi()["schema"]
        return {
            "type": "object",
            "properties": properties,
            "required": ["text"],
            "additionalProperties": False,
        }
