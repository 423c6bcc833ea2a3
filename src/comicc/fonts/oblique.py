"""A synthetic oblique's outlines, written straight from the source glyphs.

:func:`skewed_glyphs` gives, for every glyph of a TrueType font, the glyph
that drawing it through fontTools' ``DecomposingRecordingPen`` →
``TransformPen`` (the skew) → ``TTGlyphPen`` would build, point for point:
components decomposed (their transforms composed as ``TransformPen`` does),
each contour started at its first on-curve point, a closing point that
repeats the start dropped, one-point contours (anchors) dropped, flags
reduced to on/off-curve, coordinates rounded with ``otRound``, no
instructions. It does the same float operations in the same order, so the
saved font is byte-identical, at a fraction of the pens' cost (a glyph not
expanded yet is decoded from its bytes here, not through fontTools). A glyph it
cannot reproduce exactly (cubic outlines, a missing or point-matched
component, an empty contour) is ``None``: the caller draws that one with
the pens. :class:`SkewedGlyph` also compiles its coordinates faster than
fontTools' greedy packer, to the same bytes.
"""

from __future__ import annotations

import math
import re
import struct
import sys
from array import array
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

from fontTools.misc.transform import Identity, Transform
from fontTools.ttLib.tables import ttProgram
from fontTools.ttLib.tables._g_l_y_f import Glyph, GlyphCoordinates

_ON, _CUBIC = 0x01, 0x80
_X_SHORT, _Y_SHORT, _REPEAT, _X_SAME, _Y_SAME = 0x02, 0x04, 0x08, 0x10, 0x20
_MAX_DEPTH = 32  # deeper component nesting: left to the pens

# A contour's points after the skew: xs, ys, on-curve flags.
_Points = tuple[list[float], list[float], list[int]]


class _Unsupported(Exception):
    """The glyph needs the pens (see the module docstring)."""


def skewed_glyphs(
    glyf: Any, metrics: dict[str, tuple[int, int]], skew: float
) -> dict[str, Glyph | None]:
    """Every glyph of ``glyf`` (a fontTools ``glyf`` table, with ``metrics`` its
    font's ``hmtx`` metrics) skewed by ``x += skew * y``; ``None`` for a glyph
    the pens must draw."""
    out: dict[str, Glyph | None] = {}
    for name in glyf.glyphOrder:
        try:
            out[name] = _skewed(glyf, metrics, name, skew)
        except (_Unsupported, AttributeError, KeyError, IndexError, struct.error):
            out[name] = None
    return out


def _skewed(glyf: Any, metrics: dict[str, tuple[int, int]], name: str, skew: float) -> Glyph:
    src = _source(glyf, name)
    xs: list[float] = []
    ys: list[float] = []
    on: list[int] = []
    ends: list[int] = []
    if isinstance(src, list):
        for base, trans in src:
            _component(glyf, base, trans, skew, (xs, ys, on), ends, 0)
    elif src is not None:
        # the glyph set draws a top-level simple glyph shifted to its hmtx lsb
        _contours(src, None, metrics[name][1] - src[4], skew, (xs, ys, on), ends)
    return _glyph(xs, ys, on, ends)


# A simple glyph's outline: x, y, flags, contour ends, xMin (of its header).
_Outline = tuple[Sequence[float], Sequence[float], Sequence[int], list[int], int]


def _source(glyf: Any, name: str) -> _Outline | list[tuple[str, Sequence[float]]] | None:
    """Glyph ``name`` of ``glyf`` as ``Glyph.draw`` reads it: a simple glyph's
    outline (decoded from its bytes when it is not expanded yet), a composite's
    components (name, transform), or None when it draws nothing."""
    glyph = glyf.glyphs[name]
    data = getattr(glyph, "data", None)
    if data is not None and struct.unpack_from(">h", data)[0] > 0:
        return _decode(data)
    glyph = glyf[name]  # expanded
    if glyph.isComposite():
        return [comp.getComponentInfo() for comp in glyph.components]
    if glyph.numberOfContours <= 0:
        return None
    coords, end_pts, flags = glyph.getCoordinates(glyf)
    a = coords.array
    return a[0::2], a[1::2], flags, list(end_pts), glyph.xMin


