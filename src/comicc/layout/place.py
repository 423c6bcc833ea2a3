"""Balloon placement in one panel: a small search with constraints and costs.

Items (balloons, captions, titles) are placed in reading order, then SFX and
notes. For each item the candidates are positions built from the panel's
corners and top edge, a ring above the speaker's mouth and the edges of
balloons already placed. Hard constraints: inside the panel's area; no two
bodies closer than the gap; Comic Chat's reading-order rule; tail and
connector corridors kept clear. Costs: distance from the top, tail length and
angle, horizontal offset from the speaker, covering a face. A depth-first
search tries the best few candidates of each item with a node budget; when it
fails, a greedy pass places what it can and the rest is clamped into the panel
with its ``overflow`` recorded.
"""

from __future__ import annotations

import math
from dataclasses import replace

from comicc.layout.collide import band, overlap_area, poly_hits_rect, polys_hit
from comicc.layout.geometry import Rect
from comicc.layout.items import (
    Ctx,
    Item,
    Placed,
    _rect_gap,
    _rule_ok,
    _tail,
)
from comicc.layout.text import Fit
from comicc.model import ir

K = ir.BalloonKind


def _positions(
    ctx: Ctx, it: Item, w: float, h: float, state: list[Placed]
) -> list[tuple[float, float]]:
    a = ctx.area
    if w > a.w + 1e-6 or h > a.h + 1e-6:
        return []
    kind = it.b.kind
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
        if it.mouth is not None and it.off_edge is None:
            mx, my = it.mouth
            xs += [mx - w / 2 + o * w for o in (-0.4, 0.0, 0.4)]
            pref = ctx.p.tail_pref * a.h
            ys += [my - ctx.p.mouth_clear - h - t for t in (pref, ctx.p.tail_min + 4, pref * 1.8)]
            ys += [my + ctx.p.mouth_clear + pref]  # below the speaker, tail up: a last resort
    for q in state:
        r = q.rect
        ys += [r.y2 + ctx.p.gap, r.y]
        xs += [r.x2 + ctx.p.gap, r.x - ctx.p.gap - w]
        if it.prev is not None and q.item == it.prev:
            xs += [r.x + r.w * 0.35, r.x2 - w * 0.35, r.x2 - w * 0.1, r.x + r.w * 0.5 - w * 0.5]
            ys += [r.y2 + ctx.p.gap + 3, r.y2 - h * 0.15]
    xs = _dedupe(min(max(x, a.x), a.x2 - w) for x in xs)
    ys = _dedupe(min(max(y, a.y), a.y2 - h) for y in ys)
    return [(x, y) for x in xs for y in ys]


def _dedupe(vals, grid: float = 0.75) -> list[float]:
    """Sorted values, dropping those within ``grid`` of one already kept."""
    out: list[float] = []
    for v in sorted(vals):
        if not out or v - out[-1] >= grid:
            out.append(v)
    return out


def _cost(ctx: Ctx, it: Item, r: Rect, tail, state: list[Placed]) -> float:
    a = ctx.area
    kind = it.b.kind
    cost = 0.0
    rtl = ctx.reading == "rtl"
    if kind is K.NOTE:
        cost += 3 * (a.y2 - r.y2) / a.h + (abs(r.x2 - a.x2) if rtl else abs(r.x - a.x)) / a.w
    elif kind is K.SFX:
        cx, cy = r.center
        cost += abs(cy - (a.y + a.h * 0.45)) / a.h + 0.5 * abs(cx - a.center[0]) / a.w
        near = min([_rect_gap(r, q.rect) for q in state] + [60.0])
        cost -= min(near, 60.0) / 60.0
    elif kind is K.CAPTION:
        cost += 3 * (r.y - a.y) / a.h
        start = abs(r.x - a.x) if not rtl else abs(r.x2 - a.x2)
        end = abs(r.x2 - a.x2) if not rtl else abs(r.x - a.x)
        cost += 0.8 * min(start, end + (0.3 * a.w if it.caption_no == 1 else 0)) / a.w
        if min(abs(r.y - a.y), abs(r.y2 - a.y2)) > 0.5:
            cost += 0.6
    elif kind is K.TITLE:
        # display titles sit centred under the top edge unless something is in the way
        cost += 3 * (r.y - a.y) / a.h + 3 * abs(r.center[0] - a.center[0]) / a.w
    else:
        cost += 3 * (r.y - a.y) / a.h
        if tail is not None:
            vis, ang = tail.length, tail.ang
            if it.off_edge is not None:
                cost += 2.5 * vis / a.w
            else:
                pref = ctx.p.tail_pref * a.h
                cost += 1.5 * abs(vis - pref) / a.h
                cost += 1.2 * max(0.0, ang - 15) / 30
                if ang > 45:
                    cost += 2.0 + (ang - 45) / 15
                cost += 1.2 * abs(r.center[0] - it.mouth[0]) / a.w
                short = math.dist(r.center, it.mouth) - max(r.w, r.h) / 2 - vis
                cost += 1.2 * max(0.0, short) / a.h  # the tail stops far from the mouth
        if it.prev is not None:
            cost -= 0.2  # linked balloons: cost of the pair is what matters
        if abs(r.x - a.x) < 0.5 or abs(r.x2 - a.x2) < 0.5 or abs(r.y - a.y) < 0.5:
            cost -= 0.15  # anchored to a border
    for f in ctx.faces:
        ov = overlap_area(r, f)
        if ov:
            cost += 4 * ov / (f.w * f.h)
    return cost


