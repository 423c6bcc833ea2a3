"""The output stage: the laid-out, painted book as PDF, CBZ, PNG pages or wireframes."""

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
