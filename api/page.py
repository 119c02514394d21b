"""The search page: ``GET /`` and its static assets from ``api/static/``.

Assets are served under ``/static/{version}/{name}``, where ``version`` is a hash of
every file in the directory, computed when the routes are added (not at import).  A
versioned URL never changes content, so it is cached for a year as immutable; the page
itself is never cached, so a new release is picked up on the next load.  A request for
an old version answers 404 rather than new content under an old name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import falcon

__all__ = ["PAGE_PATHS", "STATIC_DIR", "StaticAssets", "add_page_routes", "page_openapi_paths"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
PAGE_PATHS = ("/", "/static/{version}/{name}")

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_VERSION_MARK = "{{version}}"
_IMMUTABLE = "public, max-age=31536000, immutable"
# Everything the page loads comes from this server; the browser enforces it too.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class StaticAssets:
    """The files of a static directory, read once, with their version."""

    files: dict[str, bytes]
    version: str

    @classmethod
    def load(cls, directory: Path = STATIC_DIR) -> StaticAssets:
        """Read every file of ``directory`` (not its subdirectories, nor hidden files)."""
        files = {
            path.name: path.read_bytes()
            for path in sorted(directory.iterdir())
            if path.is_file() and not path.name.startswith(".") and path.suffix in _TYPES
        }
        if "index.html" not in files:
            raise FileNotFoundError(f"no index.html in {directory}")
        digest = hashlib.sha256()
        for name, content in files.items():
            digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
        return cls(files, digest.hexdigest()[:12])

    def url(self, name: str) -> str:
        """The versioned URL of the asset ``name``."""
        return f"/static/{self.version}/{name}"

    def page(self) -> bytes:
        """index.html with its asset references pointing at this version."""
        return self.files["index.html"].replace(_VERSION_MARK.encode(), self.version.encode())


class PageResource:
    """``GET /``: the search page; the state lives in the query string, read by the script."""

    def __init__(self, assets: StaticAssets) -> None:
        self.body = assets.page()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = _TYPES[".html"]
        resp.cache_control = ["no-cache"]
        resp.set_headers({**_COMMON_HEADERS, "Content-Security-Policy": _CSP})
        resp.data = self.body

    on_head = on_get


class AssetResource:
    """``GET /static/{version}/{name}``: one asset of the current version, cached forever."""

    def __init__(self, assets: StaticAssets) -> None:
        self.assets = assets

    def on_get(self, req: falcon.Request, resp: falcon.Response, version: str, name: str) -> None:
        content = self.assets.files.get(name)
        if version != self.assets.version or content is None or name == "index.html":
            raise falcon.HTTPNotFound(
                description=f"no asset {name!r} in version {version!r} "
                f"(the current version is {self.assets.version!r}; reload the page)"
            )
        resp.content_type = _TYPES[Path(name).suffix]
        resp.cache_control = [_IMMUTABLE]
        resp.set_headers(_COMMON_HEADERS)
        resp.data = content

    on_head = on_get


def add_page_routes(app: falcon.App[Any, Any], directory: Path = STATIC_DIR) -> StaticAssets:
    """Serve the search page and its assets from ``directory`` on ``app``."""
    assets = StaticAssets.load(directory)
    app.add_route("/", PageResource(assets))
    app.add_route("/static/{version}/{name}", AssetResource(assets))
    return assets


# One path segment as the server accepts it: no slash, no NUL byte.
_PATH_SEGMENT = "^[^/\\u0000]+$"


def page_openapi_paths() -> dict[str, Any]:
    """The OpenAPI path items of the page routes (tagged ``page``: HTML, not JSON)."""
    not_found = {
        "description": "Unknown version or asset",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    return {
        "/": {
            "get": {
                "operationId": "page",
                "tags": ["page"],
                "summary": "The search page (HTML; its state is in the query string)",
                "responses": {
                    "200": {"description": "The page", "content": {"text/html": {}}},
                },
            }
        },
        "/static/{version}/{name}": {
            "get": {
                "operationId": "pageAsset",
                "tags": ["page"],
                "summary": "A script, style sheet or image of the page, cached as immutable",
                "parameters": [
                    {
                        "name": "version",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": _PATH_SEGMENT},
                        "description": "Hash of the page's assets, as the page links them.",
                    },
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": _PATH_SEGMENT},
                        "description": "The asset's file name.",
                    },
                ],
                "responses": {
                    "200": {"description": "The asset"},
                    "404": not_found,
                },
            }
        },
    }
