"""Balloon placement in one panel: a small search with constraints and costs.

Balloons (speech, captions, titles) are placed in reading order, then SFX and
notes. For each balloon the candidates are positions built from the panel's
corners and top edge, a ring above the speaker's mouth and the edges of
balloons already placed. Hard constraints: inside the panel's area; no two
bodies closer than the gap; Comic Chat's reading-order rule; tail and
connector corridors kept clear. Costs: distance from the top, tail length and
angle, horizontal offset from the speaker, covering a face. A depth-first
search tries the best few candidates of each balloon with a node budget; when
it fails, a greedy pass places what it can and the rest is clamped into the
panel with its ``overflow`` recorded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import NamedTuple

from comicc.layout.collide import band, overlap_area, poly_hits_rect, polys_hit, rect_gap
from comicc.layout.geometry import Point, Rect
from comicc.layout.items import (
    BalloonToPlace,
    PanelContext,
    PlacedBalloon,
    TailCorridor,
    reading_order_ok,
    tail_corridor,
)
from comicc.layout.text import Fit
from comicc.model import ir

K = ir.BalloonKind

IMPROVE_BUDGET = 16  # candidate checks spent looking for a cheaper placement than the first


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
    a = ctx.area
    if w > a.w + 1e-6 or h > a.h + 1e-6:
        return []
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
            ys += [my - tuning.mouth_clear - h - t for t in (pref, tuning.tail_min + 4, pref * 1.8)]
            ys += [my + tuning.mouth_clear + pref]  # below the speaker, tail up: a last resort
    for other in state:
        r = other.rect
        ys += [r.y2 + tuning.gap, r.y]
        xs += [r.x2 + tuning.gap, r.x - tuning.gap - w]
        if balloon.prev is not None and other.index == balloon.prev:
            xs += [r.x + r.w * 0.35, r.x2 - w * 0.35, r.x2 - w * 0.1, r.x + r.w * 0.5 - w * 0.5]
            ys += [r.y2 + tuning.gap + 3, r.y2 - h * 0.15]
    xs = _dedupe(min(max(x, a.x), a.x2 - w) for x in xs)
    ys = _dedupe(min(max(y, a.y), a.y2 - h) for y in ys)
    return [(x, y) for x in xs for y in ys]


def _dedupe(vals: Iterable[float], grid: float = 0.75) -> list[float]:
    """Sorted values, dropping those within ``grid`` of one already kept."""
    out: list[float] = []
    for v in sorted(vals):
        if not out or v - out[-1] >= grid:
            out.append(v)
    return out


def _cost(
    ctx: PanelContext,
    balloon: BalloonToPlace,
    r: Rect,
    tail: TailCorridor | None,
    state: list[PlacedBalloon],
) -> float:
    a = ctx.area
    kind = balloon.kind
    cost = 0.0
    rtl = ctx.reading == "rtl"
    if kind is K.NOTE:
        cost += 3 * (a.y2 - r.y2) / a.h + (abs(r.x2 - a.x2) if rtl else abs(r.x - a.x)) / a.w
    elif kind is K.SFX:
        cx, cy = r.center
        cost += abs(cy - (a.y + a.h * 0.45)) / a.h + 0.5 * abs(cx - a.center[0]) / a.w
        near = min([rect_gap(r, other.rect) for other in state] + [60.0])
        cost -= min(near, 60.0) / 60.0
    elif kind is K.CAPTION:
        cost += 3 * (r.y - a.y) / a.h
        start = abs(r.x - a.x) if not rtl else abs(r.x2 - a.x2)
        end = abs(r.x2 - a.x2) if not rtl else abs(r.x - a.x)
        cost += 0.8 * min(start, end + (0.3 * a.w if balloon.caption_no == 1 else 0)) / a.w
        if min(abs(r.y - a.y), abs(r.y2 - a.y2)) > 0.5:
            cost += 0.6
    elif kind is K.TITLE:
        # display titles sit centred under the top edge unless something is in the way
        cost += 3 * (r.y - a.y) / a.h + 3 * abs(r.center[0] - a.center[0]) / a.w
    else:
        cost += 3 * (r.y - a.y) / a.h
        if tail is not None:
            vis, ang = tail.length, tail.ang
            if balloon.off_edge is not None or balloon.mouth is None:
                cost += 2.5 * vis / a.w
            else:
                mouth = balloon.mouth
                pref = ctx.tuning.tail_pref * a.h
                cost += 1.5 * abs(vis - pref) / a.h
                cost += 1.2 * max(0.0, ang - 15) / 30
                if ang > 45:
                    cost += 2.0 + (ang - 45) / 15
                cost += 1.2 * abs(r.center[0] - mouth[0]) / a.w
                short = math.dist(r.center, mouth) - max(r.w, r.h) / 2 - vis
                cost += 1.2 * max(0.0, short) / a.h  # the tail stops far from the mouth
        if balloon.prev is not None:
            cost -= 0.2  # linked balloons: cost of the pair is what matters
        if abs(r.x - a.x) < 0.5 or abs(r.x2 - a.x2) < 0.5 or abs(r.y - a.y) < 0.5:
            cost -= 0.15  # anchored to a border
    for f in ctx.faces:
        ov = overlap_area(r, f)
        if ov:
            cost += 4 * ov / (f.w * f.h)
    return cost


def _valid(
    ctx: PanelContext, balloon: BalloonToPlace, cand: Candidate, state: list[PlacedBalloon]
) -> bool:
    r, conn = cand.rect, cand.conn
    gap = ctx.tuning.gap
    tpoly = cand.tail.poly if cand.tail is not None else None
    for other in state:
        if r.intersects(other.rect, gap):
            return False
        if (
            balloon.ordered
            and ctx.balloons[other.index].ordered
            and not reading_order_ok(r, other.rect, ctx.reading)
        ):
            return False
        own_prev = balloon.prev is not None and other.index == balloon.prev
        if (
            other.tail_poly is not None
            and not own_prev
            and poly_hits_rect(other.tail_poly, r, gap / 2)
        ):
            return False
        if other.conn_poly is not None and poly_hits_rect(other.conn_poly, r, gap / 2):
            return False
        if tpoly is not None:
            if poly_hits_rect(tpoly, other.rect, gap / 2):
                return False
            if other.tail_poly is not None and not own_prev and polys_hit(tpoly, other.tail_poly):
                return False
        if conn is not None and not own_prev:
            if poly_hits_rect(conn, other.rect, gap / 2):
                return False
            if other.tail_poly is not None and polys_hit(conn, other.tail_poly):
                return False
    return True


def _candidates(
    ctx: PanelContext,
    balloon: BalloonToPlace,
    fits: list[tuple[Fit, float]],
    state: list[PlacedBalloon],
) -> list[Candidate]:
    """All candidate placements of ``balloon`` (not yet checked), cheapest first."""
    prev = None
    if balloon.prev is not None:
        prev = next((other for other in state if other.index == balloon.prev), None)
    tuning = ctx.tuning
    gap = tuning.gap
    out: list[Candidate] = []
    # neighbours grown by the gap, as plain tuples: this loop is the layout's hot path
    grown = [(q.rect.x - gap, q.rect.y - gap, q.rect.x2 + gap, q.rect.y2 + gap) for q in state]
    ordered = (
        [other.rect for other in state if ctx.balloons[other.index].ordered]
        if balloon.ordered
        else []
    )
    for fit, penalty in fits:
        w, h = fit.w, fit.h
        for x, y in _positions(ctx, balloon, w, h, state):
            x2, y2 = x + w, y + h
            if any(x2 > gx and gx2 > x and y2 > gy and gy2 > y for gx, gy, gx2, gy2 in grown):
                continue  # cheap hard constraints first
            r = Rect(x, y, w, h)
            if ordered and not all(reading_order_ok(r, o, ctx.reading) for o in ordered):
                continue
            tail = None
            if balloon.kind.has_tail and balloon.mouth is not None:
                tail = tail_corridor(ctx, balloon, r)
                if tail is None:
                    continue
            conn = None
            if prev is not None:
                if rect_gap(prev.rect, r) > tuning.link_gap:
                    continue
                conn = tuple(band(prev.rect.center, r.center, tuning.connector_width / 2 + 1))
            c = _cost(ctx, balloon, r, tail, state) + penalty
            out.append(Candidate(c, x, y, r, fit, tail, conn))
    out.sort(key=lambda cand: (cand.cost, cand.x, cand.y))
    return out


def _apply(
    state: list[PlacedBalloon], balloon: BalloonToPlace, cand: Candidate
) -> list[PlacedBalloon]:
    new = list(state)
    if balloon.prev is not None:  # the group's tail moves to its newest balloon
        new = [
            replace(other, tail_poly=None, tip=None) if other.index == balloon.prev else other
            for other in new
        ]
    tail = cand.tail
    new.append(
        PlacedBalloon(
            balloon.index,
            cand.rect,
            cand.fit,
            tail.target if tail else None,
            tail.poly if tail else None,
            cand.conn,
            cand.cost,
        )
    )
    return new


def _fit_tiers(balloon: BalloonToPlace) -> Iterator[list[tuple[Fit, float]]]:
    """The balloon's fits in tiers tried in order (computed only when reached)."""
    fs = balloon.fits
    yield [(fs[0], 0.0)] + ([(fs[1], 0.35)] if len(fs) > 1 else [])
    for k in range(2, len(fs)):
        yield [(fs[k], 0.6 + 0.2 * (k - 2))]


