"""JSON through orjson for Falcon's media handling."""

from __future__ import annotations

from typing import Any

import falcon
import falcon.media
import orjson

__all__ = ["json_handlers"]


def _loads(data: str) -> Any:
    return orjson.loads(data)


def json_handlers() -> falcon.media.Handlers:
    """Request and response handlers that read and write JSON with orjson."""
    handler = falcon.media.JSONHandler(dumps=orjson.dumps, loads=_loads)
    return falcon.media.Handlers({falcon.MEDIA_JSON: handler})
