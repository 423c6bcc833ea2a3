"""Font files: finding installed faces, reading them, writing derived faces.

Faces come from installed packages, never from files kept in the repository:

* the PyPI ``fontpkg-*`` packages that ``pyproject.toml`` depends on (each
  registers its TrueType files under the ``fontpkg.family`` entry point), and
* TrueType files already on the system (``/usr/share/fonts`` and friends),
  which is where DejaVu Sans or Droid Sans Fallback (CJK) come from if present.

:func:`fontpkg_files` and :func:`system_files` list them as :class:`FontFile`
records, :func:`index_families` groups them by family, and
:class:`FileMetrics` reads what measuring needs from one file. A style a
family lacks is derived by :func:`derive_face` (a static instance of a
variable font, or a synthetic oblique slanted by :data:`OBLIQUE_ANGLE`
degrees) and written, once, as a TrueType file into the font cache
(:func:`font_cache_dir`). Choosing which face to derive, and all measuring,
is :class:`comicc.fonts.book.FontBook`'s job.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fontTools is imported where a file is read: `check` rarely reads one
    from fontTools.ttLib import TTFont

OBLIQUE_ANGLE = 12.0  # degrees, for synthetic italics
SYSTEM_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)
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


class FontError(Exception):
    """A family is not installed or its file cannot be read."""

    def __init__(self, message: str, suggestions: Sequence[str] = ()):
        super().__init__(message)
        self.suggestions = tuple(suggestions)


@dataclass(frozen=True)
class FontFile:
    """One installed TrueType file."""

    family: str
    path: str
    weight: int  # static weight, or the default of a variable font
    italic: bool
    variable: bool = False
    wght_range: tuple[int, int] | None = None
    source: str = ""  # "fontpkg-kalam" or "system"
    license: str = ""


# ------------------------------------------------------------------ reading


class FileMetrics:
    """Per-file data needed to measure: advances by character, vertical metrics."""

    def __init__(self, path: str):
        from fontTools.ttLib import TTFont

        font = TTFont(path, lazy=True)
        self.name = font["name"].getDebugName(6) or Path(path).stem
        self.upem = font["head"].unitsPerEm
        hmtx = font["hmtx"].metrics
        cmap = font.getBestCmap() or {}
        self.advances = {chr(cp): hmtx[g][0] for cp, g in cmap.items() if g in hmtx}
        self.notdef = hmtx.get(".notdef", (self.upem // 2, 0))[0]
        hhea, os2 = font["hhea"], font["OS/2"] if "OS/2" in font else None
        self.ascent = hhea.ascent
        self.descent = -hhea.descent
        self.line_gap = hhea.lineGap
        self.cap_height = getattr(os2, "sCapHeight", 0) or round(self.ascent * 0.7)
        self.x_height = getattr(os2, "sxHeight", 0) or round(self.ascent * 0.5)
        font.close()

    def width_units(self, text: str) -> int:
        adv = self.advances
        try:
            return sum(map(adv.__getitem__, text))
        except KeyError:
            return sum(adv.get(ch, 0 if ignorable(ch) else self.notdef) for ch in text)


def face_name(path: str) -> str:
    """The PostScript name of the face in ``path`` (:attr:`FileMetrics.name`),
    reading its ``name`` table alone: naming a fallback face does not read
    its character map (tens of thousands of glyphs in a CJK face)."""
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    try:
        return str(font["name"].getDebugName(6) or Path(path).stem)
    finally:
        font.close()


def ignorable(ch: str) -> bool:
    """Controls and format characters (newline, ZWJ, variation selectors)."""
    return unicodedata.category(ch) in ("Cc", "Cf") or 0xFE00 <= ord(ch) <= 0xFE0F


# ---------------------------------------------------------------- discovery


def fontpkg_files() -> list[FontFile]:
    """The TrueType files of the installed ``fontpkg-*`` packages."""
    try:
        import fontpkg
    except ImportError:  # pragma: no cover - a dependency, but stay usable
        return []
    out = []
    for fam in fontpkg.families().values():
        pkg = "fontpkg-" + fam.slug
        for f in fam.files:
            weight = f.weight if f.weight is not None else 400
            out.append(
                FontFile(
                    fam.name,
                    str(f.path),
                    weight,
                    f.style == "italic",
                    f.variable,
                    (f.wght_min, f.wght_max) if f.variable and f.wght_min else None,
                    pkg,
                    fam.license,
                )
            )
    return out


def system_files(dirs: Sequence[str]) -> list[FontFile]:
    """TrueType (``.ttf``, glyf outlines) files in the system font folders."""
    from fontTools.ttLib import TTFont

    out = []
    for d in dirs:
        root = Path(os.path.expanduser(d))
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.ttf")):
            try:
                font = TTFont(str(path), lazy=True, fontNumber=0)
                if "glyf" not in font:
                    continue
                nm = font["name"]
                family = nm.getDebugName(16) or nm.getDebugName(1)
                sub = (nm.getDebugName(17) or nm.getDebugName(2) or "").lower()
                os2 = font["OS/2"] if "OS/2" in font else None
                weight = os2.usWeightClass if os2 else (700 if "bold" in sub else 400)
                italic = "italic" in sub or "oblique" in sub
                if family and not any(w in sub for w in ("condensed", "light", "thin")):
                    out.append(
                        FontFile(
                            family, str(path), weight, italic, "fvar" in font, None, "system", ""
                        )
                    )
                font.close()
            except Exception:  # unreadable files are simply not fonts for us
                continue
    return out


def family_key(name: str) -> str:
    """The index key of a family or face name: lower case, no spaces, ``-`` or ``_``."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def index_families(system_dirs: Sequence[str]) -> tuple[dict[str, list[FontFile]], dict[str, str]]:
    """Every installed file grouped by :func:`family_key`, and each key's
    display name. A packaged family hides a system family of the same name."""
    fams: dict[str, list[FontFile]] = {}
    names: dict[str, str] = {}
    for ff in system_files(system_dirs):
        fams.setdefault(family_key(ff.family), []).append(ff)
        names.setdefault(family_key(ff.family), ff.family)
    for ff in fontpkg_files():  # packaged faces win over system ones
        key = family_key(ff.family)
        if key in fams and fams[key][0].source == "system":
            del fams[key]
        fams.setdefault(key, []).append(ff)
        names[key] = ff.family
    return fams, names


