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
Curves are flattened by :meth:`VectorPath.polylines`, within 0.2 px.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from PIL import Image, ImageDraw

from comicc.images import load_font
from comicc.layout import VectorPath

Point = tuple[float, float]
PAPER = (246, 242, 232)  # the neutral init background: light paper tone
BALLOON_FILL = (255, 255, 255)
BALLOON_INK = (20, 20, 20)
MAX_FEATHER_STEPS = 32
MODES = ("blank", "lettered", "none")


def _polys(paths: Iterable[VectorPath], sx: float, sy: float) -> list[list[Point]]:
    """The outlines of ``paths`` in pixels (``x*sx, y*sy``), curves within 0.2 px."""
    return [
        line.points
        for p in paths
        for line in p.polylines(0.2, lambda x, y: (x * sx, y * sy))
        if len(line.points) >= 2
    ]


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
    # a margin wider than the image covers it all: never draw strokes wider than that
    diagonal = math.hypot(*size)
    margin, feather = min(max(margin, 0.0), diagonal), min(max(feather, 0.0), diagonal)
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
                font=load_font(None, max(4, round(pt * sy))),
                fill=BALLOON_INK,
                anchor="ls",
            )
    return img
