"""Balloon tails and connectors as vector paths.

Pure and deterministic like :mod:`comicc.layout.shapes`. A tail's base is
buried a little inside the body so that body and tail, both filled white over
their strokes, read as one shape. The tail constants (:data:`TAIL_STOP`,
:data:`TAIL_MAX_LEN`, :data:`TAIL_SIDE_TILT`; the thought-trail sizes in
:mod:`comicc.layout.bubbles`) are shared
with the placement search, which models where a tail will go before drawing it.
"""

from __future__ import annotations

import math
import random

from comicc.layout.bubbles import circle_path, trail_radii
from comicc.layout.collide import IndexedPolys, ellipse_reach, polys_contain
from comicc.layout.geometry import PathCmd, Point, Rect, VectorPath
from comicc.model import ir

__all__ = [
    "TAIL_MAX_LEN",
    "TAIL_SIDE_TILT",
    "TAIL_STOP",
    "connector_path",
    "tail_path",
]

Polys = list[list[Point]]

TAIL_STOP = 0.85  # the tip stops at 85 % of the way from the body to the target
TAIL_MAX_LEN = 1.2  # ... and at most 1.2 × the body height from the body
TAIL_SIDE_TILT = math.tan(math.radians(62))  # beyond this from vertical, leave from the side
_MAX_TILT = 1.0  # tan(45°): steepest tail we aim for, from vertical


# ---------------------------------------------------------------------------
# small vector helpers


def _sub(p: Point, q: Point) -> Point:
    return (p[0] - q[0], p[1] - q[1])


def _add(p: Point, q: Point, k: float = 1.0) -> Point:
    return (p[0] + q[0] * k, p[1] + q[1] * k)


def _unit(v: Point) -> Point:
    m = math.hypot(v[0], v[1])
    return (v[0] / m, v[1] / m) if m > 1e-12 else (0.0, 1.0)


def _perp(v: Point) -> Point:
    return (-v[1], v[0])


def _rot(v: Point, ang: float) -> Point:
    c, s = math.cos(ang), math.sin(ang)
    return (v[0] * c - v[1] * s, v[0] * s + v[1] * c)


def _ray_hits(polys: Polys, o: Point, d: Point) -> list[float]:
    """Ray parameters ``t > 0`` where ``o + t·d`` crosses the outline."""
    out = []
    for poly in polys:
        n = len(poly)
        for i in range(n):
            a, b = poly[i - 1], poly[i]
            ex, ey = b[0] - a[0], b[1] - a[1]
            den = d[0] * ey - d[1] * ex
            if abs(den) < 1e-12:
                continue
            wx, wy = a[0] - o[0], a[1] - o[1]
            t = (wx * ey - wy * ex) / den
            u = (wx * d[1] - wy * d[0]) / den
            if t > 1e-9 and -1e-9 <= u <= 1 + 1e-9:
                out.append(t)
    return out


def _far_hit(polys: Polys, o: Point, d: Point) -> Point | None:
    hits = _ray_hits(polys, o, d)
    if not hits:
        return None
    t = max(hits)
    return (o[0] + d[0] * t, o[1] + d[1] * t)


# ---------------------------------------------------------------------------
# where a tail leaves the body


def _anchor(polys: Polys, rect: Rect, target: Point) -> tuple[Point, Point] | None:
    """``(anchor, outward)``: where the tail leaves the outline, and the way it leaves.

    Targets below (above) the body get a tail from the bottom (top) near the
    middle, shifted towards the target just enough to keep the tail within 45°
    of vertical; targets beside the body get one from the side facing them.
    """
    c = rect.center
    if polys_contain(polys, target):
        return None
    dx, dy = target[0] - c[0], target[1] - c[1]
    if abs(dy) > 1e-9:
        sgn = 1.0 if dy > 0 else -1.0
        down = (0.0, sgn)
        lim = 0.3 * rect.w
        ax = c[0] + max(-lim, min(lim, 0.2 * dx))
        hit = None
        for _ in range(4):
            hit = _far_hit(polys, (ax, c[1]), down)
            if hit is None:
                break
            vy = (target[1] - hit[1]) * sgn
            if vy <= 0:
                hit = None
                break
            if abs(target[0] - hit[0]) <= _MAX_TILT * vy:
                break
            want = target[0] - math.copysign(_MAX_TILT * vy, dx)
            nx = c[0] + max(-lim, min(lim, want - c[0]))
            if abs(nx - ax) < 0.05:
                break
            ax = nx
        if hit is not None:
            vy = (target[1] - hit[1]) * sgn
            if vy > 0 and abs(target[0] - hit[0]) <= TAIL_SIDE_TILT * vy:
                return hit, down
    d = _unit((dx, dy))
    hit = _far_hit(polys, c, d)
    if hit is None:
        return None
    return hit, d


