"""ComicInfo.xml is valid against the ComicInfo v2.0 schema, whatever the
title holds: characters XML 1.0 forbids (C0 controls, U+FFFE, U+FFFF) are
dropped when writing, never written into an unreadable document."""

from __future__ import annotations

import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information

from comicc.images import encode_image
from comicc.model import ir
from comicc.output import comic_info_xml, write_cbz
from support import DATA

SCHEMA = etree.XMLSchema(etree.parse(str(DATA / "ComicInfo.xsd")))
PAGES = [(600, 900, 1234), (1200, 900, 2345), (600, 900, 3456)]


def valid(xml: bytes) -> etree._Element:
    doc = etree.fromstring(xml)  # raises on XML that is not well-formed
    SCHEMA.assertValid(doc)
    return doc


def test_a_plain_book_is_valid():
    meta = ir.Metadata(title="Heist", author="A. Writer", series="Cheese", issue="1")
    doc = valid(comic_info_xml(meta, PAGES, rtl=True, page_count=3))
    assert doc.findtext("Title") == "Heist" and doc.findtext("Manga") == "YesAndRightToLeft"
    assert [p.get("DoublePage") for p in doc.find("Pages")] == [None, "true", None]


@pytest.mark.parametrize(
    "title,kept",
    [
        ("Bad\x00Title", "BadTitle"),
        ("Bell\x07 \x1b[31m", "Bell [31m"),
        ("Not a char \uffff\ufffe!", "Not a char !"),
        ("Tab\tand newline\nkept", "Tab\tand newline\nkept"),
        ("\x01\x02", None),  # nothing left: no element
    ],
)
def test_characters_xml_forbids_are_dropped(title, kept):
    doc = valid(comic_info_xml(ir.Metadata(title=title, author="W\x0b"), PAGES, rtl=False))
    assert doc.findtext("Title") == kept
    assert doc.findtext("Writer") == "W"


@given(st.text(max_size=40), st.text(max_size=20))
def test_any_title_and_author_give_a_valid_document(title, author):
    valid(comic_info_xml(ir.Metadata(title=title, author=author), PAGES, rtl=False))


def test_the_cbz_holds_a_valid_comic_info(tmp_path):
    from PIL import Image

    page = encode_image(Image.new("RGB", (60, 90), "white"), "jpeg")
    out = tmp_path / "book.cbz"
    write_cbz([page, page], ir.Metadata(title="Cheese\uffff\x00"), out)
    with zipfile.ZipFile(out) as z:
        doc = valid(z.read("ComicInfo.xml"))
    assert doc.findtext("Title") == "Cheese"
