"""What placement works on: the balloons of a panel, speaker positions, tail corridors.

:class:`PlacementTuning` holds the knobs of the placement search (all
overridable from the theme's ``extra`` table, optionally under a ``layout``
key). :func:`tail_corridor` models where :func:`comicc.layout.tails.tail_path`
will draw a tail, so the search can keep its corridor clear before any
outline exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from comicc.layout.collide import ellipse_reach, hull, wedge
from comicc.layout.geometry import Point, Rect
from comicc.layout.tails import TAIL_MAX_LEN, TAIL_SIDE_TILT, TAIL_STOP, bubble_radius
from comicc.layout.text import Fit, LazyFits
from comicc.model import ir
from comicc.theme import Theme

K = ir.BalloonKind


@dataclass(frozen=True)
class PlacementTuning:
    """The knobs of the balloon-placement search; ``theme.extra`` can override each."""

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
    branch: int = 3  # candidates tried per balloon before backtracking

    @classmethod
    def from_theme(cls, theme: Theme) -> PlacementTuning:
        """The defaults, overridden by ``theme.extra`` (or its ``layout`` table)."""
        table = theme.extra.get("layout", theme.extra)
        if not isinstance(table, dict):
            table = {}
        defaults = cls()
        kw = {
            f.name: type(getattr(defaults, f.name))(table[f.name])
            for f in fields(cls)
            if f.name in table
        }
        return cls(**kw)


@dataclass
class BalloonToPlace:
    """One balloon of the panel as the search sees it."""

    index: int  # position in the panel (and in ``PanelContext.balloons``)
    balloon: ir.Balloon
    fits: LazyFits
    ordered: bool  # takes part in the reading-order rule
    mouth: Point | None = None  # where the tail aims (page coords)
    off_edge: str | None = None  # off-panel: the edge the tail runs to
    prev: int | None = None  # previous balloon of a linked group
    caption_no: int = 0

    @property
    def kind(self) -> ir.BalloonKind:
        return self.balloon.kind


@dataclass(frozen=True)
class PlacedBalloon:
    """Where the search put one balloon (the index of its :class:`BalloonToPlace`)."""

    index: int
    rect: Rect
    fit: Fit
    tip: Point | None = None  # the target handed to ``tail_path`` (mouth or past an edge)
    tail_poly: tuple[Point, ...] | None = None
    conn_poly: tuple[Point, ...] | None = None
    cost: float = 0.0
    overflow: float = 0.0
    overflow_dir: str = ""


@dataclass
class PanelContext:
    """Everything the search of one panel needs."""

    area: Rect  # where bodies may go
    live: Rect  # where tails may reach (panel clipped to the page's live area)
    reading: str
    tuning: PlacementTuning
    balloons: list[BalloonToPlace]
    faces: list[Rect] = field(default_factory=list)


def cast_points(
    panel: ir.Panel, prect: Rect, reading: str, tuning: PlacementTuning
) -> dict[str, Point]:
    """Speaker positions in page coordinates; unplaced speakers in reading order."""
    pts: dict[str, Point] = {}
    for c in panel.cast:
        pts[c.name] = (prect.x + c.x * prect.w, prect.y + c.y * prect.h)
    off_only = {
        s
        for s in panel.speakers
        if all(balloon.off_panel for balloon in panel.balloons if balloon.speaker == s)
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
        pts[name] = (prect.x + fx * prect.w, prect.y + tuning.mouth_y * prect.h)
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


def balloons_to_place(
    panel: ir.Panel, fits: list[LazyFits], mouths: dict[str, Point], live: Rect
) -> list[BalloonToPlace]:
    """The search state of each balloon of ``panel``: mouth, off-panel edge, link."""
    out: list[BalloonToPlace] = []
    captions = 0
    for i, (balloon, balloon_fits) in enumerate(zip(panel.balloons, fits, strict=True)):
        kind = balloon.kind
        to_place = BalloonToPlace(i, balloon, balloon_fits, kind not in (K.SFX, K.NOTE))
        if kind is K.CAPTION:
            captions += 1
            to_place.caption_no = captions
        if kind.has_tail and balloon.speaker:
            m = mouths.get(balloon.speaker)
            if m is not None:
                to_place.mouth = m
                if balloon.off_panel or not live.contains_point(m):
                    to_place.off_edge = _off_edge(m, live)
        if i and kind.has_tail and balloon.speaker:
            before = panel.balloons[i - 1]
            if (
                before.speaker == balloon.speaker
                and before.kind.has_tail
                and (balloon.contd or before.linked_next)
            ):
                to_place.prev = i - 1
        out.append(to_place)
    return out


# ------------------------------------------------------------------ geometry


class TailCorridor:
    """A candidate tail: target, corridor (convex hull built on first use), length, angle."""

    __slots__ = ("target", "pts", "length", "ang", "_poly")

    def __init__(self, target: Point, pts: list[Point], length: float, ang: float):
        self.target, self.pts, self.length, self.ang = target, pts, length, ang
        self._poly: tuple[Point, ...] | None = None

    @property
    def poly(self) -> tuple[Point, ...]:
        if self._poly is None:
            self._poly = tuple(hull(self.pts))
        return self._poly


def tail_corridor(ctx: PanelContext, balloon: BalloonToPlace, r: Rect) -> TailCorridor | None:
    """The tail of ``balloon`` with its body at ``r``, or None when it cannot have one.

    Mirrors how ``tails.tail_path`` draws: the tail leaves the bottom (top)
    of the body near its middle, shifted toward the target up to 0.3 w, and
    stops at 85 % of the way to the target (at most 1.2 h long). Off-panel
    tails aim past the panel edge so that they end on it.
    """
    cx, cy = r.center
    hw, hh = r.w / 2, r.h / 2
    live = ctx.live
    edge: Point | None = None
    if balloon.off_edge is not None:
        e, inset = balloon.off_edge, 0.5
        if e in ("left", "right"):
            ex = live.x + inset if e == "left" else live.x2 - inset
            edge = (ex, min(max(cy + r.h * 0.3, live.y + inset), live.y2 - inset))
        else:
            ey = live.y2 - inset if e == "bottom" else live.y + inset
            edge = (min(max(cx, live.x + inset), live.x2 - inset), ey)
    aim = edge if edge is not None else balloon.mouth
    if aim is None:
        return None  # no speaker to point at
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
        if vy > 0 and abs(aim[0] - ax) <= TAIL_SIDE_TILT * vy:
            anchor = (ax, ay)
    if anchor is None:
        d = math.hypot(dx, dy)
        reach = ellipse_reach(r.w, r.h, dx / d, dy / d)
        anchor = (cx + dx / d * reach, cy + dy / d * reach)
    vx, vy = aim[0] - anchor[0], aim[1] - anchor[1]
    dist = math.hypot(vx, vy) or 1e-9
    if edge is not None:  # run onto the edge: aim past it so 85 % lands there
        if dist > TAIL_MAX_LEN * r.h:
            return None  # too far from the edge for a tail to reach it
        length = dist
    else:
        length = min(TAIL_STOP * dist, TAIL_MAX_LEN * r.h)
    if length < (2.0 if edge is not None else ctx.tuning.tail_min):
        return None
    tip = (anchor[0] + vx / dist * length, anchor[1] + vy / dist * length)
    ang = math.degrees(math.atan2(abs(tip[0] - cx), abs(tip[1] - cy) + 1e-9))
    if (tip[1] - cy) < 0:
        ang = 180 - ang  # pointing up
    bw = max(1.0, ctx.tuning.tail_base * min(r.w, r.h))
    kind = balloon.kind
    if kind.tail == "bolt":  # a lightning bolt jogs sideways by up to ~1.5 base widths
        half = tip_half = 1.5 * bw + 1.0
    elif kind.tail == "bubbles":  # a trail of bubbles
        half = tip_half = bubble_radius(r.w, r.h) * 1.15 + 1.0
    else:
        half, tip_half = bw / 2 + 1.0, 1.0
    ux, uy = (tip[0] - anchor[0]) / length, (tip[1] - anchor[1]) / length
    ends = [
        (tip[0] - uy * tip_half, tip[1] + ux * tip_half),
        (tip[0] + uy * tip_half, tip[1] - ux * tip_half),
    ]
    if kind.tail == "bubbles":
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
    target = aim if edge is None else (anchor[0] + vx / TAIL_STOP, anchor[1] + vy / TAIL_STOP)
    return TailCorridor(target, pts, length, ang)


def reading_order_ok(r: Rect, q: Rect, reading: str) -> bool:
    """Comic Chat's rule: a balloon at ``r`` reads after one at ``q`` (below, or beside
    it in the reading direction and not above)."""
    if r.y >= q.y2 - 1e-6:
        return True
    left_of = q.x2 <= r.x + 1e-6 if reading != "rtl" else q.x >= r.x2 - 1e-6
    return left_of and r.y >= q.y - 1e-6
