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
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from heapq import heappop, heappush
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
    gap = ctx.tuning.gap
    xs = list(bxs)
    ys = list(bys)
    # each value clamped into the area: min(max(v, lo), hi), written out
    lox, hix = a.x, a.x2 - w
    loy, hiy = a.y, a.y2 - h
    memo = ctx.memo
    link = balloon.prev
    for other in state:
        r = other.rect
        rx, ry, rx2, ry2 = r.x, r.y, r.x2, r.y2
        ex = [rx2 + gap, rx - gap - w]
        ey = [ry2 + gap, ry]
        poly = other.tail_poly
        if poly is not None:  # beside another balloon's tail
            # the memo keeps ``poly``, so its id is not reused while the entry is there
            spread = memo.get(("tailx", id(poly)))
            if spread is None or spread[0] is not poly:
                txs = [p[0] for p in poly]
                spread = memo[("tailx", id(poly))] = (poly, max(txs), min(txs))
            ex += [spread[1] + gap, spread[2] - gap - w]
        if link is not None and other.index == link:
            ex += [rx + r.w * 0.35, rx2 - w * 0.35, rx2 - w * 0.1, rx + r.w * 0.5 - w * 0.5]
            ex += [rx - w * 0.65, rx + r.w * 0.65]  # stacked diagonally
            ey += [ry2 + gap + 3, ry2 - h * 0.15, ry2 + gap]
        for v in ex:
            v = lox if lox > v else v
            xs.append(hix if hix < v else v)
        for v in ey:
            v = loy if loy > v else v
            ys.append(hiy if hiy < v else v)
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
    ordered = sorted(vals)
    if not ordered:
        return []
    last = ordered[0]
    out = [last]
    for v in ordered[1:]:
        if v - last >= grid:
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
    faces = ctx.memo.get(("faces",))
    if faces is None:
        faces = ctx.memo[("faces",)] = [(f.x, f.y, f.x2, f.y2) for f in ctx.faces]
    oval = balloon.kind.body == "oval"
    a = ctx.area
    ay, ah, aw = a.y, a.h, a.w
    core = ctx.core
    tailed = balloon.kind.has_tail and balloon.mouth is not None
    mx = balloon.mouth[0] if tailed and balloon.mouth is not None else None
    link_gap = tuning.link_gap
    pre: list[tuple[float, float, float, Fit, float]] = []
    for fit, penalty in fits:
        w, h = fit.w, fit.h
        xs, ys = _axes(ctx, balloon, w, h, state)
        if not ys:
            continue
        n = len(ys)
        ys2 = [y + h for y in ys]  # each body's bottom, as the tests below compute it
        hw, hh = w / 2, h / 2
        # The ys within the gap of another body, or over a face box, as runs of indices:
        # ``y + h > top and y < bottom`` holds for one run of the sorted ys, the same
        # for every x (the x test picks the runs a column meets).
        near = []
        for gx, gy, gx2, gy2 in grown:
            lo, hi = bisect_right(ys2, gy), bisect_left(ys, gy2)
            if lo < hi:
                near.append((gx, gx2, lo, hi))
        boxes = []
        for fx, fy, fx2, fy2 in faces:
            lo, hi = bisect_right(ys2, fy), bisect_left(ys, fy2)
            if lo < hi:
                boxes.append((fx, fy, fx2, fy2, lo, hi))
        for x in xs:
            x2 = x + w
            # Comic Chat's rule: ys are sorted, those above ``low`` break the reading order
            low = -math.inf
            for ox, ox2, oy, oy2 in ordered:
                before = ox2 <= x + 1e-6 if not rtl else ox >= x2 - 1e-6
                t = oy if before else oy2
                if t > low:
                    low = t
            start = bisect_left(ys, low) if low > -math.inf else 0
            runs = [(lo, hi) for gx, gx2, lo, hi in near if x2 > gx and gx2 > x]
            cx = x + hw
            cols = []  # an oval body's faces: their box runs hold the exact ellipse test
            for fx, fy, fx2, fy2, lo, hi in boxes:
                if x2 <= fx or fx2 <= x:
                    continue
                if not oval:
                    runs.append((lo, hi))
                    continue
                # the x part of the exact ellipse test (:func:`_ellipse_hits_rect`), its
                # min(max(cx, fx), fx2) written out (the same choice on ties)
                q = fx if fx > cx else cx
                xpart = (((fx2 if fx2 < q else q) - cx) / hw) ** 2
                if xpart < 1.0:  # else no y part (never negative) makes it hit
                    cols.append((fy, fy2, xpart))
            xcost = 1.2 * abs(x + w / 2 - mx) / aw if mx is not None else 0.0
            if len(runs) > 1:
                runs.sort()
            runs.append((n, n))
            i = start
            for lo, hi in runs:
                if lo > i:
                    for y in ys[i:lo]:
                        if cols:
                            y2 = y + h
                            cy = y + hh
                            hit = False
                            for fy, fy2, xpart in cols:
                                if y2 <= fy or fy2 <= y:
                                    continue
                                if fy <= cy <= fy2:  # the y part is 0: xpart < 1 hits
                                    hit = True
                                    break
                                q = fy if fy > cy else cy  # min(max(cy, fy), fy2)
                                if xpart + (((fy2 if fy2 < q else q) - cy) / hh) ** 2 < 1.0:
                                    hit = True
                                    break
                            if hit:
                                continue  # over a face box
                        if prev is not None:
                            r = Rect(x, y, w, h)
                            if rect_gap(prev.rect, r) > link_gap:
                                continue
                            if math.dist(prev.rect.center, r.center) < 1e-6:
                                continue
                        # a cheap first estimate (height, offset from the speaker): tails
                        # are costly
                        est = 3 * (y - ay) / ah + penalty
                        if core is not None:
                            est += break_cost(ctx, Rect(x, y, w, h))
                        if mx is not None:
                            est += xcost
                        pre.append((est, x, y, fit, penalty))
                    i = lo
                if hi > i:
                    i = hi
    if tailed:
        pre.sort(key=itemgetter(0, 1, 2))  # estimate, x, y
        del pre[CANDIDATES_COMPACT if ctx.compact else CANDIDATES :]
    return pre, prev, tailed


