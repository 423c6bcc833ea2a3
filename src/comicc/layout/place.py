"""Balloon placement in one panel: a small search with constraints and costs.

Balloons (speech, captions, titles) are placed in reading order, then SFX and
notes. Each balloon's candidates, their tails and costs come from
:mod:`comicc.layout.candidates`; here they are checked against the balloons
already placed. Hard constraints: no two bodies closer than the gap; Comic
Chat's reading-order rule; tail and connector corridors kept clear. The text
shape of a fit adds to its cost. A depth-first search tries the best few
candidates of each balloon with a node budget; when it fails, the panel is
repaired (:func:`place_panel`), never clamped: what still fits nowhere is left
out and reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from comicc.layout.candidates import Candidate, candidates, prefilter
from comicc.layout.collide import Box, poly_box, poly_hits_rect, polys_hit
from comicc.layout.corridor import tail_corridor
from comicc.layout.costs import tail_at, tail_ok
from comicc.layout.geometry import Point, Rect
from comicc.layout.items import (
    BalloonToPlace,
    PanelContext,
    PlacedBalloon,
    reading_order_ok,
)
from comicc.layout.text import Fit
from comicc.model import ir

K = ir.BalloonKind

IMPROVE_BUDGET = 16  # candidate checks spent looking for a cheaper placement than the first
GOOD_ENOUGH = 4.0  # a candidate this cheap ends the look at other fits (lower: look further)
DENSE = 4  # a panel of this many balloons or more is dense: a failed search is retried


def _valid(
    ctx: PanelContext, balloon: BalloonToPlace, cand: Candidate, state: list[PlacedBalloon]
) -> bool:
    if not state:
        return True
    r, conn = cand.rect, cand.conn
    gap = ctx.tuning.gap
    tail = cand.tail
    tpoly = tail.poly if tail is not None else None
    tbox = tail.box if tail is not None else None
    cbox = poly_box(conn) if conn is not None else None
    for other in state:
        if r.intersects(other.rect, gap):
            return False
        if (
            balloon.ordered
            and ctx.balloons[other.index].ordered
            and other.overflow == 0
            and not reading_order_ok(r, other.rect, ctx.reading)
        ):
            return False
        own_prev = balloon.prev is not None and other.index == balloon.prev
        other_tail = other.tail_poly
        if other_tail is not None and not own_prev:
            if poly_hits_rect(other_tail, r, gap / 2, _box(ctx, other_tail)):
                return False
        other_conn = other.conn_poly
        if other_conn is not None and poly_hits_rect(other_conn, r, gap / 2, _box(ctx, other_conn)):
            return False
        if tpoly is not None:
            if poly_hits_rect(tpoly, other.rect, gap / 2, tbox):
                return False
            if other_tail is not None and not own_prev and polys_hit(tpoly, other_tail):
                return False
        if conn is not None and not own_prev:
            if poly_hits_rect(conn, other.rect, gap / 2, cbox):
                return False
            if other_tail is not None and polys_hit(conn, other_tail):
                return False
    return True


def _box(ctx: PanelContext, poly: tuple[Point, ...]) -> Box:
    """``poly_box(poly)`` of a placed balloon's tail or connector, memoized (the memo
    keeps ``poly``, so its id is not reused while the entry is there)."""
    got = ctx.memo.get(("box", id(poly)))
    if got is None or got[0] is not poly:
        got = ctx.memo[("box", id(poly))] = (poly, poly_box(poly))
    return got[1]


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


WIDOW_COST = 2.5  # a fit whose last line is one word (of four or more)


def _shape_cost(fit: Fit) -> float:
    """What a fit's text shape costs: a one-word last line."""
    lines = fit.lines
    if len(lines) < 2:
        return 0.0
    last = len(" ".join(s.text for s in lines[-1].runs).split())
    total = sum(len(" ".join(s.text for s in ln.runs).split()) for ln in lines)
    if total < 4:
        return 0.0
    thin = max(0.0, 2.5 - total / len(lines))  # a column of one or two words a line
    return (WIDOW_COST if last == 1 else 0.0) + 1.0 * thin


