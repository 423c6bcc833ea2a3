"""Init image and mask for one panel, from the reserved balloon shapes.

Mask convention (see :mod:`comicc.backends.base`): ``"L"``, 255 = PAINT,
0 = KEEP, grey = partial. The KEEP zone is every reserved shape (balloon body
and tail) grown by ``keep_margin`` px (an exact Minkowski sum with a disc:
polygon + round-capped strokes of width 2 x margin). Outside it the mask rises
linearly from KEEP to PAINT over ``feather`` px, so the kept zone itself is
always fully KEEP and only the surrounding ring is partial.

Geometry comes in panel-relative points (origin = the panel box's top-left,
y down) and is scaled with separate x/y factors, so the same shapes can be
rasterized at the exact panel box size and at the negotiated request size.
Curves are flattened here with Wang's formula (no dependency on layout).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from comicc.layout.geometry import VectorPath

Point = tuple[float, float]
PAPER = (246, 242, 232)  # the neutral init background: light paper tone
BALLOON_FILL = (255, 255, 255)
BALLOON_INK = (20, 20, 20)
MAX_FEATHER_STEPS = 32
MODES = ("blank", "lettered", "none")


def flatten(
    path: VectorPath,
    sx: float = 1.0,
    sy: float = 1.0,
    tolerance: float = 0.2,
    dx: float = 0.0,
    dy: float = 0.0,
) -> list[list[Point]]:
    """Subpaths of ``path`` as point lists, mapped by ``(x*sx + dx, y*sy + dy)``.

    Cubic (``C``) and quadratic (``Q``) segments are cut into straight pieces
    no further than ``tolerance`` (output units) from the curve.
    """
    subs: list[list[Point]] = []
    cur: list[Point] = []
    start: Point | None = None

    def tr(x: float, y: float) -> Point:
        return (x * sx + dx, y * sy + dy)

    for cmd in path.cmds:
        op = cmd.op.upper()
        p = [tr(cmd.pts[i], cmd.pts[i + 1]) for i in range(0, len(cmd.pts) - 1, 2)]
        if op == "M":
            if len(cur) > 1:
                subs.append(cur)
            cur, start = [p[0]], p[0]
            cur.extend(p[1:])
        elif op == "L":
            cur.extend(p)
        elif op in ("C", "Q") and cur:
            ctrl = [cur[-1]] + p
            cur.extend(_bezier(ctrl, tolerance))
        elif op == "Z":
            if start is not None and cur and cur[-1] != start:
                cur.append(start)
            if len(cur) > 1:
                subs.append(cur)
            cur = [start] if start is not None else []
    if len(cur) > 1:
        subs.append(cur)
    return subs


def _bezier(ctrl: Sequence[Point], tol: float) -> list[Point]:
    """Points after ctrl[0] on the Bezier with control points ``ctrl`` (degree 2 or 3)."""
    deg = len(ctrl) - 1
    m = max(
        (
            math.hypot(
                ctrl[i][0] - 2 * ctrl[i + 1][0] + ctrl[i + 2][0],
                ctrl[i][1] - 2 * ctrl[i + 1][1] + ctrl[i + 2][1],
            )
            for i in range(deg - 1)
        ),
        default=0.0,
    )
    n = max(1, min(1000, math.ceil(math.sqrt(deg * (deg - 1) / 8 * m / max(tol, 1e-6)))))
    out = []
    for k in range(1, n + 1):
        t = k / n
        u = 1 - t
        if deg == 3:
            c = (u**3, 3 * u * u * t, 3 * u * t * t, t**3)
        elif deg == 2:
            c = (u * u, 2 * u * t, t * t)
        else:
            c = (u, t)
        out.append(
            (sum(ci * q[0] for ci, q in zip(c, ctrl)), sum(ci * q[1] for ci, q in zip(c, ctrl)))
        )
    return out


def _polys(paths: Iterable[VectorPath], sx: float, sy: float) -> list[list[Point]]:
    return [poly for p in paths for poly in flatten(p, sx, sy) if len(poly) >= 2]


def _grown(d: ImageDraw.ImageDraw, polys: list[list[Point]], r: float, value: int) -> None:
    """Fill every polygon grown by ``r`` px with ``value``."""
    for poly in polys:
        if len(poly) >= 3:
            d.polygon(poly, fill=value)
        if r < 0.5:
            continue
        ring = poly + [poly[0]]
        d.line(ring, fill=value, width=max(1, round(2 * r)), joint="curve")
        for x, y in poly:
            d.ellipse([x - r, y - r, x + r, y + r], fill=value)


def keep_zone(
    paths: Sequence[VectorPath],
    size: tuple[int, int],
    sx: float,
    sy: float,
    margin: float,
    feather: float,
) -> Image.Image:
    """``"L"`` image: 255 inside the shapes grown by ``margin`` px, a linear ramp
    down to 0 over the next ``feather`` px, 0 elsewhere."""
    zone = Image.new("L", size, 0)
    polys = _polys(paths, sx, sy)
    if not polys:
        return zone
    d = ImageDraw.Draw(zone)
    steps = min(MAX_FEATHER_STEPS, math.ceil(feather)) if feather > 0 else 0
    for i in range(steps, 0, -1):  # outermost ring first; inner rings overwrite
        _grown(d, polys, margin + feather * i / steps, round(255 * (1 - (i - 0.5) / steps)))
    _grown(d, polys, margin, 255)
    return zone


def build_mask(
    paths: Sequence[VectorPath],
    size: tuple[int, int],
    sx: float,
    sy: float,
    *,
    margin: float,
    feather: float,
    mode: str,
) -> Image.Image:
    """The request mask: 255 = PAINT, 0 = KEEP (the balloons and their margin)."""
    if mode not in MODES:
        raise ValueError(f"mask mode must be one of {MODES}, not {mode!r}")
    if mode == "none":
        return Image.new("L", size, 255)
    return keep_zone(paths, size, sx, sy, margin, feather).point(lambda v: 255 - v)


@lru_cache(maxsize=64)
def _font(px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=max(4, px))


def build_init(
    paths: Sequence[VectorPath],
    size: tuple[int, int],
    sx: float,
    sy: float,
    *,
    mode: str,
    lines: Sequence[tuple[str, float, float, float]] = (),
    paper: tuple[int, int, int] = PAPER,
) -> Image.Image:
    """The init image: paper, plus (unless ``none``) the balloon shapes as flat
    white, plus (``lettered``) each text line drawn roughly with Pillow's
    default font. ``lines`` are ``(text, x, baseline, size)`` in panel points.

    No outline is drawn: the masks experiment found flat white shapes work
    best, and the real outline (dashed for whispers, jagged for bursts) is
    vector art drawn on top at assembly, which a raster outline underneath
    would show through."""
    img = Image.new("RGB", size, paper)
    if mode == "none":
        return img
    polys = _polys(paths, sx, sy)
    d = ImageDraw.Draw(img)
    for poly in polys:
        if len(poly) >= 3:
            d.polygon(poly, fill=BALLOON_FILL)
    if mode == "lettered":
        for text, x, baseline, pt in lines:
            d.text(
                (x * sx, baseline * sy),
                text,
                font=_font(round(pt * sy)),
                fill=BALLOON_INK,
                anchor="ls",
            )
    return img