# a margin for the rounding of the sums in :func:`_lazy_candidates`' bound
ROUNDING = 1e-9


def candidates(
    ctx: PanelContext,
    balloon: BalloonToPlace,
    fits: list[tuple[Fit, float]],
    state: list[PlacedBalloon],
) -> Iterator[Candidate]:
    """All candidate placements of ``balloon`` (not yet checked), cheapest first: the
    best positions of :func:`prefilter` with their tails and full costs (memoized in
    ``ctx.memo``: they depend on the position, not on the other balloons).

    For a balloon with a tail the candidates come lazily: a tail is computed only
    when its position's estimate could still beat the cheapest candidate not yet
    handed out (the full cost is at least the estimate less :data:`REBATES`), so a
    search that takes the first few of 24 computes few tails. The order is that of
    sorting them all by (cost, x, y): the same candidates, one by one."""
    pre, prev, tailed = prefilter(ctx, balloon, fits, state)
    if not tailed or not pre:
        return iter(_all_candidates(ctx, balloon, pre, prev, state))
    return _lazy_candidates(ctx, balloon, pre, prev, state)


def _candidate(
    ctx: PanelContext,
    balloon: BalloonToPlace,
    x: float,
    y: float,
    fit: Fit,
    state: list[PlacedBalloon],
) -> tuple[Rect, TailCorridor | None, float | None]:
    """The body, tail and full cost (None: no tail reaches) of one position, memoized."""
    w, h = fit.w, fit.h
    key = ("cand", balloon.index, balloon.prev, ctx.compact, x, y, w, h)
    got = ctx.memo.get(key)
    if got is None:
        r, tail, reach = tail_at(ctx, balloon, x, y, w, h)
        c = full_cost(ctx, balloon, r, tail, state) if reach else None
        ctx.memo[key] = got = (r, tail, c)
    return got


