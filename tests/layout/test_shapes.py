"""Balloon outlines, tails and connectors (comicc.layout.shapes / tails)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comicc.layout.collide import polys_contain
from comicc.layout.geometry import PathCmd, Point, Rect, Stroke, VectorPath
from comicc.layout.shapes import (
    body_path,
    ellipse_line_widths,
    path_bbox,
    path_contains,
    stroke_for,
    text_block_to_body,
    text_ellipse,
)
from comicc.layout.tails import connector_path, tail_path
from comicc.model import ir

K = ir.BalloonKind
KINDS = tuple(ir.BalloonKind)
BALLOONS = (K.SPEECH, K.WHISPER, K.THOUGHT, K.SHOUT, K.ELECTRONIC)
WOBBLY = BALLOONS + (K.CAPTION, K.NOTE)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

sizes = st.floats(min_value=1.0, max_value=300.0, allow_nan=False)
seeds = st.integers(min_value=0, max_value=2**31)


def _segments_cross(p1, p2, p3, p4) -> bool:
    def orient(a, b, c):
        v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return 0 if abs(v) < 1e-9 else (1 if v > 0 else -1)

    o1, o2 = orient(p1, p2, p3), orient(p1, p2, p4)
    o3, o4 = orient(p3, p4, p1), orient(p3, p4, p2)
    return o1 * o2 < 0 and o3 * o4 < 0


def _is_simple(poly) -> bool:
    n = len(poly)
    edges = [(poly[i], poly[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if _segments_cross(*edges[i], *edges[j]):
                return False
    return True


def _flat(path: VectorPath | None, tolerance: float = 0.5) -> list[list[Point]]:
    assert path is not None
    return [line.points for line in path.polylines(tolerance)]


def _outside_target(rect: Rect, angle: float, extra: float) -> Point:
    cx, cy = rect.center
    r = math.hypot(rect.w, rect.h) / 2 + extra
    return (cx + r * math.cos(angle), cy + r * math.sin(angle))


# ---------------------------------------------------------------------------
# kinds, strokes, helpers


def test_kinds_parse_names_and_aliases():
    for k in ir.BalloonKind:
        assert ir.BalloonKind.parse(k) is k
        assert ir.BalloonKind.parse(k.value.upper()) is k
    assert ir.BalloonKind.parse("BURST") is K.SHOUT
    assert ir.BalloonKind.parse("radio") is K.ELECTRONIC
    with pytest.raises(ValueError):
        ir.BalloonKind.parse("banana")


def test_kind_table_agrees():
    """The ovals are exactly the kinds with a tail; boxes and bare lettering have none."""
    for k in ir.BalloonKind:
        assert k.has_tail == (k.body == "oval") == (k.tail is not None)
    assert {k for k in ir.BalloonKind if k.body == "box"} == {K.CAPTION, K.NOTE}
    assert {k for k in ir.BalloonKind if k.body == "bare"} == {K.SFX, K.TITLE}


def test_stroke_for():
    assert stroke_for(K.SPEECH, 1.0) == Stroke(1.0)
    assert stroke_for(K.SHOUT, 1.0).width == pytest.approx(1.6)
    assert stroke_for(K.WHISPER, 1.0).dash == (4.0, 3.0)
    assert stroke_for(K.THOUGHT, 2.0).dash is None


@given(
    a=st.floats(0.0, 200.0),
    b=st.floats(0.0, 200.0),
    pad=st.floats(0.0, 20.0),
    ys=st.lists(st.floats(-250.0, 250.0), max_size=12),
)
@FAST
def test_ellipse_line_widths_formula(a, b, pad, ys):
    got = ellipse_line_widths(a, b, pad, ys)
    assert len(got) == len(ys)
    for y, w in zip(ys, got, strict=True):
        if b > 0 and abs(y) < b:
            want = max(0.0, 2 * a * math.sqrt(1 - (y / b) ** 2) - 2 * pad)
        else:
            want = 0.0
        assert w == pytest.approx(want, abs=1e-9)


def test_polylines_and_bbox():
    r = Rect(10, 20, 30, 40)
    assert VectorPath.rect(r).polylines(0.5) == [([(10, 20), (40, 20), (40, 60), (10, 60)], True)]
    bb = path_bbox(VectorPath.rect(r))
    assert (bb.x, bb.y, bb.w, bb.h) == (10, 20, 30, 40)
    assert path_contains(VectorPath.rect(r), (25, 40))
    assert not path_contains(VectorPath.rect(r), (5, 40))
    # a quarter-circle cubic stays within tolerance of the true circle
    k = 0.5523 * 100
    q = VectorPath((PathCmd("M", (100, 0)), PathCmd("C", (100, k, k, 100, 0, 100)), PathCmd("Z")))
    for tol in (0.5, 0.1):
        pts = _flat(q, tol)[0]
        assert len(pts) > 4
        for x, y in pts:
            if x > 0 and y > 0:
                assert abs(math.hypot(x, y) - 100) < tol + 0.03


def test_polylines_transform_keeps_tolerance_in_output_units():
    """A path scaled by 4 and flattened at 4x the tolerance is cut the same way."""
    k = 0.5523 * 100
    q = VectorPath((PathCmd("M", (100, 0)), PathCmd("C", (100, k, k, 100, 0, 100))))
    plain = q.polylines(0.1)
    scaled = q.polylines(0.4, lambda x, y: (4 * x + 1, 4 * y - 2))
    assert [len(line.points) for line in scaled] == [len(line.points) for line in plain]
    assert not scaled[0].closed
    for (x, y), (sx, sy) in zip(plain[0].points, scaled[0].points, strict=True):
        assert (sx, sy) == pytest.approx((4 * x + 1, 4 * y - 2))


# ---------------------------------------------------------------------------
# bodies


@pytest.mark.parametrize("kind", KINDS)
def test_body_deterministic(kind):
    r = Rect(5, 7, 120, 70)
    assert body_path(kind, r, 42) == body_path(kind, r, 42)
    if kind in WOBBLY:
        assert body_path(kind, r, 42) != body_path(kind, r, 43)
    else:
        assert body_path(kind, r, 42) == VectorPath.rect(r)


@given(
    kind=st.sampled_from(KINDS),
    x=st.floats(-100, 500),
    y=st.floats(-100, 500),
    w=st.floats(8.0, 400.0),
    h=st.floats(8.0, 300.0),
    seed=seeds,
)
@FAST
def test_body_inside_rect(kind, x, y, w, h, seed):
    r = Rect(x, y, w, h)
    bb = path_bbox(body_path(kind, r, seed))
    tol_x, tol_y = 0.01 * w + 1e-3, 0.01 * h + 1e-3
    assert bb.x >= r.x - tol_x and bb.x2 <= r.x2 + tol_x
    assert bb.y >= r.y - tol_y and bb.y2 <= r.y2 + tol_y
    # and it fills its rect (the placement engine treats rect as the body's box)
    if kind in BALLOONS:
        assert bb.w >= 0.98 * w and bb.h >= 0.98 * h


@given(
    kind=st.sampled_from(KINDS),
    tw=sizes,
    th=st.floats(1.0, 200.0),
    pad=st.floats(0.0, 20.0),
    seed=seeds,
    x=st.floats(-50, 300),
    y=st.floats(-50, 300),
)
@FAST
def test_text_block_fits_inside_body(kind, tw, th, pad, seed, x, y):
    w, h = text_block_to_body(kind, tw, th, pad)
    assert w >= tw and h >= th
    r = Rect(x, y, w, h)
    body = body_path(kind, r, seed)
    cx, cy = r.center
    polys = _flat(body, 0.1)
    for sx in (-1, 1):
        for sy in (-1, 1):
            # a hair inside: with zero padding, box corners touch the rectangle kinds
            corner = (cx + sx * (tw / 2 - 1e-6), cy + sy * (th / 2 - 1e-6))
            assert polys_contain(polys, corner), (kind, corner)
    if kind not in BALLOONS:
        return
    # the advertised lettering ellipse holds the block too
    _, a, b = text_ellipse(kind, r)
    assert a >= tw / math.sqrt(2) + pad - 1e-6
    assert b >= th / math.sqrt(2) + pad - 1e-6


@pytest.mark.parametrize("kind", BALLOONS)
def test_text_ellipse_is_inside_outline(kind):
    for seed in range(8):
        for w, h in ((200, 60), (90, 90), (60, 140), (30, 20)):
            r = Rect(0, 0, w, h)
            body = body_path(kind, r, seed)
            (cx, cy), a, b = text_ellipse(kind, r)
            for i in range(72):
                t = i * math.tau / 72
                p = (cx + 0.999 * a * math.cos(t), cy + 0.999 * b * math.sin(t))
                assert path_contains(body, p), (kind, seed, w, h, t)


def test_irregular_bodies_are_not_mechanical():
    """The speech oval is not left-right symmetric (hand-drawn wobble)."""
    r = Rect(0, 0, 160, 80)
    polys = _flat(body_path(K.SPEECH, r, 5), 0.1)[0]
    right = max(p[0] for p in polys) - 80
    left = 80 - min(p[0] for p in polys)
    assert right == pytest.approx(left, abs=0.01)  # fitted to the rect exactly ...
    ys_r = sorted(p[1] for p in polys if p[0] > 150)
    ys_l = sorted(p[1] for p in polys if p[0] < 10)
    assert ys_r != ys_l  # ... but the shape itself wobbles


# ---------------------------------------------------------------------------
# tails


@given(
    kind=st.sampled_from(BALLOONS),
    w=st.floats(30.0, 250.0),
    h=st.floats(24.0, 160.0),
    angle=st.floats(0.0, math.tau),
    extra=st.floats(5.0, 300.0),
    seed=seeds,
)
@FAST
def test_tail_points_towards_target(kind, w, h, angle, extra, seed):
    r = Rect(40, 60, w, h)
    body = body_path(kind, r, seed)
    target = _outside_target(r, angle, extra)
    tail = tail_path(kind, r, body, target, seed)
    assert tail is not None
    assert tail == tail_path(kind, r, body, target, seed)
    pts = [p for poly in _flat(tail, 0.1) for p in poly]
    nearest = min(math.dist(p, target) for p in pts)
    assert nearest < math.dist(r.center, target)
    # the tip stops short of the target and the tail stays short
    assert nearest > 0.1 * extra * 0.5
    far = max(math.dist(p, r.center) for p in pts)
    assert far <= math.hypot(w, h) / 2 + 1.25 * h + 1.0


@given(
    kind=st.sampled_from((K.SPEECH, K.WHISPER, K.SHOUT, K.ELECTRONIC)),
    w=st.floats(30.0, 250.0),
    h=st.floats(24.0, 160.0),
    angle=st.floats(0.0, math.tau),
    extra=st.floats(5.0, 300.0),
    seed=seeds,
)
@FAST
def test_wedge_tails_are_simple_and_rooted_in_body(kind, w, h, angle, extra, seed):
    r = Rect(0, 0, w, h)
    body = body_path(kind, r, seed)
    target = _outside_target(r, angle, extra)
    tail = tail_path(kind, r, body, target, seed)
    assert tail is not None
    polys = _flat(tail, 0.1)
    assert len(polys) == 1
    assert _is_simple(polys[0])
    # the base (first and last point of the outline) is buried in the body
    first = tail.cmds[0].pts
    assert path_contains(body, (first[0], first[1]))


@given(
    w=st.floats(40.0, 250.0),
    h=st.floats(30.0, 160.0),
    angle=st.floats(0.0, math.tau),
    extra=st.floats(20.0, 300.0),
    seed=seeds,
)
@FAST
def test_thought_trail_grows_towards_body(w, h, angle, extra, seed):
    r = Rect(0, 0, w, h)
    body = body_path(K.THOUGHT, r, seed)
    target = _outside_target(r, angle, extra)
    tail = tail_path(K.THOUGHT, r, body, target, seed)
    polys = _flat(tail, 0.1)
    assert 2 <= len(polys) <= 3
    circles = []
    for poly in polys:
        bx = [p[0] for p in poly]
        by = [p[1] for p in poly]
        c = ((max(bx) + min(bx)) / 2, (max(by) + min(by)) / 2)
        circles.append((math.dist(c, target), max(bx) - min(bx)))
    circles.sort()  # nearest the target first: smallest first
    assert [d for _, d in circles] == sorted(d for _, d in circles)


def test_tail_bottom_is_near_middle_and_within_45_degrees():
    r = Rect(0, 0, 160, 70)
    body = body_path(K.SPEECH, r, 1)
    target = (110.0, 180.0)
    tail = tail_path(K.SPEECH, r, body, target, 1)
    assert tail is not None
    pts = _flat(tail, 0.1)[0]
    tip = min(pts, key=lambda p: math.dist(p, target))
    base = tail.cmds[0].pts
    assert 0.3 * r.w < base[0] < 0.85 * r.w
    assert abs(tip[0] - base[0]) <= abs(tip[1] - base[1]) * 1.05
    # tip stops ~15 % short of the target
    assert 5 < math.dist(tip, target) < 40


@pytest.mark.parametrize("kind", (K.CAPTION, K.NOTE, K.SFX, K.TITLE))
def test_no_tail_for_boxes(kind):
    r = Rect(0, 0, 80, 40)
    assert tail_path(kind, r, body_path(kind, r, 0), (40.0, 200.0), 0) is None


def test_no_tail_when_target_inside_body():
    r = Rect(0, 0, 80, 40)
    assert tail_path(K.SPEECH, r, body_path(K.SPEECH, r, 0), (40.0, 20.0), 0) is None


# ---------------------------------------------------------------------------
# connectors


@given(
    ax=st.floats(0, 200),
    ay=st.floats(0, 200),
    aw=st.floats(30, 150),
    ah=st.floats(20, 90),
    dx=st.floats(-300, 300),
    dy=st.floats(-300, 300),
    bw=st.floats(30, 150),
    bh=st.floats(20, 90),
    seed=seeds,
)
@FAST
def test_connector_touches_both(ax, ay, aw, ah, dx, dy, bw, bh, seed):
    a = Rect(ax, ay, aw, ah)
    b = Rect(ax + dx, ay + dy, bw, bh)
    c = connector_path(a, b, seed)
    assert c == connector_path(a, b, seed)
    # M l0, C .. l3, L r3, C .. r0, Z: the a-end is l0/r0, the b-end is l3/r3
    l0, l3 = c.cmds[0].pts, c.cmds[1].pts[-2:]
    r3, r0 = c.cmds[2].pts, c.cmds[3].pts[-2:]
    for p in (l0, r0):
        assert a.contains_point((p[0], p[1]), eps=0.01)
    for p in (l3, r3):
        assert b.contains_point((p[0], p[1]), eps=0.01)
    polys = _flat(c, 0.1)
    assert len(polys) == 1 and _is_simple(polys[0])
