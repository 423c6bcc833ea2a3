"""Encoded panel art, the JPEG/PNG header facts the writers need, and the
Pillow helpers shared by paint, backends and output.

A :class:`PanelArt` is the encoded image of one panel (the render stage has
already resized it to the panel box and pasted its pixels back outside the
mask). The PDF writer embeds JPEG bytes unchanged (``DCTDecode``) and the IDAT
stream of plain PNGs unchanged (``FlateDecode`` with PNG predictors); only
other PNG flavours (palette, alpha, interlaced) are decoded and re-zipped.
:func:`indexed_png` writes the few-colour palette PNGs a service may be sent
(init images, masks).
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageFont

IMAGE_FORMATS = ("jpeg", "png")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class PanelArt:
    """Encoded art of one panel: ``data`` in the image format ``format``
    ("jpeg" | "png"), ``width`` x ``height`` pixels."""

    data: bytes
    format: str
    width: int
    height: int

    def __post_init__(self) -> None:
        if self.format not in IMAGE_FORMATS:
            raise ValueError(
                f"panel art format must be one of {IMAGE_FORMATS}, not {self.format!r}"
            )
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"panel art has no pixels ({self.width}x{self.height})")

    def __repr__(self) -> str:  # never dump megabytes into a traceback
        return f"PanelArt({self.format}, {self.width}x{self.height}, {len(self.data)} bytes)"

    @classmethod
    def from_bytes(cls, data: bytes) -> PanelArt:
        """Wrap encoded JPEG or PNG bytes, reading format and size from the header."""
        image_format = sniff_format(data)
        if image_format == "jpeg":
            w, h, _ = jpeg_info(data)
        else:
            w, h = png_header(data)[:2]
        return cls(data, image_format, w, h)

    @classmethod
    def from_image(
        cls, image: Image.Image, image_format: str = "jpeg", quality: int = 90
    ) -> PanelArt:
        """Encode a PIL image (transparency is flattened onto white)."""
        data = encode_image(image, image_format, quality)
        return cls(data, image_format, image.width, image.height)

    def open(self) -> Image.Image:
        """The art as a PIL image (decoded lazily by Pillow)."""
        return Image.open(io.BytesIO(self.data))


def sniff_format(data: bytes) -> str:
    """The image format of encoded bytes: "jpeg" or "png"."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == _PNG_MAGIC:
        return "png"
    raise ValueError("image data is neither JPEG nor PNG")


def encode_image(image: Image.Image, image_format: str = "jpeg", quality: int = 90) -> bytes:
    """Encode a PIL image as JPEG (``quality``, 4:2:0, optimized) or PNG."""
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"unknown image format {image_format!r}")
    image = flatten_alpha(image)
    buf = io.BytesIO()
    if image_format == "jpeg":
        image.save(buf, "JPEG", quality=quality, optimize=True)
    else:
        image.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def pixelless(mode: str, size: tuple[int, int]) -> Image.Image:
    """An ``"RGB"`` or ``"L"`` image of ``size`` that holds no pixels: the header
    of a PPM file alone, opened (Pillow reads pixels only when they are asked
    for). It allocates nothing, and reading it fails loudly (``OSError``): a
    stand-in where only the mode and size are looked at."""
    magic = {"RGB": b"P6", "L": b"P5"}[mode]
    return Image.open(io.BytesIO(b"%s %d %d 255\n" % (magic, *size)), formats=("PPM",))