def place_panel(ctx: PanelContext) -> list[PlacedBalloon]:
    """Place every balloon of the panel; the result is in panel order."""
    order = (
        [balloon for balloon in ctx.balloons if balloon.ordered]
        + [balloon for balloon in ctx.balloons if balloon.kind is K.SFX]
        + [balloon for balloon in ctx.balloons if balloon.kind is K.NOTE]
    )
    budget = ctx.tuning.budget
    first: list[tuple[int, list[PlacedBalloon]]] = [(0, [])]  # the deepest partial state reached
    best: list[PlacedBalloon] | None = None  # cheapest complete placement so far
    best_cost = float("inf")

    # Branch and bound over the same candidate order as a greedy descent: the
    # first complete placement found is the greedy one; the rest of the budget
    # looks for cheaper ones (partial cost >= best total: prune). Costs are
    # per-balloon and non-negative, so the bound is sound.
    def rec(k: int, state: list[PlacedBalloon], acc: float) -> None:
        nonlocal budget, best, best_cost
        if k > first[-1][0] and len(first) == k:
            first.append((k, state))
        if acc >= best_cost:
            return
        if k == len(order):
            if best is None:  # improving on the greedy answer gets a small budget of its own
                budget = min(budget, IMPROVE_BUDGET)
            best, best_cost = state, acc
            return
        balloon = order[k]
        for tier in _fit_tiers(balloon):
            tried = 0
            budget -= 8  # generating candidates costs about as much as 8 checks
            for cand in _candidates(ctx, balloon, tier, state):
                if budget <= 0:
                    return
                budget -= 1
                if acc + cand.cost >= best_cost:
                    break  # candidates come cheapest first: none of the rest can win
                if not _valid(ctx, balloon, cand, state):
                    continue
                rec(k + 1, _apply(state, balloon, cand), acc + cand.cost)
                tried += 1
                if tried >= ctx.tuning.branch:
                    break
            if tried:
                return  # this balloon could be placed; a later tier is only a fallback

    rec(0, [], 0.0)
    result = best
    if result is None:  # go on from where the descent got stuck
        k, state = first[-1]
        result = _greedy(ctx, order[k:], state)
    result = _move_group_tails(ctx, result)
    return sorted(result, key=lambda placed: placed.index)


