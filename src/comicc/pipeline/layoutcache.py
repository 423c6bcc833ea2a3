"""The layout memo: an unchanged page is not laid out again.

Each page is keyed by a content hash of everything its geometry is made from
(:func:`page_key`): the page's IR (text, settings, panels; spans left out),
the theme, the page format, the reading order, the balloon sizes kept from
the lock file, the voices of its voiced captions, the fonts (the installed
font folders; the files the page was lettered with are checked when it is
read back), comicc's version and the source of the code that lays pages out.
A page laid out before from the same key is taken from memory (``comicc
watch``: :class:`~comicc.pipeline.options.LayoutMemo`) or from the art
cache's folder (``layout/ab/abcdef....page``, JSON; :class:`LayoutStore`); every
other page is laid out, in one :func:`~comicc.layout.layout_book` call.

The stored geometry is plain JSON (never pickle: the cache folder is not
trusted; the typed codec is :mod:`comicc.pipeline.layoutcodec`) and every
value read back is checked against the geometry's own types; a file that
is damaged, of another version or not ours is a miss (the page is laid out
again), never an error. Floats go through JSON exactly
(``repr`` round trip), so a book from the memo is the same book, byte for
byte, as one laid out afresh. The warnings of a reused page are stored with
their places as references to the page's balloons and panels, so they point
at the lines of now.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import comicc
from comicc.collector import collector_off
from comicc.diagnostics import Diagnostic, Sink
from comicc.files import read_trusted, write_bytes_atomic
from comicc.fonts import SYSTEM_FONT_DIRS, default_fontbook
from comicc.layout import BookGeom, PageGeom
from comicc.model import ir
from comicc.pipeline.codehash import code_digest_of
from comicc.pipeline.layoutcodec import Malformed, Unkeyable, decode, digest, encode
from comicc.pipeline.layoutwarnings import page_places, warning_from_json, warning_json
from comicc.source import Span
from comicc.theme import PageFormat, Theme

FORMAT_VERSION = 2  # bump when what is stored, or how a page is keyed, changes (2: compact paths)
MAX_ENTRY_BYTES = 16 << 20  # far above any real page's; a bigger file is not ours
# the code a page's geometry comes from: its source is part of every key, so a
# changed layout engine never reuses a page laid out by the old one
_CODE = (
    "layout",
    "fonts",
    "model/ir.py",
    "theme/model.py",
    "units.py",
    "pipeline/layoutcache.py",
    "pipeline/layoutcodec.py",
    "pipeline/layoutwarnings.py",
)


# --- keys --------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 of comicc's version, :data:`FORMAT_VERSION` and the source of
    the modules a page's geometry comes from (read once per process)."""
    return code_digest_of(f"{comicc.__version__}:{FORMAT_VERSION}", _CODE)


def font_environment() -> str:
    """A signature of the installed fonts: every font folder's modification
    time (a face installed or removed changes its folder) and that of the
    folders holding the ``fontpkg`` packages."""
    seen: list[str] = []
    dirs = [os.path.expanduser(d) for d in SYSTEM_FONT_DIRS]
    packages = sorted({p for p in sys.path if p.endswith("site-packages")})
    for top in dirs + packages:
        for folder, subdirs, _ in os.walk(top):
            subdirs.sort()
            try:
                seen.append(f"{folder}:{os.stat(folder).st_mtime_ns}")
            except OSError:
                continue
            if folder == top and top in packages:  # only the fontpkg-* packages' folders
                subdirs[:] = [d for d in subdirs if d.startswith("fontpkg")]
    return hashlib.sha256("\n".join(seen).encode()).hexdigest()


def voiced_speakers(script: ir.Script | Iterable[ir.Page]) -> list[str]:
    """The speakers of voiced captions, in order of first appearance: a voiced
    caption's fill depends on where its speaker comes in this order."""
    pages = script.pages if isinstance(script, ir.Script) else script
    out: dict[str, None] = {}
    for page in pages:
        for panel in page.panels:
            for balloon in panel.balloons:
                if balloon.kind is ir.BalloonKind.CAPTION and balloon.speaker:
                    out.setdefault(balloon.speaker)
    return list(out)


@dataclass(frozen=True)
class BookKey:
    """What every page of one book shares in its key."""

    shared: str  # digest of the theme, page format, reading order, code and fonts
    voices: dict[str, int]  # voiced speaker -> place in the book's order


