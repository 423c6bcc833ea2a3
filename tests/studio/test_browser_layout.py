"""The studio's screen at the sizes it is checked at (1400x900, 1000x700):
nothing overlaps, a whole page fits in the window's height, and the
inspector sits beside the pages, not over them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from support.browser import open_studio
from support.studio import RunningStudio, studio_server

SCRIPT = """\
title: A Title Long Enough To Need Some Room In The Bar
seed: 5
dpi: 72
snippet noir: film noir lighting, deep shadows

PAGE 1

PANEL 1
A lighthouse on a cliff at night.
prompt:
  - @noir
  - dutch angle
1. CAPTION: The storm came early.

PAGE 2

PANEL 1
The lamp room, glass everywhere.
1. KEEPER: Who turned it off?
"""
SIZES = [(1400, 900), (1000, 700)]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[RunningStudio]:
    with studio_server(tmp_path, SCRIPT) as s:
        yield s


def box(page: Page, selector: str) -> dict[str, Any]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not on screen"
    return dict(found)


def apart(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two boxes do not overlap (touching edges are fine)."""
    return (
        a["x"] + a["width"] <= b["x"] + 0.5
        or b["x"] + b["width"] <= a["x"] + 0.5
        or a["y"] + a["height"] <= b["y"] + 0.5
        or b["y"] + b["height"] <= a["y"] + 0.5
    )


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_nothing_overlaps(running: RunningStudio, page: Page, width: int, height: int) -> None:
    page.set_viewport_size({"width": width, "height": height})
    open_studio(page, running.url)
    bar = ["#topbar .brand", "#status .message", "#status .when", "#help-button"]
    for i, a in enumerate(bar):
        for b in bar[i + 1 :]:
            assert apart(box(page, a), box(page, b)), (a, b)
    wrap = box(page, '.page-wrap[data-page="1"]')
    top = box(page, "#topbar")
    assert wrap["y"] >= top["y"] + top["height"]
    assert wrap["y"] + wrap["height"] <= height  # the whole page in view
    assert apart(box(page, '.page-wrap[data-page="1"]'), box(page, '.page-wrap[data-page="2"]'))

    page.click('.panel-hit[data-panel="1.1"]')
    page.locator("#inspector:not(.loading) .final-prompt", has_text="lighthouse").wait_for()
    inspector = box(page, "#inspector")
    assert inspector["x"] + inspector["width"] <= width + 0.5
    assert box(page, "#book")["x"] + box(page, "#book")["width"] <= inspector["x"] + 0.5
    for a, b in [
        ("#inspector .inspector-head h2", "#inspector-close"),
        ("#explore-toggles", "#explore-run"),
        ("#show-mask", "#show-init"),
    ]:
        page.locator(b).scroll_into_view_if_needed()
        assert apart(box(page, a), box(page, b)), (a, b)
    # nothing in the inspector sticks out sideways (no horizontal scroll of its body)
    assert page.eval_on_selector(
        "#inspector .inspector-body", "e => e.scrollWidth <= e.clientWidth"
    )
