"""Font files: finding installed faces, reading them, keeping their facts cached.

Faces come from installed packages, never from files kept in the repository:

* the PyPI ``fontpkg-*`` packages that ``pyproject.toml`` depends on (each
  registers its TrueType files under the ``fontpkg.family`` entry point), and
* TrueType files already on the system (``/usr/share/fonts`` and friends),
  which is where DejaVu Sans or Droid Sans Fallback (CJK) come from if present.

:func:`fontpkg_files` and :func:`system_files` list them as :class:`FontFile`
records (both listings are kept in the font cache, see :func:`read_listing`,
so a run does not open every installed font to find one), :func:`index_families`
groups them by family, and
:class:`FileMetrics` reads what measuring needs from one file. A style a
family lacks is derived by :mod:`comicc.fonts.derive` into the font cache
(:func:`font_cache_dir`). Choosing which face to derive, and all measuring,
is :class:`comicc.fonts.book.FontBook`'s job.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comicc.files import read_trusted, write_private

SYSTEM_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)


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
    """Per-file data needed to measure: advances by character, vertical metrics.

    Read from the file with fontTools once, then from the font cache (one
    JSON file per font file, keyed by its path, size and modification time:
    see :func:`read_cached`), so a run measuring a face it measured before
    does not parse its character map again."""

    def __init__(self, path: str):
        key = _file_key(path)
        where = _facts_path(path)
        doc = read_cached(where, key) if key is not None else None
        if doc is None or not self._take(doc.get("metrics")):
            facts = _read_metrics(path)
            self._take(facts)
            if key is not None:
                write_cached(where, key, {"name": self.name, "metrics": facts})

    def _take(self, facts: object) -> bool:
        """Set the fields from saved ``facts``; False when they are not valid."""
        if not isinstance(facts, dict):
            return False
        ints = ("upem", "notdef", "ascent", "descent", "line_gap", "cap_height", "x_height")
        name, pairs = facts.get("name"), facts.get("advances")
        if not isinstance(name, str) or not isinstance(pairs, list):
            return False
        if not all(type(facts.get(k)) is int for k in ints) or facts["upem"] <= 0:
            return False
        advances: dict[str, int] = {}
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                return False
            cp, adv = pair
            if type(cp) is not int or type(adv) is not int or not 0 <= cp <= sys.maxunicode:
                return False
            advances[chr(cp)] = adv
        self.name = name
        self.upem = int(facts["upem"])
        self.advances = advances
        self.notdef = int(facts["notdef"])
        self.ascent = int(facts["ascent"])
        self.descent = int(facts["descent"])
        self.line_gap = int(facts["line_gap"])
        self.cap_height = int(facts["cap_height"])
        self.x_height = int(facts["x_height"])
        return True

    def width_units(self, text: str) -> int:
        adv = self.advances
        try:
            return sum(map(adv.__getitem__, text))
        except KeyError:
            return sum(adv.get(ch, 0 if ignorable(ch) else self.notdef) for ch in text)


def _read_metrics(path: str) -> dict[str, Any]:
    """What :class:`FileMetrics` keeps of the font file ``path``, as plain data."""
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    try:
        upem = int(font["head"].unitsPerEm)
        hmtx = font["hmtx"].metrics
        cmap = font.getBestCmap() or {}
        hhea, os2 = font["hhea"], font["OS/2"] if "OS/2" in font else None
        ascent = int(hhea.ascent)
        return {
            "name": str(font["name"].getDebugName(6) or Path(path).stem),
            "upem": upem,
            "advances": [[cp, int(hmtx[g][0])] for cp, g in sorted(cmap.items()) if g in hmtx],
            "notdef": int(hmtx.get(".notdef", (upem // 2, 0))[0]),
            "ascent": ascent,
            "descent": -int(hhea.descent),
            "line_gap": int(hhea.lineGap),
            "cap_height": int(getattr(os2, "sCapHeight", 0) or round(ascent * 0.7)),
            "x_height": int(getattr(os2, "sxHeight", 0) or round(ascent * 0.5)),
        }
    finally:
        font.close()


def face_name(path: str) -> str:
    """The PostScript name of the face in ``path`` (:attr:`FileMetrics.name`),
    reading its ``name`` table alone: naming a fallback face does not read
    its character map (tens of thousands of glyphs in a CJK face). Kept in
    the font cache with the file's metrics."""
    key = _file_key(path)
    where = _facts_path(path)
    doc = read_cached(where, key) if key is not None else None
    if doc is not None and isinstance(doc.get("name"), str):
        return str(doc["name"])
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    try:
        name = str(font["name"].getDebugName(6) or Path(path).stem)
    finally:
        font.close()
    if key is not None:
        write_cached(where, key, {"name": name, "metrics": None})
    return name