def book_key(script: ir.Script, theme: Theme, page_format: PageFormat) -> BookKey:
    """The part of every page's key the whole book shares. Raises :class:`Unkeyable`."""
    shared = digest([code_digest(), font_environment(), theme, page_format, script.reading])
    return BookKey(shared, {s: i for i, s in enumerate(voiced_speakers(script))})


def page_key(page: ir.Page, book: BookKey, keep: dict[str, tuple[float, float]]) -> str:
    """The content hash a page's geometry is stored under. Raises :class:`Unkeyable`."""
    balloons = [b for panel in page.panels for b in panel.balloons]
    kept = sorted((b.id, keep[b.id]) for b in balloons if b.id in keep)
    voices = sorted({(s, book.voices[s]) for s in voiced_speakers([page]) if s in book.voices})
    return digest(["page", FORMAT_VERSION, book.shared, page, kept, voices])


# --- the store -----------------------------------------------------------------


FontStamps = tuple[tuple[str, tuple[int, int] | None], ...]  # font file -> (size, mtime)


def font_stamps(geom: PageGeom) -> FontStamps:
    """The font files ``geom`` is lettered with and their size and modification
    time now (None: no such file), by path."""
    fonts = {
        run.font.path
        for panel in geom.panels
        for b in panel.balloons
        for line in b.lines
        for run in line.runs
    }
    return tuple((p, _file_stamp(p)) for p in sorted(fonts))


def stamps_unchanged(fonts: FontStamps) -> bool:
    """Whether every font file of ``fonts`` has its size and modification time still."""
    return all(_file_stamp(p) == then for p, then in fonts)


def _file_stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class StoredPage:
    """One page as the memo keeps it: its geometry and its warnings (as JSON,
    placed when used); ``fonts``: the font files it was lettered with and
    their size and modification time then."""

    geom: PageGeom
    warnings: tuple[dict[str, Any], ...]
    fonts: FontStamps = ()
    # the scripts (absolute paths) that laid the page out or used it since:
    # whose entry it is for ``comicc cache gc`` (the memo is shared)
    scripts: tuple[str, ...] = ()

    def fonts_unchanged(self) -> bool:
        return stamps_unchanged(self.fonts)

    def placed(self, page: ir.Page) -> tuple[PageGeom, list[Diagnostic]]:
        """The geometry and warnings for ``page`` as it is now (its balloons'
        source lines may have moved). Raises :class:`Malformed`."""
        warnings = [warning_from_json(w, page) for w in self.warnings]
        lines = {b.id: (b.span.line if b.span is not None else 0) for b in _balloons(page)}
        panels = []
        for panel in self.geom.panels:
            balloons = []
            for b in panel.balloons:
                if b.id not in lines:
                    raise Malformed("a balloon the page does not have")
                balloons.append(b if b.line == lines[b.id] else replace(b, line=lines[b.id]))
            panels.append(replace(panel, balloons=tuple(balloons)))
        return replace(self.geom, panels=tuple(panels)), warnings


def _balloons(page: ir.Page) -> list[ir.Balloon]:
    return [b for panel in page.panels for b in panel.balloons]


class LayoutStore:
    """Laid-out pages on disk, under ``root/layout/`` (the art cache's folder).
    ``script``: the script being built, recorded in every entry it writes or
    uses (so ``comicc cache gc`` knows whose entry it is)."""

    def __init__(self, root: str | os.PathLike[str], script: str | None = None) -> None:
        self.root = Path(root) / "layout"
        self.script = str(Path(script).resolve()) if script else None

    def path(self, key: str) -> Path:
        """The file the page of ``key`` is stored in."""
        return self.root / key[:2] / f"{key}.page"

    def get(self, key: str) -> StoredPage | None:
        """The page stored under ``key``; None when there is none or it cannot
        be used (damaged, another version, fonts changed since)."""
        stored = self.read(key)
        if stored is None or not stored.fonts_unchanged():
            return None
        if self.script and self.script not in stored.scripts:
            # another script's page, used by this one too: `cache gc` of either keeps it
            stored = replace(stored, scripts=(*stored.scripts, self.script))
            self.put(key, stored)
        return stored

    def read(self, key: str) -> StoredPage | None:
        """The entry stored under ``key`` as it is (fonts not checked); None when
        there is none or it is not one this version writes."""
        data = read_trusted(self.path(key), MAX_ENTRY_BYTES, own=False)
        if data is None:
            return None
        try:
            doc = json.loads(data.decode("utf-8"))
            return _stored_from_json(doc, key)
        except (ValueError, RecursionError, TypeError, Malformed):
            return None

    def put(self, key: str, stored: StoredPage) -> None:
        """Keep ``stored`` under ``key`` (atomically), with this store's script
        among its users; a store that cannot be written is no store (the build
        goes on)."""
        scripts = list(stored.scripts)
        if self.script and self.script not in scripts:
            scripts.append(self.script)
        body = {
            "geom": encode(stored.geom),
            "warnings": list(stored.warnings),
            "fonts": [[p, list(s) if s else None] for p, s in stored.fonts],
            "scripts": scripts,
        }
        try:
            text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
            doc = {"version": FORMAT_VERSION, "key": key, "sha256": _sha(text), "body": text}
            data = json.dumps(doc, sort_keys=True, separators=(",", ":"))
            write_entry(self.path(key), data.encode())
        except (OSError, ValueError):
            return


