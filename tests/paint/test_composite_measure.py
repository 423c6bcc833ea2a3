"""How much of the area it was asked to keep a backend changed (the composite
report's ``kept_pixels``, ``changed_fraction``, ``mean_change``, recorded in
every cache entry's metadata): counted as defined, pixel by pixel."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from comicc.paint.composite import MEASURE_LONG_SIDE, kept_changes


def measured_by_hand(
    art: Image.Image, init: Image.Image, mask: Image.Image, tolerance: int
) -> tuple[int, float, float]:
    """The definition: on copies reduced by whole pixel blocks to at most
    ``MEASURE_LONG_SIDE`` px long, the fully kept pixels (mask 0), the share of
    them whose colour moved by more than ``tolerance`` in any channel, and the
    mean of that largest channel difference over them."""
    factor = math.ceil(max(art.size) / MEASURE_LONG_SIDE)
    if factor > 1:
        art, init, mask = art.reduce(factor), init.reduce(factor), mask.reduce(factor)
    a, b, kept = art.tobytes(), init.tobytes(), mask.tobytes()
    moved = [
        max(abs(a[3 * i + c] - b[3 * i + c]) for c in range(3))
        for i in range(len(kept))
        if kept[i] == 0
    ]
    if not moved:
        return 0, 0.0, 0.0
    over = sum(1 for d in moved if d > tolerance)
    return len(moved), over / len(moved), sum(moved) / len(moved)


@st.composite
def answers(draw: st.DrawFn) -> tuple[Image.Image, Image.Image, Image.Image]:
    """An init image, a backend's answer that changed some of it, and a mask of
    kept (0), partial and painted (255) areas; now and then wide enough to be
    measured on reduced copies."""
    w = draw(st.sampled_from([1, 3, 17, 40, MEASURE_LONG_SIDE + 9]))
    h = draw(st.integers(1, 12))
    rnd = draw(st.randoms(use_true_random=False))
    init = Image.new("RGB", (w, h))
    init.putdata([tuple(rnd.randrange(256) for _ in range(3)) for _ in range(w * h)])
    art = init.copy()
    for _ in range(draw(st.integers(0, 3 * w))):
        xy = (rnd.randrange(w), rnd.randrange(h))
        art.putpixel(xy, tuple(rnd.randrange(256) for _ in range(3)))
    mask = Image.new("L", (w, h))
    mask.putdata([rnd.choice([0, 0, 0, 40, 255]) for _ in range(w * h)])
    return art, init, mask


@settings(max_examples=60, deadline=None)
@given(answers(), st.sampled_from([-3, 0, 1, 32, 254, 255, 300]))
def test_the_kept_area_is_measured_as_defined(images, tolerance):
    art, init, mask = images
    assert kept_changes(art, init, mask, tolerance) == measured_by_hand(art, init, mask, tolerance)


def test_nothing_kept_measures_nothing():
    init = Image.new("RGB", (9, 5), (10, 20, 30))
    painted = Image.new("L", (9, 5), 255)
    assert kept_changes(Image.new("RGB", (9, 5), (200, 0, 0)), init, painted, 32) == (0, 0.0, 0.0)