def _valid(ctx: Ctx, it: Item, r: Rect, tail, conn, state: list[Placed]) -> bool:
    gap = ctx.p.gap
    tpoly = tail.poly if tail is not None else None
    for q in state:
        if r.intersects(q.rect, gap):
            return False
        if it.ordered and ctx.items[q.item].ordered and not _rule_ok(r, q.rect, ctx.reading):
            return False
        own_prev = it.prev is not None and q.item == it.prev
        if (
            q.tail_poly is not None
            and not own_prev
            and poly_hits_rect(list(q.tail_poly), r, gap / 2)
        ):
            return False
        if q.conn_poly is not None and poly_hits_rect(list(q.conn_poly), r, gap / 2):
            return False
        if tpoly is not None:
            if poly_hits_rect(list(tpoly), q.rect, gap / 2):
                return False
            if (
                q.tail_poly is not None
                and not own_prev
                and polys_hit(list(tpoly), list(q.tail_poly))
            ):
                return False
        if conn is not None and not own_prev:
            if poly_hits_rect(list(conn), q.rect, gap / 2):
                return False
            if q.tail_poly is not None and polys_hit(list(conn), list(q.tail_poly)):
                return False
    return True


def _candidates(ctx: Ctx, it: Item, fits: list[tuple[Fit, float]], state: list[Placed]):
    """All candidate placements of ``it`` (not yet checked), cheapest first."""
    prev = next((q for q in state if q.item == it.prev), None) if it.prev is not None else None
    gap = ctx.p.gap
    out = []
    # neighbours grown by the gap, as plain tuples: this loop is the layout's hot path
    grown = [(q.rect.x - gap, q.rect.y - gap, q.rect.x2 + gap, q.rect.y2 + gap) for q in state]
    ordered = [q.rect for q in state if ctx.items[q.item].ordered] if it.ordered else []
    for fit, penalty in fits:
        w, h = fit.w, fit.h
        for x, y in _positions(ctx, it, w, h, state):
            x2, y2 = x + w, y + h
            if any(x2 > gx and gx2 > x and y2 > gy and gy2 > y for gx, gy, gx2, gy2 in grown):
                continue  # cheap hard constraints first
            r = Rect(x, y, w, h)
            if ordered and not all(_rule_ok(r, o, ctx.reading) for o in ordered):
                continue
            tail = None
            if it.b.kind.has_tail and (it.mouth is not None):
                tail = _tail(ctx, it, r)
                if tail is None:
                    continue
            conn = None
            if prev is not None:
                if _rect_gap(prev.rect, r) > ctx.p.link_gap:
                    continue
                conn = tuple(band(prev.rect.center, r.center, ctx.p.connector_width / 2 + 1))
            c = _cost(ctx, it, r, tail, state) + penalty
            out.append((c, x, y, r, fit, tail, conn))
    out.sort(key=lambda t: (t[0], t[1], t[2]))
    return out


def _apply(state: list[Placed], it: Item, cand) -> list[Placed]:
    c, _, _, r, fit, tail, conn = cand
    new = list(state)
    if it.prev is not None:  # the group's tail moves to its newest balloon
        new = [replace(q, tail_poly=None, tip=None) if q.item == it.prev else q for q in new]
    new.append(
        Placed(it.idx, r, fit, tail.target if tail else None, tail.poly if tail else None, conn, c)
    )
    return new


def _fit_tiers(it: Item):
    """The item's fits in tiers tried in order (computed only when reached)."""
    fs = it.fits
    yield [(fs[0], 0.0)] + ([(fs[1], 0.35)] if len(fs) > 1 else [])
    for k in range(2, len(fs)):
        yield [(fs[k], 0.6 + 0.2 * (k - 2))]


IMPROVE_BUDGET = 16  # candidate checks spent looking for a cheaper placement than the first


