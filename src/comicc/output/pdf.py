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

import functools
import hashlib
import io
import math
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
from comicc.layout import BalloonGeom, BookGeom, PageGeom, Rect, Shape, VectorPath
from comicc.model import ir
from comicc.output.color import parse_color
from comicc.output.pdfsplice import marker, splice

__all__ = ["write_pdf", "pdf_bytes", "CROP_MARK_LENGTH", "CROP_MARK_OFFSET"]

CROP_MARK_LENGTH = 18.0  # pt, length of each crop mark
CROP_MARK_OFFSET = 3.0  # pt, gap between the bleed edge and a mark
CROP_MARK_WIDTH = 0.25  # pt
SFX_OUTLINE = 0.06  # outline width of SFX/title lettering, fraction of font size


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
        _render(book, art, meta, f, bleed=bleed, crop_marks=crop_marks, page_color=page_color)


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


def prepare_pdf(book: BookGeom) -> dict[FontRef, TTFont]:
    """Every font ``book`` is lettered with, registered with reportlab (once per
    process): a build painting in worker processes does this while they paint,
    not after the last panel."""
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


# --- drawing -------------------------------------------------------------


class _Canvas(Canvas):
    # reportlab internals this writer drives directly (absent from its type stubs)
    _doc: pdfdoc.PDFDocument
    _currentPageHasImages: int
    _formsinuse: list[str]
    _extgstate: _ExtGState

    def _make_preamble(self) -> None:
        # reportlab's preamble selects Helvetica on every page; we never use it
        self._preamble = "1 0 0 1 0 0 cm"


class _ExtGState:
    """The part of reportlab's ExtGState registry used here: ``_c`` maps
    ``(key, value)`` to the state's resource name."""

    _c: dict[tuple[str, float], str]


# string-literal escapes for text shown with Tj: \ ( ) and non-printing bytes
_ESCAPES = {
    i: (f"\\{i:03o}" if i < 32 or i > 126 else "\\" + chr(i))
    for i in range(256)
    if i < 32 or i > 126 or chr(i) in "\\()"
}


def _escape(chunk: bytes) -> str:
    return chunk.decode("latin-1").translate(_ESCAPES)


def _n(v: float) -> str:
    """A number for the content stream: 2 decimals (1/7200 in)."""
    return f"{v:.2f}"


@functools.lru_cache(maxsize=512)
def _color_ops(color: str | None, stroke: bool) -> str | None:
    """``r g b rg`` (fill) or ``r g b RG`` (stroke); None for no color."""
    rgba = parse_color(color)
    if rgba is None:
        return None
    return " ".join(_n(v) for v in rgba[:3]) + (" RG" if stroke else " rg")


