"""Write a PDF whose big image streams were left out of the serialized file.

reportlab builds a whole PDF as one bytes object (and copies every stream
about three times on the way). For panel art that is tens of megabytes of
copying for nothing: the writer instead serializes each image stream as a
short placeholder (:func:`marker`), and :func:`splice` streams the file out,
writing the real bytes in place of each placeholder and shifting the byte
offsets of the cross-reference table and ``startxref`` to match.

This relies only on the PDF file structure (a classic ``xref`` table of
20-byte entries and a trailer), not on reportlab internals.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from typing import BinaryIO

_PREFIX = b"\x00comicc-splice-"
_MARK_RE = re.compile(re.escape(_PREFIX) + rb"(\d{8})\x00")
_ENTRY_RE = re.compile(rb"(\d{10}) (\d{5}) n")


def marker(index: int) -> bytes:
    """The placeholder for stream ``index`` (its real bytes: ``contents[index]``)."""
    return _PREFIX + b"%08d\x00" % index


def splice(pdf: bytes, contents: Sequence[bytes], out: BinaryIO) -> None:
    """Write ``pdf`` to ``out`` with every marker replaced by its content."""
    found = [(m.start(), m.end(), int(m.group(1))) for m in _MARK_RE.finditer(pdf)]
    if sorted(i for _, _, i in found) != list(range(len(contents))):
        raise ValueError(
            "PDF splice: placeholders do not match the streams "
            f"({len(found)} found, {len(contents)} expected)"
        )
    if not found:
        out.write(pdf)
        return
    starts = [s for s, _, _ in found]
    shift = []  # total growth of the file up to and including marker k
    total = 0
    for s, e, i in found:
        total += len(contents[i]) - (e - s)
        shift.append(total)

    def moved(offset: int) -> int:
        k = bisect.bisect_left(starts, offset)  # markers strictly before offset
        return offset + (shift[k - 1] if k else 0)

    xref = pdf.rindex(b"\nxref\n") + 1
    if xref < found[-1][1]:
        raise ValueError("PDF splice: a placeholder lies after the xref table")
    trailer = pdf.index(b"trailer", xref)
    table = _ENTRY_RE.sub(
        lambda m: b"%010d %s n" % (moved(int(m.group(1))), m.group(2)), pdf[xref:trailer]
    )
    sx = pdf.rindex(b"startxref")
    m = re.compile(rb"startxref\s+(\d+)").match(pdf, sx)
    if m is None or int(m.group(1)) != xref:
        raise ValueError("PDF splice: startxref does not point at the xref table")
    tail = pdf[trailer : m.start(1)] + b"%d" % moved(xref) + pdf[m.end(1) :]

    view = memoryview(pdf)
    pos = 0
    for s, e, i in found:
        out.write(view[pos:s])
        out.write(contents[i])
        pos = e
    out.write(view[pos:xref])
    out.write(table)
    out.write(tail)