def _tip(
    anchor: Point, target: Point, rect: Rect, exact: bool = False
) -> tuple[Point, float, Point]:
    v = _sub(target, anchor)
    dist = math.hypot(*v)
    u = _unit(v)
    if exact:
        return target, dist, u
    length = min(TAIL_STOP * dist, TAIL_MAX_LEN * rect.h)
    return _add(anchor, u, length), length, u


# the 8 directions of _deep_inside: (cos, sin) of i * pi / 4, computed once (same floats)
_AROUND = tuple((math.cos(i * math.pi / 4), math.sin(i * math.pi / 4)) for i in range(8))


def _deep_inside(polys: Polys, p: Point, m: float) -> bool:
    """``p`` and the points ``m`` away from it (8 directions) are inside the body."""
    if not polys_contain(polys, p):
        return False
    x, y = p
    for c, s in _AROUND:
        if not polys_contain(polys, (x + m * c, y + m * s)):
            return False
    return True


def _bury(
    polys: Polys, rect: Rect, anchor: Point, across: Point, half: float
) -> tuple[Point, Point]:
    """Base corners ``anchor ± across·half``, moved towards the center until well inside.

    "Well inside" leaves room for the stroke: a base corner right at the
    outline would let the tail's stroke peek out past the body's fill.
    """
    c = rect.center
    back = _unit(_sub(c, anchor))
    room = math.dist(c, anchor)
    m = max(1.5, 0.15 * half)
    off = min(0.6 * half, 0.5 * room)
    steps = 48
    for i in range(steps + 1):
        o = off + (room - off) * i / steps
        base = _add(anchor, back, o)
        p1, p2 = _add(base, across, half), _add(base, across, -half)
        if _deep_inside(polys, p1, m) and _deep_inside(polys, p2, m):
            return p1, p2
    for i in range(steps + 1):  # a very thin body: at least keep the corners inside
        o = off + (room - off) * i / steps
        base = _add(anchor, back, o)
        p1, p2 = _add(base, across, half), _add(base, across, -half)
        if polys_contain(polys, p1) and polys_contain(polys, p2):
            return p1, p2
    return _add(c, across, half), _add(c, across, -half)


def _valleys(polys: Polys, rect: Rect) -> list[Point]:
    """Inward corners of a spiky outline (local minima of the normalized radius)."""
    cx, cy = rect.center
    ax, by = max(rect.w / 2, 1e-9), max(rect.h / 2, 1e-9)
    out = []
    for poly in polys:
        rad = [math.hypot((x - cx) / ax, (y - cy) / by) for x, y in poly]
        n = len(poly)
        for i in range(n):
            if rad[i] < rad[i - 1] and rad[i] <= rad[(i + 1) % n]:
                out.append(poly[i])
    return out


def _snap_base(
    polys: Polys, rect: Rect, anchor: Point, across: Point, half: float, p1: Point, p2: Point
) -> tuple[Point, Point]:
    """On spiky bodies start the tail's sides at the valleys next to the anchor.

    The sides then leave the outline at its inward corners, so no spike edge
    crosses a side halfway. Falls back to ``(p1, p2)``.
    """
    vs = _valleys(polys, rect)
    if len(vs) < 4:
        return p1, p2

    def side(q: Point) -> float:
        return (q[0] - anchor[0]) * across[0] + (q[1] - anchor[1]) * across[1]

    want1, want2 = _add(anchor, across, half), _add(anchor, across, -half)
    pos = [v for v in vs if side(v) > 0.15 * half]
    neg = [v for v in vs if side(v) < -0.15 * half]
    if not pos or not neg:
        return p1, p2
    v1 = min(pos, key=lambda v: math.dist(v, want1))
    v2 = min(neg, key=lambda v: math.dist(v, want2))
    if math.dist(v1, anchor) > 2.2 * half or math.dist(v2, anchor) > 2.2 * half:
        return p1, p2
    cx, cy = rect.center
    a2, b2 = max(rect.w / 2, 1e-9) ** 2, max(rect.h / 2, 1e-9) ** 2
    m = max(1.5, 0.15 * half)

    def sink(v: Point) -> Point | None:  # inward, so the stroke's corner is covered
        inward = _unit(((cx - v[0]) / a2, (cy - v[1]) / b2))
        for k in range(1, 9):
            q = _add(v, inward, m * k)
            if _deep_inside(polys, q, 0.5 * m):
                return q
        return None

    q1, q2 = sink(v1), sink(v2)
    if q1 is None or q2 is None:
        return p1, p2
    return q1, q2