def _decode(data: bytes) -> _Outline:
    """A simple glyph's outline from its ``glyf`` bytes (as fontTools'
    ``Glyph.decompileCoordinates``)."""
    n_contours, x_min = struct.unpack_from(">hh", data)
    ends = list(struct.unpack_from(f">{n_contours}H", data, 10))
    pos = 10 + 2 * n_contours
    pos += 2 + struct.unpack_from(">H", data, pos)[0]  # the instructions
    count = ends[-1] + 1
    flags: list[int] = []
    while len(flags) < count:
        flag = data[pos]
        if flag & _REPEAT:
            flags += [flag] * (data[pos + 1] + 1)
            pos += 2
        else:
            flags.append(flag)
            pos += 1
    if len(flags) != count:
        raise _Unsupported("bad glyph flags")
    xs, pos = _deltas(data, pos, flags, 0)
    ys, pos = _deltas(data, pos, flags, 1)
    return list(accumulate(xs)), list(accumulate(ys)), flags, ends, x_min


def _deltas(data: bytes, pos: int, flags: list[int], axis: int) -> tuple[list[int], int]:
    """One axis's coordinate deltas, unpacked in one ``struct`` call (as
    fontTools does): for each point nothing (0), a byte (signed by the flag)
    or a short."""
    fmt = ">" + "".join(map(_FORMATS[axis].__getitem__, flags))
    size = struct.calcsize(fmt)
    values = iter(struct.unpack(fmt, data[pos : pos + size]))
    signs = map(_SIGNS[axis].__getitem__, flags)
    return [s * next(values) if s else 0 for s in signs], pos + size


def _component(
    glyf: Any,
    name: str,
    trans: Sequence[float],
    skew: float,
    pts: _Points,
    ends: list[int],
    depth: int,
) -> None:
    """Decompose component ``name`` drawn with ``trans`` (``DecomposingPen``:
    a ``TransformPen`` unless ``trans`` is the identity; nested components'
    transforms composed with ``Transform.transform``)."""
    if depth > _MAX_DEPTH or name not in glyf.glyphs:
        raise _Unsupported(name)
    t = None if trans == Identity else Transform(*trans)
    src = _source(glyf, name)
    if isinstance(src, list):
        for base, sub in src:
            _component(
                glyf, base, sub if t is None else t.transform(sub), skew, pts, ends, depth + 1
            )
    elif src is not None:
        _contours(src, t, 0, skew, pts, ends)


def _contours(
    src: _Outline,
    t: Transform | None,
    offset: int,
    skew: float,
    pts: _Points,
    ends: list[int],
) -> None:
    """Append the contours of a simple glyph as ``Glyph.draw`` draws them and
    ``TTGlyphPen`` keeps them, after ``t``, ``offset`` and the skew."""
    gx, gy, flags, end_pts, _ = src
    if offset:
        gx = [x + offset for x in gx]
    if t is not None:
        xx, xy, yx, yy, dx, dy = t
        gx, gy = (
            [xx * x + yx * y + dx for x, y in zip(gx, gy, strict=True)],
            [xy * x + yy * y + dy for x, y in zip(gx, gy, strict=True)],
        )
    # TransformPen((1, 0, skew, 1, 0, 0)): x' = 1*x + skew*y + 0; y' = 0*x + 1*y + 0
    sx = [x + skew * y for x, y in zip(gx, gy, strict=True)]
    sy = list(gy)
    fl = [f & _ON for f in flags]
    if flags and max(flags) >= _CUBIC:  # a flag byte with the cubic bit
        raise _Unsupported("cubic")
    xs, ys, on = pts
    start = 0
    for end in end_pts:
        end += 1
        if end <= start:
            raise _Unsupported("empty contour")
        cf = fl[start:end]
        if 1 in cf:
            k = start + cf.index(1)
            idx = [*range(k, end), *range(start, k)]
        else:
            idx = list(range(start, end))
        start = end
        if len(idx) == 1:  # an anchor: TTGlyphPen.closePath drops it
            continue
        first, last = idx[0], idx[-1]
        if fl[last] == 0 and 1 in cf:
            # the closing curve ends on the start point, which closePath pops
            pass
        elif sx[first] == sx[last] and sy[first] == sy[last]:
            idx.pop()  # closePath: the last point repeats the first
        xs.extend(sx[i] for i in idx)
        ys.extend(sy[i] for i in idx)
        on.extend(fl[i] for i in idx)
        ends.append(len(xs) - 1)


