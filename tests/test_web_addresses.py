"""Only web addresses (http and https) are taken from input; anything else is a reject.

A ``javascript:`` or ``data:`` address stored with an event would be handed by the
API to every page that shows the event.  Every place an address is taken is
checked: canonical sources and images (JSON and XML), WikiTimes sources and entity
links, and the links of an event page (sources, cover image, related events and
the ``Formats:`` line, which may also be paths on the site).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.formats import Reject, read_file
from search import Event
from tests.corpus import seed_page

BAD = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.org/x",
    "//example.org/no-scheme",
    "example.org/no-scheme",
    "http:///no-host",
    "https://exa mple.org/space",
]
GOOD = ["http://example.org/a", "HTTPS://Example.org/b?c=d#e", "https://[2001:db8::1]/x"]


def reasons(path: Path) -> list[str]:
    return [i.reason for i in read_file(path) if isinstance(i, Reject)]


def canonical(tmp_path: Path, **fields: object) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"id": "a", "date": "2020-01-01", "title": "T", **fields}))
    return path


@pytest.mark.parametrize("url", BAD)
def test_canonical_source_and_image_addresses(tmp_path: Path, url: str) -> None:
    assert reasons(canonical(tmp_path, sources=[{"name": "S", "url": url}])) == [
        _reason("sources[0].url", url)
    ]
    assert reasons(canonical(tmp_path, image=url)) == [_reason("image", url)]


def _reason(field: str, url: str) -> str:
    shown = repr(url if len(url) <= 80 else url[:80] + "…")
    if " " in url:
        return f"{field} {shown} holds spaces or control characters"
    if url.lower().startswith("http"):
        return f"{field} {shown} has no host"
    return f"{field} {shown} is not a web address: only http and https are accepted"


@pytest.mark.parametrize("url", GOOD)
def test_web_addresses_are_kept(tmp_path: Path, url: str) -> None:
    items = list(read_file(canonical(tmp_path, sources=[{"name": "S", "url": url}], image=url)))
    assert isinstance(items[0], Event)
    assert items[0].sources[0].url == url and items[0].image == url


def test_xml_addresses(tmp_path: Path) -> None:
    path = tmp_path / "event.xml"
    path.write_text(
        '<events><event id="a"><date>2020-01-01</date><title>T</title>'
        "<image>javascript:alert(1)</image></event>"
        '<event id="b"><date>2020-01-01</date><title>T</title>'
        '<sources><source url="data:text/html,x">S</source></sources></event></events>'
    )
    assert list(read_file(path)) == [
        Reject(str(path), 1, _reason("image", "javascript:alert(1)")),
        Reject(str(path), 2, _reason("sources[0].url", "data:text/html,x")),
    ]


def test_wikitimes_addresses(tmp_path: Path) -> None:
    record = {"id": "1", "date": "2015-09-01", "description": "Something happens."}
    path = tmp_path / "cep.json"
    path.write_text(
        json.dumps(
            [
                {**record, "source": [{"sourceName": "S", "url": "javascript:alert(1)"}]},
                {**record, "entity": [{"name": "X", "wikiURL": "data:,/wiki/X"}]},
                {**record, "source": [{"sourceName": "S", "url": "https://example.org/"}]},
            ]
        )
    )
    items = list(read_file(path))
    assert items[:2] == [
        Reject(str(path), 1, _reason("source[0].url", "javascript:alert(1)")),
        Reject(str(path), 2, _reason("entity[0].wikiURL", "data:,/wiki/X")),
    ]
    assert isinstance(items[2], Event)


def seed_text() -> str:
    """The real event page, as text."""
    return seed_page().read_text(encoding="utf-8")


SOURCE = (
    "http://www.france24.com/en/20171123-sudan-president-bashir-asks-putin-protection-aggressive-us"
)
IMAGE = "http://scd.france24.com/en/files/imagecache/home_1024/article/image/poutine-omar.jpg"
RELATED = (
    "/news/2017/11/5/at-least-260-people-have-been-arrested-while-protesting-against-"
    "vladimir-putin-in-moscow-while-people-in-five-other-cities-are-also-detained.md"
)
FORMATS = (
    "/news/2017/11/23/sudanese-president-omar-al-bashir-visits-russian-president-vladimir-"
    "putin-and-says-he-wants-increased-military-ties-and-protection-from-the.html"
)


@pytest.mark.parametrize(
    ("original", "field"),
    [(SOURCE, "address"), (IMAGE, "address"), (RELATED, "link"), (FORMATS, "link")],
)
@pytest.mark.parametrize("bad", ["javascript:location='//evil.example'//", "data:text/html,"])
def test_event_page_links(tmp_path: Path, original: str, field: str, bad: str) -> None:
    line = next(n for n, text in enumerate(seed_text().splitlines(), 1) if f"({original})" in text)
    url = bad + original.lstrip("/")
    path = tmp_path / "page.md"
    path.write_text(seed_text().replace(f"({original})", f"({url})", 1))
    assert reasons(path) == [f"line {line}: " + _reason(field, url)]


def test_event_page_site_paths_and_web_links_are_read(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text(seed_text().replace(f"({RELATED})", f"(https://example.org{RELATED})"))
    items = list(read_file(path))
    assert isinstance(items[0], Event) and items[0].related[0].id.startswith("2017-11-05-at-least")