class _Page:
    """Draws one PageGeom, mapping layout coordinates (y down, origin at the
    trim's top-left) to PDF user space (y up, origin at the media's corner).
    Everything goes into the content stream as operators (``Canvas.addLiteral``);
    text is encoded into the embedded subsets by reportlab's ``TTFont``."""

    def __init__(
        self,
        c: _Canvas,
        page: PageGeom,
        images: dict[str, tuple[str, int, int]],
        fonts: dict[FontRef, TTFont],
        bleed: bool,
        crop_marks: bool,
    ) -> None:
        self.c, self.page, self.images, self.fonts = c, page, images, fonts
        self.bleed = page.bleed if bleed else 0.0
        self.slug = CROP_MARK_OFFSET + CROP_MARK_LENGTH + 3.0 if crop_marks else 0.0
        self.ox = self.bleed + self.slug
        self.mw = page.width + 2 * self.ox
        self.mh = page.height + 2 * self.ox
        self.top = self.mh - self.ox
        self.ops: list[str] = []

    def setup(self, crop_marks: bool) -> None:
        c, ox, p = self.c, self.ox, self.page
        c.setPageSize((self.mw, self.mh))
        boxed = self.bleed > 0 or crop_marks
        c.setTrimBox((ox, ox, ox + p.width, ox + p.height) if boxed else None)
        s = self.slug
        c.setBleedBox((s, s, self.mw - s, self.mh - s) if boxed else None)

    def flush(self) -> None:
        code = "\n".join(self.ops)
        self.c.addLiteral(code)
        self.c._doc.updateSignature(code.encode("utf-8"))  # the file /ID follows the content
        self.ops = []

    def draw(self, page_color: str | None, crop_marks: bool) -> None:
        p, o, s = self.page, self.ops, self.slug
        o.append("q")
        if s:  # keep everything but the marks inside the bleed box
            o.append(f"{_n(s)} {_n(s)} {_n(self.mw - 2 * s)} {_n(self.mh - 2 * s)} re W n")
        col = _color_ops(page_color, False)
        if col:
            o.append(f"{col} {_n(s)} {_n(s)} {_n(self.mw - 2 * s)} {_n(self.mh - 2 * s)} re f")
        for panel in p.panels:
            img = self.images.get(panel.id)
            if img is not None:
                self.art(panel.rect, *img)
        for panel in p.panels:
            if panel.border is not None:
                self.shape(panel.border, fill=False)
        for shape in p.extra:
            self.shape(shape)
        for panel in p.panels:
            for balloon in panel.balloons:
                for shape in balloon.shapes:
                    self.shape(shape)
                self.lettering(balloon)
        o.append("Q")
        if crop_marks:
            self.marks()
        self.flush()

    def art(self, rect: Rect, xobj_name: str, w: int, h: int) -> None:
        scale = max(rect.w / w, rect.h / h)  # cover the rect, centered, clipped
        dw, dh = w * scale, h * scale
        x = rect.x + (rect.w - dw) / 2 + self.ox
        y = self.top - (rect.y + (rect.h + dh) / 2)
        self.ops.append(
            f"q {_n(rect.x + self.ox)} {_n(self.top - rect.y2)} {_n(rect.w)} {_n(rect.h)} re W n "
            f"{_n(dw)} 0 0 {_n(dh)} {_n(x)} {_n(y)} cm /{pdfdoc.xObjectName(xobj_name)} Do Q"
        )
        self.c._currentPageHasImages = 1
        self.c._formsinuse.append(xobj_name)  # puts it in the page's /XObject resources

    def path(self, path: VectorPath) -> str:
        ox, top = self.ox, self.top
        out = []
        for cmd in path.cmds:
            op, v = cmd.op, cmd.pts
            if op == "L" or op == "M":
                out.append(f"{v[0] + ox:.2f} {top - v[1]:.2f} {'l' if op == 'L' else 'm'}")
            elif op == "C":
                out.append(
                    f"{v[0] + ox:.2f} {top - v[1]:.2f} {v[2] + ox:.2f} {top - v[3]:.2f} "
                    f"{v[4] + ox:.2f} {top - v[5]:.2f} c"
                )
            elif op == "Z":
                out.append("h")
            else:
                raise ValueError(f"unknown path command {cmd.op!r}")
        return " ".join(out)

    def shape(self, shape: Shape, fill: bool = True) -> None:
        fc = _color_ops(shape.fill, False) if fill else None
        st = shape.stroke
        sc = _color_ops(st.color, True) if st is not None and st.width > 0 else None
        if fc is None and sc is None:
            return
        o = ["q"]
        if fc and shape.fill is not None:
            o.append(fc + self._alpha(shape.fill, "ca"))
        if sc and st is not None:
            # round caps would close the gaps of a dash pattern: dashes get butt caps
            cap = 0 if st.dash else 1
            o.append(f"{sc}{self._alpha(st.color, 'CA')} {_n(st.width)} w 1 j {cap} J")
            if st.dash:
                o.append(f"[{' '.join(_n(d) for d in st.dash)}] 0 d")
        o.append(self.path(shape.path))
        o.append(("B" if fc else "S") if sc else "f")
        o.append("Q")
        self.ops.append(" ".join(o))

    def _alpha(self, color: str, key: str) -> str:
        rgba = parse_color(color)
        if rgba is None or rgba[3] >= 1:
            return ""
        # reportlab's ExtGState registry: named once, listed in the page resources
        reg = self.c._extgstate._c
        t = (key, round(rgba[3], 3))
        name = reg.get(t) or reg.setdefault(t, f"gRLs{len(reg)}")
        return f" /{name} gs"

    def lettering(self, balloon: BalloonGeom) -> None:
        """One text object per balloon, each run placed absolutely (``Tm``) and
        encoded into the font's embedded subsets."""
        runs = [r for line in balloon.lines for r in line.runs if r.text]
        if not runs:
            return
        doc = self.c._doc
        outlined = ir.BalloonKind.parse(balloon.kind).body == "bare"  # display lettering
        o = ["q"]
        if balloon.angle:  # turned display lettering: about its box's center
            cx, cy = balloon.rect.center
            cx, cy = cx + self.ox, self.top - cy
            a = math.radians(balloon.angle)
            c, s = math.cos(a), math.sin(a)
            o.append(
                f"{c:.5f} {s:.5f} {-s:.5f} {c:.5f} "
                f"{cx - c * cx + s * cy:.3f} {cy - s * cx - c * cy:.3f} cm"
            )
        if outlined:
            size = max(r.font.size for r in runs)
            o.append(f"{max(0.5, size * SFX_OUTLINE):.2f} w 1 j")
        o.append("BT 2 Tr" if outlined else "BT")
        color: str | None = None
        subset_key: tuple[TTFont, int, float] | None = None
        for run in runs:
            if run.color != color:
                color = run.color
                col = parse_color(color) or (0.0, 0.0, 0.0, 1.0)
                o.append(f"{col[0]:.3f} {col[1]:.3f} {col[2]:.3f} rg")
                if outlined:  # the outline contrasts with the fill
                    light = 0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2] > 0.5
                    o.append("0 0 0 RG" if light else "1 1 1 RG")
            ttf, size = self.fonts[run.font], run.font.size
            o.append(f"1 0 0 1 {run.x + self.ox:.2f} {self.top - run.baseline:.2f} Tm")
            for subset, chunk in ttf.splitString(run.text, doc):
                key = (ttf, subset, size)
                if key != subset_key:
                    subset_key = key
                    o.append(f"{ttf.getSubsetInternalName(subset, doc)} {size:.2f} Tf")
                o.append(f"({_escape(chunk)}) Tj")
        o.append("ET Q")
        self.ops.append(" ".join(o))

    def marks(self) -> None:
        ox, p = self.ox, self.page
        o = [f"q 1 1 1 1 K {_n(CROP_MARK_WIDTH)} w"]  # registration: shows on every plate
        start = self.bleed + CROP_MARK_OFFSET
        for cx, sx in ((ox, -1), (ox + p.width, 1)):
            for cy, sy in ((ox, -1), (ox + p.height, 1)):
                a, b = start * sx, (start + CROP_MARK_LENGTH) * sx
                o.append(f"{_n(cx + a)} {_n(cy)} m {_n(cx + b)} {_n(cy)} l S")
                a, b = start * sy, (start + CROP_MARK_LENGTH) * sy
                o.append(f"{_n(cx)} {_n(cy + a)} m {_n(cx)} {_n(cy + b)} l S")
        o.append("Q")
        self.ops.append(" ".join(o))


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


def _render(
    book: BookGeom,
    art: dict[str, PanelArt],
    meta: ir.Metadata | None,
    f: BinaryIO,
    *,
    bleed: bool = False,
    crop_marks: bool = False,
    page_color: str | None = "#ffffff",
) -> None:
    if not book.pages:
        raise ValueError("a book needs at least one page")
    rl_config.useA85 = 0  # never ASCII85: ~95x slower and 25% larger (process-wide)
    fonts = prepare_pdf(book)
    lang = meta.language if meta is not None else None
    buf = io.BytesIO()
    c = _Canvas(
        buf,
        pagesize=(book.pages[0].width, book.pages[0].height),
        invariant=1,
        pageCompression=1,
        lang=lang or None,
    )
    _set_info(c, meta)
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
    for page in book.pages:
        pg = _Page(c, page, images, fonts, bleed, crop_marks)
        pg.setup(crop_marks)
        pg.draw(page_color, crop_marks)
        c.showPage()
    c.save()
    splice(buf.getvalue(), streams, f)
