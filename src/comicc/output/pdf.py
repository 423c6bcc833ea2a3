"""PDF output: the lettered book as one PDF, built with reportlab.

Per page, in this order: page color; every panel's art (clipped to its rect)
and border; then every panel's balloons (shapes, then lettering). Lettering is
real text in embedded TrueType subsets, emitted page → panel → balloon → line,
so it can be selected, searched and extracted in reading order.

Panel art is embedded without re-encoding: JPEG bytes become the image's
``DCTDecode`` stream as they are, plain PNGs keep their zlib stream
(``FlateDecode`` + PNG predictor); ASCII85 is off. Output is deterministic
(reportlab's invariant mode: fixed dates and file ID) and written atomically.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zlib
from typing import BinaryIO

from reportlab import rl_config
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from comicc.files import Protected, atomic_write
from comicc.fonts import FontRef
from comicc.images import PanelArt, flatten_alpha, jpeg_info, png_flate_passthrough
from comicc.layout import BookGeom
from comicc.model import ir
from comicc.output.pdfpage import CROP_MARK_LENGTH, CROP_MARK_OFFSET, PageDrawing, PdfCanvas
from comicc.output.pdfsplice import marker, splice

__all__ = [
    "write_pdf",
    "pdf_bytes",
    "prepare_pdf",
    "PdfDraft",
    "CROP_MARK_LENGTH",
    "CROP_MARK_OFFSET",
]


def write_pdf(
    book: BookGeom,
    art: dict[str, PanelArt],
    meta: ir.Metadata | None,
    out_path: str | os.PathLike[str],
    *,
    bleed: bool = False,
    crop_marks: bool = False,
    page_color: str | None = "#ffffff",
    protect: Protected | None = None,
    follow_symlinks: bool = True,
    draft: PdfDraft | None = None,
) -> None:
    """Write ``book`` to ``out_path`` as a PDF (atomically: nothing at
    ``out_path`` changes unless the whole file was written; the rules of
    :func:`comicc.files.atomic_write`, ``protect`` the files never to write over).

    ``art`` maps panel ids to their finished art (a panel without art shows
    the page color). ``bleed``: MediaBox = trim + bleed, with TrimBox and
    BleedBox; otherwise MediaBox = trim. ``crop_marks``: adds a slug around
    the (bleed) page with trim marks in it.
    """
    with atomic_write(out_path, protect=protect, follow_symlinks=follow_symlinks) as f:
        _render(
            book,
            art,
            meta,
            f,
            bleed=bleed,
            crop_marks=crop_marks,
            page_color=page_color,
            draft=draft,
        )


def pdf_bytes(
    book: BookGeom,
    art: dict[str, PanelArt],
    meta: ir.Metadata | None,
    *,
    bleed: bool = False,
    crop_marks: bool = False,
    page_color: str | None = "#ffffff",
) -> bytes:
    """Like :func:`write_pdf`, returning the PDF instead of writing a file."""
    buf = io.BytesIO()
    _render(book, art, meta, buf, bleed=bleed, crop_marks=crop_marks, page_color=page_color)
    return buf.getvalue()


# --- fonts ---------------------------------------------------------------

_font_lock = threading.Lock()
_fonts: dict[tuple[str, str], TTFont] = {}  # (FontRef.name, realpath) -> registered font


def _register_font(ref: FontRef) -> TTFont:
    """Register ``ref`` with reportlab under ``ref.name`` (or a suffixed name if
    that name is already taken by another file); return the registered font."""
    real = os.path.realpath(ref.path)
    key = (ref.name, real)
    with _font_lock:
        font = _fonts.get(key)
        if font is not None:
            return font
        name = ref.name
        taken = set(pdfmetrics.getRegisteredFontNames()) | {f.fontName for f in _fonts.values()}
        if name in taken:
            name = f"{ref.name}-{hashlib.sha1(real.encode()).hexdigest()[:8]}"
        try:
            font = TTFont(name, real)
            pdfmetrics.registerFont(font)
        except Exception as e:  # reportlab raises TTFError, IOError, ...
            raise ValueError(f"cannot embed font {ref.name!r} from {ref.path}: {e}") from e
        _fonts[key] = font
        return font


def _book_fonts(book: BookGeom) -> dict[FontRef, TTFont]:
    """Every font ``book`` is lettered with, registered with reportlab (once per
    process)."""
    fonts: dict[FontRef, TTFont] = {}
    for page in book.pages:
        for panel in page.panels:
            for balloon in panel.balloons:
                for line in balloon.lines:
                    for run in line.runs:
                        if run.font not in fonts:
                            fonts[run.font] = _register_font(run.font)
    return fonts


# --- images --------------------------------------------------------------


class _ArtXObject(pdfdoc.PDFObject):
    """An image XObject whose stream is the art's encoded bytes, unchanged
    where the format allows (JPEG; plain PNG)."""

    __RefOnly__ = 1

    def __init__(self, art: PanelArt, index: int) -> None:
        self.index = index  # stream ``index`` of the splice (see pdfsplice)
        self.params: dict[str, int] | None = None
        self.decode: list[int] | None = None
        self.colorspace: str | None
        if art.format == "jpeg":
            self.width, self.height, comps = jpeg_info(art.data)
            self.bits = 8
            self.colorspace = {1: "DeviceGray", 3: "DeviceRGB", 4: "DeviceCMYK"}.get(comps)
            if self.colorspace is None:
                raise ValueError(f"JPEG with {comps} components is not supported")
            if comps == 4:  # Adobe CMYK JPEGs are stored inverted
                self.decode = [1, 0, 1, 0, 1, 0, 1, 0]
            self.filter, self.content = "DCTDecode", art.data
            return
        self.filter = "FlateDecode"
        plain = png_flate_passthrough(art.data)
        if plain is not None:
            self.content, colors, self.bits = plain
            self.width, self.height = art.width, art.height
            self.colorspace = "DeviceGray" if colors == 1 else "DeviceRGB"
            self.params = {
                "Predictor": 15,
                "Colors": colors,
                "BitsPerComponent": self.bits,
                "Columns": self.width,
            }
            return
        img = flatten_alpha(art.open())  # palette / alpha / interlaced PNG: decode once
        self.width, self.height = img.size
        self.bits = 8
        self.colorspace = "DeviceGray" if img.mode == "L" else "DeviceRGB"
        self.content = zlib.compress(img.tobytes(), 6)

    def format(self, document: pdfdoc.PDFDocument) -> bytes:
        d: dict[str, object] = {
            "Type": pdfdoc.PDFName("XObject"),
            "Subtype": pdfdoc.PDFName("Image"),
            "Width": self.width,
            "Height": self.height,
            "BitsPerComponent": self.bits,
            "ColorSpace": pdfdoc.PDFName(self.colorspace),
            "Filter": pdfdoc.PDFName(self.filter),
            "Length": len(self.content),
        }
        if self.params:
            d["DecodeParms"] = pdfdoc.PDFDictionary(self.params)
        if self.decode:
            d["Decode"] = pdfdoc.PDFArray(self.decode)
        head = pdfdoc.format(pdfdoc.PDFDictionary(d), document)
        # the bytes themselves are written by pdfsplice.splice, never copied here
        return b"".join((head, b"\nstream\n", marker(self.index), b"\nendstream"))


def _set_info(c: Canvas, meta: ir.Metadata | None) -> None:
    c.setCreator("comicc")
    c.setProducer("comicc (reportlab)")
    if meta is None:
        return
    if meta.title:
        c.setTitle(meta.title)
    if meta.author:
        c.setAuthor(meta.author)
    subject = " ".join(x for x in (meta.series, f"#{meta.issue}" if meta.issue else None) if x)
    if subject:
        c.setSubject(subject)


class PdfDraft:
    """A book's PDF begun before its art exists (:func:`prepare_pdf`): the fonts
    registered and every page drawn but for its art, while worker processes
    paint, not after the last panel. :func:`write_pdf` given it finishes it once
    (same bytes as without it); one for another book or other options is not used."""

    def __init__(
        self,
        book: BookGeom,
        meta: ir.Metadata | None,
        bleed: bool,
        crop_marks: bool,
        page_color: str | None,
    ) -> None:
        self.book, self.meta = book, meta
        self.options = (bleed, crop_marks, page_color)
        rl_config.useA85 = 0  # never ASCII85: ~95x slower and 25% larger (process-wide)
        fonts = _book_fonts(book)
        lang = meta.language if meta is not None else None
        self.buf = io.BytesIO()
        self.canvas = PdfCanvas(
            self.buf,
            pagesize=(book.pages[0].width, book.pages[0].height),
            invariant=1,
            pageCompression=1,
            lang=lang or None,
        )
        _set_info(self.canvas, meta)
        self.pages = [PageDrawing(self.canvas, p, fonts, bleed, crop_marks) for p in book.pages]
        for page in self.pages:  # in page order: the subsets' codes are given out so
            page.draw_around_art(page_color, crop_marks)
        self.used = False  # finished into a file: a canvas is saved once

    def fits(self, book: BookGeom, meta: ir.Metadata | None, options: tuple[object, ...]) -> bool:
        """Whether this draft, not used yet, is of ``book`` and ``meta`` with
        ``options`` (bleed, crop marks, page color)."""
        return not self.used and book is self.book and meta is self.meta and options == self.options


def prepare_pdf(
    book: BookGeom,
    meta: ir.Metadata | None,
    *,
    bleed: bool = False,
    crop_marks: bool = False,
    page_color: str | None = "#ffffff",
) -> PdfDraft | None:
    """``book``'s PDF begun (:class:`PdfDraft`), for :func:`write_pdf` with the
    same arguments; None for a book with no page (refused by the writer)."""
    if not book.pages:
        return None
    return PdfDraft(book, meta, bleed, crop_marks, page_color)


def _render(
    book: BookGeom,
    art: dict[str, PanelArt],
    meta: ir.Metadata | None,
    f: BinaryIO,
    *,
    bleed: bool = False,
    crop_marks: bool = False,
    page_color: str | None = "#ffffff",
    draft: PdfDraft | None = None,
) -> None:
    if not book.pages:
        raise ValueError("a book needs at least one page")
    if draft is None or not draft.fits(book, meta, (bleed, crop_marks, page_color)):
        draft = PdfDraft(book, meta, bleed, crop_marks, page_color)
    draft.used = True
    c = draft.canvas
    doc = c._doc
    images: dict[str, tuple[str, int, int]] = {}  # panel id -> (xobject name, w, h)
    seen: dict[tuple[int, bytes, bytes], list[tuple[bytes, tuple[str, int, int]]]] = {}
    streams: list[bytes] = []
    for page in book.pages:
        for panel in page.panels:
            a = art.get(panel.id)
            if a is None:
                continue
            # identical art (same bytes) is embedded once; a cheap key, then compare
            same = seen.setdefault((len(a.data), a.data[:64], a.data[-64:]), [])
            entry = next((e for d, e in same if d is a.data or d == a.data), None)
            if entry is None:
                name = f"art{len(streams)}"
                xobj = _ArtXObject(a, len(streams))
                streams.append(xobj.content)
                doc.updateSignature(b"%d" % len(a.data) + a.data[:256] + a.data[-256:])
                doc.Reference(xobj, pdfdoc.xObjectName(name))
                entry = (name, xobj.width, xobj.height)
                same.append((a.data, entry))
            images[panel.id] = entry
    for pg in draft.pages:
        pg.setup(crop_marks)
        pg.place_art(images)
        pg.flush()
        c.showPage()
    c.save()
    splice(draft.buf.getvalue(), streams, f)
