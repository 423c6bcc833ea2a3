"""The mask and init image: the invariants every mask has (measured against the
exact distance to the shapes), and what the quicker drawing (cache key
version 4) keeps from the former one (version 3)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw

from comicc.backends.draft import DraftBackend
from comicc.layout import VectorPath
from comicc.paint.mask import (
    COARSE,
    GROW,
    MAX_FEATHER_STEPS,
    build_init,
    build_mask,
    keep_zone,
    panel_images,
)
from comicc.paint.plan import plan_panel
from support.panels import make_panel, oval, two_speaker_geom

SIZE = (160, 120)


def former_keep_zone(
    paths: list[VectorPath],
    size: tuple[int, int],
    margin: float,
    feather: float,
    scale: tuple[float, float] = (1.0, 1.0),
) -> Image.Image:
    """The version-3 drawing: a ring every pixel of the feather, each stroking the
    outlines (flattened within 0.2 px) with a disc on every vertex."""
    sx, sy = scale
    polys = [
        line.points
        for p in paths
        for line in p.polylines(0.2, lambda x, y: (x * sx, y * sy))
        if len(line.points) >= 2
    ]
    zone = Image.new("L", size, 0)
    d = ImageDraw.Draw(zone)

    def grown(r: float, value: int, fill: bool) -> None:
        for poly in polys:
            if fill and len(poly) >= 3:
                d.polygon(poly, fill=value)
            if r < 0.5:
                continue
            d.line([*poly, poly[0]], fill=value, width=max(1, round(2 * r)))
            for box in {(int(x - r), int(y - r), int(x + r), int(y + r)) for x, y in poly}:
                d.ellipse(box, fill=value)

    steps = min(MAX_FEATHER_STEPS, math.ceil(feather)) if feather > 0 else 0
    for i in range(steps, 0, -1):
        grown(margin + feather * i / steps, round(255 * (1 - (i - 0.5) / steps)), False)
    grown(margin, 255, True)
    return zone


def distances(paths: list[VectorPath], size: tuple[int, int]) -> np.ndarray:
    """The exact distance (px, at 1 px a point) from each pixel centre to the shapes
    (0 inside one), as an array of ``size[1]`` rows."""
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]]
    px, py = xs.ravel() + 0.5, ys.ravel() + 0.5
    best = np.full(px.shape, np.inf)
    for p in paths:
        for line in p.polylines(0.01):
            if len(line.points) < 3:
                continue
            a = np.array(line.points)
            b = np.roll(a, -1, axis=0)
            inside = np.zeros(px.shape, dtype=bool)
            for (ax, ay), (bx, by) in zip(a, b, strict=True):
                dx, dy = bx - ax, by - ay
                t = ((px - ax) * dx + (py - ay) * dy) / max(dx * dx + dy * dy, 1e-12)
                t = np.clip(t, 0.0, 1.0)
                best = np.minimum(best, np.hypot(px - (ax + t * dx), py - (ay + t * dy)))
                crosses = (ay > py) != (by > py)  # even-odd: a ray to the right
                with np.errstate(divide="ignore", invalid="ignore"):
                    x_at = ax + (py - ay) * dx / (by - ay)
                inside ^= crosses & (px < x_at)
            best[inside] = 0.0
    return best.reshape(size[1], size[0])


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


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
@given(st.lists(shapes, min_size=1, max_size=3), st.floats(0, 30), st.floats(0, 20))
def test_the_mask_follows_the_distance_to_the_shapes(paths, margin, feather):
    """KEEP within the margin, PAINT beyond margin + feather (and the widening), and
    the ramp between never falls back: a farther pixel is never kept more."""
    mask = pixels(build_mask(paths, SIZE, 1.0, 1.0, margin=margin, feather=feather, mode="blank"))
    dist = distances(paths, SIZE)
    if margin >= 0.5:  # (a bare shape is Pillow's polygon: test_every_shape_is_kept_whole)
        assert (mask[dist <= margin] == 0).all()  # the kept zone is fully kept
    # + rounding: a pixel, and half its diagonal (a pixel whose centre lies past the bound
    # can still have a corner inside it, as next to a star's sharp points)
    grow = (GROW if margin >= 0.5 or feather > 0 else 0.0) + 2.0 + 0.75
    assert (mask[dist > margin + feather + grow] == 255).all()
    # monotone up to the rings' widening: sorted by distance, no pixel is kept
    # more than a pixel 2 x GROW nearer the shapes
    order = np.argsort(dist.ravel(), kind="stable")
    d, m = dist.ravel()[order], mask.ravel()[order]
    nearer = np.searchsorted(d, d - 2 * GROW - 1, side="right")
    lowest_before = np.minimum.accumulate(m)
    assert (m[nearer > 0] >= lowest_before[nearer[nearer > 0] - 1]).all()


@settings(max_examples=30, deadline=None)
@given(st.lists(shapes, min_size=1, max_size=3), st.floats(1, 30), st.floats(0, 20))
def test_the_quicker_mask_keeps_what_the_former_kept(paths, margin, feather):
    """Version 4 keeps every pixel version 3 kept but for a sprinkle at sharp
    corners, and at most its widening (``GROW``) more around the shapes."""
    new = pixels(keep_zone(paths, SIZE, 1.0, 1.0, margin, feather))
    old = pixels(former_keep_zone(paths, SIZE, margin, feather))
    lost = (old == 255) & (new != 255)
    assert lost.sum() <= 8 + (old == 255).sum() // 500
    dist = distances(paths, SIZE)
    gained = (new == 255) & (old != 255)
    # + rounding: the vertex discs' boxes are whole pixels and Pillow's small
    # ellipses are coarse (2.01 px seen for a 7-px oval just off the canvas)
    assert (dist[gained] <= margin + GROW + 2.5).all()


def test_rings_are_two_pixels_apart():
    """A feather of 8 px: 4 rings of 2 px, each a quarter of the way, then PAINT."""
    square = VectorPath.polygon([(100, 100), (200, 100), (200, 200), (100, 200)])
    mask = build_mask([square], (400, 300), 1.0, 1.0, margin=10, feather=8, mode="blank")
    row = list(mask.crop((200, 150, 240, 151)).tobytes())
    ramp = sorted(set(row) - {0, 255})
    assert ramp == [32, 96, 159, 223]
    assert row == sorted(row)
    assert all(v == 0 for v in row[:10]) and all(v == 255 for v in row[21:])
    assert COARSE <= GROW


def test_the_examples_panel_at_300_dpi_keeps_what_it_kept():
    """The two-speaker test panel at 300 dpi: every pixel kept before is kept now but
    a few at the tails' tips (where version 3's discs reached past the margin)."""
    plan = plan_panel(make_panel(dpi=300), two_speaker_geom(), DraftBackend.capabilities)
    size = plan.request_size
    sx, sy = plan.scale(size)
    margin, feather = plan._px(plan.keep_margin, size), plan._px(plan.feather, size)
    assert margin > 0 and feather > 0
    paths = list(plan.reserve)
    new = pixels(keep_zone(paths, size, sx, sy, margin, feather))
    old = pixels(former_keep_zone(paths, size, margin, feather, (sx, sy)))
    assert ((old == 255) & (new != 255)).sum() <= 32
    assert ((new == 255) & (old != 255)).sum() < 0.04 * (old == 255).sum()  # GROW px wider


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
    assert ImageChops.difference(mask, alone).getbbox() is None
    assert (
        init.tobytes()
        == build_init(plan.reserve, size, sx, sy, mode="lettered", lines=plan.lines).tobytes()
    )
    assert plan.images(size)[1].tobytes() == mask.tobytes()
    zone = keep_zone(plan.reserve, size, sx, sy, margin, feather)
    assert ImageChops.invert(zone).tobytes() == mask.tobytes()


def test_the_same_mask_every_time():
    plan = plan_panel(make_panel(dpi=150), two_speaker_geom(), DraftBackend.capabilities)
    first = [im.tobytes() for im in plan.images()]
    assert [im.tobytes() for im in plan.images()] == first


@settings(max_examples=25, deadline=None)
@given(shapes, st.floats(0, 20), st.floats(0, 12))
def test_every_shape_is_kept_whole(path, margin, feather):
    """Inside a reserved shape the mask is KEEP (0), whatever the margin."""
    mask = build_mask([path], SIZE, 1.0, 1.0, margin=margin, feather=feather, mode="blank")
    inside = Image.new("L", SIZE, 0)
    for line in path.polylines(0.2):
        if len(line.points) >= 3:
            ImageDraw.Draw(inside).polygon(line.points, fill=255)
    kept = ImageChops.multiply(mask, inside)
    assert kept.getbbox() is None
