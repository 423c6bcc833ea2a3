"""Balloon outlines as vector paths, one style per balloon kind.

Pure, deterministic geometry (no I/O, no global random state): the same
arguments, including the integer ``seed``, always give the same
:class:`~comicc.layout.geometry.Path`. Coordinates are points, origin top-left,
y down (see :mod:`comicc.layout.geometry`).

The outlines are drawn to look hand-lettered: speech balloons are slightly
squashed, slightly irregular ovals; thought balloons are clouds of uneven
puffs; shouts are irregular bursts; electronic balloons have a tight zigzag
rim; captions and notes are rectangles with a barely visible wobble.

Every body style guarantees an *inner ellipse* (:func:`text_ellipse`) that
lies inside the outline; :func:`text_block_to_body` sizes a body so that the
lettering ellipse of a text block (semi-axes ``w/√2 + padding`` and
``h/√2 + padding``) is that inner ellipse. Tails and connectors live in
:mod:`comicc.layout.tails` and are re-exported here.

Painting: fill the body, tail and connectors white *over* their strokes (all
strokes first, then all fills), so the overlapping pieces read as one shape.
"""
from __future__ import annotations

import math
import random
from bisect import bisect_left
from typing import Callable

from .geometry import Path, PathCmd, Point, Rect, Stroke

__all__ = [
    "KINDS", "normalize_kind", "text_block_to_body", "text_ellipse", "body_path",
    "tail_path", "connector_path", "ellipse_line_widths", "flatten",
    "path_contains", "path_bbox", "stroke_for",
]

SQRT2 = math.sqrt(2.0)
TAU = 2.0 * math.pi

KINDS = ("speech", "thought", "whisper", "shout", "electronic", "caption", "sfx",
         "note", "title")
_ALIASES = {"burst": "shout", "radio": "electronic", "phone": "electronic",
            "tv": "electronic", "off": "speech", "off-panel": "speech"}
_RECT_KINDS = ("caption", "note")
_BARE_KINDS = ("sfx", "title")

# Inner-ellipse fraction of the speech oval (wobble is at most +-2.2 %).
_SPEECH_INNER = 0.95
_SPEECH_WOBBLE = 0.022
# How far inward (pt) a caption corner may wander.
_CAPTION_JITTER = 0.8


def normalize_kind(kind: object) -> str:
    """``BalloonKind.SPEECH`` / ``"Speech"`` / ``"burst"`` -> a name in :data:`KINDS`."""
    k = str(getattr(kind, "value", kind)).strip().lower()
    k = _ALIASES.get(k, k)
    if k not in KINDS:
        raise ValueError(f"unknown balloon kind {kind!r}")
    return k


# ---------------------------------------------------------------------------
# Path utilities


def _cubic_points(p0: Point, p1: Point, p2: Point, p3: Point, tol: float) -> list[Point]:
    """Points of a cubic Bézier after p0 (p0 excluded, p3 included)."""
    mx = max(abs(p0[0] - 2 * p1[0] + p2[0]), abs(p1[0] - 2 * p2[0] + p3[0]))
    my = max(abs(p0[1] - 2 * p1[1] + p2[1]), abs(p1[1] - 2 * p2[1] + p3[1]))
    m = math.hypot(mx, my)
    n = max(1, min(256, math.ceil(math.sqrt(0.75 * m / tol))))
    out = []
    for i in range(1, n + 1):
        t = i / n
        u = 1.0 - t
        a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
        out.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                    a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return out


def flatten(path: Path, tolerance: float = 0.5) -> list[list[Point]]:
    """Polylines approximating ``path`` within ``tolerance`` points.

    One list per subpath. A closed subpath (``Z``) does not repeat its first
    point at the end; every subpath is treated as closed by
    :func:`path_contains` (all outlines made here are closed).
    """
    tol = max(float(tolerance), 1e-3)
    polys: list[list[Point]] = []
    cur: list[Point] | None = None
    last: Point = (0.0, 0.0)
    for c in path.cmds:
        if c.op == "M":
            if cur and len(cur) > 1:
                polys.append(cur)
            last = (c.pts[0], c.pts[1])
            cur = [last]
        elif c.op == "L":
            if cur is None:
                cur = [last]
            last = (c.pts[0], c.pts[1])
            cur.append(last)
        elif c.op == "C":
            if cur is None:
                cur = [last]
            p1, p2, p3 = (c.pts[0], c.pts[1]), (c.pts[2], c.pts[3]), (c.pts[4], c.pts[5])
            cur.extend(_cubic_points(last, p1, p2, p3, tol))
            last = p3
        elif c.op == "Z":
            if cur:
                if len(cur) > 1 and math.dist(cur[-1], cur[0]) < 1e-9:
                    cur.pop()
                if len(cur) > 1:
                    polys.append(cur)
                last = cur[0]
            cur = None
        else:
            raise ValueError(f"unknown path op {c.op!r}")
    if cur and len(cur) > 1:
        polys.append(cur)
    return polys


