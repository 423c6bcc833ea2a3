"""The browser harness of the studio tests: Debian's real Chromium, driven by playwright.

`tests/studio/test_browser_*.py` open pages in a real headless Chromium: the
Debian package at /usr/bin/chromium (`COMICC_CHROMIUM` points elsewhere),
driven through playwright's Python API with `executable_path`, so playwright's
own browser download (`playwright install`) is never needed.
`scripts/setup-tests.sh`, which the README's test command runs, installs the
package. Without the browser those tests FAIL, saying how to get it, unless
`COMICC_SKIP_BROWSER=1` is set (then they are skipped).

The constants and helpers the tests share are in `support.browser`. Fixtures:
- `browser` (session): one Chromium for the whole run, started with a fresh
  profile (playwright's `launch` makes a new temporary user-data directory
  and removes it at close) and the flags below: no sandbox (root, containers),
  no GPU, no QUIC, no first-run, background or update traffic.
- `page` (function): a new context (1400x900, its own cookies) and page with
  a 15 s default timeout. Every JavaScript error (an uncaught exception, or a
  console message of type `error`) is collected in `js_errors`; a test that
  leaves one unexpected fails. A test that provokes an error on purpose (a
  request the server must refuse) says so with `js_errors.expect("403")`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright

from support.browser import CHROMIUM, CHROMIUM_ARGS, SKIP_BROWSER, TIMEOUT_MS, VIEWPORT, JsErrors


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of a `test_browser_*.py` module `browser`; skip them on request."""
    for item in items:
        if not item.path.name.startswith("test_browser_"):
            continue
        item.add_marker(pytest.mark.browser)
        if SKIP_BROWSER:
            item.add_marker(pytest.mark.skip(reason="COMICC_SKIP_BROWSER=1"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session (Debian's package, via playwright)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM}: run scripts/setup-tests.sh "
            "(as root it installs Debian's chromium package), or set COMICC_SKIP_BROWSER=1 "
            "to skip them",
            pytrace=False,
        )
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def js_errors() -> JsErrors:
    """The JavaScript errors of the test's page (see `page`)."""
    return JsErrors()


@pytest.fixture
def page(browser: Browser, js_errors: JsErrors) -> Iterator[Page]:
    """A fresh page (own context, 1400x900, 15 s timeout) that fails the test on JS errors."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    new_page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            js_errors.add(f"console: {message.text} ({message.location.get('url', '')})")

    def on_error(error: Error) -> None:
        js_errors.add(f"uncaught: {error.message}")

    new_page.on("console", on_console)
    new_page.on("pageerror", on_error)
    try:
        yield new_page
    finally:
        context.close()
    unexpected = js_errors.unexpected()
    if unexpected:
        pytest.fail("JavaScript errors in the page:\n" + "\n".join(unexpected), pytrace=False)
