"""Helpers of the studio's browser tests (tests/studio/test_browser_*.py).

Where the browser is and how it is started (tests/studio/conftest.py holds the
fixtures), the JavaScript errors a page produced, and waits the tests share.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from playwright.sync_api import Page, ViewportSize

CHROMIUM = Path(os.environ.get("COMICC_CHROMIUM", "/usr/bin/chromium"))
SKIP_BROWSER = os.environ.get("COMICC_SKIP_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000  # a page's default timeout (a failure, never a measurement)
VIEWPORT: ViewportSize = {"width": 1400, "height": 900}


class JsErrors:
    """The JavaScript errors one page produced, and the ones the test expects."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._expected: list[re.Pattern[str]] = []

    def add(self, text: str) -> None:
        """Record one error (an uncaught exception or a console error)."""
        self.seen.append(text)

    def expect(self, pattern: str) -> None:
        """Allow errors matching `pattern` (a regular expression) from now on."""
        self._expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        """The errors no `expect` allowed."""
        return [e for e in self.seen if not any(p.search(e) for p in self._expected)]


def open_studio(page: Page, url: str) -> None:
    """Open the studio at `url` and wait until every page image has loaded."""
    page.goto(url)
    page.wait_for_selector("img.page")
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.page')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )


def wait_for_file_change(path: Path, before: str, timeout: float = TIMEOUT_MS / 1000) -> str:
    """The text of `path` once it is no longer `before` (the studio wrote it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(encoding="utf-8")
        if text != before:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{path.name} did not change within {timeout} s")
