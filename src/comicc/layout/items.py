"""What placement works on: panel items, speaker positions and tail corridors.

``Params`` holds the placement numbers (all overridable from the theme's
``extra`` table, optionally under a ``layout`` key). ``_tail`` models where
``tails.tail_path`` will draw a tail, so the search can keep its corridor
clear before any outline exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from comicc.layout.collide import ellipse_reach, hull, wedge
from comicc.layout.geometry import Point, Rect
from comicc.layout.text import OVAL_KINDS, Fit, LazyFits
from comicc.model import ir

K = ir.BalloonKind


@dataclass(frozen=True)
class Params:
    """Placement numbers; every one can be overridden by ``theme.extra``."""

    margin: float = 6.0  # panel live area -> balloons
    gap: float = 4.0  # between balloon bodies
    tail_min: float = 7.0  # shortest visible tail
    tail_pref: float = 0.14  # preferred visible tail, fraction of panel height
    mouth_clear: float = 9.0  # tail tip -> mouth
    link_gap: float = 14.0  # farthest apart two linked balloons may be
    connector_width: float = 7.0
    tail_base: float = 0.18  # tail base width, fraction of the body's smaller side
    mouth_y: float = 0.62  # mouth height of speakers placed by the engine
    face_w: float = 0.16  # face box, fractions of the panel
    face_h: float = 0.2
    budget: int = 300  # candidate checks per panel in the search
    branch: int = 3  # candidates tried per item before backtracking

    @classmethod
    def from_theme(cls, theme) -> Params:
        extra = getattr(theme, "extra", None) or {}
        layout = extra.get("layout", extra) if isinstance(extra, dict) else {}
        kw = {k: type(getattr(cls, k))(layout[k]) for k in cls.__dataclass_fields__ if k in layout}
        return cls(**kw)


@dataclass
class Item:
    idx: int
    b: ir.Balloon
    fits: LazyFits
    ordered: bool  # takes part in the reading-order rule
    mouth: Point | None = None  # where the tail aims (page coords)
    off_edge: str | None = None  # off-panel: the edge the tail runs to
    prev: int | None = None  # previous balloon of a linked group
    caption_no: int = 0


@dataclass(frozen=True)
class Placed:
    item: int
    rect: Rect
    fit: Fit
    tip: Point | None = None  # the target handed to ``tail_path`` (mouth or past an edge)
    tail_poly: tuple[Point, ...] | None = None
    conn_poly: tuple[Point, ...] | None = None
    cost: float = 0.0
    overflow: float = 0.0
    overflow_dir: str = ""


@dataclass
class Ctx:
    area: Rect  # where bodies may go
    live: Rect  # where tails may reach (panel clipped to the page's live area)
    reading: str
    p: Params
    items: list[Item]
    faces: list[Rect] = field(default_factory=list)


def cast_points(panel: ir.Panel, prect: Rect, reading: str, p: Params) -> dict[str, Point]:
    """Speaker positions in page coordinates; unplaced speakers in reading order."""
    pts: dict[str, Point] = {}
    for c in panel.cast:
        pts[c.name] = (prect.x + c.x * prect.w, prect.y + c.y * prect.h)
    off_only = {
        s for s in panel.speakers if all(b.off_panel for b in panel.balloons if b.speaker == s)
    }
    outside = [s for s in panel.speakers if s not in pts and s in off_only]
    for i, name in enumerate(outside):  # off-panel voices: just outside a side edge
        fx = 1.06 if (i % 2 == 0) == (reading != "rtl") else -0.06
        pts[name] = (prect.x + fx * prect.w, prect.y + 0.45 * prect.h)
    missing = [s for s in panel.speakers if s not in pts]
    k = len(missing)
    for i, name in enumerate(missing):
        fx = 0.15 + 0.7 * (i + 0.5) / k
        if reading == "rtl":
            fx = 1 - fx
        pts[name] = (prect.x + fx * prect.w, prect.y + p.mouth_y * prect.h)
    return pts


def _off_edge(mouth: Point, live: Rect) -> str:
    x, y = mouth
    if x < live.x:
        return "left"
    if x > live.x2:
        return "right"
    if y > live.y2:
        return "bottom"
    if y < live.y:
        return "top"
    return "left" if x - live.x <= live.x2 - x else "right"


def make_items(
    panel: ir.Panel, fits: list[LazyFits], mouths: dict[str, Point], live: Rect
) -> list[Item]:
    items: list[Item] = []
    captions = 0
    for i, (b, fs) in enumerate(zip(panel.balloons, fits)):
        ordered = b.kind not in (K.SFX, K.NOTE)
        it = Item(i, b, fs, ordered)
        if b.kind is K.CAPTION:
            captions += 1
            it.caption_no = captions
        if b.kind in OVAL_KINDS and b.speaker:
            m = mouths.get(b.speaker)
            if m is not None:
                it.mouth = m
                if b.off_panel or not live.contains_point(m):
                    it.off_edge = _off_edge(m, live)
        if i and b.kind in OVAL_KINDS and b.speaker:
            pb = panel.balloons[i - 1]
            if pb.speaker == b.speaker and pb.kind in OVAL_KINDS and (b.contd or pb.linked_next):
                it.prev = i - 1
        items.append(it)
    return items


# ------------------------------------------------------------------ geometry

_STOP, _MAX_LEN, _SIDE = 0.85, 1.2, math.tan(math.radians(62))


class _Tail:
    """A candidate tail: target, corridor (convex hull built on first use), length, angle."""

    __slots__ = ("target", "pts", "length", "ang", "_poly")

    def __init__(self, target, pts, length, ang):
        self.target, self.pts, self.length, self.ang, self._poly = target, pts, length, ang, None

    @property
    def poly(self) -> tuple[Point, ...]:
        if self._poly is None:
            self._poly = tuple(hull(self.pts))
        return self._poly


def _tail(ctx: Ctx, it: Item, r: Rect):
    """(target, corridor polygon, visible length, angle from vertical) or None.

    Mirrors how ``tails.tail_path`` draws: the tail leaves the bottom (top)
    of the body near its middle, shifted toward the target up to 0.3 w, and
    stops at 85 % of the way to the target (at most 1.2 h long). Off-panel
    tails aim past the panel edge so that they end on it.
    """
    cx, cy = r.center
    hw, hh = r.w / 2, r.h / 2
    live = ctx.live
    if it.off_edge is not None:
        e, inset = it.off_edge, 0.5
        if e in ("left", "right"):
            ex = live.x + inset if e == "left" else live.x2 - inset
            edge = (ex, min(max(cy + r.h * 0.3, live.y + inset), live.y2 - inset))
        else:
            ey = live.y2 - inset if e == "bottom" else live.y + inset
            edge = (min(max(cx, live.x + inset), live.x2 - inset), ey)
        target = None
    else:
        edge, target = None, it.mouth
    aim = edge if edge is not None else target
    dx, dy = aim[0] - cx, aim[1] - cy
    if (dx / hw) ** 2 + (dy / hh) ** 2 <= 1.0:
        return None  # the body covers the point
    anchor = None
    if abs(dy) > 1e-9:
        sgn = 1.0 if dy > 0 else -1.0
        lim = 0.3 * r.w
        ax = cx + max(-lim, min(lim, 0.2 * dx))
        ay = cy + sgn * hh * math.sqrt(max(0.0, 1 - ((ax - cx) / hw) ** 2))
        vy = (aim[1] - ay) * sgn
        if vy > 0 and abs(aim[0] - ax) > vy:
            ax = cx + max(-lim, min(lim, aim[0] - math.copysign(vy, dx) - cx))
            ay = cy + sgn * hh * math.sqrt(max(0.0, 1 - ((ax - cx) / hw) ** 2))
            vy = (aim[1] - ay) * sgn
        if vy > 0 and abs(aim[0] - ax) <= _SIDE * vy:
            anchor = (ax, ay)
    if anchor is None:
        d = math.hypot(dx, dy)
        reach = ellipse_reach(r.w, r.h, dx / d, dy / d)
        anchor = (cx + dx / d * reach, cy + dy / d * reach)
    vx, vy = aim[0] - anchor[0], aim[1] - anchor[1]
    dist = math.hypot(vx, vy) or 1e-9
    if edge is not None:  # run onto the edge: aim past it so 85 % lands there
        if dist > _MAX_LEN * r.h:
            return None  # too far from the edge for a tail to reach it
        length = dist
    else:
        length = min(_STOP * dist, _MAX_LEN * r.h)
    if length < (2.0 if edge is not None else ctx.p.tail_min):
        return None
    tip = (anchor[0] + vx / dist * length, anchor[1] + vy / dist * length)
    ang = math.degrees(math.atan2(abs(tip[0] - cx), abs(tip[1] - cy) + 1e-9))
    if (tip[1] - cy) < 0:
        ang = 180 - ang  # pointing up
    bw = max(1.0, ctx.p.tail_base * min(r.w, r.h))
    kind = it.b.kind
    if kind is K.ELECTRONIC:  # a lightning bolt jogs sideways by up to ~1.5 base widths
        half = tip_half = 1.5 * bw + 1.0
    elif kind is K.THOUGHT:  # a trail of bubbles up to ~9 pt across
        half = tip_half = min(max(0.1 * min(r.w, r.h), 2.5), 9.0) * 1.15 + 1.0
    else:
        half, tip_half = bw / 2 + 1.0, 1.0
    ux, uy = (tip[0] - anchor[0]) / length, (tip[1] - anchor[1]) / length
    ends = [
        (tip[0] - uy * tip_half, tip[1] + ux * tip_half),
        (tip[0] + uy * tip_half, tip[1] - ux * tip_half),
    ]
    if kind is K.THOUGHT:
        ends += [(tip[0] + ux * tip_half, tip[1] + uy * tip_half)]
    pts = [
        (anchor[0] - half, cy),
        (anchor[0] + half, cy),
        (cx - half, cy),
        (cx + half, cy),
        (anchor[0] - uy * half, anchor[1] + ux * half),
        (anchor[0] + uy * half, anchor[1] - ux * half),
    ] + ends
    if abs(anchor[1] - cy) < hh * 0.5:  # left from the side: a wedge from the center
        pts = wedge((cx, cy), tip, half) + ends
    if edge is not None:
        target = (anchor[0] + vx / _STOP, anchor[1] + vy / _STOP)
    return _Tail(target, pts, length, ang)


def _rule_ok(r: Rect, q: Rect, reading: str) -> bool:
    if r.y >= q.y2 - 1e-6:
        return True
    left_of = q.x2 <= r.x + 1e-6 if reading != "rtl" else q.x >= r.x2 - 1e-6
    return left_of and r.y >= q.y - 1e-6


def _rect_gap(a: Rect, b: Rect) -> float:
    dx = max(0.0, b.x - a.x2, a.x - b.x2)
    dy = max(0.0, b.y - a.y2, a.y - b.y2)
    return math.hypot(dx, dy)


# ------------------------------------------------------------------ candidates
