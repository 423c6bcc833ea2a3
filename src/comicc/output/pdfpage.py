"""Drawing one page of the PDF: its content stream's operators (page color,
art, borders, balloons, lettering in embedded TrueType subsets, crop marks).
The document around the pages is :mod:`comicc.output.pdf`."""

from __future__ import annotations

import functools
import math

from reportlab.pdfbase import pdfdoc
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from comicc.fonts import FontRef
from comicc.layout import BalloonGeom, PageGeom, Rect, Shape, VectorPath
from comicc.model import ir
from comicc.output.color import parse_color

CROP_MARK_LENGTH = 18.0  # pt, length of each crop mark
CROP_MARK_OFFSET = 3.0  # pt, gap between the bleed edge and a mark
CROP_MARK_WIDTH = 0.25  # pt
SFX_OUTLINE = 0.06  # outline width of SFX/title lettering, fraction of font size


class PdfCanvas(Canvas):
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


class PageDrawing:
    """Draws one PageGeom, mapping layout coordinates (y down, origin at the
    trim's top-left) to PDF user space (y up, origin at the media's corner).
    Everything goes into the content stream as operators (``Canvas.addLiteral``);
    text is encoded into the embedded subsets by reportlab's ``TTFont``.

    A page is drawn by :meth:`draw_around_art` (all but the art: page color,
    borders, balloons, lettering, marks), which can be done before the art
    exists (while it is painted; every page in page order, as the subsets'
    codes are given out in that order), then, on the canvas's page,
    :meth:`setup`, :meth:`place_art` and :meth:`flush`."""

    def __init__(
        self,
        c: PdfCanvas,
        page: PageGeom,
        fonts: dict[FontRef, TTFont],
        bleed: bool,
        crop_marks: bool,
    ) -> None:
        self.c, self.page, self.fonts = c, page, fonts
        self.bleed = page.bleed if bleed else 0.0
        self.slug = CROP_MARK_OFFSET + CROP_MARK_LENGTH + 3.0 if crop_marks else 0.0
        self.ox = self.bleed + self.slug
        self.mw = page.width + 2 * self.ox
        self.mh = page.height + 2 * self.ox
        self.top = self.mh - self.ox
        self.ops: list[str] = []
        self._art_at = 0  # where the art's operators go among them
        # the page's transparency states, as reportlab names them (its registry is
        # new on every page: filled from this one when the page is flushed)
        self.states: dict[tuple[str, float], str] = {}

    def setup(self, crop_marks: bool) -> None:
        c, ox, p = self.c, self.ox, self.page
        c.setPageSize((self.mw, self.mh))
        boxed = self.bleed > 0 or crop_marks
        c.setTrimBox((ox, ox, ox + p.width, ox + p.height) if boxed else None)
        s = self.slug
        c.setBleedBox((s, s, self.mw - s, self.mh - s) if boxed else None)

    def place_art(self, images: dict[str, tuple[str, int, int]]) -> None:
        """The art's operators, at their place (``images``: panel id -> its
        XObject's name, width and height), the page using the XObjects."""
        art, self.ops = self.ops[self._art_at :], self.ops[: self._art_at]
        for panel in self.page.panels:
            img = images.get(panel.id)
            if img is not None:
                self.art(panel.rect, *img)
        self.ops.extend(art)

    def flush(self) -> None:
        """The operators into the canvas's current page (its states too)."""
        code = "\n".join(self.ops)
        self.c._extgstate._c.update(self.states)
        self.c.addLiteral(code)
        self.c._doc.updateSignature(code.encode("utf-8"))  # the file /ID follows the content
        self.ops = []

    def draw_around_art(self, page_color: str | None, crop_marks: bool) -> None:
        """Every operator of the page but the art's, in their order (the art's
        place is kept); its text encoded into the document's subsets."""
        p, o, s = self.page, self.ops, self.slug
        o.append("q")
        if s:  # keep everything but the marks inside the bleed box
            o.append(f"{_n(s)} {_n(s)} {_n(self.mw - 2 * s)} {_n(self.mh - 2 * s)} re W n")
        col = _color_ops(page_color, False)
        if col:
            o.append(f"{col} {_n(s)} {_n(s)} {_n(self.mw - 2 * s)} {_n(self.mh - 2 * s)} re f")
        self._art_at = len(o)
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
        # the page's ExtGState registry: named once, listed in its resources
        reg = self.states
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
