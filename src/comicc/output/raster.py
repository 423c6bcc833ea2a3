"""Raster output: pages as PIL images drawn from the same geometry and art as
the PDF (used for PNG pages and CBZ).

Art is scaled to cover its panel rect (centered, clipped). Vector shapes
(borders, balloons) are drawn supersampled in a local layer and reduced for
anti-aliasing; lettering is drawn with FreeType (:func:`comicc.images.load_font`),
which anti-aliases on its own.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from comicc.files import write_file_set
from comicc.images import PanelArt, encode_image, load_font
from comicc.layout import BalloonGeom, BookGeom, PageGeom, Rect, Shape
from comicc.model import ir
from comicc.output.color import color_bytes, parse_color
from comicc.output.dash import dash_polyline

__all__ = ["PAGE_NAMES", "render_page", "render_pages", "page_images", "write_png_pages"]

SUPERSAMPLE = 4  # vector anti-aliasing factor
LAYER_BUDGET = 12_000_000  # max pixels of one supersampled layer
SFX_OUTLINE = 0.06  # as in the PDF: outline width / font size


def render_page(
    page: PageGeom,
    art: dict[str, PanelArt],
    *,
    dpi: float = 150,
    bleed: bool = False,
    page_color: str | None = "#ffffff",
) -> Image.Image:
    """Draw ``page`` at ``dpi`` as an RGB image of the trim (or trim + bleed)."""
    k = dpi / 72.0
    b = page.bleed if bleed else 0.0
    size = (max(1, round((page.width + 2 * b) * k)), max(1, round((page.height + 2 * b) * k)))
    col = parse_color(page_color)
    bg = color_bytes(col)[:3] if col else (255, 255, 255)
    img = Image.new("RGB", size, bg)

    def px(x: float, y: float) -> tuple[float, float]:
        return ((x + b) * k, (y + b) * k)

    for panel in page.panels:
        a = art.get(panel.id)
        if a is not None:
            _paste_art(img, a, panel.rect, px)
    vector = [(panel.border, False) for panel in page.panels if panel.border is not None]
    vector += [(s, True) for s in page.extra]
    for shape, fill in vector:
        _draw_shapes(img, [shape], fill, k, b)
    for panel in page.panels:
        for balloon in panel.balloons:
            if balloon.shapes:
                _draw_shapes(img, list(balloon.shapes), True, k, b)
            _draw_lettering(img, balloon, px, k)
    return img


def render_pages(
    book: BookGeom,
    art: dict[str, PanelArt],
    *,
    dpi: float = 150,
    bleed: bool = False,
    page_color: str | None = "#ffffff",
) -> Iterator[Image.Image]:
    """Yield one image per page of ``book`` (see :func:`render_page`)."""
    for page in book.pages:
        yield render_page(page, art, dpi=dpi, bleed=bleed, page_color=page_color)


def page_images(
    book: BookGeom,
    art: dict[str, PanelArt],
    *,
    dpi: float = 150,
    image_format: str = "jpeg",
    quality: int = 90,
    bleed: bool = False,
    page_color: str | None = "#ffffff",
    reuse: Mapping[int, bytes] | None = None,
) -> list[bytes]:
    """Encoded pages (JPEG at ``quality``, or lossless PNG) for :func:`write_cbz`.
    ``reuse``: page index -> the encoded page as an earlier build made it from
    the same geometry, art and options (not drawn again)."""
    return list(_encoded(book, art, dpi, bleed, page_color, image_format, quality, reuse or {}))


def _encoded(
    book: BookGeom,
    art: dict[str, PanelArt],
    dpi: float,
    bleed: bool,
    page_color: str | None,
    image_format: str,
    quality: int,
    reuse: Mapping[int, bytes],
) -> Iterator[bytes]:
    for i, page in enumerate(book.pages):
        done = reuse.get(i)
        if done is None:
            im = render_page(page, art, dpi=dpi, bleed=bleed, page_color=page_color)
            done = encode_image(im, image_format, quality)
        yield done


PAGE_NAMES = r"page-\d+\.png"  # the files a PNG build writes (and may later remove)


def write_png_pages(
    book: BookGeom,
    art: dict[str, PanelArt],
    out_dir: str | os.PathLike[str],
    *,
    dpi: float = 150,
    bleed: bool = False,
    page_color: str | None = "#ffffff",
    follow_symlinks: bool = True,
    reuse: Mapping[int, bytes] | None = None,
) -> list[Path]:
    """Write ``page-001.png`` ... into ``out_dir`` as one set
    (:func:`comicc.files.write_file_set`): a reader sees the whole old set or
    the whole new one, and of the files already there only those the last
    build wrote (its manifest says which) are ever removed. ``reuse``: as
    for :func:`page_images`."""
    pages = _encoded(book, art, dpi, bleed, page_color, "png", 90, reuse or {})
    files = ((_page_name(i, len(book.pages)), data) for i, data in enumerate(pages))
    return write_file_set(out_dir, files, names=PAGE_NAMES, follow_symlinks=follow_symlinks)


def _page_name(index: int, pages: int) -> str:
    """The file of page ``index`` (0-based) of a book of ``pages`` pages: ``page-001.png``."""
    width = max(3, len(str(pages)))
    return f"page-{index + 1:0{width}d}.png"


# --- art -----------------------------------------------------------------


ToPixels = Callable[[float, float], tuple[float, float]]  # page points -> image pixels


def _paste_art(img: Image.Image, art: PanelArt, rect: Rect, px: ToPixels) -> None:
    x0, y0 = px(rect.x, rect.y)
    x1, y1 = px(rect.x2, rect.y2)
    bw, bh = max(1, round(x1 - x0)), max(1, round(y1 - y0))
    src = art.open()
    if art.format == "jpeg":
        src.draft("RGB", (bw, bh))  # let libjpeg downscale while decoding
    src = src.convert("RGB")
    scale = max(bw / src.width, bh / src.height)  # cover, centered
    cw, ch = bw / scale, bh / scale
    left, top = (src.width - cw) / 2, (src.height - ch) / 2
    tile = src.resize((bw, bh), Image.Resampling.LANCZOS, box=(left, top, left + cw, top + ch))
    img.paste(tile, (round(x0), round(y0)))  # paste clips to the page


# --- vector shapes -------------------------------------------------------


def _bounds(
    shapes: list[Shape], k: float, b: float, img_size: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    xs: list[float] = []
    ys: list[float] = []
    for s in shapes:
        bb = s.path.bbox()
        pad = (s.stroke.width if s.stroke else 0) + 1
        xs += [bb.x - pad, bb.x2 + pad]
        ys += [bb.y - pad, bb.y2 + pad]
    if not xs:
        return None
    x0 = max(0, math.floor((min(xs) + b) * k))
    y0 = max(0, math.floor((min(ys) + b) * k))
    x1 = min(img_size[0], math.ceil((max(xs) + b) * k))
    y1 = min(img_size[1], math.ceil((max(ys) + b) * k))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _draw_shapes(img: Image.Image, shapes: list[Shape], fill: bool, k: float, b: float) -> None:
    """Paint shapes (fill, then stroke; in order) into a supersampled RGBA
    layer over their bounding box, then reduce it onto ``img``."""
    box = _bounds(shapes, k, b, img.size)
    if box is None:
        return
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    ss = max(1, min(SUPERSAMPLE, int(math.sqrt(LAYER_BUDGET / (w * h)))))
    layer = Image.new("RGBA", (w * ss, h * ss), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    scale = k * ss
    dx, dy = (b * k - x0) * ss, (b * k - y0) * ss

    def to_layer(x: float, y: float) -> tuple[float, float]:
        return (x * scale + dx, y * scale + dy)

    for s in shapes:
        polys = s.path.polylines(0.2, to_layer)
        fc = parse_color(s.fill) if fill else None
        if fc:
            for pts, _closed in polys:
                if len(pts) > 2:
                    draw.polygon(pts, fill=color_bytes(fc))
        st = s.stroke
        sc = parse_color(st.color) if st is not None and st.width > 0 else None
        if st is not None and sc:
            lw = max(1, round(st.width * scale))
            for pts, closed in polys:
                line = pts + [pts[0]] if closed else pts
                pieces = (
                    dash_polyline(line, tuple(d * scale for d in st.dash)) if st.dash else [line]
                )
                for piece in pieces:
                    # dashes get butt caps, as in the PDF: round caps would close the gaps
                    _stroke(draw, piece, lw, color_bytes(sc), round_caps=not st.dash)
    if ss > 1:  # average premultiplied, or edges pick up the transparent black
        layer = layer.convert("RGBa").reduce(ss).convert("RGBA")
    img.paste(layer, (x0, y0), layer)


def _stroke(
    draw: ImageDraw.ImageDraw,
    pts: Sequence[tuple[float, float]],
    width: int,
    color: tuple[int, int, int, int],
    round_caps: bool = True,
) -> None:
    """A polyline with round joins and, unless it is a dash, round caps (like the PDF's)."""
    if len(pts) < 2:
        return
    draw.line(pts, fill=color, width=width, joint="curve")
    if round_caps and width > 2:
        r = width / 2
        for x, y in (pts[0], pts[-1]):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=color)


