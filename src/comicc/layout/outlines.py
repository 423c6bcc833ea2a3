"""Balloon body outlines, one builder per kind of rim.

Each builder takes the body size ``w × h`` and a seeded :class:`random.Random`
and returns a closed :class:`~comicc.layout.geometry.VectorPath` centered on the
origin: :func:`speech_outline` (a slightly squashed, slightly irregular oval),
:func:`cloud_outline` (thought: a ring of uneven puffs), :func:`burst_outline`
(shout: irregular spikes), :func:`zigzag_outline` (electronic: a tight zigzag
rim) and :func:`caption_outline` (a rectangle with a barely visible wobble).
:data:`BODY_OUTLINES` maps the oval kinds to their builder.

The rim sizes (:func:`puff_depth`, :func:`spike_length`, :func:`tooth_height`)
and :data:`SPEECH_INNER` / :data:`CAPTION_JITTER` are shared with
:mod:`comicc.layout.shapes`, which fits the outlines to a rectangle and sizes
bodies around their text.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Callable
from itertools import accumulate

from comicc.layout.geometry import PathCmd, Point, VectorPath
from comicc.model import ir

TAU = 2.0 * math.pi

# Inner-ellipse fraction of the speech oval (wobble is at most +-2.2 %).
SPEECH_INNER = 0.95
SPEECH_WOBBLE = 0.022
# How far inward (pt) a caption corner may wander.
CAPTION_JITTER = 0.8


# ---------------------------------------------------------------------------
# Rim sizes


def puff_depth(w: float, h: float) -> float:
    """Height of a thought cloud's puffs."""
    m = max(min(w, h), 1e-6)
    return min(max(0.14 * m, min(3.0, 0.2 * m)), 16.0)


def spike_length(w: float, h: float) -> float:
    """Length of a shout burst's longest spikes."""
    m = max(min(w, h), 1e-6)
    return min(max(0.2 * m, min(5.0, 0.25 * m)), 24.0)


def tooth_height(w: float, h: float) -> float:
    """Height of an electronic balloon's zigzag teeth."""
    m = max(min(w, h), 1e-6)
    return min(max(0.07 * m, min(2.5, 0.15 * m)), 6.0)


# ---------------------------------------------------------------------------
# Helpers


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


_SAMPLES: dict[int, tuple[list[float], list[float], list[float]]] = {}


def _samples(n: int) -> tuple[list[float], list[float], list[float]]:
    """The parameters ``t`` of ``n`` steps around an ellipse, their cosines and sines
    (the same for every ellipse: computed once; read-only)."""
    got = _SAMPLES.get(n)
    if got is None:
        ts = [TAU * i / n for i in range(n + 1)]
        got = _SAMPLES[n] = (ts, [math.cos(t) for t in ts], [math.sin(t) for t in ts])
    return got


class _Ellipse:
    """An axis-aligned ellipse centered at the origin, walkable by arc length."""

    def __init__(self, a: float, b: float, samples: int = 720):
        self.a, self.b = max(a, 1e-6), max(b, 1e-6)
        self.ts, cos, sin = _samples(samples)
        a, b = self.a, self.b
        pts = [(a * c, b * s) for c, s in zip(cos, sin, strict=True)]  # self.point(self.ts[i])
        # the running sum of the chords, left to right
        self.cum = list(accumulate(map(math.dist, pts, pts[1:]), initial=0.0))
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
        """The point at arc length ``s``, pushed ``out`` along the outward normal
        (:meth:`param`, :meth:`point` and :meth:`normal` inlined, the same
        arithmetic: the outlines' hot part)."""
        cum, ts, a, b = self.cum, self.ts, self.a, self.b
        s %= self.length
        i = max(1, bisect_left(cum, s))
        s0, s1 = cum[i - 1], cum[i]
        f = (s - s0) / (s1 - s0) if s1 > s0 else 0.0
        t = ts[i - 1] + f * (ts[i] - ts[i - 1])
        c, sn = math.cos(t), math.sin(t)
        nx, ny = c / a, sn / b
        m = math.hypot(nx, ny)
        return (a * c + nx / m * out, b * sn + ny / m * out)


def _stations(
    rng: random.Random, length: float, spacing: float, minimum: int, spread: float
) -> list[float]:
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
# Outlines (built around the origin)


