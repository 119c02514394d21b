"""Request bodies: read within a size limit, parsed as JSON, checked field by field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import falcon
import orjson

from api.errors import ApiError
from api.params import NOT_BLANK, DateParam, IntParam, Param, ParamError, has_text

__all__ = ["RelatedBody", "read_json"]


def read_json(req: falcon.Request, max_bytes: int) -> Any:
    """The request's JSON body; 413, 415 or 400 with the reason when it cannot be had."""
    if req.content_length is not None and req.content_length > max_bytes:
        raise ApiError(
            413, "body_too_large", f"the body has {req.content_length} bytes; at most {max_bytes}"
        )
    media_type = (req.content_type or "").split(";")[0].strip().lower()
    if media_type != falcon.MEDIA_JSON:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the body as application/json, not {media_type or 'nothing'}",
        )
    data = req.bounded_stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ApiError(413, "body_too_large", f"the body has more than {max_bytes} bytes")
    if not data.strip():
        raise ApiError(400, "invalid_body", "the body is empty; send a JSON object")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_body", f"the body is not valid JSON: {exc}") from None


def _shown(value: Any, limit: int = 40) -> str:
    """A JSON value as the sender wrote it, shortened for an error message."""
    text = orjson.dumps(value).decode()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class RelatedBody:
    """``{"text": "...", "size": 5, "from": "2015", "to": "2016"}`` of ``POST /api/related``."""

    max_text: int
    max_bytes: int
    fields: tuple[Param, ...] = (
        IntParam("size", "How many related events.", default="5", minimum=1, maximum=50),
        DateParam("from", "First day, inclusive."),
        DateParam("to", "Last day, inclusive.", end=True),
    )

    def parse(self, body: Any) -> dict[str, Any]:
        """Validated values; ParamError or ApiError naming the field otherwise."""
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_body", "the body must be a JSON object with a text")
        known = {"text", *(f.name for f in self.fields)}
        for key in body:
            if key not in known:
                raise ParamError(
                    key,
                    f"unknown field {key!r}; accepted: {', '.join(sorted(known))}",
                    "unknown_parameter",
                )
        text = body.get("text")
        if not isinstance(text, str) or not has_text(text):
            raise ParamError("text", "text: give the text to find related events for")
        if len(text) > self.max_text:
            raise ApiError(
                413,
                "text_too_long",
                f"text has {len(text)} characters; at most {self.max_text}",
                "text",
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
                    raise ParamError(
                        spec.name, f"{spec.name}: must be a whole number, got {_shown(raw)}"
                    )
                values[spec.name] = spec.check(raw)
            elif not isinstance(raw, str):
                raise ParamError(spec.name, f"{spec.name}: must be a string, got {_shown(raw)}")
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
