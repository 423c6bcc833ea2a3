"""Wireframes for proofing: ``draw_wireframe`` paints one page's panels,
balloons, lettering and speaker marks, without art, so a writer can proof the
lettering before any image backend runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw

from comicc.images import RasterFont, load_font
from comicc.layout import BalloonGeom, PageGeom, Rect, Shape
from comicc.output.dash import dash_polyline
from comicc.output.raster import draw_turned

Point = tuple[float, float]
ToPixels = Callable[[Point], Point]  # page points -> image pixels


def draw_wireframe(page: PageGeom, dpi: float = 150, supersample: int = 2) -> Image.Image:
    """A proof of one page (trim plus bleed) as a Pillow RGB image."""
    k = dpi / 72.0 * supersample
    off = page.bleed
    out_w = max(1, round((page.width + 2 * off) * dpi / 72.0))
    out_h = max(1, round((page.height + 2 * off) * dpi / 72.0))
    W, H = out_w * supersample, out_h * supersample
    img = Image.new("RGB", (W, H), "#dcdcdc")
    d = ImageDraw.Draw(img)

    def pt(p: Point) -> Point:
        return ((p[0] + off) * k, (p[1] + off) * k)

    def box(r: Rect) -> list[Point]:
        return [pt((r.x, r.y)), pt((r.x2, r.y2))]

    d.rectangle(box(Rect(0, 0, page.width, page.height)), fill="#ffffff")
    live = [pt(q) for q in _rect_pts(page.live)]
    _dashed(d, live + live[:1], "#8fb4e8", max(1, round(k * 0.5)), (4 * k, 3 * k))
    if len(page.numbers) > 1:  # the fold of a spread
        x = page.width / 2
        fold = [pt((x, -off)), pt((x, page.height + off))]
        _dashed(d, fold, "#b0b0b0", max(1, round(k * 0.5)), (6 * k, 4 * k))
    for pn in page.panels:
        d.rectangle(box(pn.rect), fill="#f4f1ea")
    for pn in page.panels:
        if pn.border is not None:
            _paint(d, pn.border, pt, k)
        d.text(
            pt((pn.rect.x + 3, pn.rect.y2 - 2)),
            pn.id,
            fill="#9a9a9a",
            anchor="lb",
            font=_font(None, 6 * k),
        )
        for name, (x, y) in pn.cast:
            cx, cy = pt((x, y))
            r = 3 * k
            d.ellipse(
                [cx - r, cy - r, cx + r, cy + r], outline="#2a7", width=max(1, round(k * 0.8))
            )
            d.line([cx - r * 1.6, cy, cx + r * 1.6, cy], fill="#2a7", width=max(1, round(k * 0.5)))
            d.text((cx, cy + r * 1.5), name, fill="#2a7", anchor="mt", font=_font(None, 5.5 * k))
    for pn in page.panels:
        for balloon in pn.balloons:
            for s in balloon.shapes:
                _paint(d, s, pt, k)
        for balloon in pn.balloons:
            if balloon.overflow > 0:
                d.rectangle(box(balloon.rect), outline="#e02020", width=max(1, round(k)))
            if balloon.angle:  # turned display lettering (SFX)
                _turned_letters(img, balloon, pt, k)
                continue
            _letter(d, balloon, pt, k)
    if supersample > 1:
        img = img.resize((out_w, out_h), Image.Resampling.LANCZOS)
    return img


def _turned_letters(img: Image.Image, balloon: BalloonGeom, pt: ToPixels, k: float) -> None:
    """The lettering of ``balloon`` turned by its angle (an SFX)."""

    def to_px(x: float, y: float) -> Point:
        return pt((x, y))

    def paint(draw: ImageDraw.ImageDraw, local: Callable[[float, float], Point]) -> None:
        _letter(draw, balloon, lambda p: local(*p), k)

    draw_turned(img, balloon.rect, balloon.angle, k, to_px, paint)


def _letter(d: ImageDraw.ImageDraw, balloon: BalloonGeom, pt: ToPixels, k: float) -> None:
    """The lettering of ``balloon``, unturned."""
    for ln in balloon.lines:
        for run in ln.runs:
            d.text(
                pt((run.x, run.baseline)),
                run.text,
                fill=run.color,
                anchor="ls",
                font=_font(run.font.path, run.font.size * k),
            )


def _font(path: str | None, px: float) -> RasterFont:
    """The run's font at a whole pixel size; Pillow's default face for labels
    (``path`` None) and for a font file that cannot be read."""
    size = max(1, round(px))
    try:
        return load_font(path, size)
    except OSError:
        return load_font(None, size)


def _rect_pts(r: Rect) -> list[Point]:
    return [(r.x, r.y), (r.x2, r.y), (r.x2, r.y2), (r.x, r.y2)]


def _paint(d: ImageDraw.ImageDraw, s: Shape, pt: ToPixels, k: float) -> None:
    polys = [line.points for line in s.path.polylines(0.3 * k, lambda x, y: pt((x, y)))]
    for poly in polys:
        if s.fill is not None and len(poly) >= 3:
            d.polygon(poly, fill=s.fill)
    if s.stroke is None or s.stroke.width <= 0:
        return
    w = max(1, round(s.stroke.width * k))
    for poly in polys:
        ring = poly + [poly[0]]
        if s.stroke.dash:
            _dashed(d, ring, s.stroke.color, w, tuple(v * k for v in s.stroke.dash))
        else:
            d.line(ring, fill=s.stroke.color, width=w, joint="curve")


def _dashed(
    d: ImageDraw.ImageDraw, line: list[Point], color: str, width: int, pattern: Sequence[float]
) -> None:
    for piece in dash_polyline(line, pattern):
        d.line(piece, fill=color, width=width)


__all__ = ["draw_wireframe"]