def _glyph(xs: list[float], ys: list[float], on: list[int], ends: list[int]) -> Glyph:
    """``TTGlyphPen.glyph()`` of these points (simple, otRound-ed, no program)."""
    glyph = SkewedGlyph()
    coords = GlyphCoordinates()
    flat = [0.0] * (2 * len(xs))
    floor = math.floor
    flat[0::2] = [float(floor(x + 0.5)) for x in xs]
    flat[1::2] = [float(floor(y + 0.5)) for y in ys]
    coords.array.extend(flat)
    glyph.coordinates = coords
    glyph.endPtsOfContours = ends
    glyph.flags = array("B", on)
    glyph.numberOfContours = len(ends)
    glyph.program = ttProgram.Program()
    glyph.program.fromBytecode(b"")
    return glyph


class SkewedGlyph(Glyph):
    """A fontTools ``Glyph`` whose coordinates compile faster, to the bytes of
    ``Glyph.compileCoordinates`` (greedy packing)."""

    def compileCoordinates(self, *, optimizeSize: bool = True, extended: bool = True) -> bytes:
        flags = self.flags
        a = self.coordinates.array
        if not optimizeSize or len(a) != 2 * len(flags) or (flags and max(flags) > _ON):
            return bytes(super().compileCoordinates(optimizeSize=optimizeSize, extended=extended))
        floor = math.floor
        ax = [int(floor(v + 0.5)) for v in a[0::2]]
        ay = [int(floor(v + 0.5)) for v in a[1::2]]
        dxs = [x - p for x, p in zip(ax, [0, *ax[:-1]], strict=True)]
        dys = [y - p for y, p in zip(ay, [0, *ay[:-1]], strict=True)]
        xb, yb = _XBITS.get, _YBITS.get
        packed = bytes([f | xb(x, 0) | yb(y, 0) for f, x, y in zip(flags, dxs, dys, strict=True)])
        ends = array("H", self.endPtsOfContours)
        if sys.byteorder != "big":
            ends.byteswap()
        code = self.program.getBytecode()
        return b"".join(
            (
                ends.tobytes(),
                struct.pack(">H", len(code)),
                code,
                _RUNS.sub(_repeat, packed),
                _pack(dxs),
                _pack(dys),
            )
        )


def _repeat(m: re.Match[bytes]) -> bytes:
    """Greedy flag packing of a run of 3 or more equal flags: ``flag|REPEAT,
    count-1`` per 256 flags; a last piece of 1 or 2 flags as they are."""
    run = m.group(0)
    flag, out = run[0], bytearray()
    for i in range(0, len(run), 256):
        take = min(len(run) - i, 256)
        out += bytes((flag | _REPEAT, take - 1)) if take > 2 else run[:take]
    return bytes(out)


def _pack(deltas: list[int]) -> bytes:
    """A coordinate stream: nothing for 0, a byte for -255..255, else a short."""
    short = _SHORT_BYTES
    return b"".join(
        [short[d] if -256 < d < 256 else d.to_bytes(2, "big", signed=True) for d in deltas]
    )


_RUNS = re.compile(rb"(.)\1{2,}", re.S)
_XBITS = {d: _X_SHORT | (_X_SAME if d > 0 else 0) for d in range(-255, 256) if d}
_XBITS[0] = _X_SAME
_YBITS = {d: _Y_SHORT | (_Y_SAME if d > 0 else 0) for d in range(-255, 256) if d}
_YBITS[0] = _Y_SAME
_SHORT_BYTES = {d: bytes((abs(d),)) for d in range(-255, 256)}
_SHORT_BYTES[0] = b""


def _axis_tables(short: int, same: int) -> tuple[dict[int, str], dict[int, int]]:
    """For every flag byte: the ``struct`` format of its coordinate on one axis
    and the sign its value takes (0: no value, the delta is 0)."""
    formats, signs = {}, {}
    for f in range(256):
        if f & short:
            formats[f], signs[f] = "B", (1 if f & same else -1)
        elif f & same:
            formats[f], signs[f] = "", 0
        else:
            formats[f], signs[f] = "h", 1
    return formats, signs


_X_FORMATS, _X_SIGNS = _axis_tables(_X_SHORT, _X_SAME)
_Y_FORMATS, _Y_SIGNS = _axis_tables(_Y_SHORT, _Y_SAME)
_FORMATS, _SIGNS = (_X_FORMATS, _Y_FORMATS), (_X_SIGNS, _Y_SIGNS)