# ---------------------------------------------------------------------------
# tail styles


def _wedge(
    polys: Polys,
    rect: Rect,
    anchor: Point,
    out: Point,
    target: Point,
    bw: float,
    rng: random.Random,
    straight: bool,
    exact: bool = False,
) -> VectorPath | None:
    tip, length, u = _tip(anchor, target, rect, exact)
    if length < 1e-3:
        return None
    # leave the body along `out` (vertical for top/bottom tails), then swing to the tip
    lean = _unit(_add(out, u))
    across = _perp(lean)
    p1, p2 = _bury(polys, rect, anchor, across, bw / 2)
    if straight:  # shouts: spiky body
        p1, p2 = _snap_base(polys, rect, anchor, across, bw / 2, p1, p2)
        sweep = u
    else:
        sweep = _unit(_rot(lean, rng.uniform(-0.06, 0.06)))
    reach = length * 0.4
    n = _perp(u)
    belly = bw * rng.uniform(0.05, 0.1)
    cmds = [PathCmd("M", p1)]
    for p, s in ((p1, 1.0), (p2, -1.0)):
        c1 = _add(p, sweep, reach)
        c2 = _add(_add(tip, u, -length * 0.35), n, s * belly)
        if s > 0:
            cmds.append(PathCmd("C", (*c1, *c2, *tip)))
        else:
            cmds.append(PathCmd("C", (*c2, *c1, *p2)))
    cmds.append(PathCmd("Z"))
    return VectorPath(tuple(cmds))


