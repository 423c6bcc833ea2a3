"""The browser harness itself: Debian's Chromium loads a page, runs its script, shows its image.

A tiny static site served by the standard library's http.server, so a broken
harness shows here and not as a puzzling studio failure.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from support.browser import CHROMIUM, JsErrors

INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>harness</title><link rel="icon" href="art.png">
<script src="app.js" defer></script></head>
<body><h1 id="title">static</h1><img id="art" src="art.png" alt="art"></body></html>
"""
APP = "document.getElementById('title').textContent = 'scripted';\n"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """A static site on 127.0.0.1 with a page, a script and a PNG; yields its URL."""
    (tmp_path / "index.html").write_text(INDEX, encoding="utf-8")
    (tmp_path / "app.js").write_text(APP, encoding="utf-8")
    (tmp_path / "broken.html").write_text(
        '<!doctype html><link rel="icon" href="art.png"><script>undefinedFunction();</script>',
        encoding="utf-8",
    )
    Image.new("RGB", (64, 48), "teal").save(tmp_path / "art.png")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Quiet, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_browser_is_debians_chromium(browser: Browser) -> None:
    assert CHROMIUM.exists()
    assert browser.is_connected()
    assert browser.version  # e.g. "150.0.7871.100"


def test_a_page_runs_its_script_and_loads_its_image(page: Page, site: str) -> None:
    page.goto(f"{site}/index.html")
    page.wait_for_function("document.getElementById('title').textContent === 'scripted'")
    page.wait_for_function("document.getElementById('art').complete")
    size = page.eval_on_selector("#art", "img => [img.naturalWidth, img.naturalHeight]")
    assert size == [64, 48]


def test_javascript_errors_are_collected(page: Page, site: str, js_errors: JsErrors) -> None:
    js_errors.expect("undefinedFunction")
    page.goto(f"{site}/broken.html")
    page.wait_for_timeout(200)  # the error event is delivered asynchronously
    assert any("undefinedFunction" in e for e in js_errors.seen)
    assert js_errors.unexpected() == []
