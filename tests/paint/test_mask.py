"""The mask and init image: what the quicker drawing (cache key version 3) keeps
from the former one (version 2), and the invariants every mask has."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw

from comicc.backends.draft import DraftBackend
from comicc.layout import VectorPath
from comicc.paint.mask import (
    MAX_FEATHER_STEPS,
    build_init,
    build_mask,
    keep_zone,
    panel_images,
)
from comicc.paint.plan import plan_panel
from support.panels import make_panel, oval, two_speaker_geom


def former_keep_zone(
    paths: list[VectorPath],
    size: tuple[int, int],
    margin: float,
    feather: float,
    scale: tuple[float, float] = (1.0, 1.0),
) -> Image.Image:
    """The version-2 drawing: every ring fills the polygon, strokes the outline
    with Pillow's round joints and puts a disc on every vertex."""
    sx, sy = scale
    polys = [
        line.points
        for p in paths
        for line in p.polylines(0.2, lambda x, y: (x * sx, y * sy))
        if len(line.points) >= 2
    ]
    zone = Image.new("L", size, 0)
    d = ImageDraw.Draw(zone)

    def grown(r: float, value: int) -> None:
        for poly in polys:
            if len(poly) >= 3:
                d.polygon(poly, fill=value)
            if r < 0.5:
                continue
            d.line(poly + [poly[0]], fill=value, width=max(1, round(2 * r)), joint="curve")
            for x, y in poly:
                d.ellipse([x - r, y - r, x + r, y + r], fill=value)

    steps = min(MAX_FEATHER_STEPS, math.ceil(feather)) if feather > 0 else 0
    for i in range(steps, 0, -1):
        grown(margin + feather * i / steps, round(255 * (1 - (i - 0.5) / steps)))
    grown(margin, 255)
    return zone


def differences(a: Image.Image, b: Image.Image) -> tuple[int, int]:
    """(pixels that differ, the largest difference)."""
    diff = ImageChops.difference(a, b)
    hist = diff.histogram()
    return sum(hist[1:]), max((v for v in range(256) if hist[v]), default=0)


def star(cx: float, cy: float, points: int, outer: float, inner: float) -> VectorPath:
    return VectorPath.polygon(
        [
            (
                cx + (outer if k % 2 == 0 else inner) * math.cos(math.pi * k / points),
                cy + (outer if k % 2 == 0 else inner) * math.sin(math.pi * k / points),
            )
            for k in range(2 * points)
        ]
    )


shapes = st.one_of(
    st.builds(
        oval,
        st.floats(-20, 140),
        st.floats(-20, 110),
        st.floats(3, 60),
        st.floats(3, 40),
    ),
    st.builds(
        star,
        st.floats(0, 120),
        st.floats(0, 90),
        st.integers(3, 14),
        st.floats(10, 50),
        st.floats(4, 30),
    ),
)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(shapes, min_size=1, max_size=3),
    st.floats(0, 30),
    st.floats(0, 20),
)
def test_the_quicker_mask_differs_from_the_former_by_a_feather_step_at_most(paths, margin, feather):
    size = (160, 120)
    new = keep_zone(paths, size, 1.0, 1.0, margin, feather)
    old = former_keep_zone(paths, size, margin, feather)
    count, largest = differences(new, old)
    steps = min(MAX_FEATHER_STEPS, math.ceil(feather)) if feather > 0 else 0
    step = 255 if steps == 0 else math.ceil(255 / steps) + 1  # ring values are rounded
    assert largest <= step  # a pixel takes the next ring's value, never more
    ring = sum(old.histogram()[1:255]) + 1  # pixels in the feather rings
    assert count <= 32 + ring // 20  # a sprinkle along the rings, not a ring


def test_the_examples_panel_is_unchanged_at_300_dpi():
    """The two-speaker test panel at 300 dpi: not one pixel moved."""
    plan = plan_panel(make_panel(dpi=300), two_speaker_geom(), DraftBackend.capabilities)
    size = plan.request_size
    sx, sy = plan.scale(size)
    margin, feather = plan._px(plan.keep_margin, size), plan._px(plan.feather, size)
    assert margin > 0 and feather > 0
    paths = list(plan.reserve)
    new = keep_zone(paths, size, sx, sy, margin, feather)
    old = former_keep_zone(paths, size, margin, feather, (sx, sy))
    assert differences(new, old) == (0, 0)


def test_panel_images_are_the_init_image_and_the_mask():
    plan = plan_panel(make_panel(mode="lettered"), two_speaker_geom(), DraftBackend.capabilities)
    size = (333, 250)
    sx, sy = plan.scale(size)
    margin, feather = plan._px(plan.keep_margin, size), plan._px(plan.feather, size)
    init, mask = panel_images(
        plan.reserve,
        size,
        sx,
        sy,
        margin=margin,
        feather=feather,
        mode="lettered",
        lines=plan.lines,
    )
    alone = build_mask(plan.reserve, size, sx, sy, margin=margin, feather=feather, mode="lettered")
    assert differences(mask, alone) == (0, 0)
    assert (
        init.tobytes()
        == build_init(plan.reserve, size, sx, sy, mode="lettered", lines=plan.lines).tobytes()
    )
    assert plan.images(size)[1].tobytes() == mask.tobytes()


@settings(max_examples=25, deadline=None)
@given(shapes, st.floats(0, 20), st.floats(0, 12))
def test_every_shape_is_kept_whole(path, margin, feather):
    """Inside a reserved shape the mask is KEEP (0), whatever the margin."""
    size = (160, 120)
    mask = build_mask([path], size, 1.0, 1.0, margin=margin, feather=feather, mode="blank")
    inside = Image.new("L", size, 0)
    for line in path.polylines(0.2):
        if len(line.points) >= 3:
            ImageDraw.Draw(inside).polygon(line.points, fill=255)
    kept = ImageChops.multiply(mask, inside)
    assert kept.getbbox() is None
