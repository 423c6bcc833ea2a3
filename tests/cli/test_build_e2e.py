"""End to end: every example builds offline (draft backend) to PDF, CBZ and
PNG pages, and the outputs are checked by parsing them."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

import pikepdf
import pypdf
import pytest
from PIL import Image
from pypdf.generic import ArrayObject, DictionaryObject

from support.build import EXAMPLES, book_of, build_file

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_pdf(example, tmp_path, cache):
    out = tmp_path / "book.pdf"
    res, result, _ = build_file(example, out, cache, dpi=100)
    book = book_of(res)
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == len(book.pages) == result.pages
    for page, geom in zip(reader.pages, book.pages, strict=True):
        # page size in points = the format's trim size (spreads are one wide page)
        assert float(page.mediabox.width) == pytest.approx(geom.width, abs=0.01)
        assert float(page.mediabox.height) == pytest.approx(geom.height, abs=0.01)
        # every lettering line is real text, extracted in reading order
        extracted = _norm(page.extract_text())
        pos = 0
        for panel in geom.panels:
            for balloon in panel.balloons:
                for line in balloon.lines:
                    want = _norm(line.text)
                    if not want:
                        continue
                    found = extracted.find(want, pos)
                    assert found >= 0, f"{balloon.id}: {line.text!r} missing or out of order"
                    pos = found + len(want)
        # fonts embedded as TrueType subsets; the only images are panel art
        resources = _dict(page["/Resources"])
        for ref in _dict(resources["/Font"]).values():
            font = _dict(ref)
            if "/DescendantFonts" in font:  # a Type0 font: the descriptor is its descendant's
                descendants = font["/DescendantFonts"].get_object()
                assert isinstance(descendants, ArrayObject)
                desc = _dict(descendants[0]).get("/FontDescriptor")
            else:
                desc = font.get("/FontDescriptor")
            assert desc is not None and ("/FontFile2" in desc), font.get("/BaseFont")
            assert re.match(r"/[A-Z]{6}\+", str(font["/BaseFont"])), "font is not a subset"
        xobjects = _dict(resources.get("/XObject", DictionaryObject()))
        images = [x for x in xobjects.values() if _dict(x).get("/Subtype") == "/Image"]
        assert len(images) == len(geom.panels)
    meta = reader.metadata
    assert meta is not None and meta.title == (res.script.meta.title or None)
    with pikepdf.open(out) as pdf:  # what `qpdf --check` checks
        problems = [p for p in pdf.check_pdf_syntax() if "error" in str(p).lower()]
        assert problems == []


def _dict(obj: object) -> DictionaryObject:
    """A PDF dictionary, through its indirect reference if it is one."""
    resolved = obj.get_object() if isinstance(obj, pypdf.generic.PdfObject) else obj
    assert isinstance(resolved, DictionaryObject), resolved
    return resolved


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_cbz(example, tmp_path, cache):
    out = tmp_path / "book.cbz"
    res, result, _ = build_file(example, out, cache, dpi=100, output_format="cbz")
    with zipfile.ZipFile(out) as z:
        assert z.testzip() is None
        names = z.namelist()
        pages = [n for n in names if n != "ComicInfo.xml"]
        assert pages == sorted(pages) and len(pages) == result.pages
        info = ET.fromstring(z.read("ComicInfo.xml"))
        assert info.findtext("PageCount") == str(result.pages)
        assert info.findtext("Title") == res.script.meta.title
        rtl = res.script.reading == "rtl"
        assert info.findtext("Manga") == ("YesAndRightToLeft" if rtl else "No")
        first = Image.open(io.BytesIO(z.read(pages[0])))
        geom = book_of(res).pages[0]  # at 100 dpi
        assert first.size == (round(geom.width * 100 / 72), round(geom.height * 100 / 72))


def test_png_pages(tmp_path, cache):
    example = next(p for p in EXAMPLES if p.stem == "heist")
    out = tmp_path / "pages"
    res, result, _ = build_file(example, out, cache, dpi=72, output_format="png")
    files = sorted(out.glob("*.png"))
    assert len(files) == result.pages
    img = Image.open(files[0])
    geom = book_of(res).pages[0]
    assert img.size == (round(geom.width), round(geom.height))  # 72 dpi: one pixel per point


def test_failed_build_leaves_existing_output_untouched(tmp_path, cache):
    out = tmp_path / "book.pdf"
    out.write_bytes(b"previous book")
    script = tmp_path / "broken.comic"
    script.write_text("title: x\nbackend: nosuch\n\nPAGE 1\n\nPANEL 1\nA cat.\n")
    r = subprocess.run(
        [sys.executable, "-m", "comicc", "build", str(script), "-o", str(out), "--no-progress"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    assert "unknown-backend" in r.stderr and "Traceback" not in r.stderr
    assert out.read_bytes() == b"previous book"
    assert not list(tmp_path.glob(".book.pdf*"))  # no temporary file left behind