def write_entry(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write a cache file atomically. Whatever else is at ``path`` (a FIFO
    or a device, which a write would go through, a folder) is removed first:
    the cache folder is comicc's. ``durable=False``: no fsync (a file whose
    checksum tells a torn write)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        if stat.S_ISDIR(st.st_mode):
            raise OSError(f"{path} is a folder")
        os.unlink(path)
    write_bytes_atomic(path, data, follow_symlinks=False, durable=durable)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stored_from_json(doc: object, key: str) -> StoredPage:
    if not isinstance(doc, dict) or doc.get("version") != FORMAT_VERSION or doc.get("key") != key:
        raise Malformed("not an entry of this version under this key")
    text = doc.get("body")
    if not isinstance(text, str) or doc.get("sha256") != _sha(text):
        raise Malformed("its content is not what was written")
    body = json.loads(text)
    if not isinstance(body, dict):
        raise Malformed("no body")
    geom = decode(PageGeom, body.get("geom"))
    warnings = body.get("warnings")
    if not isinstance(warnings, list) or not all(isinstance(w, dict) for w in warnings):
        raise Malformed("warnings are not a list of objects")
    fonts = decode(FontStamps, body.get("fonts"))
    scripts = decode(tuple[str, ...], body.get("scripts", []))
    return StoredPage(geom, tuple(warnings), fonts, scripts)


# --- laying out with the memo --------------------------------------------------


@dataclass
class MemoResult:
    """A book laid out with the memo, and which pages were laid out."""

    book: BookGeom
    keys: tuple[str | None, ...]  # per page its key (None: not memoizable)
    laid_out: tuple[int, ...]  # page numbers laid out (not taken from a memo)
    reused: tuple[int, ...]
    # per page its layout warnings as JSON (:func:`warning_json`); None when
    # some warning could not be stored
    warnings: tuple[tuple[dict[str, Any], ...], ...] | None = None


Memory = dict[str, StoredPage]


def page_keys(
    script: ir.Script, theme: Theme, page_format: PageFormat, keep: dict[str, tuple[float, float]]
) -> tuple[str | None, ...]:
    """Every page's key (:func:`page_key`; None for a page that has none)."""
    try:
        shared = book_key(script, theme, page_format)
    except Unkeyable:
        return tuple(None for _ in script.pages)
    out: list[str | None] = []
    for page in script.pages:
        try:
            out.append(page_key(page, shared, keep))
        except Unkeyable:
            out.append(None)
    return tuple(out)


