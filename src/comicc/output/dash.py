"""Dash patterns on polylines: the "on" pieces a raster writer strokes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

Point = tuple[float, float]


def dash_polyline(points: Sequence[Point], pattern: Sequence[float]) -> list[list[Point]]:
    """Split a polyline into the "on" pieces of a dash ``pattern`` (on, off, ...,
    in the points' units; an odd-length pattern repeats, as in PDF). The
    pattern runs on across vertices. No pattern: the polyline itself."""
    lengths = tuple(p for p in pattern if p > 0)
    if not lengths or len(points) < 2:
        return [list(points)]
    if len(lengths) % 2:
        lengths = lengths * 2
    pieces: list[list[Point]] = []
    idx, left, on = 0, lengths[0], True
    piece = [points[0]]
    for a, b in pairwise(points):
        seg = math.hypot(b[0] - a[0], b[1] - a[1])
        pos = 0.0
        while seg - pos > left:
            pos += left
            t = pos / seg
            p = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
            if on:
                piece.append(p)
                pieces.append(piece)
            piece = [p]
            on = not on
            idx = (idx + 1) % len(lengths)
            left = lengths[idx]
        left -= seg - pos
        if on:
            piece.append(b)
        else:
            piece = [b]
    if on and len(piece) > 1:
        pieces.append(piece)
    return pieces
