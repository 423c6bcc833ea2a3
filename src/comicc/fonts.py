"""Fonts: discovery, style resolution, measurement and glyph coverage.

Faces come from installed packages, never from files kept in the repository:

* the PyPI ``fontpkg-*`` packages that ``pyproject.toml`` depends on (each
  registers its TrueType files under the ``fontpkg.family`` entry point), and
* TrueType files already on the system (``/usr/share/fonts`` and friends),
  which is where DejaVu Sans or Droid Sans Fallback (CJK) come from if present.

A face is asked for by family name and style (``regular``, ``bold``,
``italic``, ``bolditalic``). When a family lacks a style, comicc derives it
and caches the result as a TrueType file (see :func:`font_cache_dir`):

* italic / bold italic → the upright face of that weight, slanted by
  :data:`OBLIQUE_ANGLE` degrees (a synthetic oblique: emphasis stays distinct
  even for faces drawn upright only, e.g. Kalam);
* bold of a variable font → an instance at weight 700;
* bold of a one-weight face (display faces such as Luckiest Guy) → the face
  itself: those are heavy already.

The fallback chain for a character the face lacks is: the face itself → the
theme's ``fallback_fonts`` → :data:`DEFAULT_FALLBACKS` (Noto Sans, Noto Sans
Arabic/Devanagari/Thai, then DejaVu Sans and Droid Sans Fallback if the
system has them). Characters no face in the chain has are reported.

Widths are the sum of the glyphs' advance widths, unkerned, exactly what the
PDF writer (reportlab ``drawString``) puts on the page. Loaded metrics are
cached per file, so measuring is a dictionary walk.
"""
from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from fontTools.ttLib import TTFont

from .diagnostics import did_you_mean
from .layout.geometry import FontRef

STYLES = ("regular", "bold", "italic", "bolditalic")
OBLIQUE_ANGLE = 12.0  # degrees, for synthetic italics
DEFAULT_FALLBACKS = ("Noto Sans", "Noto Sans Arabic", "Noto Sans Devanagari",
                     "Noto Sans Thai", "DejaVu Sans", "Droid Sans Fallback")
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts",
                    "~/.fonts", "/Library/Fonts", "/System/Library/Fonts",
                    "C:/Windows/Fonts")
_VARIATION_TABLES = ("fvar", "gvar", "avar", "cvar", "HVAR", "VVAR", "MVAR", "STAT")
_WEIGHT_NAMES = {100: "Thin", 200: "ExtraLight", 300: "Light", 500: "Medium",
                 600: "SemiBold", 700: "Bold", 800: "ExtraBold", 900: "Black"}
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
    weight: int            # static weight, or the default of a variable font
    italic: bool
    variable: bool = False
    wght_range: tuple[int, int] | None = None
    source: str = ""       # "fontpkg-kalam" or "system"
    license: str = ""


@dataclass(frozen=True)
class Face:
    """A concrete face chosen for (family, style)."""

    family: str
    style: str
    name: str              # unique face name, e.g. "Kalam-BoldOblique"
    path: str
    source: str
    license: str
    derived: str = ""      # "" | "oblique" | "instance" | "substitute"

    def ref(self, size: float) -> FontRef:
        return FontRef(self.name, self.path, float(size))


@dataclass(frozen=True)
class FaceMetrics:
    """Vertical metrics of a face, in points at the FontRef's size."""

    ascent: float
    descent: float         # positive, below the baseline
    line_gap: float
    cap_height: float
    x_height: float


@dataclass(frozen=True)
class Coverage:
    """Which characters of a text a face can letter, and who letters the rest."""

    missing: tuple[str, ...]                  # chars the primary face lacks
    fallback: dict[str, FontRef] = field(default_factory=dict)  # char -> face
    unletterable: tuple[str, ...] = ()        # chars no face of the chain has

    @property
    def ok(self) -> bool:
        return not self.unletterable


