"""The studio refuses what a hostile page could send, seen from a real browser:
a file-changing request without the session token or with a wrong one (from
the page itself, and from playwright's request client), and any request whose
Host header is not the studio's (DNS rebinding), sent raw with http.client."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from support.browser import JsErrors, open_studio, wait_for_file_change
from support.studio import RunningStudio, studio_server

SCRIPT = """\
title: Guarded
seed: 5
dpi: 72
snippet noir: film noir lighting, deep shadows

PAGE 1

PANEL 1
A vault door.
prompt:
  - @noir
1. CAPTION: Closed.
"""
NOIR_LINE = SCRIPT.splitlines().index("  - @noir") + 1

POST_FROM_PAGE = """async ([token]) => {
  const headers = {"Content-Type": "application/json"};
  if (token !== null) headers["X-Comicc-Token"] = token;
  const r = await fetch("/api/toggle", {
    method: "POST", headers, body: JSON.stringify({line: LINE, enabled: false}),
  });
  return [r.status, await r.text()];
}""".replace("LINE", str(NOIR_LINE))


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningStudio]:
    with studio_server(tmp_path, SCRIPT) as s:
        yield s


@pytest.fixture
def studio_page(running: RunningStudio, page: Page) -> Page:
    open_studio(page, running.url)
    return page


def raw_get(running: RunningStudio, path: str, host: str) -> tuple[int, dict[str, Any]]:
    """GET `path` with exactly this Host header (what a rebinding page's browser sends)."""
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host)
        conn.endheaders()
        answer = conn.getresponse()
        body = answer.read()
        return answer.status, json.loads(body) if body.startswith(b"{") else {}
    finally:
        conn.close()


def test_a_post_without_the_token_or_with_a_wrong_one_is_refused(
    studio_page: Page, running: RunningStudio, js_errors: JsErrors
) -> None:
    page = studio_page
    js_errors.expect("status of 403")  # the browser logs each refused request
    before = running.script.read_text(encoding="utf-8")
    token = page.locator('meta[name="comicc-token"]').get_attribute("content")
    assert token == running.token

    for sent in (None, "not-the-token", token[:-1]):
        status, body = page.evaluate(POST_FROM_PAGE, [sent])
        assert status == 403, (sent, body)
        assert "X-Comicc-Token" in json.loads(body)["error"]
    answer = page.request.post(
        running.url + "api/toggle",
        data={"line": NOIR_LINE, "enabled": False},
        headers={"X-Comicc-Token": "guessed"},
    )
    assert answer.status == 403
    answer = page.request.post(running.url + "api/pick", data={"panel": "1.1", "variant": 1})
    assert answer.status == 403
    assert running.script.read_text(encoding="utf-8") == before  # nothing was written

    # the same request with the page's token is the one that works
    status, body = page.evaluate(POST_FROM_PAGE, [token])
    assert status == 200, body
    after = wait_for_file_change(running.script, before)
    assert after.splitlines()[NOIR_LINE - 1] == "  # - @noir"


def test_a_wrong_host_header_is_refused(studio_page: Page, running: RunningStudio) -> None:
    port = running.port
    for path in ("/", "/api/book", "/page/1.png", "/static/studio.js"):
        status, body = raw_get(running, path, "evil.example")
        assert status == 403, path
        assert "Host" in body["error"]
        status, _ = raw_get(running, path, f"evil.example:{port}")
        assert status == 403, path
    assert raw_get(running, "/api/book", f"127.0.0.1:{port}")[0] == 200
    assert raw_get(running, "/api/book", f"localhost:{port}")[0] == 200
    # the page itself never shows the token to another origin: it is not in any API answer
    book = studio_page.request.get(running.url + "api/book").text()
    assert running.token not in book


def test_only_this_book_s_files_are_served(studio_page: Page, running: RunningStudio) -> None:
    get = studio_page.request.get
    assert get(running.url + "static/studio.js").status == 200
    for path in (
        "static/../app.py",
        "static/..%2f..%2fstudio%2fapp.py",
        "page/..%2fstory.comic",
        "page/1.png%2f..%2f..%2fstory.comic",
        "panel/1.1/variant/..%2f..%2fstory.comic.png",
        "history/..%2f..%2fstory.comic.png",
        "history/" + "0" * 64 + ".png",  # a well-formed key that is not this panel's
        "story.comic",
    ):
        answer = get(running.url + path)
        assert answer.status in (400, 404), (path, answer.status)
        assert "A vault door" not in answer.text() and "snippet noir" not in answer.text()