def _fit_tiers(
    balloon: BalloonToPlace, memo: dict[tuple[object, ...], Any] | None = None
) -> Iterator[list[tuple[Fit, float]]]:
    """The balloon's fits in tiers tried in order (computed only when reached);
    ``memo`` (the panel's ``ctx.memo``) keeps each fit's penalty once computed."""
    fs = balloon.fits
    # the preferred fit has no shape cost: it is shaped already (and when it is last
    # build's size from the lock file, its place must not depend on the new text)
    yield [(fs[0], 0.0)]
    for k in range(1, len(fs)):
        fit = fs[k]
        if memo is None:
            yield [(fit, 0.35 + 0.2 * (k - 1) + _shape_cost(fit))]
            continue
        key = ("tier", balloon.index, k)
        penalty = memo.get(key)
        if penalty is None:
            penalty = memo[key] = 0.35 + 0.2 * (k - 1) + _shape_cost(fit)
        yield [(fit, penalty)]


def _search(
    ctx: PanelContext, order: list[BalloonToPlace], budget: int
) -> tuple[list[PlacedBalloon] | None, int, list[PlacedBalloon]]:
    """Branch and bound over ``order``: (the cheapest complete placement or None, the
    depth reached, the partial placement at that depth)."""
    left = budget
    first: list[tuple[int, list[PlacedBalloon]]] = [(0, [])]  # the deepest partial state reached
    best: list[PlacedBalloon] | None = None  # cheapest complete placement so far
    best_cost = float("inf")

    # Branch and bound over the same candidate order as a greedy descent: the
    # first complete placement found is the greedy one; the rest of the budget
    # looks for cheaper ones (partial cost >= best total: prune). Costs are
    # per-balloon and non-negative, so the bound is sound.
    def rec(k: int, state: list[PlacedBalloon], acc: float) -> None:
        nonlocal left, best, best_cost
        if k > first[-1][0] and len(first) == k:
            first.append((k, state))
        if acc >= best_cost:
            return
        if k == len(order):
            if best is None:  # improving on the greedy answer gets a small budget of its own
                left = min(left, IMPROVE_BUDGET)
            best, best_cost = state, acc
            return
        balloon = order[k]
        pool: list[Candidate] = []
        for tier in _fit_tiers(balloon, ctx.memo):
            found = 0
            left -= 8  # generating candidates costs about as much as 8 checks
            for cand in candidates(ctx, balloon, tier, state):
                if left <= 0:
                    break
                left -= 1
                if acc + cand.cost >= best_cost:
                    break  # candidates come cheapest first: none of the rest can win
                if not _valid(ctx, balloon, cand, state):
                    continue
                pool.append(cand)
                found += 1
                if found >= ctx.tuning.branch:
                    break
            if pool and (not ctx.compact or min(c.cost for c in pool) < GOOD_ENOUGH):
                break  # a later tier (other widths and aspects) is only a fallback
            if left <= 0:
                break
        pool.sort(key=lambda cand: (cand.cost, cand.x, cand.y))
        for cand in pool[: ctx.tuning.branch]:
            if acc + cand.cost >= best_cost:
                break
            rec(k + 1, _apply(state, balloon, cand), acc + cand.cost)  # noqa: F821 (del below)

    rec(0, [], 0.0)
    del rec  # ``rec`` holds itself (its closure): a cycle the collector would have to free
    k, state = first[-1]
    return best, k, state