def _greedy(
    ctx: PanelContext, order: list[BalloonToPlace], state: list[PlacedBalloon]
) -> list[PlacedBalloon]:
    for balloon in order:
        done = False
        for tier in _fit_tiers(balloon):
            for cand in _candidates(ctx, balloon, tier, state):
                if _valid(ctx, balloon, cand, state):
                    state = _apply(state, balloon, cand)
                    done = True
                    break
            if done:
                break
        if not done:
            state.append(_clamped(ctx, balloon, state))
    return state


def _clamped(
    ctx: PanelContext, balloon: BalloonToPlace, state: list[PlacedBalloon]
) -> PlacedBalloon:
    """Place a balloon that fits nowhere: least overlap, overflow recorded."""
    a = ctx.area
    fit = min(balloon.fits[:3], key=lambda f: (max(f.h - a.h, f.w - a.w, 0.0), f.w * f.h))
    w, h = fit.w, fit.h
    too_tall, too_wide = h - a.h, w - a.w
    xs = [a.x, a.x2 - w, a.x + (a.w - w) / 2]
    ys = [a.y, a.y2 - h, a.y + (a.h - h) / 2] + [other.rect.y2 + ctx.tuning.gap for other in state]
    best: tuple[float, Rect] | None = None
    for x in xs:
        for y in ys:
            x2 = a.x if w > a.w else min(max(x, a.x), a.x2 - w)
            y2 = a.y if h > a.h else min(max(y, a.y), a.y2 - h)
            r = Rect(x2, y2, w, h)
            ov = sum(overlap_area(r, other.rect) for other in state)
            if best is None or ov < best[0] - 1e-6:
                best = (ov, r)
    assert best is not None  # xs and ys are never empty
    r = best[1]
    if too_tall > 0 or too_wide > 0:
        amount, d = (too_tall, "tall") if too_tall >= too_wide else (too_wide, "wide")
    else:
        depth = max(
            [
                min(r.y2, other.rect.y2) - max(r.y, other.rect.y)
                for other in state
                if overlap_area(r, other.rect) > 0
            ]
            + [0.0]
        )
        amount, d = (depth, "tall") if depth > 0 else (0.0, "room")
    tail = None
    if balloon.kind.has_tail and balloon.mouth is not None:
        tail = tail_corridor(ctx, balloon, r)
    return PlacedBalloon(
        balloon.index,
        r,
        fit,
        tail.target if tail else None,
        tail.poly if tail else None,
        None,
        0.0,
        max(amount, 0.1),
        d,
    )