def _polys_contain(polys: list[list[Point]], p: Point) -> bool:
    x, y = p
    inside = False
    for poly in polys:
        n = len(poly)
        j = n - 1
        for i in range(n):
            xi, yi = poly[i]
            xj, yj = poly[j]
            if (yi > y) != (yj > y):
                if x < xi + (y - yi) * (xj - xi) / (yj - yi):
                    inside = not inside
            j = i
    return inside


def path_contains(path: Path, p: Point) -> bool:
    """Even-odd point-in-path test on the flattened outline (0.1 pt tolerance)."""
    return _polys_contain(flatten(path, 0.1), p)


def path_bbox(path: Path) -> Rect:
    """Tight bounding box of the drawn outline (curves flattened, not control points)."""
    pts = [q for poly in flatten(path, 0.05) for q in poly]
    if not pts:
        return Rect(0.0, 0.0, 0.0, 0.0)
    xs = [q[0] for q in pts]
    ys = [q[1] for q in pts]
    return Rect(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _map_path(path: Path, f: Callable[[float, float], Point]) -> Path:
    cmds = []
    for c in path.cmds:
        pts: list[float] = []
        for i in range(0, len(c.pts), 2):
            x, y = f(c.pts[i], c.pts[i + 1])
            pts += [round(x, 3), round(y, 3)]
        cmds.append(PathCmd(c.op, tuple(pts)))
    return Path(tuple(cmds))


def _fit(path: Path, rect: Rect) -> Path:
    """Scale/translate ``path`` so that its drawn bounding box is exactly ``rect``."""
    bb = path_bbox(path)
    sx = rect.w / bb.w if bb.w > 1e-9 else 1.0
    sy = rect.h / bb.h if bb.h > 1e-9 else 1.0
    return _map_path(path, lambda x, y: (rect.x + (x - bb.x) * sx, rect.y + (y - bb.y) * sy))


def _smooth_closed(pts: list[Point]) -> list[PathCmd]:
    """Closed Catmull-Rom spline through ``pts`` as cubic Béziers."""
    n = len(pts)
    cmds = [PathCmd("M", pts[0])]
    for i in range(n):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[(i + 1) % n], pts[(i + 2) % n]
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        cmds.append(PathCmd("C", (*c1, *c2, *p2)))
    cmds.append(PathCmd("Z"))
    return cmds


class _Ellipse:
    """An axis-aligned ellipse centered at the origin, walkable by arc length."""

    def __init__(self, a: float, b: float, samples: int = 720):
        self.a, self.b = max(a, 1e-6), max(b, 1e-6)
        self.ts = [TAU * i / samples for i in range(samples + 1)]
        self.cum = [0.0]
        prev = self.point(0.0)
        for t in self.ts[1:]:
            q = self.point(t)
            self.cum.append(self.cum[-1] + math.dist(prev, q))
            prev = q
        self.length = self.cum[-1]

    def point(self, t: float) -> Point:
        return (self.a * math.cos(t), self.b * math.sin(t))

    def normal(self, t: float) -> Point:
        nx, ny = math.cos(t) / self.a, math.sin(t) / self.b
        m = math.hypot(nx, ny)
        return (nx / m, ny / m)

    def param(self, s: float) -> float:
        """Parameter at arc length ``s`` (taken modulo the perimeter)."""
        s %= self.length
        i = max(1, bisect_left(self.cum, s))
        s0, s1 = self.cum[i - 1], self.cum[i]
        f = (s - s0) / (s1 - s0) if s1 > s0 else 0.0
        return self.ts[i - 1] + f * (self.ts[i] - self.ts[i - 1])

    def at(self, s: float, out: float = 0.0) -> Point:
        """The point at arc length ``s``, pushed ``out`` along the outward normal."""
        t = self.param(s)
        p, nrm = self.point(t), self.normal(t)
        return (p[0] + nrm[0] * out, p[1] + nrm[1] * out)


def _stations(rng: random.Random, length: float, spacing: float, minimum: int,
              spread: float) -> list[float]:
    """Irregular arc-length stations around a closed curve of ``length``."""
    n = max(minimum, round(length / spacing))
    gaps = [rng.uniform(1.0 - spread, 1.0 + spread) for _ in range(n)]
    k = length / sum(gaps)
    s = rng.uniform(0.0, length)
    out = []
    for g in gaps:
        out.append(s)
        s += g * k
    return out


# ---------------------------------------------------------------------------
# Sizes


def _bump(w: float, h: float) -> float:
    """Height of a thought cloud's puffs."""
    m = max(min(w, h), 1e-6)
    return min(max(0.14 * m, min(3.0, 0.2 * m)), 16.0)


def _spike(w: float, h: float) -> float:
    """Length of a shout burst's longest spikes."""
    m = max(min(w, h), 1e-6)
    return min(max(0.2 * m, min(5.0, 0.25 * m)), 24.0)


def _tooth(w: float, h: float) -> float:
    """Height of an electronic balloon's zigzag teeth."""
    m = max(min(w, h), 1e-6)
    return min(max(0.07 * m, min(2.5, 0.15 * m)), 6.0)


def _inner_axes(kind: str, w: float, h: float) -> tuple[float, float]:
    """Semi-axes of the ellipse guaranteed inside a ``kind`` body of size w × h."""
    if kind in ("speech", "whisper"):
        return (_SPEECH_INNER * w / 2, _SPEECH_INNER * h / 2)
    if kind == "thought":
        d = _bump(w, h)
        e = 1.3 * d
    elif kind == "shout":
        d = _spike(w, h)
        e = 1.12 * d
    elif kind == "electronic":
        d = _tooth(w, h)
        e = 1.2 * d
    else:  # rectangles: the inscribed ellipse
        return (w / 2, h / 2)
    return (max(w / 2 - e, 0.0), max(h / 2 - e, 0.0))


def text_ellipse(kind: str, rect: Rect) -> tuple[Point, float, float]:
    """``(center, a, b)``: the lettering ellipse that fits inside ``kind``'s body in ``rect``.

    A text block of ``tw × th`` with ``padding`` fits when
    ``a >= tw/√2 + padding`` and ``b >= th/√2 + padding``; feed ``a``/``b`` to
    :func:`ellipse_line_widths`. For caption/note/sfx/title the usable area is
    the whole rectangle (less padding); the inscribed ellipse is returned.
    """
    k = normalize_kind(kind)
    a, b = _inner_axes(k, rect.w, rect.h)
    return rect.center, a, b


def text_block_to_body(kind: str, text_w: float, text_h: float,
                       padding: float) -> tuple[float, float]:
    """Body size ``(w, h)`` whose outline holds a ``text_w × text_h`` block with ``padding``."""
    k = normalize_kind(kind)
    tw, th, pad = max(text_w, 0.0), max(text_h, 0.0), max(padding, 0.0)
    if k in _RECT_KINDS:
        j = 2 * _CAPTION_JITTER
        return (tw + 2 * pad + j, th + 2 * pad + j)
    if k in _BARE_KINDS:
        return (tw + 2 * pad, th + 2 * pad)
    ra, rb = tw / SQRT2 + pad, th / SQRT2 + pad
    ra, rb = max(ra, 0.5), max(rb, 0.5)
    if k in ("speech", "whisper"):
        return (2 * ra / _SPEECH_INNER, 2 * rb / _SPEECH_INNER)
    # The rim size depends on the body size: solve inner(w, h) = (ra, rb).
    w, h = 2 * ra, 2 * rb
    for _ in range(60):
        a, b = _inner_axes(k, w, h)
        dw, dh = ra - a, rb - b
        if dw <= 1e-6 and dh <= 1e-6 and dw > -1e-3 and dh > -1e-3:
            break
        w += 2 * dw * 1.1
        h += 2 * dh * 1.1
    a, b = _inner_axes(k, w, h)
    # Never undersize because of the iteration's last step.
    w += 2 * max(0.0, ra - a) + 1e-6
    h += 2 * max(0.0, rb - b) + 1e-6
    return (w, h)


def ellipse_line_widths(a: float, b: float, padding: float, ys: list[float]) -> list[float]:
    """Usable width of a text line at offset ``y`` from the center of an a × b ellipse."""
    out = []
    for y in ys:
        if b <= 0 or abs(y) >= b:
            out.append(0.0)
            continue
        w = 2 * a * math.sqrt(1.0 - (y / b) ** 2) - 2 * padding
        out.append(max(w, 0.0))
    return out


# ---------------------------------------------------------------------------
# Body outlines (built around the origin, then fitted to the rect)


def _speech(w: float, h: float, rng: random.Random) -> Path:
    n = 16
    ex = 2.0 + rng.uniform(0.25, 0.45)  # > 2: a slightly squashed, fuller oval
    harm = [(k, rng.uniform(-1.0, 1.0), rng.uniform(0.0, TAU)) for k in (1, 2, 3)]
    norm = sum(abs(c) for _, c, _ in harm) or 1.0
    amp = rng.uniform(0.6, 1.0) * _SPEECH_WOBBLE / norm
    phase = rng.uniform(0.0, TAU / n)
    pts = []
    for i in range(n):
        t = phase + TAU * i / n
        c, s = math.cos(t), math.sin(t)
        r = (abs(c) ** ex + abs(s) ** ex) ** (-1.0 / ex)
        r *= 1.0 + amp * sum(cf * math.cos(k * t + ph) for k, cf, ph in harm)
        pts.append((r * c * w / 2, r * s * h / 2))
    return Path(tuple(_smooth_closed(pts)))


def _arc(c: Point, r: float, a0: float, span: float) -> list[PathCmd]:
    """Cubic Béziers along a circular arc from angle ``a0`` sweeping ``span`` (> 0)."""
    k = max(1, math.ceil(span / (math.pi / 2) - 1e-9))
    step = span / k
    hl = 4.0 / 3.0 * math.tan(step / 4) * r
    out = []
    for i in range(k):
        t0, t1 = a0 + i * step, a0 + (i + 1) * step
        p0 = (c[0] + r * math.cos(t0), c[1] + r * math.sin(t0))
        p1 = (c[0] + r * math.cos(t1), c[1] + r * math.sin(t1))
        c1 = (p0[0] - hl * math.sin(t0), p0[1] + hl * math.cos(t0))
        c2 = (p1[0] + hl * math.sin(t1), p1[1] - hl * math.cos(t1))
        out.append(PathCmd("C", (*c1, *c2, *p1)))
    return out


def _outer_meet(c0: Point, r0: float, c1: Point, r1: float) -> Point | None:
    """The intersection of two circles on the outer side (right of c0 -> c1)."""
    dx, dy = c1[0] - c0[0], c1[1] - c0[1]
    dd = math.hypot(dx, dy)
    if dd < 1e-9 or dd >= r0 + r1 or dd <= abs(r0 - r1):
        return None
    along = (r0 * r0 - r1 * r1 + dd * dd) / (2 * dd)
    hh = math.sqrt(max(r0 * r0 - along * along, 0.0))
    ux, uy = dx / dd, dy / dd
    mx, my = c0[0] + ux * along, c0[1] + uy * along
    # y-down coordinates, stations run with increasing angle: outside is to the right
    return (mx + uy * hh, my - ux * hh)


def _cloud(w: float, h: float, rng: random.Random) -> Path:
    """A cloud: the outer boundary of a ring of overlapping puffs (circles)."""
    d = _bump(w, h)
    ell = _Ellipse(w / 2 - d, h / 2 - d)
    r_mean = 1.25 * d
    n = max(7, round(ell.length / (1.45 * r_mean)))
    radii = [r_mean * rng.uniform(0.8, 1.2) for _ in range(n)]
    gaps = [(radii[i] + radii[(i + 1) % n]) * rng.uniform(0.9, 1.1) for i in range(n)]
    scale = ell.length / sum(gaps)
    s = rng.uniform(0.0, ell.length)
    puffs = []
    for i in range(n):
        r = radii[i]
        puffs.append((ell.at(s, d * rng.uniform(0.9, 1.0) - r), r))
        s += gaps[i] * scale
    # drop puffs swallowed by their neighbours until every arc is sound
    while len(puffs) >= 3:
        m = len(puffs)
        meets = [_outer_meet(puffs[i][0], puffs[i][1], *puffs[(i + 1) % m]) for i in range(m)]
        bad = None
        arcs = []
        for i in range(m):
            (c, r), q0, q1 = puffs[i], meets[i - 1], meets[i]
            if q0 is None or q1 is None:
                bad = i if q0 is None else (i + 1) % m
                break
            a0 = math.atan2(q0[1] - c[1], q0[0] - c[0])
            a1 = math.atan2(q1[1] - c[1], q1[0] - c[0])
            span = (a1 - a0) % TAU
            mid = a0 + span / 2
            outward = (c[0] * math.cos(mid) / max(w * w, 1e-9)
                       + c[1] * math.sin(mid) / max(h * h, 1e-9))
            if span > 1.6 * math.pi or span < 0.05 or outward <= 0:
                bad = i
                break
            arcs.append((c, r, a0, span, q0))
        if bad is None:
            cmds = [PathCmd("M", arcs[0][4])]
            for c, r, a0, span, _ in arcs:
                cmds += _arc(c, r, a0, span)
            cmds.append(PathCmd("Z"))
            return Path(tuple(cmds))
        del puffs[bad]
    return _speech(w, h, rng)


def _burst(w: float, h: float, rng: random.Random) -> Path:
    """A shout burst: irregular sharp spikes, straight sides, around an ellipse."""
    d = _spike(w, h)
    ell = _Ellipse(w / 2 - d, h / 2 - d)
    st = _stations(rng, ell.length, 0.95 * d, 10, 0.45)
    n = len(st)
    pts: list[Point] = []
    long_every = rng.choice((2, 3))
    for i in range(n):
        gap = (st[(i + 1) % n] - st[i]) % ell.length
        if i % long_every == 0:
            ln = rng.uniform(0.85, 1.0)
        else:
            ln = rng.uniform(0.35, 0.75)
        pts.append(ell.at(st[i], d * rng.uniform(0.0, 0.1)))         # valley
        pts.append(ell.at(st[i] + gap * rng.uniform(0.35, 0.65), d * ln))  # spike tip
    return Path.polygon(pts)


def _zigzag(w: float, h: float, rng: random.Random) -> Path:
    d = _tooth(w, h)
    ell = _Ellipse(w / 2 - d, h / 2 - d)
    st = _stations(rng, ell.length, 1.15 * d, 16, 0.1)
    n = len(st)
    pts: list[Point] = []
    for i in range(n):
        gap = (st[(i + 1) % n] - st[i]) % ell.length
        pts.append(ell.at(st[i], d * rng.uniform(0.0, 0.08)))
        pts.append(ell.at(st[i] + gap * rng.uniform(0.45, 0.55), d * rng.uniform(0.85, 1.0)))
    return Path.polygon(pts)


def _caption(w: float, h: float, rng: random.Random) -> Path:
    j = min(_CAPTION_JITTER, 0.05 * min(w, h))

    def c() -> float:
        return rng.uniform(0.0, j)
    x0, y0, x1, y1 = -w / 2, -h / 2, w / 2, h / 2
    return Path.polygon([(x0 + c(), y0 + c()), (x1 - c(), y0 + c()),
                         (x1 - c(), y1 - c()), (x0 + c(), y1 - c())])


_BODY = {"speech": _speech, "whisper": _speech, "thought": _cloud, "shout": _burst,
         "electronic": _zigzag}


def body_path(kind: str, rect: Rect, seed: int) -> Path:
    """The outline of a ``kind`` balloon inscribed in ``rect`` (deterministic in ``seed``)."""
    k = normalize_kind(kind)
    if k in _BARE_KINDS or rect.w <= 0 or rect.h <= 0:
        return Path.rect(rect)
    rng = random.Random(f"{k}:{int(seed)}")
    if k in _RECT_KINDS:
        cx, cy = rect.center
        return _map_path(_caption(rect.w, rect.h, rng), lambda x, y: (x + cx, y + cy))
    return _fit(_BODY[k](rect.w, rect.h, rng), rect)


def stroke_for(kind: str, base_width: float) -> Stroke:
    """The outline stroke: whisper dashed, shout 1.6× heavier, others ``base_width``."""
    k = normalize_kind(kind)
    if k == "whisper":
        s = max(1.0, base_width)
        return Stroke(base_width, dash=(4.0 * s, 3.0 * s))
    if k == "shout":
        return Stroke(base_width * 1.6)
    return Stroke(base_width)


# ---------------------------------------------------------------------------
# Tails and connectors live in tails.py (imported lazily: tails imports us).


def tail_path(kind: str, rect: Rect, body: Path, target: Point, seed: int,
              base_width: float = 0.18) -> Path | None:
    """See :func:`comicc.layout.tails.tail_path`."""
    from .tails import tail_path as impl
    return impl(kind, rect, body, target, seed, base_width)


def connector_path(a: Rect, b: Rect, seed: int, width: float = 8.0) -> Path:
    """See :func:`comicc.layout.tails.connector_path`."""
    from .tails import connector_path as impl
    return impl(a, b, seed, width)
