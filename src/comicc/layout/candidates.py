"""Candidate placements of one balloon in one panel: positions, tails and costs.

For a balloon the candidates are positions built from the panel's corners
and top edge, a ring above (and beside) the speaker's head, the edges of
balloons and tails already placed (:func:`_axes`). A cheap filter
(:func:`prefilter`) drops those that break the cheap hard constraints (inside
the panel's area, no body within the gap of another, Comic Chat's reading-order
rule, no body over a face box) and keeps the best few by a cheap estimate;
:func:`candidates` gives those their tails and full costs
(:mod:`comicc.layout.costs`), cheapest first. Tails and costs depend on the
position only, so they are memoized in ``ctx.memo``. The checks against the
balloons already placed and the search are in :mod:`comicc.layout.place`.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable
from operator import itemgetter
from typing import NamedTuple

from comicc.layout.collide import band, rect_gap
from comicc.layout.corridor import TailCorridor
from comicc.layout.costs import full_cost, tail_at
from comicc.layout.geometry import Point, Rect
from comicc.layout.items import (
    BalloonToPlace,
    PanelContext,
    PlacedBalloon,
    break_cost,
)
from comicc.layout.text import Fit
from comicc.model import ir

K = ir.BalloonKind

CANDIDATES = 24  # positions (by a cheap estimate) whose tails are computed, per fit tier
CANDIDATES_COMPACT = 96  # ... in the repair search


class Candidate(NamedTuple):
    """One position of one balloon, with its cost (not yet checked against the others)."""

    cost: float
    x: float
    y: float
    rect: Rect
    fit: Fit
    tail: TailCorridor | None
    conn: tuple[Point, ...] | None


def _positions(
    ctx: PanelContext, balloon: BalloonToPlace, w: float, h: float, state: list[PlacedBalloon]
) -> list[tuple[float, float]]:
    """The candidate top-left corners of a ``w`` x ``h`` body: every x with every y."""
    xs, ys = _axes(ctx, balloon, w, h, state)
    return [(x, y) for x in xs for y in ys]


def _axes(
    ctx: PanelContext, balloon: BalloonToPlace, w: float, h: float, state: list[PlacedBalloon]
) -> tuple[list[float], list[float]]:
    """The candidate x and y values of :func:`_positions` (sorted, deduplicated): those
    from the panel and the speaker (memoized per body size), then those from the
    balloons already placed."""
    key = ("axes", balloon.index, w, h)
    base = ctx.memo.get(key)
    if base is None:
        base = ctx.memo[key] = _base_axes(ctx, balloon, w, h)
    a, bxs, bys = base
    if a is None or bxs is None or bys is None:
        return [], []  # the body is larger than the area
    if not state and balloon.prev is None:
        key = ("axes0", balloon.index, w, h)
        got = ctx.memo.get(key)
        if got is None:
            got = ctx.memo[key] = (_dedupe(bxs), _dedupe(bys))
        return got
    tuning = ctx.tuning
    xs: list[float] = []
    ys: list[float] = []
    for other in state:
        r = other.rect
        ys += [r.y2 + tuning.gap, r.y]
        xs += [r.x2 + tuning.gap, r.x - tuning.gap - w]
        if other.tail_poly is not None:  # beside another balloon's tail
            txs = [p[0] for p in other.tail_poly]
            xs += [max(txs) + tuning.gap, min(txs) - tuning.gap - w]
        if balloon.prev is not None and other.index == balloon.prev:
            xs += [r.x + r.w * 0.35, r.x2 - w * 0.35, r.x2 - w * 0.1, r.x + r.w * 0.5 - w * 0.5]
            xs += [r.x - w * 0.65, r.x + r.w * 0.65]  # stacked diagonally
            ys += [r.y2 + tuning.gap + 3, r.y2 - h * 0.15, r.y2 + tuning.gap]
    lo, hi = a.x, a.x2 - w
    xs = bxs + [min(max(x, lo), hi) for x in xs]
    lo, hi = a.y, a.y2 - h
    ys = bys + [min(max(y, lo), hi) for y in ys]
    return _dedupe(xs), _dedupe(ys)


def _base_axes(
    ctx: PanelContext, balloon: BalloonToPlace, w: float, h: float
) -> tuple[Rect, list[float], list[float]] | tuple[None, None, None]:
    """The area and the x and y values (clamped into it, not yet sorted) of a ``w`` x
    ``h`` body that do not depend on the other balloons; Nones when it cannot fit."""
    a = ctx.area
    if balloon.kind is K.TITLE:
        a = _title_area(ctx)
    elif ctx.core is not None and balloon.kind in (K.SFX, K.NOTE):
        a = ctx.core  # display lettering and notes never break the border
    if w > a.w + 1e-6 or h > a.h + 1e-6:
        return None, None, None
    kind = balloon.kind
    tuning = ctx.tuning
    xs = [a.x, a.x2 - w, a.x + (a.w - w) / 2]
    ys = [a.y]
    if kind in (K.CAPTION, K.NOTE):
        ys.append(a.y2 - h)
    elif kind is K.SFX:
        xs += [a.x + (a.w - w) * f for f in (0.25, 0.75)]
        ys += [a.y + (a.h - h) * f for f in (0.2, 0.4, 0.6, 0.8, 1.0)]
    elif kind is not K.TITLE:
        xs += [a.x + (a.w - w) * f for f in (0.25, 0.75)]
        ys += [a.y + (a.h - h) * f for f in (0.3, 0.6, 1.0)]
        if balloon.mouth is not None and balloon.off_edge is None:
            mx, my = balloon.mouth
            xs += [mx - w / 2 + o * w for o in (-0.4, 0.0, 0.4)]
            pref = tuning.tail_pref * a.h
            top = balloon.head.y if balloon.head is not None else my - tuning.mouth_clear
            ys += [top - tuning.tip_clear - h - t for t in (pref, tuning.tail_min + 4, pref * 1.8)]
            if balloon.head is not None:  # beside the head, tail from the side
                hd = balloon.head
                xs += [hd.x - tuning.tail_min - 6 - w, hd.x2 + tuning.tail_min + 6]
                ys += [hd.y - h * 0.8, hd.y - h * 0.5]
                bottom = hd.y2
            else:
                bottom = my + tuning.mouth_clear
            ys += [bottom + tuning.tip_clear + pref]  # below the speaker, tail up: a last resort
    core = ctx.core
    if core is not None and kind is not K.TITLE:  # breaking the border: its own edges too
        xs += [core.x, core.x2 - w]
        ys += [core.y, core.y2 - h]
    lo, hi = a.x, a.x2 - w
    xs = [min(max(x, lo), hi) for x in xs]
    lo, hi = a.y, a.y2 - h
    ys = [min(max(y, lo), hi) for y in ys]
    return a, xs, ys


def _dedupe(vals: Iterable[float], grid: float = 0.75) -> list[float]:
    """Sorted values, dropping those within ``grid`` of one already kept."""
    out: list[float] = []
    last = -math.inf
    for v in sorted(vals):
        if not out or v - last >= grid:
            out.append(v)
            last = v
    return out


def _title_area(ctx: PanelContext) -> Rect:
    """Where a TITLE may go: the area kept clear of the border by ``title_clear`` more."""
    a, d = ctx.core or ctx.area, ctx.tuning.title_clear
    d = min(d, a.w / 4, a.h / 4)
    return a.inset(d)


def _ellipse_hits_rect(r: Rect, f: Rect) -> bool:
    """Whether the ellipse inscribed in ``r`` meets rectangle ``f`` (exact)."""
    cx, cy = r.center
    ax, by = r.w / 2, r.h / 2
    qx = min(max(cx, f.x), f.x2)
    qy = min(max(cy, f.y), f.y2)
    return ((qx - cx) / ax) ** 2 + ((qy - cy) / by) ** 2 < 1.0


def _covers_face(ctx: PanelContext, balloon: BalloonToPlace, r: Rect) -> bool:
    """A body at ``r`` over a face box (every kind: bodies, captions and display text)."""
    oval = balloon.kind.body == "oval"
    for f in ctx.faces:
        if not r.intersects(f):
            continue
        if not oval or _ellipse_hits_rect(r, f):
            return True
    return False


def prefilter(
    ctx: PanelContext,
    balloon: BalloonToPlace,
    fits: list[tuple[Fit, float]],
    state: list[PlacedBalloon],
) -> tuple[list[tuple[float, float, float, Fit, float]], PlacedBalloon | None, bool]:
    """The positions of ``balloon`` that pass the cheap hard constraints, by a cheap
    cost estimate (the best few only, for a balloon with a tail): (estimate, x, y,
    fit, penalty); with the placed balloon it is linked to, and whether it has a tail.

    This is the layout's hot path. The cheap hard constraints (no body within the
    gap of another, the reading order, no body over a face box) are tested per
    column: for one x, the neighbours, faces and earlier balloons it can meet are
    picked once, and the reading order becomes one lowest y. Tails, their checks
    and costs depend only on the body's position, so they are memoized in
    ``ctx.memo`` across the search, its repair and the greedy pass."""
    prev = None
    if balloon.prev is not None:
        prev = next((other for other in state if other.index == balloon.prev), None)
    tuning = ctx.tuning
    gap = tuning.gap
    # neighbours grown by the gap, as plain tuples
    grown = [(q.rect.x - gap, q.rect.y - gap, q.rect.x2 + gap, q.rect.y2 + gap) for q in state]
    # Comic Chat's rule against each earlier balloon q, as the lowest y allowed for one x:
    # below q (y >= q.y2 - eps), or level with it when q lies before x in reading order
    ordered = (
        [
            (o.x, o.x2, o.y - 1e-6, o.y2 - 1e-6)
            for o in (
                other.rect
                for other in state
                if ctx.balloons[other.index].ordered and other.overflow == 0
            )
        ]
        if balloon.ordered
        else []
    )
    rtl = ctx.reading == "rtl"
    faces = [(f.x, f.y, f.x2, f.y2) for f in ctx.faces]
    oval = balloon.kind.body == "oval"
    a = ctx.area
    ay, ah, aw = a.y, a.h, a.w
    tailed = balloon.kind.has_tail and balloon.mouth is not None
    mx = balloon.mouth[0] if tailed and balloon.mouth is not None else None
    pre: list[tuple[float, float, float, Fit, float]] = []
    for fit, penalty in fits:
        w, h = fit.w, fit.h
        xs, ys = _axes(ctx, balloon, w, h, state)
        if not ys:
            continue
        for x in xs:
            x2 = x + w
            near = [(gy, gy2) for gx, gy, gx2, gy2 in grown if x2 > gx and gx2 > x]
            low = -math.inf
            for ox, ox2, oy, oy2 in ordered:
                before = ox2 <= x + 1e-6 if not rtl else ox >= x2 - 1e-6
                t = oy if before else oy2
                if t > low:
                    low = t
            # the faces this column meets; for an oval body the x part of the exact
            # ellipse test (:func:`_ellipse_hits_rect`) is the same for every y
            cx, hw = x + w / 2, w / 2
            cols = [
                (fy, fy2, ((min(max(cx, fx), fx2) - cx) / hw) ** 2 if oval else 0.0)
                for fx, fy, fx2, fy2 in faces
                if not (x2 <= fx or fx2 <= x)
            ]
            xcost = 1.2 * abs(x + w / 2 - mx) / aw if mx is not None else 0.0
            # ys are sorted: those above ``low`` break the reading order
            for y in ys[bisect_left(ys, low) :] if low > -math.inf else ys:
                y2 = y + h
                if near and any(y2 > gy and gy2 > y for gy, gy2 in near):
                    continue  # within the gap of another body
                if cols:
                    hit = False
                    cy, hh = y + h / 2, h / 2
                    for fy, fy2, xpart in cols:
                        if y2 <= fy or fy2 <= y:
                            continue
                        if not oval or xpart + ((min(max(cy, fy), fy2) - cy) / hh) ** 2 < 1.0:
                            hit = True
                            break
                    if hit:
                        continue  # over a face box
                if prev is not None:
                    r = Rect(x, y, w, h)
                    if rect_gap(prev.rect, r) > tuning.link_gap:
                        continue
                    if math.dist(prev.rect.center, r.center) < 1e-6:
                        continue
                # a cheap first estimate (height, offset from the speaker): tails are costly
                est = 3 * (y - ay) / ah + penalty
                if ctx.core is not None:
                    est += break_cost(ctx, Rect(x, y, w, h))
                if mx is not None:
                    est += xcost
                pre.append((est, x, y, fit, penalty))
    if tailed:
        pre.sort(key=itemgetter(0, 1, 2))  # estimate, x, y
        del pre[CANDIDATES_COMPACT if ctx.compact else CANDIDATES :]
    return pre, prev, tailed


def candidates(
    ctx: PanelContext,
    balloon: BalloonToPlace,
    fits: list[tuple[Fit, float]],
    state: list[PlacedBalloon],
) -> list[Candidate]:
    """All candidate placements of ``balloon`` (not yet checked), cheapest first: the
    best positions of :func:`prefilter` with their tails and full costs (memoized in
    ``ctx.memo``: they depend on the position, not on the other balloons)."""
    pre, prev, _tailed = prefilter(ctx, balloon, fits, state)
    tuning = ctx.tuning
    memo = ctx.memo
    out: list[Candidate] = []
    for _est, x, y, fit, penalty in pre:
        w, h = fit.w, fit.h
        key = ("cand", balloon.index, balloon.prev, ctx.compact, x, y, w, h)
        got = memo.get(key)
        if got is None:
            r, tail, reach = tail_at(ctx, balloon, x, y, w, h)
            c = full_cost(ctx, balloon, r, tail, state) if reach else None
            memo[key] = got = (r, tail, c)
        r, tail, c = got
        if c is None:
            continue  # no tail can reach the speaker from here
        conn = None
        if prev is not None:
            conn = tuple(band(prev.rect.center, r.center, tuning.connector_width / 2 + 1))
        out.append(Candidate(c + penalty, x, y, r, fit, tail, conn))
    out.sort(key=itemgetter(0, 1, 2))  # cost, x, y
    return out