def place_panel(ctx: PanelContext) -> list[PlacedBalloon]:
    """Place every balloon of the panel; the result is in panel order.

    When the search finds nothing the panel is repaired, never clamped: a
    search with the larger ``dense_budget`` over every fit (other widths and
    aspects, lower rows), then a greedy pass that may unjoin an auto-joined
    balloon; the balloons placed are then settled by the first search's costs
    (:func:`_settle`). If a balloon still fits nowhere and the theme lets balloons break
    the border (``gutter_break``), the panel is placed once more with bodies
    allowed into the gutter (``ctx.breakout``, at a cost: only where they must);
    that placement is kept when fewer balloons are left out. A balloon that
    still fits nowhere is left out of the panel and comes back as an overflow
    marker (``overflow_dir`` ``"room"`` or ``"tall"``/``"wide"``), so no two
    balloons ever overlap and the reading order of the placed ones holds.
    """
    links = [(b.prev, b.auto_joined) for b in ctx.balloons]
    result = _place_all(ctx)
    lost = sum(1 for p in result if p.overflow > 0)
    if not lost or ctx.breakout is None or not _may_break(ctx, result):
        return result
    after = [(b.prev, b.auto_joined) for b in ctx.balloons]
    area, memo, compact = ctx.area, ctx.memo, ctx.compact
    for b, (prev, joined) in zip(ctx.balloons, links, strict=True):
        b.prev, b.auto_joined = prev, joined
    # tails and shape penalties depend on the body's position only: kept; positions and
    # costs depend on the area: computed again
    kept = {key: v for key, v in memo.items() if key[0] in ("tail", "tier")}
    ctx.core, ctx.area, ctx.memo, ctx.compact = area, ctx.breakout, kept, False
    try:
        broken = _place_all(ctx)
    finally:
        ctx.core, ctx.area, ctx.memo, ctx.compact = None, area, memo, compact
    if sum(1 for p in broken if p.overflow > 0) < lost:
        return broken
    for b, (prev, joined) in zip(ctx.balloons, after, strict=True):
        b.prev, b.auto_joined = prev, joined
    return result


def _may_break(ctx: PanelContext, result: list[PlacedBalloon]) -> bool:
    """Whether placing the panel again with bodies allowed into the gutter is worth its
    cost: a balloon left out has no place even in the empty panel, or the panel is not
    dense (in an over-full panel of many balloons a few points of gutter rarely help)."""
    if sum(1 for b in ctx.balloons if b.kind is not K.NOTE) < DENSE:
        return True
    return any(p.overflow > 0 and not _fits_alone(ctx, ctx.balloons[p.index]) for p in result)


def _place_all(ctx: PanelContext) -> list[PlacedBalloon]:
    """The search, its repair and the greedy pass of :func:`place_panel` in ``ctx.area``."""
    order = (
        [balloon for balloon in ctx.balloons if balloon.ordered]
        + [balloon for balloon in ctx.balloons if balloon.kind is K.SFX]
        + [balloon for balloon in ctx.balloons if balloon.kind is K.NOTE]
    )
    alone = [b for b in order if b.prev is None and not _fits_alone(ctx, b)]
    if alone:  # no place even in an empty panel: left out before the search spends on it
        lost = {b.index for b in alone}
        for b in order:
            if b.prev in lost:
                b.prev, b.auto_joined = None, False
        order = [b for b in order if b.index not in lost]
    best, k, state = _search(ctx, order, ctx.tuning.budget)
    if best is not None and alone:
        best = _greedy(ctx, alone, list(best))
    if best is None:  # repair: pack from the top (long tails allowed), more budget if dense
        ctx.compact = True
        dense = len(order) >= DENSE
        budget = ctx.tuning.dense_budget if dense else ctx.tuning.budget
        best, k2, state2 = _search(ctx, order, budget)
        if k2 >= k:
            k, state = k2, state2
    result = best if best is not None else _greedy(ctx, order[k:] + alone, state)
    if ctx.compact:
        result = _settle(ctx, order, result)
    result = _move_group_tails(ctx, result)
    return sorted(result, key=lambda placed: placed.index)


def _settle(
    ctx: PanelContext, order: list[BalloonToPlace], result: list[PlacedBalloon]
) -> list[PlacedBalloon]:
    """After the repair left balloons out: the others placed again by the first search's
    costs (the repair packs from the top and lets tails grow long; with the left-out
    ones gone there may be room to bring each balloon back near its speaker). Kept
    when that search places all of them; the markers then go where there is room."""
    lost = [p for p in result if p.overflow > 0]
    if not lost:
        return result
    gone = {p.index for p in lost}
    rest = [b for b in order if b.index not in gone]
    ctx.compact = False
    settled, _k, _state = _search(ctx, rest, ctx.tuning.budget)
    if settled is None:
        ctx.compact = True
        return result
    state = list(settled)
    for p in lost:
        state.append(_overflowed(ctx, ctx.balloons[p.index], state))
    return state


