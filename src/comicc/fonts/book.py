"""Fonts: style resolution, measurement and glyph coverage.

Where the faces come from (``fontpkg-*`` packages, system font folders), how
a file's metrics are read and how missing styles are written as derived faces
is :mod:`comicc.fonts.files`; this module's :class:`FontBook` picks a face for
a family and style, measures text and finds fallback faces.

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
cached per file, so measuring is a dictionary walk, and kept in the font
cache between runs (:class:`~comicc.fonts.files.FileMetrics`). A packaged
family is resolved from the packaged faces alone: the system font folders
are listed only for a family no package has.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from comicc.diagnostics import did_you_mean
from comicc.fonts.derive import derive_face
from comicc.fonts.files import (
    SYSTEM_FONT_DIRS,
    FileMetrics,
    FontError,
    FontFile,
    face_name,
    family_key,
    font_cache_dir,
    fontpkg_files,
    ignorable,
    index_families,
)
from comicc.fonts.ref import FontRef

STYLES = ("regular", "bold", "italic", "bolditalic")
DEFAULT_FALLBACKS = (
    "Noto Sans",
    "Noto Sans Arabic",
    "Noto Sans Devanagari",
    "Noto Sans Thai",
    "DejaVu Sans",
    "Droid Sans Fallback",
)


@dataclass(frozen=True)
class Face:
    """A concrete face chosen for (family, style)."""

    family: str
    style: str
    name: str  # unique face name, e.g. "Kalam-BoldOblique"
    path: str
    source: str
    license: str
    derived: str = ""  # "" | "oblique" | "instance" | "substitute"

    def ref(self, size: float) -> FontRef:
        return FontRef(self.name, self.path, float(size))


@dataclass(frozen=True)
class FaceMetrics:
    """Vertical metrics of a face, in points at the FontRef's size."""

    ascent: float
    descent: float  # positive, below the baseline
    line_gap: float
    cap_height: float
    x_height: float


@dataclass(frozen=True)
class Coverage:
    """Which characters of a text a face can letter, and who letters the rest."""

    missing: tuple[str, ...]  # chars the primary face lacks
    fallback: dict[str, FontRef] = field(default_factory=dict)  # char -> face
    unletterable: tuple[str, ...] = ()  # chars no face of the chain has

    @property
    def ok(self) -> bool:
        return not self.unletterable


