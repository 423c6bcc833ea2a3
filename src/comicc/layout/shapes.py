"""Balloon outlines as vector paths, one style per balloon kind.

Pure, deterministic geometry (no I/O, no global random state): the same
arguments, including the integer ``seed``, always give the same
:class:`~comicc.layout.geometry.VectorPath`. Coordinates are points, origin top-left,
y down (see :mod:`comicc.layout.geometry`).

The outlines are drawn to look hand-lettered: speech balloons are slightly
squashed, slightly irregular ovals; thought balloons are clouds of uneven
puffs; shouts are irregular bursts; electronic balloons have a tight zigzag
rim; captions and notes are rectangles with a barely visible wobble. The
per-kind outline builders live in :mod:`comicc.layout.outlines`; this module
is the public API: it fits them to a rectangle, sizes bodies around text and
holds the path utilities (:func:`flatten`, :func:`path_contains`, ...).

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
from collections.abc import Callable

from comicc.layout.geometry import PathCmd, Point, Rect, Stroke, VectorPath
from comicc.layout.outlines import (
    BODY_OUTLINES,
    CAPTION_JITTER,
    SPEECH_INNER,
    caption_outline,
    puff_depth,
    spike_length,
    tooth_height,
)

__all__ = [
    "KINDS",
    "normalize_kind",
    "text_block_to_body",
    "text_ellipse",
    "body_path",
    "tail_path",
    "connector_path",
    "ellipse_line_widths",
    "flatten",
    "path_contains",
    "path_bbox",
    "stroke_for",
]

SQRT2 = math.sqrt(2.0)

KINDS = ("speech", "thought", "whisper", "shout", "electronic", "caption", "sfx", "note", "title")
_ALIASES = {
    "burst": "shout",
    "radio": "electronic",
    "phone": "electronic",
    "tv": "electronic",
    "off": "speech",
    "off-panel": "speech",
}
_RECT_KINDS = ("caption", "note")
_BARE_KINDS = ("sfx", "title")


def normalize_kind(kind: object) -> str:
    """``BalloonKind.SPEECH`` / ``"Speech"`` / ``"burst"`` -> a name in :data:`KINDS`."""
    k = str(getattr(kind, "value", kind)).strip().lower()
    k = _ALIASES.get(k, k)
    if k not in KINDS:
        raise ValueError(f"unknown balloon kind {kind!r}")
    return k


# ---------------------------------------------------------------------------
# VectorPath utilities


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
        out.append(
            (
                a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
            )
        )
    return out


def flatten(path: VectorPath, tolerance: float = 0.5) -> list[list[Point]]:
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


def path_contains(path: VectorPath, p: Point) -> bool:
    """Even-odd point-in-path test on the flattened outline (0.1 pt tolerance)."""
    return _polys_contain(flatten(path, 0.1), p)


def path_bbox(path: VectorPath) -> Rect:
    """Tight bounding box of the drawn outline (curves flattened, not control points)."""
    pts = [q for poly in flatten(path, 0.05) for q in poly]
    if not pts:
        return Rect(0.0, 0.0, 0.0, 0.0)
    xs = [q[0] for q in pts]
    ys = [q[1] for q in pts]
    return Rect(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _map_path(path: VectorPath, f: Callable[[float, float], Point]) -> VectorPath:
    cmds = []
    for c in path.cmds:
        pts: list[float] = []
        for i in range(0, len(c.pts), 2):
            x, y = f(c.pts[i], c.pts[i + 1])
            pts += [round(x, 3), round(y, 3)]
        cmds.append(PathCmd(c.op, tuple(pts)))
    return VectorPath(tuple(cmds))


def _fit(path: VectorPath, rect: Rect) -> VectorPath:
    """Scale/translate ``path`` so that its drawn bounding box is exactly ``rect``."""
    bb = path_bbox(path)
    sx = rect.w / bb.w if bb.w > 1e-9 else 1.0
    sy = rect.h / bb.h if bb.h > 1e-9 else 1.0
    return _map_path(path, lambda x, y: (rect.x + (x - bb.x) * sx, rect.y + (y - bb.y) * sy))


# ---------------------------------------------------------------------------
# Sizes


def _inner_axes(kind: str, w: float, h: float) -> tuple[float, float]:
    """Semi-axes of the ellipse guaranteed inside a ``kind`` body of size w × h."""
    if kind in ("speech", "whisper"):
        return (SPEECH_INNER * w / 2, SPEECH_INNER * h / 2)
    if kind == "thought":
        d = puff_depth(w, h)
        e = 1.3 * d
    elif kind == "shout":
        d = spike_length(w, h)
        e = 1.12 * d
    elif kind == "electronic":
        d = tooth_height(w, h)
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


def text_block_to_body(
    kind: str, text_w: float, text_h: float, padding: float
) -> tuple[float, float]:
    """Body size ``(w, h)`` whose outline holds a ``text_w × text_h`` block with ``padding``."""
    k = normalize_kind(kind)
    tw, th, pad = max(text_w, 0.0), max(text_h, 0.0), max(padding, 0.0)
    if k in _RECT_KINDS:
        j = 2 * CAPTION_JITTER
        return (tw + 2 * pad + j, th + 2 * pad + j)
    if k in _BARE_KINDS:
        return (tw + 2 * pad, th + 2 * pad)
    ra, rb = tw / SQRT2 + pad, th / SQRT2 + pad
    ra, rb = max(ra, 0.5), max(rb, 0.5)
    if k in ("speech", "whisper"):
        return (2 * ra / SPEECH_INNER, 2 * rb / SPEECH_INNER)
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
# Body outlines (built around the origin by comicc.layout.outlines, then
# fitted to the rect)


def body_path(kind: str, rect: Rect, seed: int) -> VectorPath:
    """The outline of a ``kind`` balloon inscribed in ``rect`` (deterministic in ``seed``)."""
    k = normalize_kind(kind)
    if k in _BARE_KINDS or rect.w <= 0 or rect.h <= 0:
        return VectorPath.rect(rect)
    rng = random.Random(f"{k}:{int(seed)}")
    if k in _RECT_KINDS:
        cx, cy = rect.center
        return _map_path(caption_outline(rect.w, rect.h, rng), lambda x, y: (x + cx, y + cy))
    return _fit(BODY_OUTLINES[k](rect.w, rect.h, rng), rect)


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


def tail_path(
    kind: str, rect: Rect, body: VectorPath, target: Point, seed: int, base_width: float = 0.18
) -> VectorPath | None:
    """See :func:`comicc.layout.tails.tail_path`."""
    from comicc.layout.tails import tail_path as impl

    return impl(kind, rect, body, target, seed, base_width)


def connector_path(a: Rect, b: Rect, seed: int, width: float = 8.0) -> VectorPath:
    """See :func:`comicc.layout.tails.connector_path`."""
    from comicc.layout.tails import connector_path as impl

    return impl(a, b, seed, width)
