"""Paid art in a real Chromium, on a local fake Stability server: the page
shows what waits and what it costs, paints nothing on its own, shows the plan
again on "Paint…", and sends exactly the plan's requests after the confirm."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from pytest_httpserver import HTTPServer

from support.browser import open_studio
from support.fakes_stability_openai import KEY, FakeStability
from support.servers import allow_local_key_hosts, base_url
from support.studio import RunningStudio, studio_server

SCRIPT = """\
title: Paid Pages
backend: stability
stability.url: {url}
dpi: 72
seed: 7

PAGE 1

PANEL 1
A lighthouse keeper climbs the spiral stairs.
1. KEEPER: The lamp is out again.

PANEL 2
The lamp room, glass everywhere.
2. CAPTION: Midnight.
"""
PAINTS = 60_000  # ms: a wait that includes painting (a failure, never a measurement)


@pytest.fixture
def fake(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeStability:
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    monkeypatch.setenv("STABILITY_API_KEY", KEY)
    allow_local_key_hosts(monkeypatch)
    return FakeStability(httpserver)


@pytest.fixture
def running(fake: FakeStability, httpserver: HTTPServer, tmp_path: Path) -> Iterator[RunningStudio]:
    with studio_server(tmp_path, SCRIPT.format(url=base_url(httpserver))) as s:
        yield s


@pytest.fixture
def studio_page(running: RunningStudio, page: Page) -> Page:
    open_studio(page, running.url)
    return page


def test_paid_art_waits_for_the_confirm_click(
    studio_page: Page, running: RunningStudio, fake: FakeStability
) -> None:
    page = studio_page
    pending = page.locator("#pending")
    pending.wait_for()
    assert (
        pending.locator(".pending-text").inner_text() == "2 panels wait for paid art · 10 credits"
    )
    assert fake.seen == []  # nothing is painted on its own
    assert KEY not in page.content()  # the key never reaches the page

    page.click("#paint")
    dialog = page.locator("#confirm")
    dialog.wait_for()
    assert dialog.locator(".plan-cost").inner_text() == "10 credits"
    assert "2 images to paint" in dialog.locator(".plan-detail").inner_text()
    page.click("#confirm-no")
    dialog.wait_for(state="hidden")
    assert fake.seen == []  # cancelled: nothing sent

    before = page.eval_on_selector("img.page", "img => img.src")
    page.click("#paint")
    dialog.wait_for()
    page.click("#confirm-yes")
    pending.wait_for(state="hidden", timeout=PAINTS)
    fake.verify()
    assert len(fake.seen) == 2  # exactly the plan's requests
    page.wait_for_function(
        "src => { const i = document.querySelector('img.page');"
        " return i.src !== src && i.complete && i.naturalWidth > 0; }",
        arg=before,
        timeout=PAINTS,
    )