def _fits_alone(ctx: PanelContext, balloon: BalloonToPlace) -> bool:
    """Whether ``balloon`` has a place in the empty panel: ``_place_one(ctx, balloon, [])``
    is not None (every candidate is valid there), found without the full costs."""
    for tier in _fit_tiers(balloon, ctx.memo):
        pre, _prev, _tailed = prefilter(ctx, balloon, tier, [])
        for _est, x, y, fit, _penalty in pre:
            if tail_at(ctx, balloon, x, y, fit.w, fit.h)[2]:
                return True
    return False


def _place_one(
    ctx: PanelContext, balloon: BalloonToPlace, state: list[PlacedBalloon]
) -> Candidate | None:
    for tier in _fit_tiers(balloon, ctx.memo):
        for cand in candidates(ctx, balloon, tier, state):
            if _valid(ctx, balloon, cand, state):
                return cand
    return None


def _greedy(
    ctx: PanelContext, order: list[BalloonToPlace], state: list[PlacedBalloon]
) -> list[PlacedBalloon]:
    dropped: set[int] = set()
    for balloon in order:
        if balloon.prev is not None and balloon.prev in dropped:
            balloon.prev = None  # its group's head did not fit: it stands alone
        cand = _place_one(ctx, balloon, state)
        if cand is None and balloon.prev is not None and balloon.auto_joined:
            balloon.prev, balloon.auto_joined = None, False  # unjoined, it may fit
            cand = _place_one(ctx, balloon, state)
        if cand is not None:
            state = _apply(state, balloon, cand)
            continue
        dropped.add(balloon.index)
        state.append(_overflowed(ctx, balloon, state))
    return state


MARKER = 12.0  # side of the overflow marker drawn for a balloon left out of its panel


def _overflowed(
    ctx: PanelContext, balloon: BalloonToPlace, state: list[PlacedBalloon]
) -> PlacedBalloon:
    """A balloon that fits nowhere: a small marker in a free corner, overflow recorded.

    The marker never covers another balloon when there is any room for it; the
    amount is how much the text is too tall (or wide) for the panel, or
    ``"room"`` when it would fit an empty panel but not beside the others."""
    a = ctx.area
    fit = min(balloon.fits, key=lambda f: (max(f.h - a.h, f.w - a.w, 0.0), f.w * f.h))
    too_tall, too_wide = fit.h - a.h, fit.w - a.w
    if too_tall > 0 or too_wide > 0:
        amount, d = (too_tall, "tall") if too_tall >= too_wide else (too_wide, "wide")
    else:
        amount, d = fit.h, "room"  # a whole balloon's height found no room
    m = min(MARKER, a.w, a.h)
    spots = [
        (x, y)
        for y in (a.y2 - m, a.y, a.y + (a.h - m) / 2)
        for x in (
            (a.x2 - m, a.x, a.x + (a.w - m) / 2)
            if ctx.reading != "rtl"
            else (a.x, a.x2 - m, a.x + (a.w - m) / 2)
        )
    ]
    r = Rect(*spots[0], m, m)
    for x, y in spots:
        q = Rect(x, y, m, m)
        if not any(q.intersects(o.rect, 1.0) for o in state):
            r = q
            break
    return PlacedBalloon(balloon.index, r, fit, None, None, None, 0.0, max(amount, 0.1), d)


def _move_group_tails(ctx: PanelContext, state: list[PlacedBalloon]) -> list[PlacedBalloon]:
    """Give a linked group's tail to the member nearest the speaker, if clear."""
    by_index = {placed.index: placed for placed in state}
    for placed in list(state):
        balloon = ctx.balloons[placed.index]
        mouth = balloon.mouth
        if placed.tail_poly is None or balloon.prev is None or balloon.off_edge is not None:
            continue
        if placed.overflow > 0:
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
        if tail is None or not tail_ok(ctx, ctx.balloons[near], tail):
            continue
        others = [o for o in state if o.index != near]
        if any(poly_hits_rect(tail.poly, o.rect, ctx.tuning.gap / 2) for o in others):
            continue
        by_index[near] = replace(cand, tip=tail.target, tail_poly=tail.poly)
        by_index[placed.index] = replace(placed, tip=None, tail_poly=None)
    return list(by_index.values())
