"""The synthetic oblique written straight from the outlines (comicc.fonts.oblique)
gives the bytes of the pen pipeline it replaces, kept here as the reference."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.pens.transformPen import TransformPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables import ttProgram
from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphComponent, GlyphCoordinates

from comicc.fonts import FontBook
from comicc.fonts.derive import (
    OBLIQUE_ANGLE,
    derive_face,
    rename_derived,
    slant,
)
from comicc.fonts.files import fontpkg_files
from comicc.fonts.oblique import SkewedGlyph

_VARIATION = ("fvar", "gvar", "avar", "cvar", "HVAR", "VVAR", "MVAR", "STAT")
_HINTING = ("fpgm", "prep", "cvt ", "hdmx", "LTSH", "VDMX")


def reference_slant(font: TTFont, angle: float) -> None:
    """The pen-based slant of comicc ≤ session 20, verbatim."""
    for tag in _VARIATION + _HINTING:
        if tag in font:
            del font[tag]
    skew = math.tan(math.radians(angle))
    glyphs = font.getGlyphSet()
    glyf, hmtx = font["glyf"], font["hmtx"]
    new = {}
    for name in font.getGlyphOrder():
        rec = DecomposingRecordingPen(glyphs)
        glyphs[name].draw(rec)
        pen = TTGlyphPen(None)
        rec.replay(TransformPen(pen, (1, 0, skew, 1, 0, 0)))
        new[name] = pen.glyph()
    for name, g in new.items():
        glyf[name] = g
        g.recalcBounds(glyf)
        hmtx[name] = (hmtx[name][0], getattr(g, "xMin", 0))
    font["post"].italicAngle = -angle
    font["head"].macStyle |= 0x02
    if "OS/2" in font:
        font["OS/2"].fsSelection = (font["OS/2"].fsSelection | 0x01) & ~0x40


def _saved(font: TTFont) -> bytes:
    font.recalcTimestamp = False
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _both(src: str | io.BytesIO, angle: float = OBLIQUE_ANGLE) -> tuple[bytes, bytes]:
    if isinstance(src, io.BytesIO):
        src.seek(0)
    ref = TTFont(src)
    reference_slant(ref, angle)
    if isinstance(src, io.BytesIO):
        src.seek(0)
    new = TTFont(src)
    slant(new, angle)
    return _saved(ref), _saved(new)


def _packaged(stem: str) -> str:
    return next(f.path for f in fontpkg_files() if Path(f.path).stem == stem)


# Kalam-Regular: a glyph whose hmtx lsb is not its xMin (drawn shifted);
# Luckiest Guy: composites, some scaled; Noto Sans Thai: a variable font
# slanted at its default instance (tables dropped), with composites
@pytest.mark.parametrize(
    "stem", ["Kalam-Regular", "LuckiestGuy-Regular", "NotoSansThai[wdth,wght]"]
)
def test_slant_gives_the_pen_pipelines_bytes(stem):
    ref, new = _both(_packaged(stem))
    assert new == ref


def _simple(points: list[tuple[float, float]], flags: list[int], ends: list[int]) -> Glyph:
    g = Glyph()
    g.coordinates = GlyphCoordinates(points)
    g.flags = bytearray(flags)
    g.endPtsOfContours = ends
    g.numberOfContours = len(ends)
    g.program = ttProgram.Program()
    g.program.fromBytecode(b"")
    return g


def _composite(parts: list[tuple[str, tuple[float, ...]]]) -> Glyph:
    g = Glyph()
    g.numberOfContours = -1
    g.components = []
    for name, (xx, xy, yx, yy, dx, dy) in parts:
        c = GlyphComponent()
        c.glyphName, c.x, c.y, c.flags = name, dx, dy, 0x4
        if (xx, xy, yx, yy) != (1, 0, 0, 1):
            c.transform = [[xx, xy], [yx, yy]]
        c.flags |= 0x8 if xx == yy and not xy and not yx else 0x80
        g.components.append(c)
    return g


def _edge_font() -> io.BytesIO:
    """A font with the outlines the fast path must get exactly right."""
    glyphs = {
        ".notdef": Glyph(),  # no contours
        "box": _simple(
            # starts off-curve; a closing point repeating the start; an anchor
            [(10, 0), (0, 0), (0, 700), (500, 700), (500, 0), (0, 0), (250, 350)],
            [0, 1, 1, 1, 1, 1, 1],
            [5, 6],
        ),
        "round": _simple(  # all off-curve; a curve closing on its start
            [(0, 0), (0, 600), (600, 600), (600, 0), (300, -10), (300, 300), (310, 310)],
            [0, 0, 0, 0, 1, 0, 1],
            [3, 6],
        ),
        "dup": _simple(  # consecutive equal on-curve points, start repeated last
            [(1, 1), (1, 1), (401, 1), (401, 601), (1, 1)],
            [1, 1, 1, 1, 1],
            [4],
        ),
        "scaled": _composite(
            [("box", (0.5, 0, 0.25, 0.75, 13, -7)), ("round", (1, 0, 0, 1, 600, 0))]
        ),
        "nested": _composite(
            [("scaled", (0.8, 0.1, -0.2, 1.2, 3, 5)), ("dup", (1, 0, 0, 1, 0, 0))]
        ),
        "flipped": _composite([("nested", (-1, 0, 0, 1, 900, 0))]),
    }
    order = list(glyphs)
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({0x41 + i: n for i, n in enumerate(order[1:])})
    fb.setupGlyf(glyphs)
    glyf = fb.font["glyf"]
    metrics = {}
    for n in order:
        g = glyf[n]
        g.recalcBounds(glyf)
        metrics[n] = (700, getattr(g, "xMin", 0))
    metrics["box"] = (700, 40)  # an lsb that is not the xMin: drawn shifted
    fb.setupHorizontalMetrics(metrics)
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "Edge", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    buf = io.BytesIO()
    fb.font.save(buf)
    return buf


@pytest.mark.parametrize("angle", [OBLIQUE_ANGLE, 7.3, -20.0])
def test_slant_gives_the_pen_pipelines_bytes_on_edge_cases(angle):
    ref, new = _both(_edge_font(), angle)
    assert new == ref
    font = TTFont(io.BytesIO(new))
    # the anchor is gone, the composites decomposed
    assert font["glyf"]["box"].numberOfContours == 1
    assert not font["glyf"]["flipped"].isComposite()


def test_skewed_glyph_compiles_like_fonttools():
    """Long runs of equal flags (over 256), long and short deltas."""
    pts = [(i * 3, 0) for i in range(300)] + [(1000, 900), (-400, -30000)]
    pts += [(-400 + i, -30000) for i in range(1, 3)]
    flags = [1] * 300 + [0, 1, 1, 1]
    g = SkewedGlyph()
    g.coordinates = GlyphCoordinates(pts)
    g.flags = bytearray(flags)
    g.endPtsOfContours = [299, len(pts) - 1]
    g.numberOfContours = 2
    g.program = ttProgram.Program()
    g.program.fromBytecode(b"")
    assert g.compileCoordinates() == bytes(Glyph.compileCoordinates(g))


def test_derived_oblique_file_matches_the_reference(tmp_path):
    src = _packaged("LuckiestGuy-Regular")
    path = derive_face(src, tmp_path, oblique=True)
    ref = TTFont(src)
    reference_slant(ref, OBLIQUE_ANGLE)
    rename_derived(ref, None, True)
    assert Path(path).read_bytes() == _saved(ref)


def test_oblique_keeps_advances_and_vertical_metrics(tmp_path):
    """What measuring reads is the upright face's (the name aside)."""
    book = FontBook(cache_dir=tmp_path)
    upright, oblique = book.face("Kalam", "bold"), book.face("Kalam", "bolditalic")
    assert oblique.derived == "oblique"
    a, b = book.metrics_of(upright.path), book.metrics_of(oblique.path)
    assert a.advances == b.advances
    assert (a.upem, a.ascent, a.descent, a.line_gap) == (b.upem, b.ascent, b.descent, b.line_gap)
