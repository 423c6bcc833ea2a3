"""A padded request: the panel box at its own scale, grown right and down to the
backend's multiple, and the answer cropped back -- no resampling."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from comicc.backends import Capabilities, PaintResult
from comicc.backends.automatic1111 import Automatic1111Backend
from comicc.paint import plan_panel
from comicc.paint.composite import composite  # the package's `composite` is the module once loaded
from comicc.paint.finish import box_images
from comicc.paint.mask import PAPER
from comicc.paint.plan import request_size
from support.panels import make_panel, two_speaker_geom

CAPS = Automatic1111Backend.capabilities  # any multiple of 8, 64 .. 2048 px a side


def plan(dpi: int = 100):
    return plan_panel(make_panel(backend="automatic1111", dpi=dpi), two_speaker_geom(), CAPS)


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("dpi", [72, 100, 150, 300])
def test_the_request_is_the_box_grown_to_the_multiple(dpi):
    p = plan(dpi)
    (bw, bh), (rw, rh) = p.box_size, p.request_size
    assert p.padded and CAPS.accepts_size(rw, rh)
    assert 0 <= rw - bw < 8 and 0 <= rh - bh < 8 and (rw, rh) != (bw, bh)
    assert p.scale(p.request_size) == p.scale(p.box_size)  # drawn at the box's scale


def test_the_box_of_the_request_is_what_the_box_size_draws():
    p = plan()
    request = p.request()
    init, mask = box_images(p, request)
    box_init, box_mask = p.images(p.box_size)
    assert init.tobytes() == box_init.tobytes() and mask.tobytes() == box_mask.tobytes()
    # the strip past the box: plain paper, and PAINT
    strip = (p.box_size[0], 0, *p.request_size)
    assert {c for _, c in request.init_image.crop(strip).getcolors() or []} == {PAPER}
    assert request.mask.crop(strip).getextrema() == (255, 255)


def test_an_answer_at_the_request_size_is_cropped_not_resampled():
    p = plan()
    request = p.request()
    painted = Image.effect_noise(p.request_size, 60).convert("RGB")
    answer = Image.composite(painted, request.init_image, request.mask)
    done = composite(PaintResult(png(answer)), p)
    assert done.image.size == p.box_size
    # the answer's own pixels (no resampling), the init image pasted back
    expected = Image.composite(answer.crop((0, 0, *p.box_size)), *box_images(p, request))
    assert ImageChops.difference(done.image, expected).getbbox() is None
    assert done.report.returned_size == p.request_size and done.report.changed_fraction == 0


def test_an_answer_at_another_size_is_resized_from_its_box_part():
    p = plan()
    big = (p.request_size[0] * 2, p.request_size[1] * 2)
    answer = Image.new("RGB", big, (200, 10, 10))
    answer.paste((10, 200, 10), (p.box_size[0] * 2, 0, *big))  # the strip: never shown
    answer.paste((10, 200, 10), (0, p.box_size[1] * 2, *big))
    done = composite(PaintResult(png(answer)), p)
    _, mask = p.images(p.box_size)
    w, h = p.box_size
    inner = Image.new("L", p.box_size, 0)
    inner.paste(255, (0, 0, w - 2, h - 2))  # the resampling filter reaches a pixel or two
    painted = ImageChops.multiply(mask.point(lambda v: 255 if v == 255 else 0), inner)
    red = Image.new("RGB", p.box_size, (200, 10, 10))
    off = ImageChops.multiply(ImageChops.difference(done.image, red).convert("L"), painted)
    low, high = off.getextrema()
    assert isinstance(high, int) and high <= 4  # red (a rounding off), never the strip's green


def test_fixed_size_lists_and_a_box_past_the_limits_are_scaled_as_before():
    fixed = Capabilities(allowed_sizes=((1024, 1024), (1152, 896)))
    assert request_size(fixed, (1000, 800)) == ((1152, 896), False)
    small = replace(CAPS, max_side=512)
    size, padded = request_size(small, (1667, 1250))
    assert not padded and max(size) <= 512
    assert request_size(CAPS, (400, 304)) == ((400, 304), False)  # already a multiple


@settings(max_examples=40, deadline=None)
@given(
    w=st.floats(120, 420),
    h=st.floats(120, 320),
    dpi=st.sampled_from([72, 100, 150, 300]),
    mode=st.sampled_from(["blank", "lettered"]),
    margin=st.floats(0, 40),
    feather=st.floats(0, 24),
    dx=st.floats(-40, 200),
)
def test_the_box_drawn_alone_is_the_padded_requests_box(w, h, dpi, mode, margin, feather, dx):
    """What a worker process composites with (the init image and mask drawn at the
    box size) is the top-left box of the request that was sent, pixel for pixel,
    even with a balloon reaching past the box's right and bottom edges."""
    panel = make_panel(
        backend="automatic1111", dpi=dpi, mode=mode, keep_margin=margin, feather=feather
    )
    p = plan_panel(panel, two_speaker_geom(w=w, h=h, dx=dx), CAPS)
    init, mask = box_images(p)
    sent_init, sent_mask = p.images()
    corner = (0, 0, *p.box_size)
    assert init.size == mask.size == p.box_size
    assert init.tobytes() == sent_init.crop(corner).tobytes()
    assert mask.tobytes() == sent_mask.crop(corner).tobytes()
