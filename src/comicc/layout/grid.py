"""Page grid: tiers of panels inside the live area.

A page's ``layout:`` is a list of tiers (rows) top to bottom, each with a
panel count and an optional relative height; panels share their tier's width
in proportion to their ``width:``. Without a layout the engine picks a usual
comic grid for the panel count (:func:`auto_tiers`).

All numbers (gutters, margins, bleed) come from the theme and the page
format; this module only does arithmetic. Coordinates: points, origin at the
top-left of the trim box (a spread: of the left page), y down.
"""

from __future__ import annotations

from dataclasses import dataclass

from comicc.layout.geometry import Rect
from comicc.model import LAYOUT_PRESETS, ir
from comicc.theme import PageFormat

MIN_PANEL_SIDE = 18.0  # points (0.25 in): a smaller panel box cannot be painted or lettered

# A usual page for each panel count: establishing shots get a full tier,
# dense pages keep at most three panels side by side.
AUTO_TIERS: dict[int, tuple[int, ...]] = {
    1: (1,),
    2: (1, 1),
    3: (1, 2),
    4: (2, 2),
    5: (2, 1, 2),
    6: (2, 2, 2),
    7: (2, 3, 2),
    8: (3, 2, 3),
    9: (3, 3, 3),
    10: (2, 3, 2, 3),
    11: (3, 2, 3, 3),
    12: (3, 3, 3, 3),
}


def auto_tiers(count: int) -> tuple[int, ...]:
    """A sensible tier list holding ``count`` panels (any count >= 1)."""
    if count <= 0:
        return ()
    if count in AUTO_TIERS:
        return AUTO_TIERS[count]
    rows, rest = divmod(count, 3)
    tiers = [3] * rows
    for i in range(rest):  # spread the remainder over the last tiers as 4-panel rows
        tiers[-1 - i] += 1
    return tuple(tiers)


def page_tiers(page: ir.Page) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The tiers and relative heights used for ``page``.

    A layout whose panel count disagrees with the page (the model stage reports
    that as an error) falls back to the automatic layout so layout never fails.
    """
    n = len(page.panels)
    spec = page.layout
    tiers: tuple[int, ...] = ()
    heights: tuple[float, ...] | None = None
    if spec is not None:
        tiers = tuple(spec.tiers) or LAYOUT_PRESETS.get(spec.preset or "", ())
        heights = spec.heights
    if not tiers or sum(tiers) != n or any(t <= 0 for t in tiers):
        tiers, heights = auto_tiers(n), None
    if heights is None or len(heights) != len(tiers) or any(h <= 0 for h in heights):
        heights = tuple(1.0 for _ in tiers)
    return tiers, tuple(float(h) for h in heights)


@dataclass(frozen=True)
class PageFrame:
    """The canvas of one page (or spread) before panels are cut."""

    width: float  # trim width (both pages for a spread)
    height: float
    bleed: float
    live: Rect


@dataclass(frozen=True)
class PanelBox:
    """Where one panel goes on its page."""

    panel: ir.Panel
    rect: Rect  # art box, extended into the bleed where allowed
    frame: Rect  # the box inside the live area (before bleed extension)
    bleed: frozenset[str]  # edges actually extended
    tier: int
    column: int  # visual column, left to right


def page_frame(page: ir.Page, page_format: PageFormat, reading: str = "ltr") -> PageFrame:
    """Trim size and live area of ``page`` in ``page_format``.

    The spine side gets ``page_format.spine_margin`` on top of
    ``page_format.margin``: for left-to-right books odd pages are right-hand
    pages (spine on the left), for right-to-left books the other way round. A
    spread has its spine in the middle and panels run across it, so only the
    outer margins apply.
    """
    pages = max(1, len(page.numbers))
    width = page_format.width * pages
    m = page_format.margin
    left = right = m
    if pages == 1 and page_format.spine_margin:
        recto = (page.number % 2 == 1) == (reading != "rtl")
        if recto:
            left += page_format.spine_margin
        else:
            right += page_format.spine_margin
    live = Rect(left, m, width - left - right, page_format.height - 2 * m)
    return PageFrame(width, page_format.height, page_format.bleed, live)


def _split(total: float, shares: list[float], gutter: float) -> list[tuple[float, float]]:
    """Offsets and lengths of ``len(shares)`` cells filling ``total`` with gutters."""
    n = len(shares)
    room = max(0.0, total - gutter * (n - 1))
    s = sum(shares) or 1.0
    out, pos = [], 0.0
    for share in shares:
        length = room * share / s
        out.append((pos, length))
        pos += length + gutter
    return out


def layout_page(
    page: ir.Page,
    page_format: PageFormat,
    gutter_tier: float,
    gutter_within: float,
    reading: str = "ltr",
) -> tuple[PageFrame, list[PanelBox]]:
    """Cut the live area of ``page`` into panel boxes, in panel order."""
    frame = page_frame(page, page_format, reading)
    live = frame.live
    tiers, heights = page_tiers(page)
    rows = _split(live.h, list(heights), gutter_tier)
    boxes: list[PanelBox] = []
    idx = 0
    for t, (count, (y0, h)) in enumerate(zip(tiers, rows, strict=True)):
        panels = page.panels[idx : idx + count]
        idx += count
        shares = [max(p.width, 0.05) for p in panels]
        visual = list(range(count))
        if reading == "rtl":  # panel 1 of a tier sits at the right
            visual = visual[::-1]
            shares_vis = shares[::-1]
        else:
            shares_vis = shares
        cols = _split(live.w, shares_vis, gutter_within)
        for i, panel in enumerate(panels):
            col = visual[i]
            x0, w = cols[col]
            rect = Rect(live.x + x0, live.y + y0, w, h)
            bleed = _bleed_edges(panel, t, len(tiers), col, count)
            boxes.append(PanelBox(panel, _extend(rect, bleed, frame), rect, bleed, t, col))
    return frame, boxes


def _bleed_edges(panel: ir.Panel, tier: int, tiers: int, col: int, cols: int) -> frozenset[str]:
    """The requested bleed edges that touch the live area's border."""
    touching = set()
    if tier == 0:
        touching.add("top")
    if tier == tiers - 1:
        touching.add("bottom")
    if col == 0:
        touching.add("left")
    if col == cols - 1:
        touching.add("right")
    return frozenset(e for e in panel.bleed if e in touching)


def _extend(r: Rect, edges: frozenset[str], frame: PageFrame) -> Rect:
    """``r`` pushed out to the bleed on ``edges``."""
    x, y, x2, y2 = r.x, r.y, r.x2, r.y2
    if "left" in edges:
        x = -frame.bleed
    if "right" in edges:
        x2 = frame.width + frame.bleed
    if "top" in edges:
        y = -frame.bleed
    if "bottom" in edges:
        y2 = frame.height + frame.bleed
    return Rect(x, y, x2 - x, y2 - y)


def panel_live(box: PanelBox, frame: PageFrame) -> Rect:
    """Where lettering may go in a panel: its art box clipped to the live area."""
    r, live = box.rect, frame.live
    x, y = max(r.x, live.x), max(r.y, live.y)
    x2, y2 = min(r.x2, live.x2), min(r.y2, live.y2)
    return Rect(x, y, max(0.0, x2 - x), max(0.0, y2 - y))