def _all_candidates(
    ctx: PanelContext,
    balloon: BalloonToPlace,
    pre: list[tuple[float, float, float, Fit, float]],
    prev: PlacedBalloon | None,
    state: list[PlacedBalloon],
) -> list[Candidate]:
    """Every candidate of ``pre``, sorted by (cost, x, y)."""
    half = ctx.tuning.connector_width / 2 + 1
    out: list[Candidate] = []
    for _est, x, y, fit, penalty in pre:
        r, tail, c = _candidate(ctx, balloon, x, y, fit, state)
        if c is None:
            continue  # no tail can reach the speaker from here
        conn = None
        if prev is not None:
            conn = tuple(band(prev.rect.center, r.center, half))
        out.append(Candidate(c + penalty, x, y, r, fit, tail, conn))
    out.sort(key=itemgetter(0, 1, 2))  # cost, x, y
    return out


def _lazy_candidates(
    ctx: PanelContext,
    balloon: BalloonToPlace,
    pre: list[tuple[float, float, float, Fit, float]],
    prev: PlacedBalloon | None,
    state: list[PlacedBalloon],
) -> Iterator[Candidate]:
    """:func:`_all_candidates` of a balloon with a tail, one by one: a candidate is
    handed out once no position not yet costed can be cheaper.

    The full cost of a position (:func:`_cost`) is its estimate (:func:`prefilter`:
    the same height, border-break and speaker-offset terms, and the fit's penalty),
    less the rebates for a linked balloon and a body on a border, plus terms that are
    never negative (the tail's). So ``bounds[j]``, the least of estimate less rebates
    over positions ``j`` on, bounds the cost of every one of them (to
    :data:`ROUNDING`: the sums are added in another order)."""
    a = ctx.area
    ax, ay, ax2 = a.x, a.y, a.x2
    off = balloon.off_edge is not None  # its cost has no speaker offset: the estimate has
    mx = balloon.mouth[0] if balloon.mouth is not None else 0.0
    aw = a.w
    linked = 0.2 if balloon.prev is not None else 0.0
    bounds = [0.0] * (len(pre) + 1)
    low = math.inf
    for j in range(len(pre) - 1, -1, -1):
        est, x, y, fit, _penalty = pre[j]
        bound = est - linked - ROUNDING
        if abs(x - ax) < 0.5 or abs(x + fit.w - ax2) < 0.5 or abs(y - ay) < 0.5:
            bound -= 0.15
        if off:
            bound -= 1.2 * abs(x + fit.w / 2 - mx) / aw + ROUNDING
        if bound < low:
            low = bound
        bounds[j] = low
    half = ctx.tuning.connector_width / 2 + 1
    heap: list[tuple[float, float, float, int, Rect, Fit, TailCorridor | None]] = []
    for seq, (_est, x, y, fit, penalty) in enumerate(pre):
        bound = bounds[seq]  # no position from here on costs less
        while heap and heap[0][0] < bound:
            yield _handed_out(heappop(heap), prev, half)
        r, tail, c = _candidate(ctx, balloon, x, y, fit, state)
        if c is not None:  # else no tail can reach the speaker from here
            heappush(heap, (c + penalty, x, y, seq, r, fit, tail))
    while heap:
        yield _handed_out(heappop(heap), prev, half)


def _handed_out(
    item: tuple[float, float, float, int, Rect, Fit, TailCorridor | None],
    prev: PlacedBalloon | None,
    half: float,
) -> Candidate:
    cost, x, y, _seq, r, fit, tail = item
    conn = tuple(band(prev.rect.center, r.center, half)) if prev is not None else None
    return Candidate(cost, x, y, r, fit, tail, conn)
