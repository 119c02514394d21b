"""The search page in a real browser: headless Chromium, driven by Playwright, against
real gunicorn serving an index of data/demo/.  What the page should show is asked of
the same server's JSON API, never written into the test.  Each state is saved as a
screenshot under test-artifacts/browser/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser import LOW_CONTRAST_JS, PHONE, Browser, chromium, screenshot
from tests.corpus import DEMO_DIR
from tests.support.gunicorn import Gunicorn
from tests.support.indexes import run_indexer

pytestmark = pytest.mark.slow  # real Chromium against real gunicorn

# What the page asks for besides the state in its URL (see api/static/state.js).
PAGE_PARAMS = {"size": "10", "facets": "date,entity,source,category", "facet_size": "10"}
FILTERS = ("entity", "source", "category")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    index_dir = tmp_path_factory.mktemp("page-browser") / "index"
    built = run_indexer("rebuild", str(DEMO_DIR), "--index-dir", str(index_dir))
    assert built.returncode == 0, built.stderr
    with Gunicorn(index_dir) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as started:
        yield started


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    browser.requests.clear()
    browser.errors.clear()
    tab = browser.new_page()
    yield tab
    tab.close()


# Helpers


def api(server: Gunicorn, path: str, **params: Any) -> Any:
    status, body = server.get(f"{path}?{urlencode(params, doseq=True)}" if params else path)
    assert status == 200, body
    return body


def search(server: Gunicorn, **state: Any) -> dict[str, Any]:
    """What GET /api/search answers for the page in ``state``."""
    result: dict[str, Any] = api(server, "/api/search", **PAGE_PARAMS, **state)
    return result


def state_of_url(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def state_of(page: Page) -> dict[str, list[str]]:
    return state_of_url(page.url)


def ready(page: Page) -> None:
    """Wait until the page has drawn everything for its current URL."""
    expect(page.locator("main#main")).not_to_have_attribute("aria-busy", "true")


def open_page(page: Page, server: Gunicorn, query: str = "") -> None:
    page.goto(f"{server.url}/{query}")
    ready(page)


def expect_results(page: Page, answer: dict[str, Any]) -> None:
    """The page shows ``answer``: its titles in order, its total, its facet counts."""
    titles = [r["title"] for r in answer["results"]]
    expect(page.locator("#results .result-title")).to_have_text(titles)
    total = answer["total"]
    expect(page.locator("#status")).to_have_text(
        re.compile(rf"^{total} events?;" if total else "^No events match")
    )
    for name in FILTERS:
        shown = page.eval_on_selector_all(
            f"#facets button[data-facet={name}]",
            "els => els.map(e => [e.dataset.value, e.querySelector('.facet-count')?.firstChild"
            "?.textContent ?? null])",
        )
        expected = [[f["value"], str(f["count"])] for f in answer["facets"].get(name, [])]
        assert [s for s in shown if s[1] is not None] == expected, name
    added = [
        *(answer.get("expanded") or {}).get("entities", []),
        *(answer.get("expanded") or {}).get("terms", []),
    ]
    if added:
        expect(page.locator("#expanded")).to_have_text(
            re.compile(re.escape(", ".join(added)) + "$")
        )
    else:
        expect(page.locator("#expanded")).to_be_hidden()
    keys = [b["key"] for b in answer["facets"]["date"]["buckets"]]
    assert page.eval_on_selector_all("#chart g.bar", "els => els.map(e => e.dataset.key)") == keys


def finish(browser: Browser, page: Page, name: str) -> None:
    """Save the last state and check that nothing left this machine and no script failed."""
    screenshot(page, name)
    assert browser.outside_requests() == []
    assert browser.errors == []
    unnamed = page.eval_on_selector_all(
        "a:not([aria-hidden=true]), button, input, select, [role=button], [role=option]",
        """els => els.filter(e => e.getClientRects().length)
                 .filter(e => !(e.getAttribute('aria-label') || e.textContent.trim() ||
                                (e.labels && e.labels.length)))
                 .map(e => e.outerHTML.slice(0, 80))""",
    )
    assert unnamed == [], "controls without an accessible name"
    assert page.evaluate(LOW_CONTRAST_JS) == [], "text below WCAG AA contrast"


# Tests


def test_type_a_prefix_and_pick_a_suggestion_with_the_keyboard(
    browser: Browser, page: Page, server: Gunicorn
) -> None:
    open_page(page, server)
    box = page.get_by_role("combobox", name="Search news events")
    box.press_sequentially("merk", delay=40)
    offered = api(server, "/api/suggest", q="merk", size=8)["suggestions"]
    assert offered, "the API offers suggestions for a prefix of a word in the corpus"
    options = page.locator("#suggestions").get_by_role("option")
    expect(options).to_have_text([re.compile(re.escape(s["text"])) for s in offered])
    expect(box).to_have_attribute("aria-expanded", "true")
    asked = [url for url in browser.requests if urlsplit(url).path == "/api/suggest"]
    assert 1 <= len(asked) < len("merk"), "suggestions are asked for once typing pauses"
    screenshot(page, "suggest-1-offered")

    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "suggestion-0")
    box.press("Escape")
    expect(page.locator("#suggestions")).to_be_hidden()
    expect(box).to_have_value("merk")

    box.press("ArrowDown")  # opens them again
    expect(options.first).to_be_visible()
    box.press("ArrowDown")
    box.press("Enter")
    chosen = offered[0]
    if chosen["kind"] == "entity":  # a name becomes a filter: exactly the events carrying it
        expected_state = {"entity": [chosen["text"]]}
        answer = search(server, q="", entity=chosen["text"])
        assert answer["total"] == chosen["count"]
        expect(box).to_have_value("")
    else:  # a phrase is searched as that phrase
        phrase = f'"{chosen["text"]}"' if " " in chosen["text"] else chosen["text"]
        expected_state = {"q": [phrase]}
        answer = search(server, q=phrase)
        expect(box).to_have_value(phrase)
    page.wait_for_url(lambda url: state_of_url(url) == expected_state)
    ready(page)
    expect(page.locator("#suggestions")).to_be_hidden()
    assert answer["total"] > 0
    expect_results(page, answer)
    finish(browser, page, "suggest-2-picked")


def test_entity_facet_then_histogram_bar_filter_the_results(
    browser: Browser, page: Page, server: Gunicorn
) -> None:
    open_page(page, server)
    everything = search(server, q="")
    expect_results(page, everything)
    screenshot(page, "filter-0-all")

    entity = everything["facets"]["entity"][0]["value"]
    page.locator("#facets button[data-facet=entity]", has_text=entity).click()
    page.wait_for_url(lambda url: state_of_url(url) == {"entity": [entity]})
    ready(page)
    by_entity = search(server, q="", entity=entity)
    assert by_entity["total"] < everything["total"]
    expect_results(page, by_entity)
    expect(page.locator(f"#facets button[data-value='{entity}']")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#chips .filter-chip")).to_have_text([re.compile(f"Entity: {entity}")])
    screenshot(page, "filter-1-entity")

    buckets = by_entity["facets"]["date"]["buckets"]
    peak = max(buckets, key=lambda b: b["count"])
    bar = page.locator(f"#chart g.bar[data-key='{peak['key']}']")
    bar.hover()
    expect(page.locator(".chart-tooltip")).to_be_visible()
    expect(page.locator(".chart-tooltip")).to_contain_text(f": {peak['count']} event")
    screenshot(page, "filter-2-hover")
    bar.click()
    expected = {"entity": [entity], "from": [peak["key"]], "to": [peak["key"]]}
    page.wait_for_url(lambda url: state_of_url(url) == expected)
    ready(page)
    by_date = search(server, q="", entity=entity, **{"from": peak["key"], "to": peak["key"]})
    assert by_date["total"] == peak["count"]
    expect_results(page, by_date)
    assert by_date["facets"]["date"]["interval"] != by_entity["facets"]["date"]["interval"]
    expect(page.locator("#chart figcaption")).to_contain_text(
        f"per {by_date['facets']['date']['interval']}"
    )
    expect(page.locator("#chips .filter-chip")).to_have_count(2)
    screenshot(page, "filter-3-bar")

    page.get_by_role("link", name=re.compile(f"Remove filter Entity: {entity}")).click()
    ready(page)
    assert state_of(page) == {"from": [peak["key"]], "to": [peak["key"]]}
    expect_results(page, search(server, q="", **{"from": peak["key"], "to": peak["key"]}))
    finish(browser, page, "filter-4-chip-removed")


def test_dragging_across_bars_selects_a_date_range(
    browser: Browser, page: Page, server: Gunicorn
) -> None:
    open_page(page, server)
    buckets = search(server, q="")["facets"]["date"]["buckets"]
    first, last = 2, 7
    start = page.locator(f"#chart g.bar[data-key='{buckets[first]['key']}']").bounding_box()
    end = page.locator(f"#chart g.bar[data-key='{buckets[last]['key']}']").bounding_box()
    assert start and end
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=8)
    count = sum(b["count"] for b in buckets[first : last + 1])
    expect(page.locator(".chart-tooltip")).to_contain_text(f": {count} event")
    screenshot(page, "drag-1-selecting")
    page.mouse.up()
    expected = {"from": [buckets[first]["key"]], "to": [buckets[last]["key"]]}
    page.wait_for_url(lambda url: state_of_url(url) == expected)
    ready(page)
    answer = search(server, q="", **{"from": buckets[first]["key"], "to": buckets[last]["key"]})
    assert answer["total"] == count
    expect_results(page, answer)
    finish(browser, page, "drag-2-range")


def test_the_chart_works_from_the_keyboard(browser: Browser, page: Page, server: Gunicorn) -> None:
    open_page(page, server)
    histogram = search(server, q="")["facets"]["date"]
    buckets = histogram["buckets"]
    total = sum(b["count"] for b in buckets)
    expect(page.locator("#chart-summary")).to_contain_text(f"{total} events from")
    bars = page.get_by_role("button", name=re.compile(r"Show only this "))
    expect(bars).to_have_count(len(buckets))
    page.locator("#chart g.bar[tabindex='0']").focus()  # one tab stop: the last bar
    page.keyboard.press("ArrowLeft")
    previous = buckets[-2]
    expect(page.locator("#chart g.bar:focus")).to_have_attribute("data-key", previous["key"])
    expect(page.locator(".chart-tooltip")).to_contain_text(f": {previous['count']} event")
    page.keyboard.press("Enter")
    page.wait_for_url(
        lambda url: state_of_url(url) == {"from": [previous["key"]], "to": [previous["key"]]}
    )
    ready(page)
    expect_results(page, search(server, q="", **{"from": previous["key"], "to": previous["key"]}))
    expect(page.locator("#results-heading")).to_be_focused()
    finish(browser, page, "chart-keyboard")


def test_open_an_event_see_related_events_then_go_back(
    browser: Browser, page: Page, server: Gunicorn
) -> None:
    open_page(page, server, "?q=merkel")
    answer = search(server, q="merkel")
    expect_results(page, answer)
    titles = [r["title"] for r in answer["results"]]
    target = answer["results"][0]
    page.get_by_role("link", name=target["title"], exact=True).click()
    page.wait_for_url(lambda url: state_of_url(url) == {"q": ["merkel"], "event": [target["id"]]})
    ready(page)

    event = api(server, f"/api/events/{target['id']}")
    expect(page.locator("#detail-title")).to_have_text(event["title"])
    expect(page.locator("#detail-title")).to_be_focused()
    expect(page.locator(".event-body")).to_contain_text(event["body"].split("\n")[0])
    expect(page.locator(".source-list a[href^=http]")).to_have_count(
        len(event["sources"]) + (1 if event["image"] else 0)
    )
    expect(page.locator(".event-links a")).to_have_text(
        [link["title"] for link in event["related"]]
    )
    related = api(server, f"/api/events/{target['id']}/related", size=5)["results"]
    assert related, "the API finds related events for an event with explicit links"
    expect(page.locator(".related-list h4")).to_have_text([r["title"] for r in related])
    for item, result in zip(
        page.locator(".related-list .related-item").all(), related, strict=True
    ):
        reasons = result["reasons"]
        for name in reasons.get("entities", []):
            expect(item.locator(".reasons")).to_contain_text(name)
        if reasons.get("linked"):
            expect(item.locator(".reason.linked")).to_be_visible()
    expect(page.locator("#search-view")).to_be_hidden()
    screenshot(page, "event-1-detail")

    page.go_back()
    ready(page)
    assert state_of(page) == {"q": ["merkel"]}
    expect(page.locator("#detail-view")).to_be_hidden()
    expect(page.locator("#results .result-title")).to_have_text(titles)
    expect(page.get_by_role("combobox", name="Search news events")).to_have_value("merkel")
    expect(page.locator(f"#results a[data-event='{target['id']}']")).to_be_focused()
    screenshot(page, "event-2-back")

    page.go_forward()
    ready(page)
    expect(page.locator("#detail-title")).to_have_text(event["title"])
    finish(browser, page, "event-3-forward")


def test_sort_and_pages_are_in_the_url(browser: Browser, page: Page, server: Gunicorn) -> None:
    open_page(page, server)
    page.get_by_label("Sort by").select_option("oldest")
    page.wait_for_url(lambda url: state_of_url(url) == {"sort": ["oldest"]})
    ready(page)
    oldest = search(server, q="", sort="oldest")
    expect_results(page, oldest)
    page.get_by_role("navigation", name="Result pages").get_by_role("link", name="Next").click()
    page.wait_for_url(lambda url: state_of_url(url) == {"sort": ["oldest"], "page": ["2"]})
    ready(page)
    expect_results(page, search(server, q="", sort="oldest", page=2))
    expect(page.locator("#pager [aria-current=page]")).to_have_text("2")
    screenshot(page, "pages-1-second")
    page.go_back()
    ready(page)
    expect_results(page, oldest)
    expect(page.get_by_label("Sort by")).to_have_value("oldest")
    finish(browser, page, "pages-2-back")


def test_a_shared_url_shows_the_same_view(browser: Browser, page: Page, server: Gunicorn) -> None:
    sources = search(server, q="")["facets"]["source"]
    source = sources[1]["value"]  # the most cited is on every event; take the next
    state = {"source": source, "sort": "oldest"}
    answer = search(server, q="", **state)
    assert 0 < answer["total"] < sources[0]["count"]
    open_page(page, server, "?" + urlencode(state))
    expect_results(page, answer)
    expect(page.locator("#chips .filter-chip")).to_have_text([re.compile(f"Source: {source}")])
    expect(page.get_by_label("Sort by")).to_have_value("oldest")
    finish(browser, page, "shared-url")


def test_errors_and_empty_results_are_explained(
    browser: Browser, page: Page, server: Gunicorn
) -> None:
    open_page(page, server)
    box = page.get_by_role("combobox", name="Search news events")
    box.fill("*gees")
    box.press("Enter")
    ready(page)
    status, body = server.get("/api/search?q=%2Agees")
    assert status == 400
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(body["error"]["message"])
    expect(page.locator("#results .result")).to_have_count(0)
    expect(page.locator("#pager")).to_be_hidden()
    expect(page.locator("#chart")).to_be_hidden()
    screenshot(page, "error-1-bad-query")

    box.fill("merkle")
    box.press("Enter")
    ready(page)
    expect(page.get_by_role("alert")).to_be_hidden()
    misspelt = search(server, q="merkle")
    assert misspelt["total"] == 0
    correction = misspelt.get("did_you_mean")
    assert correction, "the API offers a correction for a misspelt word of the corpus"
    expect(page.locator("#status")).to_have_text("No events match")
    link = page.get_by_role("link", name=correction, exact=True)
    expect(link).to_be_visible()
    screenshot(page, "error-2-did-you-mean")
    link.click()
    page.wait_for_url(lambda url: state_of_url(url) == {"q": [correction]})
    ready(page)
    expect_results(page, search(server, q=correction))
    screenshot(page, "error-3-corrected")

    open_page(page, server, "?event=no-such-event")
    expect(page.get_by_role("alert")).to_contain_text("This event was not found")
    expect(page.get_by_role("link", name="Back to results")).to_be_visible()
    finish(browser, page, "error-4-unknown-event")


def test_focus_order_starts_with_the_search_box(
    browser: Browser, page: Page, server: Gunicorn
) -> None:
    open_page(page, server, "?q=merkel")
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e.id || e.className || e.textContent.trim(); }"
            )
        )
    assert order == ["skip-link", "Event search", "q", "search-button", "Filters"]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_be_focused()
    page.keyboard.press("Tab")  # from the results heading on to the sort and the first result
    expect(page.get_by_label("Sort by")).to_be_focused()
    page.keyboard.press("Tab")
    first = search(server, q="merkel")["results"][0]
    expect(page.locator(f"#results a[data-event='{first['id']}']")).to_be_focused()
    finish(browser, page, "focus-order")


def test_phone_and_desktop_widths(browser: Browser, page: Page, server: Gunicorn) -> None:
    open_page(page, server, "?q=putin")
    answer = search(server, q="putin")
    expect_results(page, answer)
    sidebar = page.locator(".sidebar").bounding_box()
    results = page.locator("#search-view").bounding_box()
    assert sidebar and results and sidebar["x"] + sidebar["width"] <= results["x"]
    expect(page.locator("#filters")).to_have_attribute("open", "")
    screenshot(page, "width-1-desktop")

    page.set_viewport_size(PHONE)
    expect(page.locator("#filters")).not_to_have_attribute("open", "")
    assert no_horizontal_scroll(page)
    sidebar = page.locator(".sidebar").bounding_box()
    results = page.locator("#search-view").bounding_box()
    assert sidebar and results and sidebar["y"] + sidebar["height"] <= results["y"]
    box = page.get_by_role("combobox", name="Search news events").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    expect(page.locator("#facets")).to_be_hidden()
    screenshot(page, "width-2-phone")

    page.locator("#filters summary").click()
    expect(page.locator("#facets button[data-facet=entity]").first).to_be_visible()
    screenshot(page, "width-3-phone-filters")
    page.get_by_role("link", name=answer["results"][0]["title"], exact=True).click()
    ready(page)
    expect(page.locator("#detail-title")).to_be_visible()
    assert no_horizontal_scroll(page)
    finish(browser, page, "width-4-phone-event")


def no_horizontal_scroll(page: Page) -> bool:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width <= page.viewport_size["width"] if page.viewport_size else False
