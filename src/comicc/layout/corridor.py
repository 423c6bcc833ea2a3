"""Tail corridors: where a balloon's tail will run, before any outline exists.

:func:`tail_corridor` models where :func:`comicc.layout.tails.tail_path` will
draw the tail of a balloon with its body at a candidate spot -- its tip, its
length and angle, and a corridor (:class:`TailCorridor`) the placement search
keeps clear of other balloons and faces.
"""

from __future__ import annotations

import math

from comicc.layout.bubbles import bubble_radius, bubble_reach
from comicc.layout.collide import Box, ellipse_reach, hull, poly_box, wedge
from comicc.layout.geometry import Point, Rect
from comicc.layout.items import BalloonToPlace, PanelContext
from comicc.layout.tails import TAIL_SIDE_TILT, TAIL_STOP

# a thought trail's last bubble stops up to 0.4 gap short of its tip by design (gaps
# are at most 2.4 × the biggest radius): stopping shorter means it cannot reach
BUBBLE_SHORT = 0.4 * 2.4


class TailCorridor:
    """A candidate tail: target, corridor (convex hull built on first use), length, angle,
    and where the drawn tail really ends (``end``: the target, but a thought trail's
    last bubble stops a little short of it)."""

    __slots__ = ("target", "pts", "length", "ang", "end", "_poly", "_box")

    def __init__(
        self, target: Point, pts: list[Point], length: float, ang: float, end: Point | None = None
    ):
        self.target, self.pts, self.length, self.ang = target, pts, length, ang
        self.end = target if end is None else end
        self._poly: tuple[Point, ...] | None = None
        self._box: Box | None = None

    @property
    def poly(self) -> tuple[Point, ...]:
        if self._poly is None:
            self._poly = tuple(hull(self.pts))
        return self._poly

    @property
    def box(self) -> Box:
        """The bounding box of :attr:`poly` (:func:`~comicc.layout.collide.poly_box`)."""
        if self._box is None:
            self._box = poly_box(self.poly)
        return self._box


def _entry(a: Point, b: Point, box: Rect) -> float | None:
    """The smallest ``t`` in [0, 1] where segment ``a``-``b`` is inside ``box`` (Liang-Barsky)."""
    t0, t1 = 0.0, 1.0
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    bx, by = box.x, box.y
    for p, q in (
        (-dx, ax - bx),
        (dx, bx + box.w - ax),
        (-dy, ay - by),
        (dy, by + box.h - ay),
    ):
        if abs(p) < 1e-12:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
    return t0 if t0 <= t1 else None


def tail_corridor(ctx: PanelContext, balloon: BalloonToPlace, r: Rect) -> TailCorridor | None:
    """The tail of ``balloon`` with its body at ``r``, or None when it cannot have one.

    Mirrors how ``tails.tail_path`` draws: the tail leaves the bottom (top)
    of the body near its middle, shifted toward the target up to 0.3 w. Its
    tip is exact (``tail_path(..., exact=True)``): just outside the speaker's
    face box on the way to the mouth, or on the panel edge for off-panel
    speakers, however far that is -- the search moves the body closer rather
    than leaving a tail short.
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
    if edge is not None:
        tip = aim
    elif balloon.head is not None:
        key = ("head", balloon.index)
        box = ctx.memo.get(key)
        if box is None:  # the same for every tail of this balloon
            box = ctx.memo[key] = balloon.head.inset(-ctx.tuning.tip_clear)
        t = _entry(anchor, aim, box)
        if t is None or t <= 0.0:
            return None  # the tail would start on the head
        tip = (anchor[0] + vx * t, anchor[1] + vy * t)
    else:
        tip = (anchor[0] + vx * TAIL_STOP, anchor[1] + vy * TAIL_STOP)
    length = math.dist(anchor, tip)
    if length < (2.0 if edge is not None else ctx.tuning.tail_min):
        return None
    ang = math.degrees(math.atan2(abs(tip[0] - cx), abs(tip[1] - cy) + 1e-9))
    if (tip[1] - cy) < 0:
        ang = 180 - ang  # pointing up
    bw = max(1.0, ctx.tuning.tail_base * min(r.w, r.h))
    kind = balloon.kind
    end = tip
    if kind.tail == "bolt":  # a lightning bolt jogs sideways by up to ~1.5 base widths
        half = tip_half = 1.5 * bw + 1.0
    elif kind.tail == "bubbles":  # a trail of bubbles
        big = bubble_radius(r.w, r.h)
        reach = bubble_reach(length, r.w, r.h)
        if reach < length - BUBBLE_SHORT * big - 0.5:
            return None  # too long a trail: its bubbles would stop short, far from the head
        end = (anchor[0] + vx / length * reach, anchor[1] + vy / length * reach)
        half = tip_half = big * 1.15 + 1.0
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
    return TailCorridor(tip, pts, length, ang, end)