def _bolt(
    polys: Polys,
    rect: Rect,
    anchor: Point,
    target: Point,
    bw: float,
    rng: random.Random,
    exact: bool = False,
) -> VectorPath | None:
    tip, length, u = _tip(anchor, target, rect, exact)
    if length < 1e-3:
        return None
    n = _perp(u)
    across = n
    p1, p2 = _bury(polys, rect, anchor, across, bw / 2)
    p1, p2 = _snap_base(polys, rect, anchor, across, bw / 2, p1, p2)
    base = ((p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2)
    span = math.dist(base, tip)
    amp = min(0.2 * span, 1.1 * bw) * rng.choice((-1.0, 1.0))
    # centerline: down, jog sideways, down to the point (a lightning bolt)
    stations = [
        (0.0, 0.0, 0.5 * bw),
        (0.42, amp * rng.uniform(0.8, 1.0), 0.36 * bw),
        (0.58, -amp * rng.uniform(0.4, 0.6), 0.3 * bw),
    ]
    left: list[Point] = []
    right: list[Point] = []
    for f, off, hw in stations:
        cpt = _add(_add(base, u, f * span), n, off)
        left.append(_add(cpt, across, hw))
        right.append(_add(cpt, across, -hw))
    left[0], right[0] = p1, p2
    return VectorPath.polygon(left + [tip] + right[::-1])


def _bubbles(
    anchor: Point, target: Point, rect: Rect, rng: random.Random, exact: bool = False
) -> VectorPath | None:
    tip, length, u = _tip(anchor, target, rect, exact)
    if length < 1e-3:
        return None
    radii, gap = trail_radii(length, rect.w, rect.h, exact)
    cmds: list[PathCmd] = []
    s = gap * 0.6
    for r in radii:
        s += r
        c = _add(anchor, u, s)
        c = _add(c, _perp(u), rng.uniform(-0.12, 0.12) * r)
        cmds += circle_path(c, r, rng.uniform(1.02, 1.1))
        s += r + gap
    return VectorPath(tuple(cmds))


def tail_path(
    kind: ir.BalloonKind,
    rect: Rect,
    body: VectorPath,
    target: Point,
    seed: int,
    base_width: float = 0.18,
    exact: bool = False,
) -> VectorPath | None:
    """A tail from the ``kind`` body (outline ``body`` inside ``rect``) towards ``target``.

    Speech/whisper/shout: a tapering, gently curved wedge. Thought: 2-3 growing
    circles (separate closed subpaths). Electronic: a lightning-bolt wedge.
    The tip stops at 85 % of the way to the target and at most 1.2 × the body
    height from the body; with ``exact`` it ends at ``target`` itself (the
    placement search computes the tip: just outside the speaker's head).
    ``base_width`` is a fraction of ``min(rect.w, rect.h)``.
    Returns None for kinds without a tail, and when ``target`` lies inside the body.
    """
    if kind.tail is None:
        return None
    polys = IndexedPolys([line.points for line in body.polylines(0.25)])
    if not polys or rect.w <= 0 or rect.h <= 0:
        return None
    found = _anchor(polys, rect, target)
    if found is None:
        return None
    anchor, out = found
    rng = random.Random(f"tail:{kind.value}:{int(seed)}")
    bw = max(1.0, base_width * min(rect.w, rect.h))
    if kind.tail == "bubbles":
        tail = _bubbles(anchor, target, rect, rng, exact)
    elif kind.tail == "bolt":
        tail = _bolt(polys, rect, anchor, target, bw, rng, exact)
    else:
        tail = _wedge(
            polys,
            rect,
            anchor,
            out,
            target,
            bw,
            rng,
            straight=kind is ir.BalloonKind.SHOUT,
            exact=exact,
        )
    return None if tail is None else _round(tail)


# ---------------------------------------------------------------------------
# connectors


def _sink_end(r: Rect, u: Point, half: float) -> Point:
    """Where a band of half-width ``half`` heading along ``u`` starts inside ``r``.

    As far out towards ``u`` as possible while both corners of the band's end
    stay well inside the body (inside 0.6 × the inscribed ellipse, which holds
    for every body kind).
    """
    c = r.center
    n = _perp(u)
    reach = ellipse_reach(r.w, r.h, u[0], u[1])
    a, b = max(r.w / 2, 1e-6), max(r.h / 2, 1e-6)
    for i in range(41):
        t = reach * (1 - i / 40)
        p = _add(c, u, t)
        ok = True
        for sgn in (1.0, -1.0):
            q = _add(p, n, sgn * half)
            if math.hypot((q[0] - c[0]) / a, (q[1] - c[1]) / b) > 0.6:
                ok = False
        if ok:
            return p
    return c


def connector_path(a: Rect, b: Rect, seed: int, width: float = 8.0) -> VectorPath:
    """A narrow band joining balloon ``a`` to balloon ``b`` (same speaker).

    It runs along the line between the centers, from inside ``a``'s edge facing
    ``b`` to inside ``b``'s edge facing ``a`` (its ends are buried in both
    bodies, so fill it white over its stroke like a tail), pinched a little
    at the waist and gently bent.
    """
    rng = random.Random(f"connector:{int(seed)}")
    ca, cb = a.center, b.center
    u = _unit(_sub(cb, ca))
    if math.dist(ca, cb) < 1e-9:
        u = (0.0, 1.0)
    n = _perp(u)
    half = min(width / 2, 0.3 * min(a.w, a.h, b.w, b.h))
    s = _sink_end(a, u, half)
    e = _sink_end(b, (-u[0], -u[1]), half)
    if sum(x * y for x, y in zip(_sub(e, s), u, strict=True)) <= 1e-6:  # bodies overlap: a stub
        ix, iy = max(a.x, b.x), max(a.y, b.y)
        iw, ih = min(a.x2, b.x2) - ix, min(a.y2, b.y2) - iy
        if iw > 0 and ih > 0:  # keep it inside both boxes
            mid = (ix + iw / 2, iy + ih / 2)
            reach = 0.35 * min(iw, ih)
            half = min(half, reach)
        else:
            mid = ((ca[0] + cb[0]) / 2, (ca[1] + cb[1]) / 2)
            reach = width
        s, e = _add(mid, u, -reach), _add(mid, u, reach)
    span = math.dist(s, e)
    pinch = half * rng.uniform(0.12, 0.2)
    bend = span * rng.uniform(-0.05, 0.05)
    pts: list[tuple[Point, Point, Point, Point]] = []
    for side in (1.0, -1.0):
        p0 = _add(s, n, side * half)
        p3 = _add(e, n, side * half)
        c1 = _add(_add(_add(s, u, span / 3), n, side * (half - pinch)), n, bend)
        c2 = _add(_add(_add(s, u, 2 * span / 3), n, side * (half - pinch)), n, bend)
        pts.append((p0, c1, c2, p3))
    (l0, l1, l2, l3), (r0, r1, r2, r3) = pts
    cmds = (
        PathCmd("M", l0),
        PathCmd("C", (*l1, *l2, *l3)),
        PathCmd("L", r3),
        PathCmd("C", (*r2, *r1, *r0)),
        PathCmd("Z"),
    )
    return _round(VectorPath(cmds))


def _round(p: VectorPath) -> VectorPath:
    return VectorPath(tuple(PathCmd(c.op, tuple(round(v, 3) for v in c.pts)) for c in p.cmds))