def _file_key(path: str) -> str | None:
    """What a font file's cached facts must have been read from: its path,
    size and modification time (None: it cannot be looked at, read it)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _listing_key("facts", [os.path.abspath(path), st.st_size, st.st_mtime_ns])


def _facts_path(path: str) -> Path:
    digest = hashlib.sha256(os.path.abspath(path).encode("utf-8", "surrogatepass")).hexdigest()
    return font_cache_dir() / "metrics" / f"{digest[:32]}.json"


def ignorable(ch: str) -> bool:
    """Controls and format characters (newline, ZWJ, variation selectors)."""
    return unicodedata.category(ch) in ("Cc", "Cf") or 0xFE00 <= ord(ch) <= 0xFE0F


# ---------------------------------------------------------------- discovery


def fontpkg_files() -> list[FontFile]:
    """The TrueType files of the installed ``fontpkg-*`` packages.

    Finding them means reading every installed distribution's entry points
    and importing each font package; the list is therefore kept in the font
    cache (:func:`read_listing`), keyed by the modification times of the
    folders on ``sys.path`` (installing or removing a package changes its
    folder's), and used only while every file it names is there. A font
    package edited in place (an editable install) is seen again once its
    folder on ``sys.path`` changes."""
    # sys.path[0] is the script's folder or the current one: never where
    # packages are installed, and it changes whenever a book is written there
    where = [p for p in sys.path[1:] if p and os.path.isdir(p)]
    key = _listing_key("fontpkg", [(p, _mtime(p)) for p in where])
    cached = read_listing("fontpkg", key)
    if cached is not None:
        return cached
    out = _scan_fontpkg()
    write_listing("fontpkg", key, out)
    return out


def _scan_fontpkg() -> list[FontFile]:
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
    """TrueType (``.ttf``, glyf outlines) files in the system font folders.

    Reading each file's ``name`` table costs milliseconds per file; the list
    is kept in the font cache (:func:`read_listing`), keyed by every file's
    path, size and modification time, so a folder that did not change is
    only listed."""
    paths: list[Path] = []
    for d in dirs:
        root = Path(os.path.expanduser(d))
        if root.is_dir():
            paths.extend(sorted(root.rglob("*.ttf")))
    seen = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        seen.append((str(path), st.st_size, st.st_mtime_ns))
    key = _listing_key("system", seen)
    cached = read_listing("system", key)
    if cached is not None:
        return cached
    out = _scan_system([Path(p) for p, _, _ in seen])
    write_listing("system", key, out)
    return out


def _scan_system(paths: Sequence[Path]) -> list[FontFile]:
    from fontTools.ttLib import TTFont

    out = []
    for path in paths:
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
                    FontFile(family, str(path), weight, italic, "fvar" in font, None, "system", "")
                )
            font.close()
        except Exception:  # unreadable files are simply not fonts for us
            continue
    return out


# ------------------------------------------------------- the listing cache

_LISTING_FORMAT = 1
_MAX_CACHED_BYTES = 16 * 1024 * 1024  # the metrics of a large CJK face: about 1 MiB


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def _listing_key(kind: str, facts: object) -> str:
    """The digest a cached listing of ``kind`` must carry: what was listed,
    the listing format and the Python version."""
    text = json.dumps([kind, _LISTING_FORMAT, sys.version.split()[0], facts])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _listing_path(kind: str) -> Path:
    return font_cache_dir() / f"listing-{kind}.json"


def read_listing(kind: str, key: str) -> list[FontFile] | None:
    """The font files a listing of ``kind`` (``fontpkg``, ``system``) saved
    for ``key``, when there is one to trust (see :func:`read_cached`) of the
    right shape, every file it names still there. Anything else is None
    (list again)."""
    doc = read_cached(_listing_path(kind), key)
    if doc is None:
        return None
    try:
        files = [_font_file(row) for row in doc["files"]]
    except (KeyError, TypeError):
        return None
    if not all(os.path.isfile(f.path) for f in files):
        return None
    return files


def read_cached(path: Path, key: str) -> dict[str, Any] | None:
    """The JSON object saved at ``path`` by :func:`write_cached` for ``key``:
    only a regular file of this user that no one else can write, of at most
    :data:`_MAX_CACHED_BYTES`, holding an object whose ``key`` is ``key``.
    None for anything else (a missing, foreign, damaged or stale file): the
    caller computes the value again."""
    data = read_trusted(path, _MAX_CACHED_BYTES)
    if data is None:
        return None
    try:
        doc = json.loads(data.decode("utf-8"))
    except ValueError:  # also UnicodeDecodeError
        return None
    if not isinstance(doc, dict) or doc.get("key") != key:
        return None
    return doc


def write_cached(path: Path, key: str, doc: dict[str, Any]) -> None:
    """Save ``doc`` (plain JSON data) with its ``key`` at ``path``, atomically
    (a reader sees the old file or the whole new one); a folder that cannot
    be written is no error: the cache is only an optimisation."""
    data = json.dumps({**doc, "key": key}, separators=(",", ":")).encode("utf-8")
    write_private(path, data)


def _font_file(row: object) -> FontFile:
    """A :class:`FontFile` from its saved row; TypeError when it is not one."""
    if not isinstance(row, list) or len(row) != 8:
        raise TypeError("not a font file row")
    family, path, weight, italic, variable, wght, source, lic = row
    strings = (family, path, source, lic)
    if not all(isinstance(v, str) for v in strings) or not isinstance(weight, int):
        raise TypeError("not a font file row")
    if not isinstance(italic, bool) or not isinstance(variable, bool):
        raise TypeError("not a font file row")
    if wght is not None:
        if not (isinstance(wght, list) and len(wght) == 2):
            raise TypeError("not a font file row")
        if not all(isinstance(w, int) for w in wght):
            raise TypeError("not a font file row")
    rng = None if wght is None else (wght[0], wght[1])
    return FontFile(family, path, weight, italic, variable, rng, source, lic)


def write_listing(kind: str, key: str, files: Sequence[FontFile]) -> None:
    """Save a listing of ``kind`` for ``key`` (see :func:`write_cached`)."""
    rows = [
        [
            f.family,
            f.path,
            f.weight,
            f.italic,
            f.variable,
            None if f.wght_range is None else list(f.wght_range),
            f.source,
            f.license,
        ]
        for f in files
    ]
    write_cached(_listing_path(kind), key, {"files": rows})


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


# ------------------------------------------------------- the font cache folder


def font_cache_dir() -> Path:
    """Where derived faces are written: ``$COMICC_FONT_CACHE``, else the user
    cache (``$XDG_CACHE_HOME/comicc/fonts`` or ``~/.cache/comicc/fonts``)."""
    env = os.environ.get("COMICC_FONT_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "comicc" / "fonts"
