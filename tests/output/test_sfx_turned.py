"""Turned SFX lettering: the layout's angle is drawn in the PDF (a rotation about the
lettering box's center), in PNG pages and in wireframes (checked on the pixels)."""

from __future__ import annotations

import io
import math
from dataclasses import replace

import pikepdf
from PIL import Image, ImageChops

from comicc.layout import BookGeom, layout_book
from comicc.output import draw_wireframe, pdf_bytes, render_page
from support.layout import US, make_theme, page, panel, script

THEME = make_theme()
SFX_RGB = (0xC0, 0x10, 0x10)  # the test theme's SFX color


def _book() -> BookGeom:
    items = [("HAMMY", "Look out!"), ("SFX", "KRAKOOM")]
    return layout_book(script([page(1, [panel(1, items, {"HAMMY": (0.3, 0.7)})])]), THEME, US)[0]


def _upright(book: BookGeom) -> BookGeom:
    pg = book.pages[0]
    pn = pg.panels[0]
    balloons = tuple(replace(b, angle=0.0) for b in pn.balloons)
    return replace(book, pages=(replace(pg, panels=(replace(pn, balloons=balloons),)),))


def _ink_box(img: Image.Image) -> tuple[int, int, int, int]:
    """The bounding box of the SFX-colored pixels."""
    red, green, blue = img.convert("RGB").split()
    near = red.point(lambda v: 255 if abs(v - SFX_RGB[0]) < 40 else 0)
    dark_g = green.point(lambda v: 255 if v < 80 else 0)
    dark_b = blue.point(lambda v: 255 if v < 80 else 0)
    mask = ImageChops.multiply(ImageChops.multiply(near, dark_g), dark_b)
    box = mask.getbbox()
    assert box is not None
    return box


def test_the_sfx_angle_is_drawn_in_pdf_and_png():
    book = _book()
    sfx = book.pages[0].panels[0].balloons[1]
    assert sfx.kind == "sfx" and sfx.angle != 0.0
    with pikepdf.open(io.BytesIO(pdf_bytes(book, {}, None))) as pdf:
        ops = pikepdf.parse_content_stream(pdf.pages[0])
    c, s = math.cos(math.radians(sfx.angle)), math.sin(math.radians(sfx.angle))
    turns = [
        [float(v) for v in ins.operands]
        for ins in ops
        if isinstance(ins, pikepdf.ContentStreamInstruction)
        and str(ins.operator) == "cm"
        and abs(float(ins.operands[1]) - s) < 1e-4
    ]
    assert turns and abs(turns[0][0] - c) < 1e-4 and abs(turns[0][2] + s) < 1e-4
    for draw in (
        lambda b: render_page(b.pages[0], {}, dpi=100),
        lambda b: draw_wireframe(b.pages[0], dpi=100, supersample=1),
    ):
        turned, flat = _ink_box(draw(book)), _ink_box(draw(_upright(book)))
        # a word turned by a few degrees: its ink stands taller than the upright word's
        assert turned[3] - turned[1] > flat[3] - flat[1] + 3
