"""Headless Chromium (Debian's package) driven by Playwright, for the page's browser tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Request, ViewportSize, sync_playwright

from tests.corpus import ROOT

# Where .ci/setup-tests installs it, unless EVENTSEARCH_CHROMIUM says otherwise.
CHROMIUM = Path(os.environ.get("EVENTSEARCH_CHROMIUM", "/usr/bin/chromium"))
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
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 740}


# Text whose contrast with the background behind it is below WCAG AA (4.5:1, 3:1 for
# large text), as "tag.class: ratio text".
LOW_CONTRAST_JS = """() => {
  const channel = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (c) => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const parse = (text) => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const parts = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0.5) return c;
    }
    return [255, 255, 255, 1];
  };
  const low = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || seen.has(el)) continue;
    seen.add(el);
    if (!el.getClientRects().length || el.closest(".visually-hidden, [hidden], option")) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    const a = luminance(parse(style.color));
    const b = luminance(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      low.push(`${el.tagName.toLowerCase()}.${el.className}: ${ratio.toFixed(2)} ` +
               el.textContent.trim().slice(0, 40));
    }
  }
  return low;
}"""


def require_chromium() -> None:
    """Fail (never skip) with how to install Chromium when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM}, which is missing: run "
            "`.ci/setup-tests` (make test does), which installs it or says how",
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

    def new_page(self, viewport: ViewportSize = DESKTOP) -> Page:
        """A new tab whose uncaught script errors are recorded."""
        page = self.context.new_page()
        page.set_viewport_size(viewport)
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
