"""CBZ and raster (PNG) output: checked by opening the files."""

from __future__ import annotations

import io
import os
import zipfile
from xml.etree import ElementTree as ET

import pytest
from PIL import Image

from comicc.fonts import FontRef
from comicc.images import PanelArt, encode_image
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
from comicc.output import cbz as cbzmod
from comicc.output import page_images, render_page, write_cbz, write_png_pages

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
META = Metadata(title="The Test", author="Ann Writer", series="Tests", issue="7", language="ja")
W, H = 200.0, 300.0
ART_COLOR = (200, 30, 30)


def rgb(im: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    """One pixel of an RGB image."""
    pixel = im.getpixel(xy)
    assert isinstance(pixel, tuple), pixel
    return pixel


def page_entries(root: ET.Element) -> list[ET.Element]:
    """The ``<Page>`` entries of a ComicInfo.xml."""
    pages = root.find("Pages")
    assert pages is not None
    return pages.findall("Page")


def make_book(pages: int = 3) -> tuple[BookGeom, dict[str, PanelArt]]:
    font = FontRef("DejaVuSans", FONT, 10)
    geoms, arts = [], {}
    for pn in range(1, pages + 1):
        r = Rect(10, 10, 180, 280)
        body = Rect(30, 30, 100, 40)
        b = BalloonGeom(
            f"p{pn}.1.b1",
            "speech",
            "A",
            body,
            VectorPath.rect(body),
            None,
            (Shape(VectorPath.rect(body), "#ffffff", Stroke(1.0, "#000000")),),
            (TextLine((GlyphRun(f"PAGE {pn}", font, 40, 45, 40),)),),
            (),
        )
        geoms.append(
            PageGeom(
                (pn,),
                W,
                H,
                9.0,
                Rect(10, 10, 180, 280),
                (PanelGeom(f"p{pn}.1", 1, r, Shape(VectorPath.rect(r), None, Stroke(2.0)), (b,)),),
            )
        )
        arts[f"p{pn}.1"] = PanelArt.from_image(Image.new("RGB", (90, 140), ART_COLOR), "png")
    return BookGeom(tuple(geoms)), arts


def jpeg(w: int, h: int, color=(10, 20, 30)) -> bytes:
    return encode_image(Image.new("RGB", (w, h), color), "jpeg")


def info(z: zipfile.ZipFile) -> ET.Element:
    return ET.fromstring(z.read("ComicInfo.xml"))


def test_cbz_pages_in_order_with_comicinfo(tmp_path):
    pages = [jpeg(100, 150, (i * 40, 0, 0)) for i in range(4)]
    out = tmp_path / "book.cbz"
    write_cbz(pages, META, out, rtl=False)
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        names = [n for n in z.namelist() if n != "ComicInfo.xml"]
        assert names == ["001.jpg", "002.jpg", "003.jpg", "004.jpg"]
        assert [z.read(n) for n in names] == pages
        root = info(z)
    assert root.tag == "ComicInfo"
    assert root.findtext("Title") == "The Test"
    assert root.findtext("Series") == "Tests"
    assert root.findtext("Number") == "7"
    assert root.findtext("Writer") == "Ann Writer"
    assert root.findtext("PageCount") == "4"
    assert root.findtext("LanguageISO") == "ja"
    assert root.findtext("Manga") == "No"
    entries = page_entries(root)
    assert [e.get("Image") for e in entries] == ["0", "1", "2", "3"]
    assert entries[0].get("Type") == "FrontCover"
    assert entries[1].get("ImageWidth") == "100" and entries[1].get("ImageHeight") == "150"
    assert entries[2].get("ImageSize") == str(len(pages[2]))


def test_cbz_rtl_is_manga_and_page_count_can_be_given(tmp_path):
    out = tmp_path / "book.cbz"
    write_cbz([jpeg(300, 150), jpeg(150, 300)], META, out, rtl=True, page_count=3)
    with zipfile.ZipFile(out) as z:
        root = info(z)
    assert root.findtext("Manga") == "YesAndRightToLeft"
    assert root.findtext("PageCount") == "3"
    first = page_entries(root)[0]
    assert first.get("DoublePage") == "true"  # a spread: wider than tall


def test_cbz_names_png_pages_png(tmp_path):
    png = encode_image(Image.new("RGB", (20, 30)), "png")
    out = tmp_path / "book.cbz"
    write_cbz([png, jpeg(20, 30)], None, out)
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["001.png", "002.jpg", "ComicInfo.xml"]
        assert info(z).findtext("Title") is None


def test_cbz_is_deterministic(tmp_path):
    pages = [jpeg(50, 60), jpeg(50, 60, (1, 2, 3))]
    write_cbz(pages, META, tmp_path / "a.cbz", rtl=True)
    write_cbz(pages, META, tmp_path / "b.cbz", rtl=True)
    assert (tmp_path / "a.cbz").read_bytes() == (tmp_path / "b.cbz").read_bytes()


def test_cbz_failure_leaves_an_existing_file_untouched(tmp_path, monkeypatch):
    out = tmp_path / "book.cbz"
    out.write_bytes(b"previous build")
    calls = []

    def flaky(z, name, data, method):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")
        z.writestr(zipfile.ZipInfo(name), data)

    monkeypatch.setattr(cbzmod, "_add", flaky)
    with pytest.raises(OSError):
        write_cbz([jpeg(10, 10), jpeg(10, 10)], META, out)
    assert out.read_bytes() == b"previous build"
    assert os.listdir(tmp_path) == ["book.cbz"]


def test_cbz_rejects_non_images(tmp_path):
    with pytest.raises(ValueError):
        write_cbz([b"GIF89a..."], META, tmp_path / "x.cbz")
    assert not (tmp_path / "x.cbz").exists()


# --- raster ---------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists(FONT), reason="DejaVu fonts not installed")
def test_render_page_draws_art_balloon_border_and_text():
    book, arts = make_book(1)
    im = render_page(book.pages[0], arts, dpi=72)
    assert im.size == (200, 300) and im.mode == "RGB"
    assert rgb(im, (150, 200)) == ART_COLOR  # art inside the panel
    assert rgb(im, (5, 5)) == (255, 255, 255)  # page color outside it
    assert rgb(im, (10, 150))[0] < 60  # panel border, on the left edge
    assert rgb(im, (120, 62)) == (255, 255, 255)  # balloon fill, away from text
    # 1 pt outline on x = 30 at 72 dpi covers half of pixel 29 (over the art) and half
    # of pixel 30 (over the balloon's white fill): anti-aliased, not snapped
    assert rgb(im, (29, 50))[0] == pytest.approx(ART_COLOR[0] / 2, abs=12)
    assert rgb(im, (30, 50))[0] == pytest.approx(128, abs=12)
    text = im.crop((40, 36, 80, 46))  # cap height above the baseline
    assert min(text.convert("L").tobytes()) < 80  # dark lettering pixels
    big = render_page(book.pages[0], arts, dpi=144, bleed=True)
    assert big.size == (round((W + 18) * 2), round((H + 18) * 2))


@pytest.mark.skipif(not os.path.exists(FONT), reason="DejaVu fonts not installed")
def test_page_images_feed_a_cbz(tmp_path):
    book, arts = make_book(2)
    imgs = page_images(book, arts, dpi=36)
    write_cbz(imgs, META, tmp_path / "b.cbz", rtl=False)
    with zipfile.ZipFile(tmp_path / "b.cbz") as z:
        im = Image.open(io.BytesIO(z.read("001.jpg")))
        assert im.format == "JPEG" and im.size == (100, 150)


@pytest.mark.skipif(not os.path.exists(FONT), reason="DejaVu fonts not installed")
def test_write_png_pages_numbers_files_and_drops_stale_ones(tmp_path):
    """Stale pages of comicc's last set go; a page comicc did not write stays."""
    write_png_pages(make_book(5)[0], make_book(5)[1], tmp_path, dpi=36)
    book, arts = make_book(3)
    (tmp_path / "page-009.png").write_bytes(b"not comicc's")
    (tmp_path / "notes.txt").write_text("keep me")
    paths = write_png_pages(book, arts, tmp_path, dpi=36)
    assert [p.name for p in paths] == ["page-001.png", "page-002.png", "page-003.png"]
    assert sorted(os.listdir(tmp_path)) == [
        ".comicc-pages.json",
        "notes.txt",
        "page-001.png",
        "page-002.png",
        "page-003.png",
        "page-009.png",
    ]
    assert Image.open(paths[0]).size == (100, 150)


def test_a_dashed_outline_keeps_its_gaps_in_raster_pages():
    """Dashes get butt caps, as in the PDF: round caps of a 3 pt stroke would
    close the 4 pt gaps of a whisper balloon's outline."""
    line = VectorPath((PathCmd("M", (20.0, 100.0)), PathCmd("L", (180.0, 100.0))))
    dashed = Shape(line, None, Stroke(3.0, "#000000", (4.0, 4.0)))
    balloon = BalloonGeom(
        "p1.1.b1", "whisper", None, Rect(20, 95, 160, 10), line, None, (dashed,), (), ()
    )
    panel = PanelGeom("p1.1", 1, Rect(0, 0, W, H), None, (balloon,))
    page = PageGeom((1,), W, H, 0.0, Rect(0, 0, W, H), (panel,))
    im = render_page(page, {}, dpi=72).convert("L")
    row = [im.getpixel((x, 100)) for x in range(24, 176)]
    inked = sum(1 for v in row if isinstance(v, int) and v < 128)
    assert 0.35 < inked / len(row) < 0.65  # about half on, half off