# --- lettering -----------------------------------------------------------


def draw_turned(
    img: Image.Image,
    rect: Rect,
    angle: float,
    k: float,
    px: ToPixels,
    paint: Callable[[ImageDraw.ImageDraw, ToPixels], None],
) -> None:
    """Draw with ``paint`` (given a draw and the points -> pixels map it should use) on a
    layer around ``rect`` and turn it by ``angle`` degrees (counter-clockwise on the
    page) about the rect's center before it goes onto ``img``."""
    cx, cy = px(*rect.center)
    half = math.ceil(math.hypot(rect.w, rect.h) * k * 0.75 + 4)
    x0, y0 = math.floor(cx) - half, math.floor(cy) - half
    layer = Image.new("RGBA", (2 * half, 2 * half), (0, 0, 0, 0))

    def local(x: float, y: float) -> tuple[float, float]:
        u, v = px(x, y)
        return (u - x0, v - y0)

    paint(ImageDraw.Draw(layer), local)
    layer = layer.rotate(angle, Image.Resampling.BICUBIC, center=(cx - x0, cy - y0))
    img.paste(layer, (x0, y0), layer)


def _draw_lettering(img: Image.Image, balloon: BalloonGeom, px: ToPixels, k: float) -> None:
    if balloon.angle:
        draw_turned(
            img,
            balloon.rect,
            balloon.angle,
            k,
            px,
            lambda draw, local: _letter(draw, balloon, local, k),
        )
        return
    _letter(ImageDraw.Draw(img), balloon, px, k)


def _letter(draw: ImageDraw.ImageDraw, balloon: BalloonGeom, px: ToPixels, k: float) -> None:
    outlined = ir.BalloonKind.parse(balloon.kind).body == "bare"  # display lettering
    for line in balloon.lines:
        for run in line.runs:
            if not run.text:
                continue
            font = load_font(run.font.path, run.font.size * k)
            col = parse_color(run.color) or (0.0, 0.0, 0.0, 1.0)
            stroke_width, stroke_fill = 0, None
            if outlined:
                light = 0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2] > 0.5
                # the PDF strokes the outline centered on the glyph edge: half shows
                stroke_width = max(1, round(run.font.size * SFX_OUTLINE * k / 2))
                stroke_fill = (0, 0, 0) if light else (255, 255, 255)
            draw.text(
                px(run.x, run.baseline),
                run.text,
                font=font,
                fill=color_bytes(col)[:3],
                anchor="ls",
                stroke_width=stroke_width,
                stroke_fill=stroke_fill,
            )