class _Metrics:
    """Per-file data needed to measure: advances by character, vertical metrics."""

    def __init__(self, path: str):
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
            return sum(adv.get(ch, 0 if _ignorable(ch) else self.notdef) for ch in text)


def _ignorable(ch: str) -> bool:
    """Controls and format characters (newline, ZWJ, variation selectors)."""
    return unicodedata.category(ch) in ("Cc", "Cf") or 0xFE00 <= ord(ch) <= 0xFE0F


def _slug(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def font_cache_dir() -> Path:
    """Where derived faces are written: ``$COMICC_FONT_CACHE``, else the user
    cache (``$XDG_CACHE_HOME/comicc/fonts`` or ``~/.cache/comicc/fonts``)."""
    env = os.environ.get("COMICC_FONT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "comicc" / "fonts"


class FontBook:
    """The font service: knows the installed faces, resolves, measures.

    One instance per process is enough (:func:`default_fontbook`); every
    lookup and measurement is cached.
    """

    def __init__(self, cache_dir: Path | None = None,
                 system_dirs: Sequence[str] | None = SYSTEM_FONT_DIRS):
        self.cache_dir = Path(cache_dir) if cache_dir else font_cache_dir()
        self.system_dirs = tuple(system_dirs or ())
        self._families: dict[str, list[FontFile]] | None = None
        self._names: dict[str, str] = {}   # slug -> display family name
        self._faces: dict[tuple[str, str], Face] = {}
        self._metrics: dict[str, _Metrics] = {}
        self._chains: dict[tuple, list[FontRef]] = {}

    # ---------------------------------------------------------------- discovery
    def _index(self) -> dict[str, list[FontFile]]:
        if self._families is None:
            fams: dict[str, list[FontFile]] = {}
            for ff in _system_files(self.system_dirs):
                fams.setdefault(_slug(ff.family), []).append(ff)
                self._names.setdefault(_slug(ff.family), ff.family)
            for ff in _fontpkg_files():  # packaged faces win over system ones
                key = _slug(ff.family)
                if key in fams and fams[key][0].source == "system":
                    del fams[key]
                fams.setdefault(key, []).append(ff)
                self._names[key] = ff.family
            self._families = fams
        return self._families

    def families(self) -> list[str]:
        """Names of every installed family, sorted."""
        idx = self._index()
        return sorted(self._names[k] for k in idx)

    def has_family(self, family: str) -> bool:
        return self._lookup(family) is not None

    def exists(self, name: str) -> bool:
        """Whether ``name`` (a family or a face name) resolves, without
        deriving any face."""
        return (self._lookup(name) is not None or self._by_face_name(name) is not None
                or self._split_face_name(name) is not None)

    def files(self, family: str) -> list[FontFile]:
        key = self._lookup(family)
        return list(self._index()[key]) if key else []

    def _lookup(self, name: str) -> str | None:
        idx = self._index()
        key = _slug(name)
        if key in idx:
            return key
        return None

    def _by_face_name(self, name: str) -> FontFile | None:
        """An installed static file whose PostScript name is ``name``."""
        want = _slug(name)
        for files in self._index().values():
            for f in files:
                if not f.variable and _slug(Path(f.path).stem) == want:
                    return f
                if not f.variable and _slug(self.metrics_of(f.path).name) == want:
                    return f
        return None

    def _split_face_name(self, name: str) -> tuple[str, str] | None:
        """``Kalam-Bold`` → (``Kalam``, ``bold``)."""
        m = re.match(r"^(.*?)[\s\-]*(regular|bold\s*italic|bold\s*oblique|bold|italic|oblique)$",
                     name.strip(), re.I)
        if not m or self._lookup(m.group(1)) is None:
            return None
        st = re.sub(r"\s+", "", m.group(2).lower()).replace("oblique", "italic")
        return m.group(1), st

    # --------------------------------------------------------------- resolution
    def face(self, family: str, style: str = "regular") -> Face:
        """The face for ``family`` in ``style``. Raises :class:`FontError`."""
        style = style.lower().replace("-", "").replace(" ", "").replace("_", "")
        style = {"normal": "regular", "italicbold": "bolditalic", "oblique": "italic",
                 "boldoblique": "bolditalic"}.get(style, style)
        if style not in STYLES:
            raise FontError(f"unknown font style `{style}`", did_you_mean(style, STYLES))
        cached = self._faces.get((_slug(family), style))
        if cached is not None:
            return cached
        key = self._lookup(family)
        ps = self._by_face_name(family) if key is None else None
        if ps is not None:  # a face name such as "Kalam-Light"
            face = Face(ps.family, "regular", self.metrics_of(ps.path).name, ps.path,
                        ps.source, ps.license)
            if style.endswith("italic") and not ps.italic:
                path = self._derive(ps.path, oblique=True)
                face = Face(ps.family, style, self.metrics_of(path).name, path, ps.source,
                            ps.license, "oblique")
        elif key is None:
            split = self._split_face_name(family)
            if split is None:
                raise FontError(f"font family `{family}` is not installed",
                                did_you_mean(family, self.families()))
            base, st = split
            if style == "regular" or st == style:
                face = self.face(base, st)
            else:
                face = self.face(base, _combine(st, style))
        else:
            face = self._resolve(key, style)
        self._faces[(_slug(family), style)] = face
        return face

    def font(self, family: str, style: str = "regular", size: float = 10.0) -> FontRef:
        """A :class:`FontRef` for ``family``/``style`` at ``size`` points."""
        return self.face(family, style).ref(size)

    def _resolve(self, key: str, style: str) -> Face:
        files = self._index()[key]
        fam = self._names[key]
        weight = 700 if style.startswith("bold") else 400
        italic = style.endswith("italic")
        src = self._pick(files, weight, italic)
        if src is None and italic:
            upright = self._resolve(key, "bold" if weight == 700 else "regular")
            path = self._derive(upright.path, oblique=True)
            return Face(fam, style, self.metrics_of(path).name, path, upright.source,
                        upright.license, "oblique")
        if src is None:  # no bold: heaviest weight ≥ 600, else the regular face
            heavy = [f for f in files if not f.italic and f.weight >= 600 and not f.variable]
            src = min(heavy, key=lambda f: f.weight) if heavy else self._pick(files, 400, False)
            src = src or files[0]
            return Face(fam, style, self.metrics_of(src.path).name, src.path, src.source,
                        src.license, "substitute" if src.weight < 600 else "")
        path, derived = src.path, ""
        if src.variable and src.weight != weight:
            path, derived = self._derive(src.path, weight=weight), "instance"
        return Face(fam, style, self.metrics_of(path).name, path, src.source, src.license, derived)

    @staticmethod
    def _pick(files: list[FontFile], weight: int, italic: bool) -> FontFile | None:
        cands = [f for f in files if f.italic == italic]
        for f in cands:
            if not f.variable and f.weight == weight:
                return f
        for f in cands:
            if f.variable and f.wght_range and f.wght_range[0] <= weight <= f.wght_range[1]:
                return f
        return None

    def _derive(self, src: str, *, weight: int | None = None, oblique: bool = False) -> str:
        """Write (once) a static instance and/or synthetic oblique of ``src``."""
        digest = hashlib.sha1(Path(src).read_bytes()).hexdigest()[:12]
        tag = (f"w{weight}" if weight else "") + ("o%g" % OBLIQUE_ANGLE if oblique else "")
        out = self.cache_dir / f"{Path(src).stem}-{tag}-{digest}.ttf"
        folders = (out.parent, Path(tempfile.gettempdir()) / "comicc-fonts")
        for folder in folders:
            if (folder / out.name).is_file():
                return str(folder / out.name)
        try:
            font = TTFont(src)
            if weight is not None and "fvar" in font:
                from fontTools.varLib import instancer
                limits = {a.axisTag: a.defaultValue for a in font["fvar"].axes}
                limits["wght"] = weight
                font = instancer.instantiateVariableFont(font, limits, updateFontNames=False)
            if oblique:
                _slant(font, OBLIQUE_ANGLE)
            _rename(font, weight, oblique)
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

    # -------------------------------------------------------------- measurement
    def metrics_of(self, path: str) -> _Metrics:
        m = self._metrics.get(path)
        if m is None:
            m = self._metrics[path] = _Metrics(path)
        return m

    def width(self, text: str, font: FontRef) -> float:
        """Advance width of ``text`` in ``font``, points (no kerning)."""
        m = self.metrics_of(font.path)
        return m.width_units(text) * font.size / m.upem

    def metrics(self, font: FontRef) -> FaceMetrics:
        m = self.metrics_of(font.path)
        k = font.size / m.upem
        return FaceMetrics(m.ascent * k, m.descent * k, m.line_gap * k,
                           m.cap_height * k, m.x_height * k)

    # ----------------------------------------------------------------- coverage
    def has_glyph(self, ch: str, font: FontRef) -> bool:
        return ch in self.metrics_of(font.path).advances or _ignorable(ch)

    def missing(self, text: str, font: FontRef) -> list[str]:
        """Distinct characters of ``text`` that ``font`` lacks, in order."""
        adv = self.metrics_of(font.path).advances
        return [ch for ch in dict.fromkeys(text) if ch not in adv and not _ignorable(ch)]

    def fallback_chain(self, fallbacks: Iterable[str] = (), style: str = "regular",
                       size: float = 10.0) -> list[FontRef]:
        """Installed faces of ``fallbacks`` + :data:`DEFAULT_FALLBACKS`, in order.

        A fallback face takes ``style`` when the family has it as a file;
        otherwise its regular face (no faces are derived for fallbacks).
        """
        out: list[FontRef] = []
        seen: set[str] = set()
        for fam in list(fallbacks) + list(DEFAULT_FALLBACKS):
            key = self._lookup(fam)
            if key is None or key in seen:
                continue
            seen.add(key)
            files = self._index()[key]
            w, it = (700 if style.startswith("bold") else 400), style.endswith("italic")
            src = next((f for f in files if f.italic == it and f.weight == w), None) or \
                self._pick(files, 400, False) or files[0]
            out.append(FontRef(self.metrics_of(src.path).name, src.path, float(size)))
        return out

    def coverage(self, text: str, font: FontRef, fallbacks: Iterable[str] = ()) -> Coverage:
        """Which characters ``font`` lacks and which fallback face letters them."""
        missing = self.missing(text, font)
        if not missing:
            return Coverage(())
        key = (tuple(fallbacks), font.size)
        chain = self._chains.get(key)
        if chain is None:
            chain = self._chains[key] = self.fallback_chain(key[0], size=font.size)
        chain = [f for f in chain if f.path != font.path]
        found: dict[str, FontRef] = {}
        for ch in missing:
            for ref in chain:
                if ch in self.metrics_of(ref.path).advances:
                    found[ch] = ref
                    break
        return Coverage(tuple(missing), found, tuple(ch for ch in missing if ch not in found))

    def split_runs(self, text: str, font: FontRef,
                   fallbacks: Iterable[str] = ()) -> list[tuple[str, FontRef]]:
        """Split ``text`` into runs, each in the first face that has its glyphs.

        Spaces, punctuation and combining marks stay in the current run when
        its face has them. Characters no face has stay in ``font`` (they
        print as its missing-glyph box); :meth:`coverage` reports them.
        """
        cov = self.coverage(text, font, fallbacks)
        if not cov.missing:
            return [(text, font)] if text else []
        runs: list[tuple[str, FontRef]] = []
        cur: FontRef | None = None
        buf: list[str] = []
        for ch in text:
            face = cov.fallback.get(ch, font)
            if cur is not None and face is not cur and self.has_glyph(ch, cur) and \
                    (unicodedata.category(ch)[0] in "ZPM" or _ignorable(ch)):
                face = cur
            if face is not cur and buf:
                runs.append(("".join(buf), cur))
                buf = []
            cur = face
            buf.append(ch)
        if buf:
            runs.append(("".join(buf), cur))
        return runs


def _combine(a: str, b: str) -> str:
    bold = a.startswith("bold") or b.startswith("bold")
    italic = a.endswith("italic") or b.endswith("italic")
    return ("bold" if bold else "") + ("italic" if italic else "") or "regular"


def _slant(font: TTFont, angle: float) -> None:
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


def _rename(font: TTFont, weight: int | None, oblique: bool) -> None:
    """Give a derived face its own names, so the PDF embeds it separately."""
    name = font["name"]
    family = name.getDebugName(16) or name.getDebugName(1) or "Font"
    wclass = weight or (font["OS/2"].usWeightClass if "OS/2" in font else 400)
    wname = _WEIGHT_NAMES.get(round(wclass / 100) * 100, "")
    italic = "Oblique" if oblique else ("Italic" if font["post"].italicAngle else "")
    sub = f"{wname} {italic}"
    sub = sub.strip() or "Regular"
    ps = re.sub(r"[^A-Za-z0-9]", "", family) + "-" + sub.replace(" ", "")
    for rec_id, value in ((1, family), (2, sub), (4, f"{family} {sub}"), (6, ps),
                          (16, family), (17, sub)):
        name.setName(value, rec_id, 3, 1, 0x409)
    if weight is not None and "OS/2" in font:
        font["OS/2"].usWeightClass = weight


def _fontpkg_files() -> list[FontFile]:
    try:
        import fontpkg
    except ImportError:  # pragma: no cover - a dependency, but stay usable
        return []
    out = []
    for fam in fontpkg.families().values():
        pkg = "fontpkg-" + fam.slug
        for f in fam.files:
            weight = f.weight if f.weight is not None else 400
            out.append(FontFile(fam.name, str(f.path), weight, f.style == "italic", f.variable,
                                (f.wght_min, f.wght_max) if f.variable and f.wght_min else None,
                                pkg, fam.license))
    return out


def _system_files(dirs: Sequence[str]) -> list[FontFile]:
    """TrueType (``.ttf``, glyf outlines) files in the system font folders."""
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
                    out.append(FontFile(family, str(path), weight, italic, "fvar" in font,
                                        None, "system", ""))
                font.close()
            except Exception:  # unreadable files are simply not fonts for us
                continue
    return out


# ------------------------------------------------------------ module defaults

@functools.lru_cache(maxsize=1)
def default_fontbook() -> FontBook:
    return FontBook()


def available_families() -> list[str]:
    return default_fontbook().families()


def resolve_font(family: str, style: str = "regular", size: float = 10.0) -> FontRef:
    """``family``/``style`` → :class:`FontRef`. Raises :class:`FontError`."""
    return default_fontbook().font(family, style, size)


def text_width(text: str, font: FontRef) -> float:
    return default_fontbook().width(text, font)


def font_metrics(font: FontRef) -> FaceMetrics:
    return default_fontbook().metrics(font)


def missing_glyphs(text: str, font: FontRef) -> list[str]:
    return default_fontbook().missing(text, font)


def coverage(text: str, font: FontRef, fallbacks: Iterable[str] = ()) -> Coverage:
    return default_fontbook().coverage(text, font, fallbacks)


def split_runs(text: str, font: FontRef, fallbacks: Iterable[str] = ()) -> list[tuple[str, FontRef]]:
    return default_fontbook().split_runs(text, font, fallbacks)


def font_for(spec, size: float | None = None) -> FontRef:
    """The face of a theme :class:`~comicc.themes.FontSpec` (``family``,
    ``style``, ``size``), optionally at another ``size``."""
    return resolve_font(spec.family, spec.style, spec.size if size is None else size)
