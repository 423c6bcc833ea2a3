"""Derived faces: a style a family lacks, written once into the font cache.

:func:`derive_face` makes a static instance of a variable font (at a weight)
and/or a synthetic oblique, slanted by :data:`OBLIQUE_ANGLE` degrees
(:func:`slant`), renames it so a PDF embeds it as a face of its own
(:func:`rename_derived`), and writes it as a TrueType file into the font
cache (:func:`comicc.fonts.files.font_cache_dir`), or a temporary folder if
that cannot be written. Choosing which face to derive is
:class:`comicc.fonts.book.FontBook`'s job.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comicc.fonts.files import FontError

if TYPE_CHECKING:  # fontTools is imported where a face is derived
    from fontTools.ttLib import TTFont

OBLIQUE_ANGLE = 12.0  # degrees, for synthetic italics
# in the file name: a face derived by an earlier version (whose bytes held the
# time it was written) is never taken for one of this version
DERIVE_VERSION = 2
_VARIATION_TABLES = ("fvar", "gvar", "avar", "cvar", "HVAR", "VVAR", "MVAR", "STAT")
_WEIGHT_NAMES = {
    100: "Thin",
    200: "ExtraLight",
    300: "Light",
    500: "Medium",
    600: "SemiBold",
    700: "Bold",
    800: "ExtraBold",
    900: "Black",
}
_HINTING_TABLES = ("fpgm", "prep", "cvt ", "hdmx", "LTSH", "VDMX")


def derived_file_name(src: str, *, weight: int | None = None, oblique: bool = False) -> str:
    """The file name :func:`derive_face` gives the face it derives from ``src``
    (the source's stem, what is derived, the source's content digest)."""
    digest = hashlib.sha1(Path(src).read_bytes()).hexdigest()[:12]
    tag = (f"w{weight}" if weight else "") + (f"o{OBLIQUE_ANGLE:g}" if oblique else "")
    return f"{Path(src).stem}-{tag}-{digest}-v{DERIVE_VERSION}.ttf"


def derive_folders(cache_dir: Path) -> tuple[Path, Path]:
    """Where :func:`derive_face` looks for and writes derived faces, in order."""
    return (cache_dir, Path(tempfile.gettempdir()) / "comicc-fonts")


def derive_face(
    src: str, cache_dir: Path, *, weight: int | None = None, oblique: bool = False
) -> str:
    """Write (once) a static instance and/or synthetic oblique of ``src`` into
    ``cache_dir`` (or, if that cannot be written, a temporary folder); the
    path of the derived file."""
    out = cache_dir / derived_file_name(src, weight=weight, oblique=oblique)
    folders = derive_folders(cache_dir)
    for folder in folders:
        if (folder / out.name).is_file():
            return str(folder / out.name)
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(src)
        if weight is not None and "fvar" in font:
            from fontTools.varLib import instancer

            limits = {a.axisTag: a.defaultValue for a in font["fvar"].axes}
            limits["wght"] = weight
            font = instancer.instantiateVariableFont(font, limits, updateFontNames=False)
        if oblique:
            slant(font, OBLIQUE_ANGLE)
        rename_derived(font, weight, oblique)
        # keep the source's `head.modified`: saving would stamp the time, and the
        # same book built twice from empty caches must give the same PDF bytes
        font.recalcTimestamp = False
    except Exception as exc:  # a font fontTools cannot rewrite
        raise FontError(f"cannot derive a face from `{src}`: {exc}") from exc
    for folder in folders:
        target = folder / out.name
        tmp = folder / f".{out.name}.{os.getpid()}.tmp"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            font.save(str(tmp))
            os.replace(tmp, target)  # atomic: concurrent builds never see half a file
            return str(target)
        except OSError:
            continue
    raise FontError(f"cannot write a derived face to {out.parent}")


def slant(font: TTFont, angle: float) -> None:
    """Skew every glyph of a TrueType font by ``angle`` degrees (in place).

    The glyphs are those that drawing each through a ``DecomposingRecordingPen``,
    a ``TransformPen`` and a ``TTGlyphPen`` gives (:func:`pen_skewed` draws one
    so); :func:`comicc.fonts.oblique.skewed_glyphs` writes them straight from
    the source outlines, to the same points, and leaves the few it cannot to
    the pens."""
    from comicc.fonts.oblique import skewed_glyphs

    for tag in _VARIATION_TABLES + _HINTING_TABLES:
        if tag in font:
            del font[tag]
    skew = math.tan(math.radians(angle))
    glyf, hmtx = font["glyf"], font["hmtx"]
    fast = skewed_glyphs(glyf, hmtx.metrics, skew)
    glyphs = None
    new: dict[str, Any] = {}
    for name in font.getGlyphOrder():
        g = fast.get(name)
        if g is None:  # a glyph the fast path leaves to the pens
            if glyphs is None:
                glyphs = font.getGlyphSet()
            g = pen_skewed(glyphs, name, skew)
        new[name] = g
    for name, g in new.items():
        glyf[name] = g
        g.recalcBounds(glyf)
        hmtx[name] = (hmtx[name][0], getattr(g, "xMin", 0))
    font["post"].italicAngle = -angle
    font["head"].macStyle |= 0x02
    if "OS/2" in font:
        font["OS/2"].fsSelection = (font["OS/2"].fsSelection | 0x01) & ~0x40


def pen_skewed(glyphs: Any, name: str, skew: float) -> Any:
    """Glyph ``name`` of the glyph set ``glyphs`` decomposed and skewed by
    ``x += skew * y`` through fontTools' pens (the reference for
    :mod:`comicc.fonts.oblique`)."""
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    rec = DecomposingRecordingPen(glyphs)
    glyphs[name].draw(rec)
    pen = TTGlyphPen(None)
    rec.replay(TransformPen(pen, (1, 0, skew, 1, 0, 0)))
    return pen.glyph()


def rename_derived(font: TTFont, weight: int | None, oblique: bool) -> None:
    """Give a derived face its own names, so the PDF embeds it separately."""
    family, sub, ps = derived_names(font, weight, oblique)
    name = font["name"]
    for rec_id, value in (
        (1, family),
        (2, sub),
        (4, f"{family} {sub}"),
        (6, ps),
        (16, family),
        (17, sub),
    ):
        name.setName(value, rec_id, 3, 1, 0x409)
    if weight is not None and "OS/2" in font:
        font["OS/2"].usWeightClass = weight


def derived_names(font: TTFont, weight: int | None, oblique: bool) -> tuple[str, str, str]:
    """The family, subfamily and PostScript names :func:`rename_derived` gives
    the face derived from ``font`` (read before the derivation or after)."""
    name = font["name"]
    family = name.getDebugName(16) or name.getDebugName(1) or "Font"
    wclass = weight or (font["OS/2"].usWeightClass if "OS/2" in font else 400)
    wname = _WEIGHT_NAMES.get(round(wclass / 100) * 100, "")
    italic = "Oblique" if oblique else ("Italic" if font["post"].italicAngle else "")
    sub = f"{wname} {italic}"
    sub = sub.strip() or "Regular"
    ps = re.sub(r"[^A-Za-z0-9]", "", family) + "-" + sub.replace(" ", "")
    return family, sub, ps
