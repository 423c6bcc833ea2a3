"""CBZ output: page images in a zip, named 001.jpg ... in reading order, plus
a ``ComicInfo.xml`` (the ComicRack / Anansi schema v2.0).

Images are stored, not deflated (JPEG and PNG are already compressed), with
fixed timestamps, so the same pages give the same bytes.
"""

from __future__ import annotations

import os
import re
import zipfile
from xml.etree import ElementTree as ET

from comicc.files import Protected, atomic_write
from comicc.images import jpeg_info, png_header, sniff_format
from comicc.model import ir

__all__ = ["write_cbz", "comic_info_xml"]

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the zip format's earliest date: fixed for determinism
_EXT = {"jpeg": "jpg", "png": "png"}
# what XML 1.0 forbids in a document (C0 controls but tab, LF, CR; surrogates; U+FFFE/U+FFFF)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", value)


def _size(data: bytes, image_format: str) -> tuple[int, int]:
    if image_format == "jpeg":
        w, h, _ = jpeg_info(data)
    else:
        w, h = png_header(data)[:2]
    return w, h


def comic_info_xml(
    meta: ir.Metadata | None,
    pages: list[tuple[int, int, int]],
    *,
    rtl: bool,
    page_count: int | None = None,
) -> bytes:
    """ComicInfo.xml for ``pages`` = [(width, height, byte size), ...]."""
    root = ET.Element(
        "ComicInfo",
        {
            "xmlns:xsd": "http://www.w3.org/2001/XMLSchema",
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        },
    )

    def add(tag: str, value: str | int | None) -> None:
        text = xml_text(str(value)) if value is not None else ""
        if text.strip():
            ET.SubElement(root, tag).text = text

    # element order follows the schema's xs:sequence
    add("Title", meta.title if meta else None)
    add("Series", meta.series if meta else None)
    add("Number", meta.issue if meta else None)
    add("Writer", meta.author if meta else None)
    add("PageCount", page_count if page_count is not None else len(pages))
    add("LanguageISO", meta.language if meta else None)
    add("Manga", "YesAndRightToLeft" if rtl else "No")
    el = ET.SubElement(root, "Pages")
    for i, (w, h, nbytes) in enumerate(pages):
        attrs = {"Image": str(i)}
        if i == 0:
            attrs["Type"] = "FrontCover"
        if w > h:
            attrs["DoublePage"] = "true"
        attrs.update(ImageSize=str(nbytes), ImageWidth=str(w), ImageHeight=str(h))
        ET.SubElement(el, "Page", attrs)
    ET.indent(root)
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        + ET.tostring(root, encoding="utf-8", xml_declaration=False)
        + b"\n"
    )


def write_cbz(
    page_images: list[bytes],
    meta: ir.Metadata | None,
    out_path: str | os.PathLike[str],
    *,
    rtl: bool = False,
    page_count: int | None = None,
    protect: Protected | None = None,
    follow_symlinks: bool = True,
) -> None:
    """Write ``page_images`` (encoded JPEG or PNG, in reading order) to a CBZ
    at ``out_path``, atomically. ``page_count`` defaults to the number of
    images (give the printed page count when spreads are single images);
    ``protect``: files never to write over (:func:`comicc.files.atomic_write`)."""
    if not page_images:
        raise ValueError("a CBZ needs at least one page")
    width = max(3, len(str(len(page_images))))
    infos = []
    names = []
    for i, data in enumerate(page_images, 1):
        image_format = sniff_format(data)
        w, h = _size(data, image_format)
        infos.append((w, h, len(data)))
        names.append(f"{i:0{width}d}.{_EXT[image_format]}")
    xml = comic_info_xml(meta, infos, rtl=rtl, page_count=page_count)
    with atomic_write(out_path, protect=protect, follow_symlinks=follow_symlinks) as f:
        with zipfile.ZipFile(f, "w") as z:
            for name, data in zip(names, page_images, strict=True):
                _add(z, name, data, zipfile.ZIP_STORED)
            _add(z, "ComicInfo.xml", xml, zipfile.ZIP_DEFLATED)


def _add(z: zipfile.ZipFile, name: str, data: bytes, method: int) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = method
    info.external_attr = 0o644 << 16
    z.writestr(info, data)
