"""The studio's book in a real Chromium: the pages load, a save in any editor
updates only the page it changed and says why, a broken script shows its
diagnostics in the page and keeps the last good pages, and the keyboard
walks the panels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from support.browser import open_studio
from support.studio import RunningStudio, studio_server

SCRIPT = """\
title: The Lighthouse
seed: 5
dpi: 72
snippet noir: film noir lighting, deep shadows

PAGE 1

PANEL 1
A lighthouse on a cliff at night.
1. CAPTION: The storm came early.

PANEL 2
The keeper climbs the stairs.
prompt:
  - @noir
  - dutch angle
2. KEEPER: Not again.

PAGE 2

PANEL 1
The lamp room, glass everywhere.
1. KEEPER: Who turned it off?
"""


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningStudio]:
    with studio_server(tmp_path, SCRIPT) as s:
        yield s


@pytest.fixture
def studio_page(running: RunningStudio, page: Page) -> Page:
    """The studio open in the browser (the page closes before the server stops)."""
    open_studio(page, running.url)
    return page


def page_sources(page: Page) -> dict[str, str]:
    return page.eval_on_selector_all(
        "img.page", "imgs => Object.fromEntries(imgs.map(i => [i.dataset.page, i.src]))"
    )


def test_the_pages_load_with_a_hotspot_per_panel(studio_page: Page) -> None:
    page = studio_page
    sizes = page.eval_on_selector_all(
        "#pages .page-wrap img.page", "imgs => imgs.map(i => [i.dataset.page, i.naturalWidth])"
    )
    assert [n for n, _ in sizes] == ["1", "2"]
    assert all(width > 0 for _, width in sizes)
    hits = page.eval_on_selector_all(".panel-hit", "els => els.map(e => e.dataset.panel)")
    assert hits == ["1.1", "1.2", "2.1"]
    assert page.locator("#status").get_attribute("class") == "status ok"
    assert page.locator("#status .message").inner_text().startswith("2 pages")
    assert page.locator("#diagnostics").is_hidden()
    assert page.locator("#inspector").is_hidden()
    assert page.title() == "The Lighthouse · comicc studio"


def test_a_save_updates_only_the_changed_page_and_says_why(
    studio_page: Page, running: RunningStudio
) -> None:
    page = studio_page
    before = page_sources(page)
    text = SCRIPT.replace("on a cliff at night.", "on a cliff at dawn.")
    running.script.write_text(text, encoding="utf-8")  # as any editor would
    page.wait_for_function(
        "src => document.querySelector('img.page[data-page=\"1\"]').src !== src",
        arg=before["1"],
        timeout=60_000,
    )
    page.wait_for_function(
        "() => { const i = document.querySelector('img.page[data-page=\"1\"]');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    after = page_sources(page)
    assert after["2"] == before["2"]  # only the changed page reloads
    reasons = page.locator("#status .reason").all_text_contents()  # the list under the bar
    assert page.locator("#status .first-reason").inner_text() == reasons[0]
    assert "story.comic changed" in reasons
    assert any(r.startswith("p1.1 v1 painted") for r in reasons), reasons
    assert not any("p2.1" in r for r in reasons)


def test_a_broken_script_shows_its_diagnostic_and_keeps_the_pages(
    studio_page: Page, running: RunningStudio
) -> None:
    page = studio_page
    before = page_sources(page)
    running.script.write_text(SCRIPT.replace("  - @noir", "  - @moonlite"), encoding="utf-8")
    diagnostic = page.locator("#diagnostics .diagnostic").first
    diagnostic.wait_for(timeout=60_000)
    line = SCRIPT.splitlines().index("  - @noir") + 1
    assert diagnostic.locator(".where").inner_text() == f"story.comic:{line}:5"
    assert diagnostic.locator(".where").get_attribute("data-line") == str(line)
    shown = diagnostic.locator("pre").inner_text()
    assert "unknown snippet `@moonlite`" in shown
    assert f"{line} |   - @moonlite" in shown  # the source line, as in the terminal
    assert "^^^^^^^^^" in shown
    assert "hint: snippets: @noir" in shown
    assert "error" in (page.locator("#status").get_attribute("class") or "")
    assert "last good pages" in page.locator("#status .message").inner_text()
    assert page_sources(page) == before  # the last good pages stay
    diagnostic.locator(".where").click()
    assert "highlight" in (diagnostic.get_attribute("class") or "")

    running.script.write_text(SCRIPT, encoding="utf-8")  # fixed: the problems go away
    page.locator("#diagnostics").wait_for(state="hidden", timeout=60_000)
    assert page.locator("#status").get_attribute("class") == "status ok"


def test_the_keyboard_walks_the_panels(studio_page: Page) -> None:
    page = studio_page
    ref = page.locator("#inspector .panel-ref")
    page.keyboard.press("j")
    page.locator("#inspector").wait_for()
    assert ref.inner_text() == "1.1"  # at once, before the panel's facts arrive
    page.locator("#inspector:not(.loading) .final-prompt", has_text="lighthouse").wait_for()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.wait_for_function(
        "() => document.querySelector('#inspector .panel-ref').textContent === '2.1'"
    )
    page.keyboard.press("k")
    page.wait_for_function(
        "() => document.querySelector('#inspector .panel-ref').textContent === '1.2'"
    )
    assert page.locator(".panel-hit.selected").get_attribute("data-panel") == "1.2"
    page.keyboard.press("Escape")
    page.locator("#inspector").wait_for(state="hidden")
    assert page.locator(".panel-hit.selected").count() == 0
    page.keyboard.press("?")
    page.locator("#help").wait_for()
    assert "next panel" in page.locator("#help").inner_text()
    page.keyboard.press("Escape")
    page.locator("#help").wait_for(state="hidden")
