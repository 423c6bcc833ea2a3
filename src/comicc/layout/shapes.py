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
fits them to a rectangle, sizes bodies around text and tests points against
outlines (:func:`path_contains`, :func:`path_bbox`). Tails and connectors are
:mod:`comicc.layout.tails`.

Every body style guarantees an *inner ellipse* (:func:`text_ellipse`) that
lies inside the outline; :func:`text_block_to_body` sizes a body so that the
lettering ellipse of a text block (semi-axes ``w/√2 + padding`` and
``h/√2 + padding``) is that inner ellipse.

Painting: fill the body, tail and connectors white *over* their strokes (all
strokes first, then all fills), so the overlapping pieces read as one shape.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from comicc.layout.collide import polys_contain
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
from comicc.model import ir

__all__ = [
    "text_block_to_body",
    "text_ellipse",
    "body_path",
    "ellipse_line_widths",
    "path_contains",
    "path_bbox",
    "stroke_for",
]

SQRT2 = math.sqrt(2.0)
K = ir.BalloonKind


# ---------------------------------------------------------------------------
# VectorPath utilities


def path_contains(path: VectorPath, p: Point) -> bool:
    """Even-odd point-in-path test on the flattened outline (0.1 pt tolerance)."""
    return polys_contain([line.points for line in path.polylines(0.1)], p)


def path_bbox(path: VectorPath) -> Rect:
    """Tight bounding box of the drawn outline (curves flattened, not control points)."""
    pts = [q for line in path.polylines(0.05) for q in line.points]
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
    # _map_path with x -> rect.x + (x - bb.x) * sx (and y alike), inlined: the hot part
    # of every balloon's outline
    rx, ry, bx, by = rect.x, rect.y, bb.x, bb.y
    cmds = []
    for c in path.cmds:
        src = c.pts
        pts: tuple[float, ...]
        if len(src) == 6:  # a curve: its three points unpacked (the same arithmetic)
            x1, y1, x2, y2, x3, y3 = src
            pts = (
                round(rx + (x1 - bx) * sx, 3),
                round(ry + (y1 - by) * sy, 3),
                round(rx + (x2 - bx) * sx, 3),
                round(ry + (y2 - by) * sy, 3),
                round(rx + (x3 - bx) * sx, 3),
                round(ry + (y3 - by) * sy, 3),
            )
        else:
            out: list[float] = []
            for i in range(0, len(src), 2):
                out.append(round(rx + (src[i] - bx) * sx, 3))
                out.append(round(ry + (src[i + 1] - by) * sy, 3))
            pts = tuple(out)
        cmds.append(PathCmd(c.op, pts))
    return VectorPath(tuple(cmds))


# ---------------------------------------------------------------------------
# Sizes


def _inner_axes(kind: ir.BalloonKind, w: float, h: float) -> tuple[float, float]:
    """Semi-axes of the ellipse guaranteed inside a ``kind`` body of size w × h."""
    if kind in (K.SPEECH, K.WHISPER):
        return (SPEECH_INNER * w / 2, SPEECH_INNER * h / 2)
    if kind is K.THOUGHT:
        d = puff_depth(w, h)
        e = 1.3 * d
    elif kind is K.SHOUT:
        d = spike_length(w, h)
        e = 1.12 * d
    elif kind is K.ELECTRONIC:
        d = tooth_height(w, h)
        e = 1.2 * d
    else:  # rectangles: the inscribed ellipse
        return (w / 2, h / 2)
    return (max(w / 2 - e, 0.0), max(h / 2 - e, 0.0))


def text_ellipse(kind: ir.BalloonKind, rect: Rect) -> tuple[Point, float, float]:
    """``(center, a, b)``: the lettering ellipse that fits inside ``kind``'s body in ``rect``.

    A text block of ``tw × th`` with ``padding`` fits when
    ``a >= tw/√2 + padding`` and ``b >= th/√2 + padding``; feed ``a``/``b`` to
    :func:`ellipse_line_widths`. For caption/note/sfx/title the usable area is
    the whole rectangle (less padding); the inscribed ellipse is returned.
    """
    a, b = _inner_axes(kind, rect.w, rect.h)
    return rect.center, a, b


def text_block_to_body(
    kind: ir.BalloonKind, text_w: float, text_h: float, padding: float
) -> tuple[float, float]:
    """Body size ``(w, h)`` whose outline holds a ``text_w × text_h`` block with ``padding``."""
    tw, th, pad = max(text_w, 0.0), max(text_h, 0.0), max(padding, 0.0)
    if kind.body == "box":
        j = 2 * CAPTION_JITTER
        return (tw + 2 * pad + j, th + 2 * pad + j)
    if kind.body == "bare":
        return (tw + 2 * pad, th + 2 * pad)
    ra, rb = tw / SQRT2 + pad, th / SQRT2 + pad
    ra, rb = max(ra, 0.5), max(rb, 0.5)
    if kind in (K.SPEECH, K.WHISPER):
        return (2 * ra / SPEECH_INNER, 2 * rb / SPEECH_INNER)
    # The rim size depends on the body size: solve inner(w, h) = (ra, rb).
    w, h = 2 * ra, 2 * rb
    for _ in range(60):
        a, b = _inner_axes(kind, w, h)
        dw, dh = ra - a, rb - b
        if dw <= 1e-6 and dh <= 1e-6 and dw > -1e-3 and dh > -1e-3:
            break
        w += 2 * dw * 1.1
        h += 2 * dh * 1.1
    a, b = _inner_axes(kind, w, h)
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


def body_path(kind: ir.BalloonKind, rect: Rect, seed: int) -> VectorPath:
    """The outline of a ``kind`` balloon inscribed in ``rect`` (deterministic in ``seed``)."""
    if kind.body == "bare" or rect.w <= 0 or rect.h <= 0:
        return VectorPath.rect(rect)
    rng = random.Random(f"{kind.value}:{int(seed)}")
    if kind.body == "box":
        cx, cy = rect.center
        return _map_path(caption_outline(rect.w, rect.h, rng), lambda x, y: (x + cx, y + cy))
    return _fit(BODY_OUTLINES[kind](rect.w, rect.h, rng), rect)


def stroke_for(kind: ir.BalloonKind, base_width: float) -> Stroke:
    """The outline stroke: whisper dashed, shout 1.6× heavier, others ``base_width``."""
    if kind is K.WHISPER:
        s = max(1.0, base_width)
        return Stroke(base_width, dash=(4.0 * s, 3.0 * s))
    if kind is K.SHOUT:
        return Stroke(base_width * 1.6)
    return Stroke(base_width)
