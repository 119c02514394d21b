"""The search page routes: the page, its versioned assets, their headers."""

from __future__ import annotations

import re
from pathlib import Path

import falcon
import falcon.testing
import pytest

from api.page import STATIC_DIR, StaticAssets, add_page_routes

ASSET_URL = re.compile(r'(?:src|href)="(/static/([0-9a-f]+)/([^"]+))"')
IMPORT = re.compile(r'^import .* from "\./([^"]+)";$', re.MULTILINE)


@pytest.fixture(scope="module")
def page(client: falcon.testing.TestClient) -> falcon.testing.Result:
    return client.simulate_get("/")


def test_page_is_html_and_never_cached(page: falcon.testing.Result) -> None:
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "{{version}}" not in page.text
    assert "<title>Event search</title>" in page.text


def test_page_allows_only_its_own_origin(page: falcon.testing.Result) -> None:
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    for directive in ("script-src", "style-src", "img-src", "connect-src"):
        assert policy[directive] == "'self'"


def test_page_links_assets_of_the_current_version(
    client: falcon.testing.TestClient, page: falcon.testing.Result
) -> None:
    linked = ASSET_URL.findall(page.text)
    names = {name for _, _, name in linked}
    assert {"app.js", "style.css", "icon.svg"} <= names
    expected_version = StaticAssets.load().version
    for url, version, name in linked:
        assert version == expected_version
        result = client.simulate_get(url)
        assert result.status_code == 200, url
        assert result.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert result.content == (STATIC_DIR / name).read_bytes()
    types = {name: client.simulate_get(url).headers["content-type"] for url, _, name in linked}
    assert types["app.js"] == "text/javascript; charset=utf-8"
    assert types["style.css"] == "text/css; charset=utf-8"
    assert types["icon.svg"] == "image/svg+xml"


def test_every_module_the_script_imports_is_served(client: falcon.testing.TestClient) -> None:
    version = StaticAssets.load().version
    seen: set[str] = set()
    todo = ["app.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        result = client.simulate_get(f"/static/{version}/{name}")
        assert result.status_code == 200, name
        todo.extend(IMPORT.findall(result.text))
    assert {"app.js", "api.js", "state.js", "chart.js", "suggest.js", "dom.js"} <= seen


def test_no_asset_refers_to_another_host() -> None:
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        urls = re.findall(r"""(?:src|href|url)\s*[=(]\s*["']?(https?:)?//""", text)
        assert not urls, f"{path.name} loads from another host"
        assert "@import" not in text and "fonts.googleapis" not in text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/static/0123456789ab/app.js", 404),  # an old version
        ("/static/{version}/nothing.js", 404),
        ("/static/{version}/index.html", 404),  # the page is only served, uncached, at /
        ("/static/{version}/../page.py", 404),
        ("/static/{version}", 404),
    ],
)
def test_unknown_assets_are_404_in_the_api_error_shape(
    client: falcon.testing.TestClient, path: str, status: int
) -> None:
    result = client.simulate_get(path.format(version=StaticAssets.load().version))
    assert result.status_code == status
    assert set(result.json["error"]) == {"code", "message", "parameter"}
    assert result.json["error"]["code"] == "not_found"
    assert "cache-control" not in result.headers


def test_head_answers_without_a_body(client: falcon.testing.TestClient) -> None:
    result = client.simulate_head("/")
    assert result.status_code == 200
    assert result.content == b""
    assert result.headers["cache-control"] == "no-cache"


def test_post_to_the_page_is_refused(client: falcon.testing.TestClient) -> None:
    result = client.simulate_post("/")
    assert result.status_code == 405
    assert result.json["error"]["code"] == "method_not_allowed"


def _write(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")


def test_version_follows_the_content(tmp_path: Path) -> None:
    _write(tmp_path, {"index.html": '<script src="/static/{{version}}/a.js"></script>'})
    _write(tmp_path, {"a.js": "one", ".hidden.js": "x", "notes.txt": "x"})
    first = StaticAssets.load(tmp_path)
    assert set(first.files) == {"index.html", "a.js"}
    assert StaticAssets.load(tmp_path).version == first.version
    _write(tmp_path, {"a.js": "two"})
    second = StaticAssets.load(tmp_path)
    assert second.version != first.version
    assert second.page() == f'<script src="/static/{second.version}/a.js"></script>'.encode()


def test_routes_serve_the_version_read_when_added(tmp_path: Path) -> None:
    _write(tmp_path, {"index.html": "<p>{{version}}</p>", "a.js": "one"})
    app = falcon.App()
    assets = add_page_routes(app, tmp_path)
    _write(tmp_path, {"a.js": "changed on disk"})  # a running app keeps what it read
    client = falcon.testing.TestClient(app)
    assert client.simulate_get("/").text == f"<p>{assets.version}</p>"
    assert client.simulate_get(assets.url("a.js")).text == "one"


def test_a_directory_without_a_page_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, {"a.js": "one"})
    with pytest.raises(FileNotFoundError, match=r"index\.html"):
        StaticAssets.load(tmp_path)
