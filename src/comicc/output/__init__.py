"""The output stage: the laid-out, painted book as PDF, CBZ, PNG pages or wireframes.

Each name is imported from its module when first used: a PDF build never loads
the CBZ writer or the Pillow page renderer, nor a PNG build reportlab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from comicc.lazy import lazy_names

if TYPE_CHECKING:
    from comicc.output.cbz import comic_info_xml, write_cbz
    from comicc.output.pdf import CROP_MARK_LENGTH, CROP_MARK_OFFSET, pdf_bytes, write_pdf
    from comicc.output.raster import (
        PAGE_NAMES,
        page_images,
        render_page,
        render_pages,
        write_png_pages,
    )
    from comicc.output.wireframe import draw_wireframe

# name -> the module defining it
_HOME = {
    "comic_info_xml": "cbz",
    "write_cbz": "cbz",
    "CROP_MARK_LENGTH": "pdf",
    "CROP_MARK_OFFSET": "pdf",
    "pdf_bytes": "pdf",
    "write_pdf": "pdf",
    "PAGE_NAMES": "raster",
    "page_images": "raster",
    "render_page": "raster",
    "render_pages": "raster",
    "write_png_pages": "raster",
    "draw_wireframe": "wireframe",
}

__all__ = [
    "CROP_MARK_LENGTH",
    "CROP_MARK_OFFSET",
    "PAGE_NAMES",
    "comic_info_xml",
    "draw_wireframe",
    "page_images",
    "pdf_bytes",
    "render_page",
    "render_pages",
    "write_cbz",
    "write_pdf",
    "write_png_pages",
]

__getattr__, __dir__ = lazy_names(__name__, _HOME)
