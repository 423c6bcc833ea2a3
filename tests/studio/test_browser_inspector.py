"""The panel inspector in a real Chromium: a click shows the panel's prompt
part by part; a snippet switch, a pick, "paint more" and an explore cell each
change the script in exactly one line; explore shows every combination; the
history compares two prompts."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from support.browser import open_studio, wait_for_file_change
from support.studio import RunningStudio, studio_server

SCRIPT = """\
title: The Lighthouse
seed: 5
dpi: 72
negative: text, watermark
snippet noir: film noir lighting, deep shadows

PAGE 1

PANEL 1
A lighthouse on a cliff at night.
1. CAPTION: The storm came early.

PANEL 2
variants: 2
The keeper climbs the stairs.
prompt:
  - @noir
  - dutch angle
2. KEEPER: Not again.
"""
NOIR_LINE = SCRIPT.splitlines().index("  - @noir") + 1
DUTCH_LINE = NOIR_LINE + 1
PAINTS = 60_000  # ms: waits that include painting (a failure, never a measurement)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningStudio]:
    with studio_server(tmp_path, SCRIPT) as s:
        yield s


@pytest.fixture
def inspector(running: RunningStudio, page: Page) -> Page:
    """The studio open on panel 1.2 (the page closes before the server stops)."""
    open_studio(page, running.url)
    page.click('.panel-hit[data-panel="1.2"]')
    page.locator("#inspector").wait_for()
    page.wait_for_selector("#toggles input.toggle")
    return page


def line_changes(before: str, after: str) -> list[str]:
    """The changed lines of a unified diff: '-old' and '+new', nothing else."""
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [d for d in diff if d[:1] in "+-" and not d.startswith(("+++", "---"))]


def test_a_click_on_a_panel_shows_its_prompt(inspector: Page) -> None:
    page = inspector
    assert page.locator("#inspector .panel-ref").inner_text() == "1.2"
    prompt = page.locator("#inspector .final-prompt").inner_text()
    assert prompt.startswith("The keeper climbs the stairs")
    assert "film noir lighting, deep shadows" in prompt and "dutch angle" in prompt
    parts = {
        p.get_attribute("data-line"): p.inner_text()
        for p in page.locator("#inspector .prompt-part").all()
    }
    assert "The keeper climbs the stairs." in parts[str(NOIR_LINE - 2)]  # the description
    assert "dutch angle" in parts[str(DUTCH_LINE)]
    assert "film noir lighting" in parts[str(NOIR_LINE)]
    assert page.locator("#inspector .negative").inner_text() == "text, watermark"
    assert page.locator("#inspector .backend").inner_text() == "draft"
    assert page.locator("#inspector .seed").inner_text().isdigit()
    assert "px" in page.locator("#inspector .size").inner_text()
    assert page.locator("#inspector .cache-state").inner_text().startswith("cached")
    assert page.locator("#inspector .cost").inner_text() == "nothing to paint (all cached)"
    page.wait_for_function("() => document.querySelector('#inspector .art-image').naturalWidth > 0")
    # the overlays: the mask drawn over the panel's art
    page.check("#show-mask")
    page.wait_for_function(
        "() => { const m = document.querySelector('.overlay-mask');"
        " return !m.hidden && m.complete && m.naturalWidth > 0; }"
    )
    page.uncheck("#show-mask")
    assert page.locator(".overlay-mask").is_hidden()


def test_a_snippet_switch_changes_exactly_its_line(inspector: Page, running: RunningStudio) -> None:
    page = inspector
    switch = page.locator(f'#toggles input.toggle[data-line="{NOIR_LINE}"]')
    assert switch.is_checked()
    before = running.script.read_text(encoding="utf-8")
    switch.uncheck()
    after = wait_for_file_change(running.script, before)
    assert line_changes(before, after) == ["-  - @noir", "+  # - @noir"]
    changed = [
        i
        for i, (a, b) in enumerate(zip(before.splitlines(), after.splitlines(), strict=True))
        if a != b
    ]
    assert changed == [NOIR_LINE - 1]  # that line, and every other byte kept

    # the watcher rebuilds; the inspector shows the switch off and the prompt without it
    page.wait_for_function(
        "() => !document.querySelector('#inspector .final-prompt').textContent"
        ".includes('film noir')",
        timeout=PAINTS,
    )
    assert not page.locator(f'#toggles input.toggle[data-line="{NOIR_LINE}"]').is_checked()
    page.locator(f'#toggles input.toggle[data-line="{NOIR_LINE}"]').check()
    again = wait_for_file_change(running.script, after)
    assert again == before


def test_pick_writes_pick_into_the_panel(inspector: Page, running: RunningStudio) -> None:
    page = inspector
    variants = page.locator("#variants .variant")
    assert variants.count() == 2
    page.wait_for_function(
        "() => [...document.querySelectorAll('#variants .variant img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert "picked" in (
        page.locator('#variants .variant[data-variant="1"]').get_attribute("class") or ""
    )
    before = running.script.read_text(encoding="utf-8")
    page.click('#variants .variant[data-variant="2"] button.pick')
    after = wait_for_file_change(running.script, before)
    assert line_changes(before, after) == ["+pick: 2"]
    page.wait_for_function(
        "() => document.querySelector('#variants .variant[data-variant=\"2\"]')"
        ".classList.contains('picked')"
    )


def test_after_a_pick_the_switches_know_their_moved_lines(
    inspector: Page, running: RunningStudio
) -> None:
    """`pick: 2` goes in under `variants:`, above the prompt items: their lines
    move down by one, and a switch clicked next must change the right line."""
    page = inspector
    before = running.script.read_text(encoding="utf-8")
    page.click('#variants .variant[data-variant="2"] button.pick')
    picked = wait_for_file_change(running.script, before)
    assert picked.splitlines()[DUTCH_LINE] == "  - dutch angle"  # one line further down
    page.locator("#notice", has_text="pick: 2 written").wait_for()
    # at once, as a writer would: before the watcher's rebuild comes round
    dutch = page.locator('#toggles .toggle-row:has(.label:text-is("dutch angle")) input.toggle')
    dutch.uncheck()
    after = wait_for_file_change(running.script, picked)
    assert line_changes(picked, after) == ["-  - dutch angle", "+  # - dutch angle"]


def test_paint_more_shows_the_plan_and_needs_a_confirm(
    inspector: Page, running: RunningStudio
) -> None:
    page = inspector
    before = running.script.read_text(encoding="utf-8")
    page.fill("#more-count", "1")
    page.click("#paint-more")
    dialog = page.locator("#confirm")
    dialog.wait_for()
    assert dialog.locator(".plan-cost").inner_text() == "free"  # the draft backend
    assert "1 image to paint" in dialog.locator(".plan-detail").inner_text()
    page.click("#confirm-no")
    dialog.wait_for(state="hidden")
    assert running.script.read_text(encoding="utf-8") == before  # nothing without a yes

    page.click("#paint-more")
    dialog.wait_for()
    page.click("#confirm-yes")
    after = wait_for_file_change(running.script, before, timeout=PAINTS / 1000)
    assert line_changes(before, after) == ["-variants: 2", "+variants: 3"]
    page.wait_for_function(
        "() => document.querySelectorAll('#variants .variant img').length === 3", timeout=PAINTS
    )


def test_explore_shows_every_combination_and_applies_one(
    inspector: Page, running: RunningStudio
) -> None:
    page = inspector
    page.fill("#explore-toggles", "@noir, dutch angle")
    page.click("#explore-run")
    dialog = page.locator("#confirm")
    dialog.wait_for()
    assert dialog.locator(".plan-cost").inner_text() == "free"
    page.click("#confirm-yes")
    cells = page.locator("#explore-grid .cell")
    page.wait_for_function(
        "() => document.querySelectorAll('#explore-grid .cell').length === 4", timeout=PAINTS
    )
    assert [c.get_attribute("data-index") for c in cells.all()] == ["0", "1", "2", "3"]
    page.wait_for_function(
        "() => [...document.querySelectorAll('#explore-grid .cell img')]"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=PAINTS,
    )
    # the cell with @noir off and the dutch angle on
    wanted = None
    for cell in cells.all():
        off = cell.locator(".label .off").all_inner_texts()
        on = cell.locator(".label .on").all_inner_texts()
        if off == ["@noir"] and on == ["dutch angle"]:
            wanted = cell
    assert wanted is not None
    before = running.script.read_text(encoding="utf-8")
    wanted.locator("button.apply").click()
    after = wait_for_file_change(running.script, before)
    assert line_changes(before, after) == ["-  - @noir", "+  # - @noir"]


def test_history_compares_the_prompts_before_and_after_a_toggle(
    inspector: Page, running: RunningStudio
) -> None:
    page = inspector
    before = running.script.read_text(encoding="utf-8")
    page.locator(f'#toggles input.toggle[data-line="{DUTCH_LINE}"]').uncheck()
    wait_for_file_change(running.script, before)
    # the art the new prompt made is current; the earlier art is in the history
    page.wait_for_function(
        "() => document.querySelector('#history .history-item.current')"
        " && document.querySelector('#history .history-item:not(.current)')",
        timeout=PAINTS,
    )
    page.locator("#history .history-item:not(.current)").first.click()
    page.locator("#history .history-item.current").first.click()
    diff = page.locator("#history-diff")
    diff.wait_for()
    assert diff.locator(".diff-del").all_inner_texts() == ["- dutch angle"]
    assert diff.locator(".diff-add").count() == 0
