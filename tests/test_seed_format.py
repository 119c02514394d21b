"""The seed page format, on the real page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from indexer.formats import Reject, read_file
from indexer.formats.reject import InvalidRecord
from indexer.formats.seed import id_from_link, parse_seed
from search import Event, RelatedLink, Source
from tests.corpus import DEMO_DIR, seed_page

SLUG = (
    "sudanese-president-omar-al-bashir-visits-russian-president-vladimir-putin-and-says-he-"
    "wants-increased-military-ties-and-protection-from-the"
)


@pytest.fixture(scope="module")
def page() -> Event:
    items = list(read_file(seed_page()))
    assert len(items) == 1
    assert isinstance(items[0], Event)
    return items[0]


def test_id_comes_from_the_formats_links(page: Event) -> None:
    assert page.id == f"2017-11-23-{SLUG}"


def test_date_title_and_decoded_body(page: Event) -> None:
    assert page.date == dt.date(2017, 11, 23)
    assert page.title == (
        "Sudanese President Omar al-Bashir visits Russian President Vladimir Putin and says he "
        "wants increased military ties and protection from the United States. Putin agrees to "
        "increase their countries' economic ties."
    )
    assert page.body == (
        "Sudanese President Omar al-Bashir, who is wanted by the International Criminal Court "
        "for genocide and war crimes, on Thursday asked Russia's Vladimir Putin to protect his "
        "country from the United States."
    )


def test_sources_and_cover_image(page: Event) -> None:
    assert page.sources == (
        Source(
            "France 24",
            "http://www.france24.com/en/20171123-sudan-president-bashir-asks-putin-protection-"
            "aggressive-us",
        ),
    )
    assert page.image == (
        "http://scd.france24.com/en/files/imagecache/home_1024/article/image/poutine-omar.jpg"
    )


def test_related_links_resolve_to_padded_ids(page: Event) -> None:
    assert len(page.related) == 5
    first = page.related[0]
    assert first == RelatedLink(
        "2017-11-05-at-least-260-people-have-been-arrested-while-protesting-against-vladimir-"
        "putin-in-moscow-while-people-in-five-other-cities-are-also-detained",
        "At least 260 people have been arrested while protesting against Vladimir Putin in "
        "Moscow while people in five other cities are also detained.",
        dt.date(2017, 11, 5),
        "Vladimir Putin",
    )
    assert [r.date for r in page.related] == [
        dt.date(2017, 11, 5),
        dt.date(2017, 10, 7),
        dt.date(2017, 10, 5),
        dt.date(2017, 10, 16),
        dt.date(2017, 9, 26),
    ]
    assert page.related[1].id == (
        "2017-10-07-russian-police-arrest-290-protesters-calling-on-president-vladimir-putin-"
        "to-resign"
    )
    assert all(r.context == "Vladimir Putin" for r in page.related)


def test_contexts_become_entities(page: Event) -> None:
    assert page.entities == ("Vladimir Putin",)


def test_id_from_link_pads_dates() -> None:
    assert id_from_link("/news/2017/11/5/some-slug.md") == (
        "2017-11-05-some-slug",
        dt.date(2017, 11, 5),
    )
    assert id_from_link("/news/2017/13/45/x.html") == ("2017-13-45-x", None)
    assert id_from_link("http://example.com/other") is None


def test_html_entities_are_decoded() -> None:
    text = (
        "### [2020-01-02](/news/2020/01/02/index.md)\n\n# Caf&#xe9; &amp; M&#xfc;nchen\n\n"
        "It&#x27;s&#x20;here &quot;now&quot;.\n"
    )
    event = parse_seed(text)
    assert event.title == "Café & München"
    assert event.body == 'It\'s here "now".'
    assert event.id == "2020-01-02-cafe-munchen"  # no Formats line: date + slug of the title


def test_every_paragraph_is_kept() -> None:
    text = "### [2020-01-02](x)\n\n# T\n\nFirst one.\nstill first.\n\nSecond.\n\n### Sources:\n"
    assert parse_seed(text).body == "First one. still first.\n\nSecond."


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("# Title only\n\nbody\n", "no date line: expected '### [YYYY-MM-DD](...)'"),
        ("### [2017-13-45](x)\n\n# T\n", "impossible date '2017-13-45'"),
        ("### [yesterday](x)\n\n# T\n", "date 'yesterday' is not a date in the form YYYY-MM-DD"),
        ("### [2017-01-01](x)\n\nno heading\n", "no title: expected a '# ' heading"),
    ],
)
def test_bad_pages_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidRecord) as caught:
        parse_seed(text)
    assert str(caught.value) == reason


def test_demo_pages_all_parse_and_link_to_each_other() -> None:
    files = sorted(DEMO_DIR.iterdir())
    assert len(files) >= 40
    events: list[Event] = []
    for path in files:
        items = list(read_file(path))
        assert not [i for i in items if isinstance(i, Reject)], path
        events.extend(i for i in items if isinstance(i, Event))
    ids = {e.id for e in events}
    assert len(ids) == len(events)
    assert len({e.date.year for e in events}) >= 10
    links = [r for e in events for r in e.related]
    assert links and all(r.id in ids for r in links)


def test_seed_page_is_found_by_content_not_extension(tmp_path: Path) -> None:
    copy = tmp_path / "page.data"
    copy.write_bytes(seed_page().read_bytes())
    (event,) = read_file(copy)
    assert isinstance(event, Event) and event.id.endswith(SLUG)
