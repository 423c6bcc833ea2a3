"""Page grid: tiers, heights, widths, gutters, spreads, rtl, bleed."""

from __future__ import annotations

import pytest

from comicc.layout import layout_book
from comicc.layout.grid import AUTO_TIERS, auto_tiers, layout_page, page_tiers
from comicc.model import ir
from support.layout import MANGA, US, make_theme, page, panel, script

THEME = make_theme()


def _boxes(pg, page_format=US, reading="ltr"):
    return layout_page(pg, page_format, THEME.gutter_tier, THEME.gutter_within, reading)


def _empty(n, **kw):
    return page(1, [[] for _ in range(n)], **kw)


@pytest.mark.parametrize("n", range(1, 16))
def test_auto_tiers_hold_every_panel(n):
    tiers = auto_tiers(n)
    assert sum(tiers) == n
    assert max(tiers) <= 4
    if n in AUTO_TIERS:
        assert tiers == AUTO_TIERS[n]


def test_auto_layout_examples():
    assert auto_tiers(5) == (2, 1, 2)
    assert auto_tiers(7) == (2, 3, 2)
    assert page_tiers(_empty(6)) == ((2, 2, 2), (1.0, 1.0, 1.0))


def test_presets_and_mismatch():
    pg = page(1, [[]] * 9)
    pg = ir.Page(1, (1,), None, ir.LayoutSpec((), None, "grid-9"), pg.panels)
    assert page_tiers(pg)[0] == (3, 3, 3)
    bad = _empty(4, layout=(2, 3))  # 5 slots for 4 panels: falls back to auto
    assert page_tiers(bad)[0] == (2, 2)


def test_tiers_heights_and_gutters():
    pg = _empty(6, layout=(2, 1, 3), heights=(1, 2, 1))
    frame, boxes = _boxes(pg)
    rows = sorted({(round(b.rect.y, 3), round(b.rect.h, 3)) for b in boxes})
    assert len(rows) == 3
    (y0, h0), (y1, h1), (y2, h2) = rows
    assert h1 == pytest.approx(2 * h0) and h2 == pytest.approx(h0)
    assert y1 - (y0 + h0) == pytest.approx(THEME.gutter_tier)
    assert y0 == pytest.approx(frame.live.y) and y2 + h2 == pytest.approx(frame.live.y2)
    first = [b for b in boxes if b.tier == 0]
    assert first[1].rect.x - first[0].rect.x2 == pytest.approx(THEME.gutter_within)
    assert THEME.gutter_tier > THEME.gutter_within
    for b in boxes:
        assert frame.live.contains(b.rect)


def test_width_shares():
    pg = page(1, [panel(1, [], width=2.0), panel(2, [])], layout=(2,))
    _, (a, b) = _boxes(pg)
    assert a.rect.w == pytest.approx(2 * b.rect.w)


def test_rtl_mirrors_panel_order():
    pg = _empty(3, layout=(3,))
    _, ltr = _boxes(pg)
    _, rtl = _boxes(pg, reading="rtl")
    assert ltr[0].rect.x < ltr[1].rect.x < ltr[2].rect.x
    assert rtl[0].rect.x > rtl[1].rect.x > rtl[2].rect.x  # panel 1 top-right
    assert rtl[0].rect.x2 == pytest.approx(ltr[2].rect.x2)


def test_spread_is_one_wide_canvas():
    pg = page(4, [[], []], layout=(1, 1), numbers=(4, 5))
    book, _ = layout_book(script([pg]), THEME, US)
    g = book.pages[0]
    assert g.numbers == (4, 5) and g.width == pytest.approx(2 * US.width)
    top = g.panels[0].rect
    assert top.x < US.width < top.x2  # crosses the fold


def test_spine_margin_alternates():
    f1, _ = _boxes(_empty(1), MANGA, "ltr")
    f2, _ = _boxes(page(2, [[]]), MANGA, "ltr")
    assert f1.live.x > f2.live.x  # odd page: spine on the left for ltr books
    f3, _ = _boxes(_empty(1), MANGA, "rtl")
    assert f3.live.x == pytest.approx(f2.live.x)


def test_bleed_only_on_edges_touching_the_live_area():
    pg = page(
        1,
        [panel(1, [], bleed=("top", "left", "bottom")), panel(2, [], bleed=("left",))],
        layout=(1, 1),
    )
    frame, (a, b) = _boxes(pg)
    assert a.bleed == {"top", "left"}  # bottom touches panel 2, not the page edge
    assert a.rect.y == pytest.approx(-US.bleed) and a.rect.x == pytest.approx(-US.bleed)
    assert a.rect.x2 == pytest.approx(frame.live.x2)
    assert b.rect.x == pytest.approx(-US.bleed) and b.rect.y == pytest.approx(b.frame.y)
    book, _ = layout_book(script([pg]), THEME, US)
    assert book.pages[0].panels[0].border is None
    assert book.pages[0].panels[0].bleed == {"top", "left"}
