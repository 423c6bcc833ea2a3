"""The full cost of one candidate position of a balloon, and its tail there.

:func:`full_cost`: distance from the top, tail length and angle, horizontal
offset from the speaker (and for captions, notes, SFX and titles their own
places). :func:`tail_at`: the body at a position and its tail
(:mod:`comicc.layout.corridor`), memoized per position in ``ctx.memo``; a tail
must keep the rules of attribution (:func:`tail_ok`). Used by
:mod:`comicc.layout.candidates` and :mod:`comicc.layout.place`.
"""

from __future__ import annotations

import math

from comicc.layout.collide import poly_hits_rect
from comicc.layout.corridor import TailCorridor, tail_corridor
from comicc.layout.geometry import Point, Rect
from comicc.layout.items import BalloonToPlace, PanelContext, PlacedBalloon, break_cost
from comicc.model import ir

K = ir.BalloonKind


def full_cost(
    ctx: PanelContext,
    balloon: BalloonToPlace,
    r: Rect,
    tail: TailCorridor | None,
    state: list[PlacedBalloon],
) -> float:
    """What placing ``balloon``'s body at ``r`` with ``tail`` costs (lower is better)."""
    a = ctx.area
    kind = balloon.kind
    cost = break_cost(ctx, r)
    rtl = ctx.reading == "rtl"
    if kind is K.NOTE:
        cost += 3 * (a.y2 - r.y2) / a.h + (abs(r.x2 - a.x2) if rtl else abs(r.x - a.x)) / a.w
    elif kind is K.SFX:
        cx, cy = r.center
        tx, ty = sfx_target(ctx, balloon)
        cost += abs(cy - ty) / a.h + 0.7 * abs(cx - tx) / a.w
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
                far = max(tuning_len(ctx, r), pref)
                if vis > far and not ctx.compact:  # long tails: move toward the speaker
                    cost += 4.0 * (vis - far) / a.h
        if balloon.prev is not None:
            cost -= 0.2  # linked balloons: cost of the pair is what matters
        if abs(r.x - a.x) < 0.5 or abs(r.x2 - a.x2) < 0.5 or abs(r.y - a.y) < 0.5:
            cost -= 0.15  # anchored to a border
    return cost


def tuning_len(ctx: PanelContext, r: Rect) -> float:
    """The longest tail that costs nothing extra: ``tail_long`` × the body height, at
    least 40 pt."""
    return max(40.0, ctx.tuning.tail_long * r.h, ctx.tuning.tail_min + 10)


def sfx_target(ctx: PanelContext, balloon: BalloonToPlace) -> Point:
    """Where an SFX goes: above a named cast member (an ``NEAR <NAME>`` MOD), else above
    the middle of the cast (the panel's action), else a little above the center."""
    a = ctx.area
    heads = ctx.face_of
    named = [m[5:].strip() for m in balloon.balloon.mods if m.startswith("NEAR ")]
    picked = [heads[n] for n in named if n in heads] or list(heads.values())
    if not picked:
        return (a.center[0], a.y + a.h * 0.45)
    x = sum(f.center[0] for f in picked) / len(picked)
    y = min(f.y for f in picked)
    return (x, max(a.y + a.h * 0.2, y - 0.6 * a.h * 0.25))


def tail_ok(ctx: PanelContext, balloon: BalloonToPlace, tail: TailCorridor) -> bool:
    """The hard rules of attribution: the tail's tip is nearer its own speaker's cast
    point than any other, and the tail crosses no other speaker's face box."""
    key = ("others", balloon.index)
    got = ctx.memo.get(key)
    if got is None:  # the same for every tail of this balloon
        own = balloon.balloon.speaker
        got = ctx.memo[key] = (
            ctx.points.get(own) if own is not None else None,
            [p for n, p in ctx.points.items() if n != own],
            [f for n, f in ctx.face_of.items() if n != own],
        )
    mine, points, others = got
    tip = tail.target
    if balloon.off_edge is not None:
        # a tail to the panel edge: its speaker's spot out there is notional, so the
        # rule is only that the tip stays well away from everybody in the panel
        for f in others:
            if math.dist(tip, f.center) < f.h:
                return False
    elif mine is not None:
        # the aim and where the drawn tail stops (the same point but for a thought trail)
        for end in (tip,) if tail.end is tip else (tip, tail.end):
            d = math.dist(end, mine) + 1e-6
            for p in points:
                if math.dist(end, p) <= d:
                    return False
    if not others:
        return True
    xs = [p[0] for p in tail.pts]
    ys = [p[1] for p in tail.pts]
    x1, y1, x2, y2 = min(xs) - 0.5, min(ys) - 0.5, max(xs) + 0.5, max(ys) + 0.5
    for f in others:
        if f.x2 <= x1 or f.x >= x2 or f.y2 <= y1 or f.y >= y2:
            continue  # bounding boxes apart
        if poly_hits_rect(tail.poly, f, 0.5):
            return False
    return True


def tail_at(
    ctx: PanelContext, balloon: BalloonToPlace, x: float, y: float, w: float, h: float
) -> tuple[Rect, TailCorridor | None, bool]:
    """The body at ``(x, y, w, h)``, its tail, and whether that tail may be drawn
    (:func:`tail_ok`; always for a balloon without one): memoized per position."""
    key = ("tail", balloon.index, x, y, w, h)
    got = ctx.memo.get(key)
    if got is None:
        r = Rect(x, y, w, h)
        tail = None
        reach = True
        if balloon.kind.has_tail and balloon.mouth is not None:
            tail = tail_corridor(ctx, balloon, r)
            reach = tail is not None and tail_ok(ctx, balloon, tail)
        ctx.memo[key] = got = (r, tail, reach)
    return got
