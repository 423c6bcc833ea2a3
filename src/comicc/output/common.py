"""Helpers shared by the writers: colors, atomic file output, path flattening."""

from __future__ import annotations

import functools
import re

_HEX = re.compile(r"#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_NAMED = {
    "black": "000000",
    "white": "ffffff",
    "red": "ff0000",
    "green": "008000",
    "blue": "0000ff",
    "yellow": "ffff00",
    "gray": "808080",
    "grey": "808080",
}

RGBA = tuple[float, float, float, float]


@functools.lru_cache(maxsize=1024)
def parse_color(value: str | None) -> RGBA | None:
    """``#rgb``, ``#rgba``, ``#rrggbb``, ``#rrggbbaa`` or a basic name → (r, g, b, a)
    in 0..1; None (or "none" / "transparent") → None."""
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("", "none", "transparent"):
        return None
    v = _NAMED.get(v, v)
    m = _HEX.fullmatch(v)
    if not m:
        raise ValueError(f"not a color: {value!r} (use #rrggbb)")
    h = m.group(1)
    if len(h) in (3, 4):
        h = "".join(ch * 2 for ch in h)
    if len(h) == 6:
        h += "ff"
    r, g, b, a = (int(h[i : i + 2], 16) / 255.0 for i in range(0, 8, 2))
    return (r, g, b, a)


def color_bytes(rgba: RGBA) -> tuple[int, int, int, int]:
    return tuple(int(round(c * 255)) for c in rgba)  # type: ignore[return-value]


# --- path flattening (raster output) -------------------------------------


def flatten_path(
    path, scale: float = 1.0, dx: float = 0.0, dy: float = 0.0, tolerance: float = 0.25
) -> list[tuple[list[tuple[float, float]], bool]]:
    """Turn a geometry ``Path`` into polylines ``[(points, closed), ...]`` in
    device units (``p * scale + (dx, dy)``); Béziers are split into straight
    segments no longer than about ``tolerance`` device units of error."""
    subpaths: list[tuple[list[tuple[float, float]], bool]] = []
    cur: list[tuple[float, float]] = []

    def tr(x: float, y: float) -> tuple[float, float]:
        return (x * scale + dx, y * scale + dy)

    for cmd in path.cmds:
        op = cmd.op.upper()
        if op == "M":
            if len(cur) > 1:
                subpaths.append((cur, False))
            cur = [tr(*cmd.pts[:2])]
        elif op == "L":
            cur.append(tr(*cmd.pts[:2]))
        elif op == "C":
            p0 = cur[-1] if cur else tr(*cmd.pts[:2])
            p1, p2, p3 = tr(*cmd.pts[0:2]), tr(*cmd.pts[2:4]), tr(*cmd.pts[4:6])
            # control-polygon length bounds the curve length; ~tolerance*8 per step
            est = _dist(p0, p1) + _dist(p1, p2) + _dist(p2, p3)
            steps = max(2, min(200, int(est / max(tolerance * 8, 1e-6)) + 1))
            for i in range(1, steps + 1):
                t = i / steps
                u = 1 - t
                a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
                cur.append(
                    (
                        a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                        a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
                    )
                )
        elif op == "Z":
            if len(cur) > 1:
                subpaths.append((cur, True))
            cur = [cur[0]] if cur else []
        else:
            raise ValueError(f"unknown path command {cmd.op!r}")
    if len(cur) > 1:
        subpaths.append((cur, False))
    return subpaths


def _dist(a, b) -> float:
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5


def dash_polyline(points: list[tuple[float, float]], pattern: tuple[float, ...]):
    """Split a polyline into the "on" pieces of a dash ``pattern`` (on, off, ...)."""
    pattern = tuple(p for p in pattern if p > 0)
    if not pattern or len(points) < 2:
        return [points]
    if len(pattern) % 2:
        pattern = pattern * 2
    pieces: list[list[tuple[float, float]]] = []
    idx, left, on = 0, pattern[0], True
    piece = [points[0]]
    for a, b in zip(points, points[1:]):
        seg = _dist(a, b)
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
            idx = (idx + 1) % len(pattern)
            left = pattern[idx]
        left -= seg - pos
        if on:
            piece.append(b)
        else:
            piece = [b]
    if on and len(piece) > 1:
        pieces.append(piece)
    return pieces
