"""The studio's guards, on a real server: a wrong Host header (DNS rebinding)
and a POST without the session token are refused with 403; URLs naming
anything but this book's pages, panels, variants and history are refused
(404/400) and never serve a file; every answer carries the security headers;
no API key ever appears in an answer. Plus the name checks themselves, as
properties."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from comicc.studio.security import (
    allowed_hosts,
    cache_key,
    host_allowed,
    panel_ref,
    token_matches,
    variant_number,
)
from support.studio import RunningStudio, studio_server

SCRIPT = """\
title: Guarded
seed: 3
dpi: 72

PAGE 1

PANEL 1
A lighthouse on a cliff at night.
1. CAPTION: The storm came early.

PANEL 2
The keeper climbs the stairs.
prompt:
  - dutch angle
2. KEEPER: Not again.
"""


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStudio]:
    with studio_server(tmp_path_factory.mktemp("guarded"), SCRIPT) as s:
        yield s


def raw_get(s: RunningStudio, path: str, host: str | None = None) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side normalising of ``..``)."""
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", f"127.0.0.1:{s.port}" if host is None else host)
        conn.endheaders()
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


# ------------------------------------------------------------------ Host
@pytest.mark.parametrize(
    "host",
    ["evil.example:{port}", "evil.example", "127.0.0.1:1", "localhost.evil.example:{port}", ""],
)
def test_a_wrong_host_header_is_refused(running, host):
    status, body = raw_get(running, "/api/book", host=host.format(port=running.port))
    assert status == 403
    assert b"Host" in body and b"pages" not in body
    status, body = raw_get(running, "/", host=host.format(port=running.port))
    assert status == 403 and running.token.encode() not in body


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LOCALHOST", "[::1]"])
def test_the_loopback_names_are_answered(running, name):
    status, _ = raw_get(running, "/api/book", host=f"{name}:{running.port}")
    assert status == 200


# ------------------------------------------------------------------ token
@pytest.mark.parametrize(
    "path", ["api/toggle", "api/pick", "api/variants", "api/paint", "api/explore", "api/x"]
)
@pytest.mark.parametrize("token", [None, "", "wrong", "TOKEN"])
def test_a_post_without_the_token_is_refused(running, path, token):
    headers = {} if token is None else {"X-Comicc-Token": token.replace("TOKEN", "x" * 43)}
    before = running.script.read_bytes()
    r = requests.post(running.url + path, json={"line": 14, "enabled": False}, headers=headers)
    assert r.status_code == 403
    assert "token" in r.json()["error"].lower()
    assert running.script.read_bytes() == before


def test_the_token_is_in_the_page_and_opens_the_api(running):
    page = running.get("/").text
    assert f'<meta name="comicc-token" content="{running.token}">' in page
    r = running.post("api/toggle", {"line": "x"})
    assert r.status_code == 400  # past the guard: the body is checked


# ------------------------------------------------------------------ names
@pytest.mark.parametrize(
    "path",
    [
        "/page/../x",
        "/page/..%2f..%2fstory.comic",
        "/page/1.png/../../story.comic",
        "/page/0.png",
        "/page/x.png",
        "/page/1",
        "/page/-1.png",
        "/history/..%2f.png",
        "/history/..%2fstory.comic.png",
        "/history/ZZZ.png",
        "/history/0123456789abcdef.png",
        "/panel/1.2/variant/x.png",
        "/panel/1.2/variant/..%2f1.png",
        "/panel/1.2/variant/99.png",
        "/panel/..%2f1.2/mask.png",
        "/panel/9.9/init.png",
        "/panel/1.2.3/mask.png",
        "/api/panel/..%2f..%2fetc",
        "/api/panel/1.9",
        "/static/../security.py",
        "/static/..%2fsecurity.py",
        "/static/%2e%2e/security.py",
        "/explore/..%2f/sheet.png",
        "/explore/abc/0.png",
        "/../story.comic",
        "/story.comic",
        "/cache/",
    ],
)
def test_only_this_books_things_are_served(running, path):
    status, body = raw_get(running, path)
    assert status in (400, 404), (path, status)
    script = running.script.read_bytes()
    assert script[:40] not in body
    assert b"import" not in body  # no Python source


def test_the_books_things_are_served(running):
    book = running.wait_version(1)
    assert [p["number"] for p in book["pages"]] == [1]
    assert running.get(book["pages"][0]["image"]).headers["content-type"] == "image/png"
    for path in ("/panel/1.2/variant/1.png", "/panel/1.2/mask.png", "/panel/1.2/init.png"):
        r = running.get(path)
        assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n", path
    assert running.get("/static/studio.js").status_code == 200


@given(st.text())
def test_names_from_urls_are_strict(text):
    ref = panel_ref(text)
    if ref is not None:
        page, panel = text.split(".")
        assert ref == f"p{int(page)}.{int(panel)}" and page.isdigit() and panel.isdigit()
    n = variant_number(text)
    if n is not None:
        assert text.isdigit() and 1 <= n <= 9999
    key = cache_key(text)
    if key is not None:
        assert set(text) <= set("0123456789abcdef")
    for name in (ref or "", key or ""):
        assert "/" not in name and ".." not in name and "\\" not in name


def test_hosts_and_tokens():
    hosts = allowed_hosts(8123)
    assert host_allowed("127.0.0.1:8123", hosts) and host_allowed("LocalHost:8123", hosts)
    assert not host_allowed("127.0.0.1:8124", hosts) and not host_allowed(None, hosts)
    assert host_allowed("studio.lan:8123", allowed_hosts(8123, "studio.lan"))
    assert not host_allowed("studio.lan:8123", hosts)
    # listening on every address (--host 0.0.0.0): IP literals with the port are
    # answered (a rebinding attack needs a host name), names still are not
    assert host_allowed("192.168.1.20:8123", hosts, any_ip=8123)
    assert host_allowed("[fe80::1]:8123", hosts, any_ip=8123)
    assert not host_allowed("192.168.1.20:8124", hosts, any_ip=8123)
    assert not host_allowed("evil.example:8123", hosts, any_ip=8123)
    assert not host_allowed("192.168.1.20:8123", hosts)
    assert token_matches("abc", "abc") and not token_matches("abd", "abc")
    assert not token_matches(None, "abc") and not token_matches("", "abc")
    assert not token_matches("\u00e9", "abc")


# ------------------------------------------------------------------ headers
def test_every_answer_has_the_security_headers(running):
    for path in ("/", "/api/book", "/static/studio.css", "/page/1.png", "/nothing"):
        r = running.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "img-src 'self' data:" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert running.get("/api/book").headers["Cache-Control"] == "no-store"
    refused = requests.get(running.url + "api/book", headers={"Host": "evil.example"})
    assert refused.headers["X-Content-Type-Options"] == "nosniff"


def test_no_api_key_in_any_answer(tmp_path, monkeypatch):
    key = "sk-studio-test-0123456789abcdef"
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    monkeypatch.setenv("STABILITY_API_KEY", key)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    paid = SCRIPT.replace("seed: 3\n", "seed: 3\nbackend: stability\n")
    with studio_server(tmp_path, paid) as s:
        book = s.wait_version(1)
        assert book["status"]["pending_paint"]["panels"] == ["1.1", "1.2"]
        answers = [
            s.get("/").text,
            json.dumps(book),
            s.get("/api/panel/1.2").text,
            s.post("api/paint", {"confirm": False}).text,
            s.post("api/variants", {"panel": "1.2", "count": 2, "confirm": False}).text,
        ]
        for text in answers:
            assert key not in text
        assert '"explain"' in answers[2]
