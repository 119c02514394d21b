"""Headless Chromium (Debian's package) driven by Playwright, for the page's browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Request, sync_playwright

from tests.corpus import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
LOCAL_HOSTS = {"127.0.0.1"}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


def require_chromium() -> None:
    """Fail (never skip) with how to install Chromium when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM}, which is missing: install it "
            "with `apt-get install chromium chromium-driver` (.ci/run does this)",
            pytrace=False,
        )


class Browser:
    """One Chromium with a fresh profile; it records every request and script error."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.requests: list[str] = []
        self.errors: list[str] = []
        context.on("request", self._request)
        context.set_default_timeout(15_000)

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def new_page(self, viewport: dict[str, int] = DESKTOP) -> Page:
        """A new tab whose uncaught script errors are recorded."""
        page = self.context.new_page()
        page.set_viewport_size({"width": viewport["width"], "height": viewport["height"]})
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def outside_requests(self) -> list[str]:
        """Requests to any host but this machine's loopback server."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob", "about")
            and urlsplit(url).hostname not in LOCAL_HOSTS
        ]


@contextmanager
def chromium(profile_dir: Path) -> Iterator[Browser]:
    """Headless Chromium from ``/usr/bin/chromium`` with a fresh user-data-dir."""
    require_chromium()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=DESKTOP,
            service_workers="block",
        )
        try:
            yield Browser(context)
        finally:
            context.close()


def screenshot(page: Page, name: str) -> Path:
    """Save the page as test-artifacts/browser/NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