@collector_off()
def layout_memoized(
    script: ir.Script,
    theme: Theme,
    page_format: PageFormat,
    sink: Sink,
    keep: dict[str, tuple[float, float]],
    *,
    keys: tuple[str | None, ...] | None = None,
    memory: Memory | None = None,
    store: LayoutStore | None = None,
    layout: Callable[..., tuple[BookGeom, list[Diagnostic]]] | None = None,
    jobs: int | None = None,
) -> MemoResult:
    """Lay out ``script``, taking every page laid out before from the same key
    (``keys``: :func:`page_keys`, computed when not given) from ``memory``
    (kept by the caller, updated to this book's pages) or ``store``; the other
    pages are laid out together, in one ``layout`` call (the same book a cold
    layout makes: pages are laid out independently); ``layout`` defaults to
    :func:`~comicc.layout.layout_book`, loaded only when a page is laid out;
    ``jobs`` caps its processes (``--jobs``). The cyclic garbage collector
    is off meanwhile (:func:`~comicc.collector.collector_off`)."""
    if keys is None:
        keys = page_keys(script, theme, page_format, keep)
    found: dict[int, tuple[PageGeom, list[Diagnostic]]] = {}
    stored_as: dict[int, StoredPage] = {}
    misses: list[int] = []
    for i, page in enumerate(script.pages):
        key = keys[i]
        hit = None
        if key is not None:
            hit = (memory or {}).get(key)
            if hit is not None and not hit.fonts_unchanged():
                hit = None
            if hit is None and store is not None:
                hit = store.get(key)
        if hit is not None:
            try:
                found[i] = hit.placed(page)
                stored_as[i] = hit
                continue
            except Malformed:
                pass
        misses.append(i)
    unplaced: list[Diagnostic] | None = None
    if misses:
        sub = replace(script, pages=tuple(script.pages[i] for i in misses))
        voices = voiced_speakers(sub)
        if voices != voiced_speakers(script)[: len(voices)]:
            # a voiced caption takes its fill from its speaker's place in the
            # whole book: lay the whole book out, as a cold build does
            misses, sub = list(range(len(script.pages))), script
            found.clear()
            stored_as.clear()
        if layout is None:  # the engine is loaded only when a page is laid out
            from comicc.layout import layout_book

            layout = layout_book
        book, issues = layout(sub, theme, page_format, default_fontbook(), keep=keep, jobs=jobs)
        per_page = _by_page(issues, [script.pages[i] for i in misses])
        if per_page is None:  # a warning of no page: given in the layout's order
            unplaced, per_page = issues, [[] for _ in misses]
        for j, i in enumerate(misses):
            geom, warnings = book.pages[j], per_page[j]
            found[i] = (geom, warnings)
            key = keys[i]
            if key is None or unplaced is not None:
                continue
            try:
                stored = StoredPage(
                    geom,
                    tuple(warning_json(d, script.pages[i]) for d in warnings),
                    font_stamps(geom),
                )
            except Unkeyable:
                continue
            stored_as[i] = stored
            if store is not None:
                store.put(key, stored)
    if memory is not None:
        memory.clear()
        memory.update({k: stored_as[i] for i, k in enumerate(keys) if k and i in stored_as})
    if unplaced is not None:
        sink.extend(unplaced)
    pages: list[PageGeom] = []
    for i in range(len(script.pages)):
        geom, warnings = found[i]
        sink.extend(warnings)
        pages.append(geom)
    reading = script.reading if script.reading in ("ltr", "rtl") else "ltr"
    laid = tuple(script.pages[i].number for i in misses)
    missed = set(misses)
    reused = tuple(p.number for i, p in enumerate(script.pages) if i not in missed)
    every = None
    if len(stored_as) == len(script.pages):
        every = tuple(stored_as[i].warnings for i in range(len(script.pages)))
    return MemoResult(BookGeom(tuple(pages), reading), keys, laid, reused, every)


def placed_warnings(warnings: object, script: ir.Script) -> list[Diagnostic] | None:
    """Stored per-page warnings (:attr:`MemoResult.warnings`, as JSON) placed
    on ``script``'s pages as they are now; None when they do not fit it."""
    if not isinstance(warnings, list) or len(warnings) != len(script.pages):
        return None
    out: list[Diagnostic] = []
    try:
        for page, found in zip(script.pages, warnings, strict=True):
            if not isinstance(found, list):
                return None
            out.extend(warning_from_json(w, page) for w in found)
    except (Malformed, TypeError, ValueError):
        return None
    return out


def _by_page(issues: list[Diagnostic], pages: list[ir.Page]) -> list[list[Diagnostic]] | None:
    """``issues`` split by the page each points into (in order); None when one
    points into none of them."""
    owner: dict[Span, int] = {}
    for j, page in enumerate(pages):
        for span in page_places(page).values():
            owner.setdefault(span, j)
    out: list[list[Diagnostic]] = [[] for _ in pages]
    for d in issues:
        at = owner.get(d.span) if d.span is not None else None
        if at is None:
            return None
        out[at].append(d)
    return out
