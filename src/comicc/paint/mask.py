"""Init image and mask for one panel, from the reserved balloon shapes.

Mask convention (see :mod:`comicc.backends.base`): ``"L"``, 255 = PAINT,
0 = KEEP, grey = partial. The KEEP zone is every reserved shape (balloon body
and tail) grown by ``keep_margin`` px (a Minkowski sum with a disc: the
polygon, its outline stroked 2 x margin wide, and a disc on every vertex).
Outside it the mask rises linearly from KEEP to PAINT over ``feather`` px, so
the kept zone itself is always fully KEEP and only the surrounding ring is
partial.

Geometry comes in panel-relative points (origin = the panel box's top-left,
y down) and is scaled with separate x/y factors, so the same shapes can be
rasterized at the exact panel box size and at the negotiated request size.
Curves are flattened by :meth:`VectorPath.polylines`, within 0.2 px.

Speed (cache key version 3): the outline is stroked WITHOUT Pillow's round
joints. Those are a Python loop of pie slices and gap lines per vertex (a
million calls for a book) and almost entirely inside the vertex discs drawn
anyway; leaving them out makes the mask about 4x cheaper. Not quite every
pixel is the same as before (version 2): a joint could reach a pixel past its
disc, so a few feather-ring pixels now take the next ring's value -- none on
the examples at 300 dpi, a few dozen over 312 masks at other scales;
``tests/paint/test_mask.py`` bounds the difference. The polygon itself is
filled once, by the innermost ring (each outer ring is overwritten inside it),
and a disc once per integer box (Pillow truncates coordinates).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from PIL import Image, ImageChops, ImageDraw

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


def _grown(
    d: ImageDraw.ImageDraw, polys: list[list[Point]], r: float, value: int, *, fill: bool
) -> None:
    """Draw every polygon grown by ``r`` px with ``value``; ``fill``: its inside too
    (an outer feather ring leaves it out: the inner rings overwrite it)."""
    for poly in polys:
        if fill and len(poly) >= 3:
            d.polygon(poly, fill=value)
        if r < 0.5:
            continue
        d.line([*poly, poly[0]], fill=value, width=max(1, round(2 * r)))
        # Pillow truncates coordinates: discs with the same integer box are one disc
        boxes = {(int(x - r), int(y - r), int(x + r), int(y + r)) for x, y in poly}
        for box in boxes:
            d.ellipse(box, fill=value)


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
    return _keep_zone(_polys(paths, sx, sy), size, margin, feather)


def _keep_zone(
    polys: list[list[Point]], size: tuple[int, int], margin: float, feather: float
) -> Image.Image:
    zone = Image.new("L", size, 0)
    if not polys:
        return zone
    # a margin wider than the image covers it all: never draw strokes wider than that
    diagonal = math.hypot(*size)
    margin, feather = min(max(margin, 0.0), diagonal), min(max(feather, 0.0), diagonal)
    d = ImageDraw.Draw(zone)
    steps = min(MAX_FEATHER_STEPS, math.ceil(feather)) if feather > 0 else 0
    for i in range(steps, 0, -1):  # outermost ring first; inner rings overwrite
        value = round(255 * (1 - (i - 0.5) / steps))
        _grown(d, polys, margin + feather * i / steps, value, fill=False)
    _grown(d, polys, margin, 255, fill=True)
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
    return _mask(_polys(paths, sx, sy), size, margin, feather, mode)


def _mask(
    polys: list[list[Point]], size: tuple[int, int], margin: float, feather: float, mode: str
) -> Image.Image:
    if mode not in MODES:
        raise ValueError(f"mask mode must be one of {MODES}, not {mode!r}")
    if mode == "none":
        return Image.new("L", size, 255)
    return ImageChops.invert(_keep_zone(polys, size, margin, feather))


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
    polys = [] if mode == "none" else _polys(paths, sx, sy)
    return _init(polys, size, sx, sy, mode, lines, paper)


def _init(
    polys: list[list[Point]],
    size: tuple[int, int],
    sx: float,
    sy: float,
    mode: str,
    lines: Sequence[tuple[str, float, float, float]],
    paper: tuple[int, int, int],
) -> Image.Image:
    img = Image.new("RGB", size, paper)
    if mode == "none":
        return img
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


def panel_images(
    paths: Sequence[VectorPath],
    size: tuple[int, int],
    sx: float,
    sy: float,
    *,
    margin: float,
    feather: float,
    mode: str,
    lines: Sequence[tuple[str, float, float, float]] = (),
) -> tuple[Image.Image, Image.Image]:
    """``(init image, mask)`` at ``size``: :func:`build_init` and :func:`build_mask`
    with the curves flattened once."""
    if mode not in MODES:
        raise ValueError(f"mask mode must be one of {MODES}, not {mode!r}")
    polys = [] if mode == "none" else _polys(paths, sx, sy)
    init = _init(polys, size, sx, sy, mode, lines, PAPER)
    return init, _mask(polys, size, margin, feather, mode)
