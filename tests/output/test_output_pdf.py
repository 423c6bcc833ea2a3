"""PDF output: checked by parsing the file (pypdf, pikepdf), never by eye."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import pikepdf
import pypdf
import pytest
from PIL import Image, ImageDraw

from comicc.fonts import FontRef
from comicc.images import PanelArt
from comicc.layout import (
    BalloonGeom,
    BookGeom,
    GlyphRun,
    PageGeom,
    PanelGeom,
    PathCmd,
    Rect,
    Shape,
    Stroke,
    TextLine,
    VectorPath,
)
from comicc.model.ir import Metadata
from comicc.output import CROP_MARK_LENGTH, CROP_MARK_OFFSET, pdf_bytes, write_pdf
from comicc.output import pdf as pdfmod

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
pytestmark = pytest.mark.skipif(
    not (os.path.exists(FONT) and os.path.exists(BOLD)), reason="DejaVu fonts not installed"
)

W, H, BLEED = 400.0, 600.0, 9.0
META = Metadata(title="The Test", author="Ann Writer", series="Tests", issue="2", language="en")


def art(w: int, h: int, color, fmt: str = "jpeg") -> PanelArt:
    im = Image.new("RGB", (w, h), color)
    ImageDraw.Draw(im).rectangle([0, 0, w // 3, h // 3], fill=(255, 255, 255))
    return PanelArt.from_image(im, fmt)


def balloon(
    bid: str,
    x: float,
    y: float,
    lines: list[str],
    kind: str = "speech",
    font: FontRef | None = None,
) -> BalloonGeom:
    font = font or FontRef("DejaVuSans", FONT, 10)
    rect = Rect(x, y, 120, 14 * len(lines) + 10)
    body = VectorPath.rect(rect)
    tail = VectorPath.polygon([(x + 20, rect.y2), (x + 30, rect.y2), (x + 15, rect.y2 + 15)])
    shapes = (
        ()
        if kind == "sfx"
        else (
            Shape(body, "#ffffff", Stroke(1.0, "#000000", (3, 2))),
            Shape(tail, "#ffffff", Stroke(1.0)),
        )
    )
    text = tuple(
        TextLine((GlyphRun(t, font, x + 8, y + 17 + 14 * i, 60),)) for i, t in enumerate(lines)
    )
    return BalloonGeom(bid, kind, None, rect, body, tail, shapes, text, (body, tail))


def make_book(pages: int = 2):
    """Per page: a full-bleed top panel and two bottom panels, 2 balloons each."""
    geoms, arts, lettering = [], {}, []
    curve = VectorPath((PathCmd("M", (10, 10)), PathCmd("C", (20, 0, 30, 0, 40, 10)), PathCmd("Z")))
    for pn in range(1, pages + 1):
        rects = [
            Rect(-BLEED, -BLEED, W + 2 * BLEED, 250 + BLEED),
            Rect(20, 260, 175, 320),
            Rect(205, 260, 175, 320),
        ]
        panels, page_text = [], []
        for i, r in enumerate(rects, 1):
            pid = f"p{pn}.{i}"
            y0 = max(r.y, 0) + 20
            bs = [
                balloon(f"{pid}.b1", r.x + 30, y0, [f"PAGE {pn} PANEL {i}", "FIRST BALLOON"]),
                balloon(f"{pid}.b2", r.x + 40, y0 + 90, [f"SECOND {pn}.{i}"]),
            ]
            if i == 3:
                bs.append(
                    balloon(
                        f"{pid}.b3",
                        r.x + 20,
                        y0 + 180,
                        ["BLAM!"],
                        kind="sfx",
                        font=FontRef("DejaVuSans-Bold", BOLD, 24),
                    )
                )
            page_text += [ln.text for b in bs for ln in b.lines]
            border = None if i == 1 else Shape(VectorPath.rect(r), None, Stroke(2.0))
            panels.append(PanelGeom(pid, i, r, border, tuple(bs)))
            arts[pid] = art(
                60 + 10 * i, 40 + pn, (40 * i, 90, 200 - 20 * pn), "png" if i == 2 else "jpeg"
            )
        geoms.append(
            PageGeom(
                (pn,),
                W,
                H,
                BLEED,
                Rect(20, 20, W - 40, H - 40),
                tuple(panels),
                extra=(Shape(curve, None, Stroke(0.5)),),
            )
        )
        lettering.append(page_text)
    return BookGeom(tuple(geoms)), arts, lettering


@pytest.fixture(scope="module")
def book():
    return make_book()


@pytest.fixture(scope="module")
def plain(book, tmp_path_factory):
    b, arts, _ = book
    out = tmp_path_factory.mktemp("pdf") / "book.pdf"
    write_pdf(b, arts, META, out)
    return out


def check(pdf: pikepdf.Pdf) -> list:
    fn = getattr(pdf, "check", None) or pdf.check_pdf_syntax  # renamed in pikepdf 10
    return list(fn())


def test_structure_is_valid_and_pages_are_trim_size(plain):
    with pikepdf.open(plain) as pdf:
        assert check(pdf) == []
        assert len(pdf.pages) == 2
        for page in pdf.pages:
            assert [float(v) for v in page.MediaBox] == [0, 0, W, H]
            assert "/TrimBox" not in page.obj


def test_bleed_boxes(book):
    b, arts, _ = book
    with pikepdf.open(io.BytesIO(pdf_bytes(b, arts, META, bleed=True))) as pdf:
        assert check(pdf) == []
        page = pdf.pages[0]
        assert [float(v) for v in page.MediaBox] == [0, 0, W + 2 * BLEED, H + 2 * BLEED]
        assert [float(v) for v in page.TrimBox] == [BLEED, BLEED, W + BLEED, H + BLEED]
        assert [float(v) for v in page.BleedBox] == [float(v) for v in page.MediaBox]


def test_crop_marks_sit_in_a_slug_outside_the_bleed(book):
    b, arts, _ = book
    with pikepdf.open(io.BytesIO(pdf_bytes(b, arts, META, bleed=True, crop_marks=True))) as pdf:
        page = pdf.pages[0]
        media = [float(v) for v in page.MediaBox]
        trim = [float(v) for v in page.TrimBox]
        bleed = [float(v) for v in page.BleedBox]
        slug = bleed[0]
        assert slug >= CROP_MARK_OFFSET + CROP_MARK_LENGTH  # the marks fit in the slug
        assert trim[0] == pytest.approx(slug + BLEED)
        assert trim[2] - trim[0] == pytest.approx(W) and trim[3] - trim[1] == pytest.approx(H)
        assert media[2] == pytest.approx(W + 2 * (BLEED + slug))
        content = page.Contents.read_bytes().decode("latin-1")
        assert content.count(" l S") == 8  # two marks per corner


def test_text_is_extracted_in_lettering_order(plain, book):
    _, _, lettering = book
    reader = pypdf.PdfReader(plain)
    for page, expected in zip(reader.pages, lettering, strict=True):
        lines = [ln.strip() for ln in page.extract_text().splitlines() if ln.strip()]
        assert lines == expected


def _text_origins(page: pypdf.PageObject) -> dict[str, tuple[float, float]]:
    """Each piece of text on ``page`` -> where its first occurrence starts (PDF units)."""
    seen: dict[str, tuple[float, float]] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            seen.setdefault(text.strip(), (tm[4], tm[5]))

    page.extract_text(visitor_text=visit)
    return seen


def test_text_is_placed_with_y_flipped(book):
    b, arts, _ = book
    for bleed, off in ((False, 0.0), (True, BLEED)):
        reader = pypdf.PdfReader(io.BytesIO(pdf_bytes(b, arts, META, bleed=bleed)))
        seen = _text_origins(reader.pages[0])
        run = b.pages[0].panels[0].balloons[0].lines[0].runs[0]
        x, y = seen[run.text]
        assert x == pytest.approx(run.x + off, abs=0.01)
        assert y == pytest.approx(H + off - run.baseline, abs=0.01)


def test_fonts_are_embedded_subsets(plain):
    with pikepdf.open(plain) as pdf:
        fonts = {}
        for page in pdf.pages:
            for _, f in page.Resources.Font.items():
                fonts[str(f.BaseFont)] = f
        assert fonts
        for name, f in fonts.items():
            assert re.fullmatch(r"/[A-Z]{6}\+\S+", name), name
            desc = f.FontDescriptor
            assert "/FontFile2" in desc
            assert len(desc.FontFile2.read_bytes()) > 1000
            assert "/ToUnicode" in f
        families = {n.split("+", 1)[1] for n in fonts}
        assert families == {"DejaVuSans", "DejaVuSans-Bold"}


def test_only_the_panel_art_is_raster_and_it_passes_through(plain, book):
    _, arts, _ = book
    by_size = {(a.width, a.height): a for a in arts.values()}
    with pikepdf.open(plain) as pdf:
        images = {}
        for page in pdf.pages:
            for _name, x in page.Resources.XObject.items():
                assert x.Subtype == "/Image"
                images[x.objgen] = x
        assert len(images) == len(arts)
        for x in images.values():
            a = by_size[(int(x.Width), int(x.Height))]
            raw = x.read_raw_bytes()
            if a.format == "jpeg":
                assert x.Filter == "/DCTDecode"
                assert raw == a.data  # the file's bytes, untouched
            else:  # plain PNG: its zlib stream, untouched, with the PNG predictor
                assert x.Filter == "/FlateDecode" and int(x.DecodeParms.Predictor) == 15
                assert raw in a.data
                assert isinstance(x, pikepdf.Stream)
                got = pikepdf.PdfImage(x).as_pil_image().convert("RGB")
                assert got.tobytes() == a.open().convert("RGB").tobytes()


def test_no_ascii85_anywhere(plain):
    data = plain.read_bytes()
    assert b"ASCII85Decode" not in data and b"/A85" not in data


def test_sfx_lettering_is_filled_and_outlined(plain):
    with pikepdf.open(plain) as pdf:
        content = pdf.pages[0].Contents.read_bytes()
        assert b"2 Tr" in content


def test_metadata(plain):
    info = pypdf.PdfReader(plain).metadata
    assert info is not None
    assert info.title == "The Test"
    assert info.author == "Ann Writer"
    assert info.subject == "Tests #2"
    assert info.creator == "comicc"


def test_output_is_deterministic(book, tmp_path):
    b, arts, _ = book
    a, c = tmp_path / "a.pdf", tmp_path / "c.pdf"
    write_pdf(b, arts, META, a)
    write_pdf(b, arts, META, c)
    assert a.read_bytes() == c.read_bytes()


def test_output_is_the_same_in_a_fresh_process(book, tmp_path):
    b, arts, _ = book
    here = tmp_path / "here.pdf"
    write_pdf(b, arts, META, here)
    paths = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
    script = (
        f"import sys; sys.path[:0] = {paths!r}\n"
        "import test_output_pdf as t\n"
        "from comicc.output.pdf import write_pdf\n"
        "b, arts, _ = t.make_book()\n"
        f"write_pdf(b, arts, t.META, {str(tmp_path / 'there.pdf')!r})\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    assert (tmp_path / "there.pdf").read_bytes() == here.read_bytes()


def test_identical_art_is_embedded_once(book):
    b, arts, _ = book
    same = {pid: arts["p1.1"] for pid in arts}
    with pikepdf.open(io.BytesIO(pdf_bytes(b, same, None))) as pdf:
        objs = {x.objgen for p in pdf.pages for _, x in p.Resources.XObject.items()}
        assert len(objs) == 1


def test_missing_art_leaves_the_panel_empty(book):
    b, arts, _ = book
    with pikepdf.open(io.BytesIO(pdf_bytes(b, {}, None))) as pdf:
        assert check(pdf) == []
        assert all("/XObject" not in p.Resources for p in pdf.pages)


def test_failure_leaves_an_existing_file_untouched(book, tmp_path, monkeypatch):
    b, arts, _ = book
    out = tmp_path / "book.pdf"
    out.write_bytes(b"previous build")

    def half_then_fail(pdf, contents, f):
        f.write(pdf[:1000])
        raise OSError("disk full")

    monkeypatch.setattr(pdfmod, "splice", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_pdf(b, arts, META, out)
    assert out.read_bytes() == b"previous build"
    assert os.listdir(tmp_path) == ["book.pdf"]  # no temp file left behind


def test_bad_art_fails_before_touching_the_file(book, tmp_path):
    b, arts, _ = book
    out = tmp_path / "book.pdf"
    out.write_bytes(b"previous build")
    broken = dict(arts, **{"p1.1": PanelArt(b"\xff\xd8\xff\xe0garbage", "jpeg", 10, 10)})
    with pytest.raises(ValueError):
        write_pdf(b, broken, META, out)
    assert out.read_bytes() == b"previous build"
    assert os.listdir(tmp_path) == ["book.pdf"]


def test_png_with_alpha_is_flattened_not_dropped():
    im = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    im.putpixel((0, 0), (0, 0, 255, 255))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    a = PanelArt.from_bytes(buf.getvalue())
    r = Rect(0, 0, 100, 100)
    page = PageGeom((1,), 100, 100, 0, r, (PanelGeom("p1.1", 1, r, None, ()),))
    with pikepdf.open(io.BytesIO(pdf_bytes(BookGeom((page,)), {"p1.1": a}, None))) as pdf:
        (x,) = [v for _, v in pdf.pages[0].Resources.XObject.items()]
        assert isinstance(x, pikepdf.Stream)
        got = pikepdf.PdfImage(x).as_pil_image().convert("RGB")
        assert got.getpixel((0, 0)) == (0, 0, 255) and got.getpixel((5, 5)) == (255, 255, 255)
        assert zlib.decompress(x.read_raw_bytes())  # re-zipped pixels, valid Flate


def test_non_ascii_lettering_round_trips():
    font = FontRef("DejaVuSans", FONT, 12)
    text = ["ÉTÉ — “QUOTE” ÑOÑO…", "ΑΒΓ Δ ЖЗИЙ (PARENS) \\ SLASH"]
    b = balloon("p1.1.b1", 10, 10, text, font=font)
    r = Rect(0, 0, 300, 200)
    page = PageGeom((1,), 300, 200, 0, r, (PanelGeom("p1.1", 1, r, None, (b,)),))
    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes(BookGeom((page,)), {}, None)))
    lines = [ln.strip() for ln in reader.pages[0].extract_text().splitlines() if ln.strip()]
    assert lines == text


def test_a_pdf_begun_before_its_art_gives_the_same_bytes(book, tmp_path):
    """A build painting in worker processes begins the PDF meanwhile (fonts, every
    page but its art): the file is the one written in one go."""
    b, arts, _ = book
    for bleed in (False, True):
        whole, begun = tmp_path / f"whole-{bleed}.pdf", tmp_path / f"begun-{bleed}.pdf"
        write_pdf(b, arts, META, whole, bleed=bleed, crop_marks=bleed)
        draft = pdfmod.prepare_pdf(b, META, bleed=bleed, crop_marks=bleed)
        assert draft is not None
        write_pdf(b, arts, META, begun, bleed=bleed, crop_marks=bleed, draft=draft)
        assert begun.read_bytes() == whole.read_bytes()


def test_a_draft_of_other_options_or_used_before_is_not_used(book, tmp_path):
    b, arts, _ = book
    whole = tmp_path / "whole.pdf"
    write_pdf(b, arts, META, whole, bleed=True, crop_marks=True)
    other = pdfmod.prepare_pdf(b, META)  # no bleed: not the file asked for
    again = pdfmod.prepare_pdf(b, META, bleed=True, crop_marks=True)
    for n, draft in enumerate((other, again, again)):  # the second `again` is used up
        out = tmp_path / f"out-{n}.pdf"
        write_pdf(b, arts, META, out, bleed=True, crop_marks=True, draft=draft)
        assert out.read_bytes() == whole.read_bytes()


def test_translucent_states_are_each_pages_own(book, tmp_path):
    """Every page lists the transparency states its content names, as reportlab
    names them page by page, also when the pages were drawn before the art."""
    b, arts, _ = book
    alphas = {1: ("#ffffff80", "#ffffff40"), 2: ("#ffffff40", "#000000c0")}

    def translucent(page: PageGeom) -> PageGeom:
        first, second = alphas[page.numbers[0]]
        panels = []
        for k, panel in enumerate(page.panels):
            fill = first if k == 0 else second
            balloons = tuple(
                replace(bl, shapes=tuple(replace(s, fill=fill) for s in bl.shapes))
                for bl in panel.balloons
            )
            panels.append(replace(panel, balloons=balloons))
        return replace(page, panels=tuple(panels))

    clear = BookGeom(tuple(translucent(p) for p in b.pages))
    out = tmp_path / "clear.pdf"
    write_pdf(clear, arts, META, out, draft=pdfmod.prepare_pdf(clear, META))
    with pikepdf.open(out) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            content = page.Contents.read_bytes()
            named = set(re.findall(rb"/(gRLs\d+) gs", content))
            states = page.Resources.ExtGState
            assert {k.lstrip("/").encode() for k in states.keys()} == named
            wanted = {round(int(c[-2:], 16) / 255, 3) for c in alphas[number]}
            assert {float(states[k]["/ca"]) for k in states.keys()} == wanted
