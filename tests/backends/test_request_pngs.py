"""The PNGs a service is sent: an opaque image of few colours (an init image,
a mask) may go as a palette PNG of exactly its colours, which reads back as the
very pixels."""

from __future__ import annotations

import base64
import io
import zlib
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from comicc.backends.automatic1111 import Automatic1111Backend
from comicc.backends.base import png_bytes
from comicc.images import indexed_png, pixelless, png_chunks, png_header
from comicc.paint import plan_panel
from support.panels import make_panel, two_speaker_geom

RGB = st.tuples(*[st.integers(0, 255)] * 3)


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@st.composite
def few_colour_images(draw: st.DrawFn) -> Image.Image:
    """An image of up to 20 colours in random blocks, L or RGB, any size."""
    mode = draw(st.sampled_from(["L", "RGB"]))
    w, h = draw(st.integers(1, 40)), draw(st.integers(1, 30))
    colour: st.SearchStrategy[int | tuple[int, int, int]] = (
        st.integers(0, 255) if mode == "L" else RGB
    )
    palette = draw(st.lists(colour, min_size=1, max_size=20))
    image = Image.new(mode, (w, h), palette[0])
    for _ in range(draw(st.integers(0, 12))):
        x, y = draw(st.integers(0, w - 1)), draw(st.integers(0, h - 1))
        box = (x, y, x + draw(st.integers(1, w)), y + draw(st.integers(1, h)))
        image.paste(draw(st.sampled_from(palette)), box)
    return image


@settings(max_examples=150, deadline=None)
@given(few_colour_images())
def test_a_palette_png_reads_back_as_the_very_pixels(image):
    data = indexed_png(image, 1)
    colours = image.getcolors(256) or []
    if data is None:  # no channel tells two of its colours apart (RGB only)
        assert image.mode == "RGB"
        assert all(len({c[band] for _, c in colours}) < len(colours) for band in range(3))
        return
    back = decoded(data)
    assert back.mode == "P" and back.size == image.size
    assert back.convert(image.mode).tobytes() == image.tobytes()
    depth = png_header(data)[2]
    assert depth == next(b for b in (1, 2, 4, 8) if len(colours) <= 1 << b)
    # Pillow reads it as any PNG: the webui's own reader converts it like this
    assert png_bytes(image, indexed=True) == data


def test_many_colours_or_alpha_keep_the_images_own_mode():
    noise = Image.effect_noise((64, 48), 80)
    photo = Image.merge(
        "RGB", (noise, noise.rotate(90), noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    )
    assert indexed_png(photo, 1) is None
    assert decoded(png_bytes(photo, indexed=True)).mode == "RGB"
    rgba = Image.new("RGBA", (8, 8), (10, 20, 30, 0))
    assert decoded(png_bytes(rgba, indexed=True)).mode == "RGBA"  # the alpha conventions
    # without `indexed` a service is sent the image's own mode, as before
    assert decoded(png_bytes(Image.new("L", (8, 8), 3))).mode == "L"


def test_the_webui_is_sent_small_palette_pngs_of_the_drawn_pixels():
    backend = Automatic1111Backend()
    for mode in ("blank", "lettered"):
        plan = plan_panel(
            make_panel(backend="automatic1111", dpi=150), two_speaker_geom(), backend.capabilities
        )
        plan = replace(plan, mask_mode=mode)
        request = plan.request()
        body = backend.payload(request)
        init = decoded(base64.b64decode(body["init_images"][0]))
        mask = decoded(base64.b64decode(body["mask"]))
        assert init.convert("RGB").tobytes() == request.init_image.tobytes()
        assert mask.convert("L").tobytes() == request.mask.tobytes()
        assert mask.mode == "P"  # a handful of feather levels
        if mode == "blank":  # paper and white shapes: one bit a pixel
            assert init.mode == "P" and png_header(base64.b64decode(body["init_images"][0]))[2] == 1


def idat_rows(data: bytes) -> list[bytes]:
    """The rows of a palette PNG as written: IDAT unzipped, each row's filter byte
    checked (0, none) and taken off."""
    width, height, depth = png_header(data)[:3]
    raw = zlib.decompress(b"".join(p for kind, p in png_chunks(data) if kind == b"IDAT"))
    stride = 1 + -(-width * depth // 8)
    rows = [raw[i : i + stride] for i in range(0, len(raw), stride)]
    assert len(rows) == height and all(r[0] == 0 for r in rows)
    return [r[1:] for r in rows]


@settings(max_examples=150, deadline=None)
@given(few_colour_images())
def test_a_palette_png_is_written_as_pillow_packs_palette_rows(image):
    """The same bytes as before: the palette in ``getcolors`` order, each row the
    colours' indices packed as Pillow's own PNG writer packs a palette image's
    rows (``P;1``, ``P;2``, ``P;4``), whatever the width (padding bits)."""
    data = indexed_png(image, 1)
    if data is None:
        return
    colours = [c for _, c in image.getcolors(256) or []]
    rgb = [(c,) * 3 if isinstance(c, int) else c for c in colours]
    palette = next(p for kind, p in png_chunks(data) if kind == b"PLTE")
    assert palette == bytes(v for c in rgb for v in c)
    index = {c: i for i, c in enumerate(colours)}
    indices = Image.new("P", image.size)
    pixels = [image.getpixel((x, y)) for y in range(image.height) for x in range(image.width)]
    indices.putdata([index[c] for c in pixels])
    depth = png_header(data)[2]
    packed = indices.tobytes("raw", "P" if depth == 8 else f"P;{depth}")
    stride = -(-image.width * depth // 8)
    assert b"".join(idat_rows(data)) == packed and len(packed) == stride * image.height


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 70),
    st.integers(1, 12),
    st.lists(st.integers(0, 255), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
)
def test_a_masks_levels_are_found_as_getcolors_finds_them(width, height, levels, rnd):
    """A mask's levels (an L image; any size, so any number of pixels left over
    from whole groups of four), with their counts, in ascending order."""
    image = Image.new("L", (width, height))
    image.putdata([rnd.choice(levels) for _ in range(width * height)])
    data = indexed_png(image, 1)
    assert data is not None
    colours = image.getcolors(256)
    assert colours is not None
    levels = [c for _, c in colours if isinstance(c, int)]
    palette = next(p for kind, p in png_chunks(data) if kind == b"PLTE")
    assert len(levels) == len(colours) and palette == bytes(v for c in levels for v in (c, c, c))
    assert decoded(data).convert("L").tobytes() == image.tobytes()


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_pixelless_stand_in_has_the_size_and_mode_and_cannot_be_read(mode):
    image = pixelless(mode, (2480, 3508))  # a 300-dpi A4 page: allocates nothing
    assert (image.mode, image.size) == (mode, (2480, 3508))
    with pytest.raises(OSError):
        image.getpixel((0, 0))