class FontBook:
    """The font service: knows the installed faces, resolves, measures.

    One instance per process is enough (:func:`default_fontbook`); every
    lookup and measurement is cached.
    """

    def __init__(
        self, cache_dir: Path | None = None, system_dirs: Sequence[str] | None = SYSTEM_FONT_DIRS
    ):
        self.cache_dir = Path(cache_dir) if cache_dir else font_cache_dir()
        self.system_dirs = tuple(system_dirs or ())
        self._families: dict[str, list[FontFile]] | None = None
        self._packaged: dict[str, list[FontFile]] | None = None
        self._packaged_names: dict[str, str] = {}
        self._names: dict[str, str] = {}  # slug -> display family name
        self._faces: dict[tuple[str, str], Face] = {}
        self._metrics: dict[str, FileMetrics] = {}
        self._face_names: dict[str, str] = {}  # path -> PostScript name
        self._chains: dict[tuple, list[FontRef]] = {}

    # ---------------------------------------------------------------- discovery
    def _index(self) -> dict[str, list[FontFile]]:
        if self._families is None:
            self._families, self._names = index_families(self.system_dirs)
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
        return (
            self._lookup(name) is not None
            or self._by_face_name(name) is not None
            or self._split_face_name(name) is not None
        )

    def files(self, family: str) -> list[FontFile]:
        key = self._lookup(family)
        return list(self._index()[key]) if key else []

    def _lookup(self, name: str) -> str | None:
        key = family_key(name)
        if self._families is None and key in self._packaged_index():
            # a packaged family is in the index whatever the system folders
            # hold (it hides a system family of its name): no need to open
            # every system font file to know it is there
            return key
        idx = self._index()
        if key in idx:
            return key
        return None

    def _packaged_index(self) -> dict[str, list[FontFile]]:
        """The packaged families alone, grouped as in :meth:`_index` (where a
        packaged family hides a system one of its name, so its files there are
        exactly these)."""
        if self._packaged is None:
            fams: dict[str, list[FontFile]] = {}
            for ff in fontpkg_files():
                key = family_key(ff.family)
                fams.setdefault(key, []).append(ff)
                self._packaged_names[key] = ff.family
            self._packaged = fams
        return self._packaged

    def _files_of(self, key: str) -> tuple[list[FontFile], str]:
        """The files and display name of the family ``key`` (a key that
        :meth:`_lookup` found): a packaged family without listing the system
        font folders."""
        if self._families is None and key in self._packaged_index():
            return self._packaged_index()[key], self._packaged_names[key]
        return self._index()[key], self._names[key]

    def _by_face_name(self, name: str) -> FontFile | None:
        """An installed static file whose PostScript name is ``name``."""
        want = family_key(name)
        for files in self._index().values():
            for f in files:
                if not f.variable and family_key(Path(f.path).stem) == want:
                    return f
                if not f.variable and family_key(self.name_of(f.path)) == want:
                    return f
        return None

    def _split_face_name(self, name: str) -> tuple[str, str] | None:
        """``Kalam-Bold`` → (``Kalam``, ``bold``)."""
        m = re.match(
            r"^(.*?)[\s\-]*(regular|bold\s*italic|bold\s*oblique|bold|italic|oblique)$",
            name.strip(),
            re.I,
        )
        if not m or self._lookup(m.group(1)) is None:
            return None
        st = re.sub(r"\s+", "", m.group(2).lower()).replace("oblique", "italic")
        return m.group(1), st

    # --------------------------------------------------------------- resolution
    def face(self, family: str, style: str = "regular") -> Face:
        """The face for ``family`` in ``style``. Raises :class:`FontError`."""
        style = style.lower().replace("-", "").replace(" ", "").replace("_", "")
        style = {
            "normal": "regular",
            "italicbold": "bolditalic",
            "oblique": "italic",
            "boldoblique": "bolditalic",
        }.get(style, style)
        if style not in STYLES:
            raise FontError(f"unknown font style `{style}`", did_you_mean(style, STYLES))
        cached = self._faces.get((family_key(family), style))
        if cached is not None:
            return cached
        key = self._lookup(family)
        ps = self._by_face_name(family) if key is None else None
        if ps is not None:  # a face name such as "Kalam-Light"
            face = Face(ps.family, "regular", self.name_of(ps.path), ps.path, ps.source, ps.license)
            if style.endswith("italic") and not ps.italic:
                path = self._derive(ps.path, oblique=True)
                face = Face(
                    ps.family,
                    style,
                    self.name_of(path),
                    path,
                    ps.source,
                    ps.license,
                    "oblique",
                )
        elif key is None:
            split = self._split_face_name(family)
            if split is None:
                raise FontError(
                    f"font family `{family}` is not installed",
                    did_you_mean(family, self.families()),
                )
            base, st = split
            if style == "regular" or st == style:
                face = self.face(base, st)
            else:
                face = self.face(base, _combine(st, style))
        else:
            face = self._resolve(key, style)
        self._faces[(family_key(family), style)] = face
        return face

    def font(self, family: str, style: str = "regular", size: float = 10.0) -> FontRef:
        """A :class:`FontRef` for ``family``/``style`` at ``size`` points."""
        return self.face(family, style).ref(size)

    def _resolve(self, key: str, style: str) -> Face:
        files, fam = self._files_of(key)
        weight = 700 if style.startswith("bold") else 400
        italic = style.endswith("italic")
        src = self._pick(files, weight, italic)
        if src is None and italic:
            upright = self._resolve(key, "bold" if weight == 700 else "regular")
            path = self._derive(upright.path, oblique=True)
            return Face(
                fam,
                style,
                self.name_of(path),
                path,
                upright.source,
                upright.license,
                "oblique",
            )
        if src is None:  # no bold: heaviest weight ≥ 600, else the regular face
            heavy = [f for f in files if not f.italic and f.weight >= 600 and not f.variable]
            src = min(heavy, key=lambda f: f.weight) if heavy else self._pick(files, 400, False)
            src = src or files[0]
            return Face(
                fam,
                style,
                self.name_of(src.path),
                src.path,
                src.source,
                src.license,
                "substitute" if src.weight < 600 else "",
            )
        path, derived = src.path, ""
        if src.variable and src.weight != weight:
            path, derived = self._derive(src.path, weight=weight), "instance"
        return Face(fam, style, self.name_of(path), path, src.source, src.license, derived)

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
        return derive_face(src, self.cache_dir, weight=weight, oblique=oblique)

    # -------------------------------------------------------------- measurement
    def name_of(self, path: str) -> str:
        """The PostScript name of the face in ``path``, without reading its
        metrics unless they are read already (see :func:`face_name`)."""
        m = self._metrics.get(path)
        if m is not None:
            return m.name
        name = self._face_names.get(path)
        if name is None:
            name = self._face_names[path] = face_name(path)
        return name

    def metrics_of(self, path: str) -> FileMetrics:
        m = self._metrics.get(path)
        if m is None:
            m = self._metrics[path] = FileMetrics(path)
        return m

    def width(self, text: str, font: FontRef) -> float:
        """Advance width of ``text`` in ``font``, points (no kerning)."""
        m = self.metrics_of(font.path)
        return m.width_units(text) * font.size / m.upem

    def metrics(self, font: FontRef) -> FaceMetrics:
        m = self.metrics_of(font.path)
        k = font.size / m.upem
        return FaceMetrics(
            m.ascent * k, m.descent * k, m.line_gap * k, m.cap_height * k, m.x_height * k
        )

    # ----------------------------------------------------------------- coverage
    def has_glyph(self, ch: str, font: FontRef) -> bool:
        return ch in self.metrics_of(font.path).advances or ignorable(ch)

    def missing(self, text: str, font: FontRef) -> list[str]:
        """Distinct characters of ``text`` that ``font`` lacks, in order."""
        adv = self.metrics_of(font.path).advances
        return [ch for ch in dict.fromkeys(text) if ch not in adv and not ignorable(ch)]

    def fallback_chain(
        self, fallbacks: Iterable[str] = (), style: str = "regular", size: float = 10.0
    ) -> list[FontRef]:
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
            files = self._files_of(key)[0]
            w, it = (700 if style.startswith("bold") else 400), style.endswith("italic")
            src = (
                next((f for f in files if f.italic == it and f.weight == w), None)
                or self._pick(files, 400, False)
                or files[0]
            )
            out.append(FontRef(self.name_of(src.path), src.path, float(size)))
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

    def split_runs(
        self, text: str, font: FontRef, fallbacks: Iterable[str] = ()
    ) -> list[tuple[str, FontRef]]:
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
            if (
                cur is not None
                and face is not cur
                and self.has_glyph(ch, cur)
                and (unicodedata.category(ch)[0] in "ZPM" or ignorable(ch))
            ):
                face = cur
            if face is not cur and buf and cur is not None:
                runs.append(("".join(buf), cur))
                buf = []
            cur = face
            buf.append(ch)
        if buf and cur is not None:
            runs.append(("".join(buf), cur))
        return runs


def _combine(a: str, b: str) -> str:
    bold = a.startswith("bold") or b.startswith("bold")
    italic = a.endswith("italic") or b.endswith("italic")
    return ("bold" if bold else "") + ("italic" if italic else "") or "regular"