def _move_group_tails(ctx: PanelContext, state: list[PlacedBalloon]) -> list[PlacedBalloon]:
    """Give a linked group's tail to the member nearest the speaker, if clear."""
    by_index = {placed.index: placed for placed in state}
    for placed in list(state):
        balloon = ctx.balloons[placed.index]
        mouth = balloon.mouth
        if placed.tail_poly is None or balloon.prev is None or balloon.off_edge is not None:
            continue
        if mouth is None:
            continue
        members = [placed.index]
        j: int | None = balloon.prev
        while j is not None:
            members.append(j)
            j = ctx.balloons[j].prev
        mx, my = mouth
        near = min(
            members,
            key=lambda i: math.hypot(
                by_index[i].rect.center[0] - mx, by_index[i].rect.center[1] - my
            ),
        )
        if near == placed.index:
            continue
        cand = by_index[near]
        tail = tail_corridor(ctx, ctx.balloons[near], cand.rect)
        if tail is None:
            continue
        others = [o for o in state if o.index != near]
        if any(poly_hits_rect(tail.poly, o.rect, ctx.tuning.gap / 2) for o in others):
            continue
        by_index[near] = replace(cand, tip=tail.target, tail_poly=tail.poly)
        by_index[placed.index] = replace(placed, tip=None, tail_poly=None)
    return list(by_index.values())