# ------------------------------------------------------------ derived faces


def font_cache_dir() -> Path:
    """Where derived faces are written: ``$COMICC_FONT_CACHE``, else the user
    cache (``$XDG_CACHE_HOME/comicc/fonts`` or ``~/.cache/comicc/fonts``)."""
    env = os.environ.get("COMICC_FONT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "comicc" / "fonts"


def derive_face(
    src: str, cache_dir: Path, *, weight: int | None = None, oblique: bool = False
) -> str:
    """Write (once) a static instance and/or synthetic oblique of ``src`` into
    ``cache_dir`` (or, if that cannot be written, a temporary folder); the
    path of the derived file."""
    digest = hashlib.sha1(Path(src).read_bytes()).hexdigest()[:12]
    tag = (f"w{weight}" if weight else "") + (f"o{OBLIQUE_ANGLE:g}" if oblique else "")
    out = cache_dir / f"{Path(src).stem}-{tag}-{digest}.ttf"
    folders = (out.parent, Path(tempfile.gettempdir()) / "comicc-fonts")
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
    """Skew every glyph of a TrueType font by ``angle`` degrees (in place)."""
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    for tag in _VARIATION_TABLES + _HINTING_TABLES:
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


def rename_derived(font: TTFont, weight: int | None, oblique: bool) -> None:
    """Give a derived face its own names, so the PDF embeds it separately."""
    name = font["name"]
    family = name.getDebugName(16) or name.getDebugName(1) or "Font"
    wclass = weight or (font["OS/2"].usWeightClass if "OS/2" in font else 400)
    wname = _WEIGHT_NAMES.get(round(wclass / 100) * 100, "")
    italic = "Oblique" if oblique else ("Italic" if font["post"].italicAngle else "")
    sub = f"{wname} {italic}"
    sub = sub.strip() or "Regular"
    ps = re.sub(r"[^A-Za-z0-9]", "", family) + "-" + sub.replace(" ", "")
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