def speech_outline(w: float, h: float, rng: random.Random) -> VectorPath:
    """A speech oval: a slightly squashed superellipse with a low-harmonic wobble."""
    n = 16
    ex = 2.0 + rng.uniform(0.25, 0.45)  # > 2: a slightly squashed, fuller oval
    harm = [(k, rng.uniform(-1.0, 1.0), rng.uniform(0.0, TAU)) for k in (1, 2, 3)]
    norm = sum(abs(c) for _, c, _ in harm) or 1.0
    amp = rng.uniform(0.6, 1.0) * SPEECH_WOBBLE / norm
    phase = rng.uniform(0.0, TAU / n)
    pts = []
    for i in range(n):
        t = phase + TAU * i / n
        c, s = math.cos(t), math.sin(t)
        r = (abs(c) ** ex + abs(s) ** ex) ** (-1.0 / ex)
        r *= 1.0 + amp * sum(cf * math.cos(k * t + ph) for k, cf, ph in harm)
        pts.append((r * c * w / 2, r * s * h / 2))
    return VectorPath(tuple(_smooth_closed(pts)))


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


def cloud_outline(w: float, h: float, rng: random.Random) -> VectorPath:
    """A cloud: the outer boundary of a ring of overlapping puffs (circles)."""
    d = puff_depth(w, h)
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
            outward = c[0] * math.cos(mid) / max(w * w, 1e-9) + c[1] * math.sin(mid) / max(
                h * h, 1e-9
            )
            if span > 1.6 * math.pi or span < 0.05 or outward <= 0:
                bad = i
                break
            arcs.append((c, r, a0, span, q0))
        if bad is None:
            cmds = [PathCmd("M", arcs[0][4])]
            for c, r, a0, span, _ in arcs:
                cmds += _arc(c, r, a0, span)
            cmds.append(PathCmd("Z"))
            return VectorPath(tuple(cmds))
        del puffs[bad]
    return speech_outline(w, h, rng)


def burst_outline(w: float, h: float, rng: random.Random) -> VectorPath:
    """A shout burst: irregular sharp spikes, straight sides, around an ellipse."""
    d = spike_length(w, h)
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
        pts.append(ell.at(st[i], d * rng.uniform(0.0, 0.1)))  # valley
        pts.append(ell.at(st[i] + gap * rng.uniform(0.35, 0.65), d * ln))  # spike tip
    return VectorPath.polygon(pts)


def zigzag_outline(w: float, h: float, rng: random.Random) -> VectorPath:
    """An electronic balloon: a tight zigzag rim around an ellipse."""
    d = tooth_height(w, h)
    ell = _Ellipse(w / 2 - d, h / 2 - d)
    st = _stations(rng, ell.length, 1.15 * d, 16, 0.1)
    n = len(st)
    pts: list[Point] = []
    for i in range(n):
        gap = (st[(i + 1) % n] - st[i]) % ell.length
        pts.append(ell.at(st[i], d * rng.uniform(0.0, 0.08)))
        pts.append(ell.at(st[i] + gap * rng.uniform(0.45, 0.55), d * rng.uniform(0.85, 1.0)))
    return VectorPath.polygon(pts)


def caption_outline(w: float, h: float, rng: random.Random) -> VectorPath:
    """A caption box whose corners wander inward by up to :data:`CAPTION_JITTER`."""
    j = min(CAPTION_JITTER, 0.05 * min(w, h))

    def c() -> float:
        return rng.uniform(0.0, j)

    x0, y0, x1, y1 = -w / 2, -h / 2, w / 2, h / 2
    return VectorPath.polygon(
        [(x0 + c(), y0 + c()), (x1 - c(), y0 + c()), (x1 - c(), y1 - c()), (x0 + c(), y1 - c())]
    )


BODY_OUTLINES: dict[ir.BalloonKind, Callable[[float, float, random.Random], VectorPath]] = {
    ir.BalloonKind.SPEECH: speech_outline,
    ir.BalloonKind.WHISPER: speech_outline,
    ir.BalloonKind.THOUGHT: cloud_outline,
    ir.BalloonKind.SHOUT: burst_outline,
    ir.BalloonKind.ELECTRONIC: zigzag_outline,
}