def place_panel(ctx: Ctx) -> list[Placed]:
    """Place every item of the panel; the result is in item order."""
    order = (
        [it for it in ctx.items if it.ordered]
        + [it for it in ctx.items if it.b.kind is K.SFX]
        + [it for it in ctx.items if it.b.kind is K.NOTE]
    )
    budget = [ctx.p.budget]
    first: list[tuple[int, list[Placed]]] = [(0, [])]  # the deepest partial state reached
    best: list = [None, float("inf")]  # cheapest complete placement so far, its total cost

    # Branch and bound over the same candidate order as a greedy descent: the
    # first complete placement found is the greedy one; the rest of the budget
    # looks for cheaper ones (partial cost >= best total: prune). Costs are
    # per-item and non-negative, so the bound is sound.
    def rec(k: int, state: list[Placed], acc: float) -> None:
        if k > first[-1][0] and len(first) == k:
            first.append((k, state))
        if acc >= best[1]:
            return
        if k == len(order):
            if best[0] is None:  # improving on the greedy answer gets a small budget of its own
                budget[0] = min(budget[0], IMPROVE_BUDGET)
            best[0], best[1] = state, acc
            return
        it = order[k]
        for tier in _fit_tiers(it):
            tried = 0
            budget[0] -= 8  # generating candidates costs about as much as 8 checks
            for cand in _candidates(ctx, it, tier, state):
                if budget[0] <= 0:
                    return
                budget[0] -= 1
                if acc + cand[0] >= best[1]:
                    break  # candidates come cheapest first: none of the rest can win
                if not _valid(ctx, it, cand[3], cand[5], cand[6], state):
                    continue
                rec(k + 1, _apply(state, it, cand), acc + cand[0])
                tried += 1
                if tried >= ctx.p.branch:
                    break
            if tried:
                return  # this item could be placed; a later tier is only a fallback

    rec(0, [], 0.0)
    result = best[0]
    if result is None:  # go on from where the descent got stuck
        k, state = first[-1]
        result = _greedy(ctx, order[k:], state)
    result = _move_group_tails(ctx, result)
    return sorted(result, key=lambda q: q.item)


def _greedy(ctx: Ctx, order: list[Item], state: list[Placed]) -> list[Placed]:
    for it in order:
        done = False
        for tier in _fit_tiers(it):
            for cand in _candidates(ctx, it, tier, state):
                if _valid(ctx, it, cand[3], cand[5], cand[6], state):
                    state = _apply(state, it, cand)
                    done = True
                    break
            if done:
                break
        if not done:
            state.append(_clamped(ctx, it, state))
    return state


def _clamped(ctx: Ctx, it: Item, state: list[Placed]) -> Placed:
    """Place an item that fits nowhere: least overlap, overflow recorded."""
    a = ctx.area
    fit = min(it.fits[:3], key=lambda f: (max(f.h - a.h, f.w - a.w, 0.0), f.w * f.h))
    w, h = fit.w, fit.h
    too_tall, too_wide = h - a.h, w - a.w
    best = None
    xs = [a.x, a.x2 - w, a.x + (a.w - w) / 2]
    ys = [a.y, a.y2 - h, a.y + (a.h - h) / 2] + [q.rect.y2 + ctx.p.gap for q in state]
    for x in xs:
        for y in ys:
            x2 = a.x if w > a.w else min(max(x, a.x), a.x2 - w)
            y2 = a.y if h > a.h else min(max(y, a.y), a.y2 - h)
            r = Rect(x2, y2, w, h)
            ov = sum(overlap_area(r, q.rect) for q in state)
            if best is None or ov < best[0] - 1e-6:
                best = (ov, r)
    r = best[1]
    if too_tall > 0 or too_wide > 0:
        amount, d = (too_tall, "tall") if too_tall >= too_wide else (too_wide, "wide")
    else:
        depth = max(
            [
                min(r.y2, q.rect.y2) - max(r.y, q.rect.y)
                for q in state
                if overlap_area(r, q.rect) > 0
            ]
            + [0.0]
        )
        amount, d = (depth, "tall") if depth > 0 else (0.0, "room")
    tail = _tail(ctx, it, r) if it.b.kind.has_tail and it.mouth is not None else None
    return Placed(
        it.idx,
        r,
        fit,
        tail.target if tail else None,
        tail.poly if tail else None,
        None,
        0.0,
        max(amount, 0.1),
        d,
    )


def _move_group_tails(ctx: Ctx, state: list[Placed]) -> list[Placed]:
    """Give a linked group's tail to the member nearest the speaker, if clear."""
    by_item = {q.item: q for q in state}
    for q in list(state):
        it = ctx.items[q.item]
        if q.tail_poly is None or it.prev is None or it.off_edge is not None:
            continue
        members = [q.item]
        j = it.prev
        while j is not None:
            members.append(j)
            j = ctx.items[j].prev
        mx, my = it.mouth
        near = min(
            members,
            key=lambda i: math.hypot(
                by_item[i].rect.center[0] - mx, by_item[i].rect.center[1] - my
            ),
        )
        if near == q.item:
            continue
        cand = by_item[near]
        tail = _tail(ctx, ctx.items[near], cand.rect)
        if tail is None:
            continue
        others = [o for o in state if o.item != near]
        if any(poly_hits_rect(list(tail.poly), o.rect, ctx.p.gap / 2) for o in others):
            continue
        by_item[near] = replace(cand, tip=tail.target, tail_poly=tail.poly)
        by_item[q.item] = replace(q, tip=None, tail_poly=None)
    return list(by_item.values())
