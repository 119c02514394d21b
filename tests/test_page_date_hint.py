"""The search page offers a date written in the query as a chip; a click sets the date
filter in the URL.  Headless Chromium against real gunicorn serving data/demo/; what
the page should show is asked of the same server's JSON API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser import LOW_CONTRAST_JS, Browser, chromium, screenshot
from tests.corpus import DEMO_DIR
from tests.support.gunicorn import Gunicorn
from tests.support.indexes import run_indexer

pytestmark = pytest.mark.slow  # real Chromium against real gunicorn

PAGE_PARAMS = {"size": "10", "facets": "date,entity,source,category", "facet_size": "10"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    index_dir = tmp_path_factory.mktemp("page-date-hint") / "index"
    built = run_indexer("rebuild", str(DEMO_DIR), "--index-dir", str(index_dir))
    assert built.returncode == 0, built.stderr
    with Gunicorn(index_dir) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as started:
        yield started


def search(server: Gunicorn, **params: Any) -> dict[str, Any]:
    status, body = server.get(f"/api/search?{urlencode({**PAGE_PARAMS, **params})}")
    assert status == 200, body
    result: dict[str, Any] = body
    return result


def ready(page: Page) -> None:
    expect(page.locator("main#main")).not_to_have_attribute("aria-busy", "true")


def test_a_date_in_the_query_is_a_chip_that_sets_the_dates(
    browser: Browser, server: Gunicorn
) -> None:
    browser.requests.clear()
    browser.errors.clear()
    page = browser.new_page()
    # The demo's Obama event is of 4 November 2008 (data/demo/010_...).
    typed = "obama Nov. 2008"
    # Each worker loads dateparser in a thread when it starts (about a second) and
    # answers without hints until then: wait until the answers have it.
    hint = {"from": "2008-11-01", "to": "2008-11-30", "text": "Nov. 2008"}
    deadline = time.monotonic() + 60
    hinted = 0
    while hinted < 8 and time.monotonic() < deadline:
        hinted = hinted + 1 if search(server, q=typed)["date_hint"] == hint else 0
        time.sleep(0.05)
    assert hinted == 8
    page.goto(f"{server.url}/?{urlencode({'q': typed})}")
    ready(page)
    chip = page.locator("#date-hint")
    expect(chip).to_be_visible()
    expect(chip).to_contain_text("Nov. 2008")
    screenshot(page, "date-hint-1-offered")
    chip.get_by_role("link", name="Only 1 Nov 2008 \u2013 30 Nov 2008").click()
    page.wait_for_url(lambda url: "from=" in url)
    ready(page)
    state = parse_qs(urlsplit(page.url).query)
    assert state == {"q": [typed], "from": ["2008-11-01"], "to": ["2008-11-30"]}
    narrowed = search(server, q=typed, **{"from": "2008-11-01", "to": "2008-11-30"})
    assert narrowed["total"] >= 1
    expect(page.locator("#results .result-title")).to_have_text(
        [r["title"] for r in narrowed["results"]]
    )
    expect(chip).to_be_hidden()  # applied: the filter chip shows it now
    expect(page.locator("#chips .filter-chip")).to_contain_text(["Dates:"])
    screenshot(page, "date-hint-2-applied")
    assert browser.outside_requests() == [] and browser.errors == []
    assert page.evaluate(LOW_CONTRAST_JS) == [], "text below WCAG AA contrast"
    page.close()