def flatten_alpha(image: Image.Image) -> Image.Image:
    """The image as RGB or L; transparency is composited onto white."""
    if image.mode in ("RGB", "L"):
        return image
    opaque = image.mode == "P" and "transparency" not in image.info
    if opaque and image.palette is not None and image.palette.mode == "RGB":
        return image.convert("RGB")  # the same pixels, without an alpha copy
    if "A" in image.getbands() or image.mode == "P" or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def indexed_png(image: Image.Image, level: int) -> bytes | None:
    """``image`` (``"L"`` or ``"RGB"``) as a palette PNG of exactly its colours
    (zlib ``level``), or None when it has more than 256 or no channel tells them
    apart.

    The palette holds only the colours used (in :meth:`Image.getcolors` order),
    at 1, 2, 4 or 8 bits a pixel as few as they need; the PNG reads back as the
    very pixels (``convert("RGB")`` / ``convert("L")``). Each pixel's index is
    looked up from ONE channel whose values differ between every two colours, so
    the mapping is exact by construction (Pillow's own nearest-colour lookup
    caches colours by their high bits and can merge two close ones). The rows
    are written with PNG's filter 0 and zipped in one go: Pillow's writer zips
    row by row, several times slower on these few-bit rows."""
    if image.mode not in ("L", "RGB"):
        return None
    colors = _grey_levels(image) if image.mode == "L" else image.getcolors(256)
    if not colors:
        return None
    bands = 1 if image.mode == "L" else 3
    values = [(int(c),) * 3 if isinstance(c, (int, float)) else tuple(c) for _, c in colors]
    for band in range(bands):
        if len({v[band] for v in values}) == len(values):
            break
    else:
        return None
    lut = [0] * 256
    for i, v in enumerate(values):
        lut[v[band]] = i
    channel = image if bands == 1 else image.getchannel(band)
    bits = next(b for b in (1, 2, 4, 8) if len(values) <= 1 << b)
    rows = _packed(channel.point(lut), bits)
    stride = -(-image.width * bits // 8)
    filtered = b"".join([b"\0" + rows[i : i + stride] for i in range(0, len(rows), stride)])
    header = struct.pack(">IIBBBBB", image.width, image.height, bits, 3, 0, 0, 0)
    palette = bytes(c for v in values for c in v)
    return b"".join(
        [
            _PNG_MAGIC,
            _chunk(b"IHDR", header),
            _chunk(b"PLTE", palette),
            _chunk(b"IDAT", zlib.compress(filtered, level)),
            _chunk(b"IEND", b""),
        ]
    )


# a byte of two 4-bit pixels that are 0 or 1 (``p << 4 | q``) -> the 2-bit ``p << 1 | q``
_PAIR_BITS = bytes({0x00: 0, 0x01: 1, 0x10: 2, 0x11: 3}.get(b, 0) for b in range(256))


def _packed(indices: Image.Image, bits: int) -> bytes:
    """The rows of ``indices`` (an ``"L"`` image of values below ``2**bits``) packed
    ``bits`` a pixel, high bits first, each row padded to whole bytes with zero
    bits: as Pillow's own PNG writer packs palette rows (its ``L;1/2/4`` packers
    are its ``P;1/2/4``; no palette image is made). One bit a pixel goes through
    the 4- and 2-bit packers (two pixels a byte, each such byte made the 2-bit
    value of its pair, four of those a byte): the same bytes as the 1-bit packer,
    which tests pixel after pixel, in half the time."""
    if bits == 8:
        return indices.tobytes()
    if bits != 1:
        return indices.tobytes("raw", f"L;{bits}")
    pairs = indices.tobytes("raw", "L;4").translate(_PAIR_BITS)
    width = -(-indices.width // 2)
    return Image.frombytes("L", (width, indices.height), pairs).tobytes("raw", "L;2")


def _grey_levels(image: Image.Image) -> list[tuple[int, int]]:
    """``image.getcolors(256)`` of an ``"L"`` image: the same (count, level) list,
    in ascending level, in about a third of the time. Its bytes are counted as
    the four bands of an RGBA image (four counters, one for every fourth pixel,
    summed after): counting a mask's pixels one after another adds to the same
    counter again and again (it is nearly all one level), each addition waiting
    for the one before."""
    data = image.tobytes()
    whole = len(data) - len(data) % 4
    counts = [0] * 256
    if whole:
        quads = data if whole == len(data) else data[:whole]
        h = Image.frombuffer("RGBA", (whole // 4, 1), quads, "raw", "RGBA", 0, 1).histogram()
        counts = [h[i] + h[256 + i] + h[512 + i] + h[768 + i] for i in range(256)]
    for level in data[whole:]:
        counts[level] += 1
    return [(n, level) for level, n in enumerate(counts) if n]


def _chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk: length, type, payload, CRC."""
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def jpeg_info(data: bytes) -> tuple[int, int, int]:
    """(width, height, components) from a JPEG's SOF marker, without decoding."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG (no SOI marker)")
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise ValueError(f"corrupt JPEG: expected a marker at byte {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD9)):  # markers without a length
            i += 2
            continue
        (seg_len,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in (0xC0, 0xC1, 0xC2):
            bits, h, w, comps = struct.unpack(">BHHB", data[i + 4 : i + 10])
            if bits != 8:
                raise ValueError(f"JPEG with {bits} bits per component is not supported")
            return w, h, comps
        if 0xC3 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            raise ValueError("lossless / arithmetic-coded JPEG is not supported in PDF")
        i += 2 + seg_len
    raise ValueError("corrupt JPEG: no frame header (SOF) found")


def png_header(data: bytes) -> tuple[int, int, int, int, int]:
    """(width, height, bit_depth, color_type, interlace) from the IHDR chunk."""
    if data[:8] != _PNG_MAGIC or data[12:16] != b"IHDR":
        raise ValueError("not a PNG (bad signature or missing IHDR)")
    w, h, depth, ctype, _comp, _filt, interlace = struct.unpack(">IIBBBBB", data[16:29])
    return w, h, depth, ctype, interlace


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Yield (type, payload) for each chunk of a PNG, checking the CRCs."""
    i = 8
    while i + 12 <= len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        ctype = data[i + 4 : i + 8]
        payload = data[i + 8 : i + 8 + length]
        (crc,) = struct.unpack(">I", data[i + 8 + length : i + 12 + length])
        if zlib.crc32(ctype + payload) != crc:
            raise ValueError(f"corrupt PNG: bad CRC in {ctype.decode('latin1')} chunk")
        yield ctype, payload
        if ctype == b"IEND":
            return
        i += 12 + length


def png_flate_passthrough(data: bytes) -> tuple[bytes, int, int] | None:
    """For a plain PNG (gray or RGB, not interlaced, no transparency) return
    ``(idat_bytes, colors, bits)`` so the IDAT stream can go into a PDF as-is
    (FlateDecode, /Predictor 15); None when the PNG needs decoding."""
    w, h, depth, ctype, interlace = png_header(data)
    if interlace or ctype not in (0, 2) or depth not in (1, 2, 4, 8, 16):
        return None
    idat = []
    for kind, payload in png_chunks(data):
        if kind == b"tRNS":
            return None
        if kind == b"IDAT":
            idat.append(payload)
    return b"".join(idat), (1 if ctype == 0 else 3), depth


RasterFont = ImageFont.FreeTypeFont | ImageFont.ImageFont


def load_font(path: str | None, size: float) -> RasterFont:
    """The TrueType font at ``path`` (None: Pillow's bundled default face) at
    ``size`` pixels, for drawing text with Pillow. Cached: sizes are rounded to
    0.01 px, so every run of one face and size shares one loaded font. Raises
    ``OSError`` when ``path`` cannot be read as a font."""
    return _load_font(path, round(size, 2))


@functools.lru_cache(maxsize=256)
def _load_font(path: str | None, size: float) -> RasterFont:
    if path is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(path, size=size)
