"""The layout's speed-ups change nothing: the memo of tails and costs, the
column-wise candidate filter, the forked workers, the height-indexed
point-in-outline test, the cached Bézier weights and the arc-length table give
the same results as the plain computation (the goldens check the examples byte
for byte)."""

from __future__ import annotations

import math
import os
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comicc.layout import candidates, engine, geometry, outlines, place, to_json
from comicc.layout.balloons import voice_colors
from comicc.layout.collide import IndexedPolys, polys_contain, rect_gap
from comicc.layout.geometry import MAX_CURVE_PIECES, Point, Rect
from comicc.layout.grid import layout_page
from comicc.layout.items import (
    BalloonToPlace,
    PanelContext,
    PlacedBalloon,
    PlacementTuning,
    reading_order_ok,
)
from comicc.layout.measure import as_measurer
from comicc.layout.shapes import body_path
from comicc.layout.text import Fit
from comicc.model import ir
from support.layout import US, make_theme, page, panel, script

THEME = make_theme()
M = as_measurer()
TUNING = PlacementTuning.from_theme(THEME)
WORDS = "the cheese is mine tonight and nobody will stop me now wait *no* okay".split()
NAMES = ["HAMMY", "MOUSE", "RAT"]
KINDS = ["speech", "speech", "speech", "WHISPER", "SHOUT", "THOUGHT", "ELECTRONIC", "OFF"]
KINDS += ["CONT'D", "CAPTION", "SFX", "NOTE"]
FAST = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def panels(draw: st.DrawFn) -> list:
    """One to three generated panels, some crowded, some with cast positions."""
    out, idx = [], 1
    for i in range(draw(st.integers(1, 3))):
        lines: list[tuple[str, ...]] = []
        for _ in range(draw(st.integers(1, 5))):
            kind = draw(st.sampled_from(KINDS))
            n = draw(st.integers(1, 12))
            text = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=n, max_size=n)))
            if kind == "CAPTION":
                lines.append(("CAPTION", text))
            elif kind == "SFX":
                lines.append(("SFX", "BLAM"))
            elif kind == "NOTE":
                lines.append(("NOTE", "*See issue #3"))
            else:
                name = draw(st.sampled_from(NAMES))
                lines.append((name, text) if kind == "speech" else (name, text, kind))
        cast = {
            name: (draw(st.floats(0.1, 0.9)), draw(st.floats(0.35, 0.9)))
            for name in sorted({ln[0] for ln in lines if ln[0] in NAMES})
            if draw(st.booleans())
        }
        out.append(panel(i + 1, lines, cast, first_index=idx))
        idx += len(lines)
    return out


def _contexts(panel_list: list, reading: str) -> list:
    """A fresh search context for every panel of a one-page script."""
    pg = page(1, panel_list)
    frame, boxes = layout_page(pg, US, THEME.gutter_tier, THEME.gutter_within, reading)
    return [engine.panel_context(box, frame, THEME, M, reading, TUNING)[0] for box in boxes]


def _plain_pre(
    ctx: PanelContext,
    balloon: BalloonToPlace,
    fits: list[tuple[Fit, float]],
    state: list[PlacedBalloon],
) -> list[tuple[float, float, float, Fit, float]]:
    """The cheap filter of ``candidates.prefilter`` written position by position, as it was."""
    prev = None
    if balloon.prev is not None:
        prev = next((other for other in state if other.index == balloon.prev), None)
    gap = ctx.tuning.gap
    ordered = (
        [o.rect for o in state if ctx.balloons[o.index].ordered and o.overflow == 0]
        if balloon.ordered
        else []
    )
    a = ctx.area
    tailed = balloon.kind.has_tail and balloon.mouth is not None
    mx = balloon.mouth[0] if tailed and balloon.mouth is not None else None
    pre = []
    for fit, penalty in fits:
        w, h = fit.w, fit.h
        for x, y in candidates._positions(ctx, balloon, w, h, state):
            r = Rect(x, y, w, h)
            if any(
                x + w > q.rect.x - gap
                and q.rect.x2 + gap > x
                and y + h > q.rect.y - gap
                and q.rect.y2 + gap > y
                for q in state
            ):
                continue
            if ordered and not all(reading_order_ok(r, o, ctx.reading) for o in ordered):
                continue
            if candidates._covers_face(ctx, balloon, r):
                continue
            if prev is not None:
                if rect_gap(prev.rect, r) > ctx.tuning.link_gap:
                    continue
                if math.dist(prev.rect.center, r.center) < 1e-6:
                    continue
            est = 3 * (y - a.y) / a.h + penalty
            if mx is not None:
                est += 1.2 * abs(x + w / 2 - mx) / a.w
            pre.append((est, x, y, fit, penalty))
    if tailed:
        pre.sort(key=lambda e: (e[0], e[1], e[2]))
        del pre[candidates.CANDIDATES_COMPACT if ctx.compact else candidates.CANDIDATES :]
    return pre


class _NoMemo(dict[tuple[object, ...], Any]):
    """A memo that keeps nothing: every tail and cost is computed afresh."""

    def __setitem__(self, key: object, value: object) -> None:
        return None


@FAST
@given(panels(), st.sampled_from(["ltr", "rtl"]))
def test_column_filter_is_the_plain_filter(panel_list: list, reading: str) -> None:
    checked = []
    real = candidates.prefilter

    def both(
        ctx: PanelContext,
        balloon: BalloonToPlace,
        fits: list[tuple[Fit, float]],
        state: list[PlacedBalloon],
    ) -> tuple[list[tuple[float, float, float, Fit, float]], PlacedBalloon | None, bool]:
        got = real(ctx, balloon, fits, state)
        assert got[0] == _plain_pre(ctx, balloon, fits, state)
        checked.append(len(got[0]))
        return got

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(candidates, "prefilter", both)  # as candidates() calls it
        mp.setattr(place, "prefilter", both)  # as the search's empty-panel check calls it
        for ctx in _contexts(panel_list, reading):
            place.place_panel(ctx)
    assert checked  # every panel has lettering, so the filter ran


@FAST
@given(panels(), st.sampled_from(["ltr", "rtl"]))
def test_memo_changes_no_placement(panel_list: list, reading: str) -> None:
    for with_memo, without in zip(
        _contexts(panel_list, reading), _contexts(panel_list, reading), strict=True
    ):
        without.memo = _NoMemo()
        assert place.place_panel(with_memo) == place.place_panel(without)
        assert with_memo.memo and not without.memo


def _bench_job(pages: int) -> engine._Job:
    rng = [  # a small book with every kind, dense and sparse panels
        [
            [
                (NAMES[(p + k) % 3], " ".join(WORDS[: 3 + (p * 7 + k) % 9]))
                for k in range(1 + (p + n) % 4)
            ]
            + ([("CAPTION", "Later.")] if n == 0 else [])
            for n in range(4)
        ]
        for p in range(pages)
    ]
    sc = script([page(p + 1, panel_list) for p, panel_list in enumerate(rng)])
    return engine._Job(sc, THEME, US, M, "ltr", TUNING, None, voice_colors(sc, THEME))


def test_forked_workers_give_the_same_book() -> None:
    job = _bench_job(10)
    if not engine.fork_safe():
        pytest.skip("this process cannot fork workers (threads running, or not Linux)")
    parts = engine._in_processes(job, engine._chunks(10, 2), 2)
    assert parts is not None
    pages = tuple(p for part, _ in parts for p in part)
    issues = [d for _, found in parts for d in found]
    alone, alone_issues = engine._layout_range(job, 0, 10)
    assert pages == alone
    assert issues == alone_issues
    book = engine.BookGeom(pages, "ltr")
    assert to_json(book) == to_json(engine.BookGeom(alone, "ltr"))


def test_chunks_cover_every_page_once_in_order() -> None:
    for pages in (1, 2, 23, 24, 25, 200, 201):
        for jobs in (2, 3, 4):
            spans = engine._chunks(pages, jobs)
            assert [i for a, b in spans for i in range(a, b)] == list(range(pages))


def test_never_forks_while_a_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMICC_LAYOUT_JOBS", "2")
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert engine._jobs(200) == 1
    finally:
        stop.set()
        t.join()
    monkeypatch.setenv("COMICC_LAYOUT_JOBS", "1")
    assert engine._jobs(200) == 1
    if engine.fork_safe():
        monkeypatch.delenv("COMICC_LAYOUT_JOBS")
        assert engine._jobs(200) == min(len(os.sched_getaffinity(0)), 4)
        assert engine._jobs(engine.PARALLEL_PAGES - 1) == 1


def _plain_contains(polys: list[list[tuple[float, float]]], p: tuple[float, float]) -> bool:
    """The even-odd test of ``collide.polys_contain`` edge by edge, as it was."""
    x, y = p
    inside = False
    for poly in polys:
        n = len(poly)
        for i in range(n):
            (xi, yi), (xj, yj) = poly[i], poly[i - 1]
            if (yi > y) != (yj > y) and x < xi + (y - yi) * (xj - xi) / (yj - yi):
                inside = not inside
    return inside


coords = st.floats(-50, 50, allow_nan=False)
points = st.tuples(coords, coords)


@FAST
@given(st.lists(st.lists(points, min_size=1, max_size=12), min_size=1, max_size=3), st.data())
def test_indexed_polygons_answer_as_the_plain_test(polys: list, data: st.DataObject) -> None:
    indexed = IndexedPolys(polys)
    assert list(indexed) == polys  # still the polygons, for the callers that walk them
    corners = [q for poly in polys for q in poly]
    for _ in range(20):  # anywhere, and exactly at the corners (ties at an edge's end)
        p = data.draw(st.one_of(points, st.sampled_from(corners)))
        assert polys_contain(indexed, p) == _plain_contains(polys, p)
        assert polys_contain(polys, p) == _plain_contains(polys, p)


@FAST
@given(st.sampled_from(list(ir.BalloonKind)), st.integers(0, 99), st.data())
def test_tails_of_indexed_outlines_are_the_same(
    kind: ir.BalloonKind, seed: int, data: st.DataObject
) -> None:
    r = Rect(10.0, 20.0, data.draw(st.floats(12, 160)), data.draw(st.floats(12, 90)))
    polys = [line.points for line in body_path(kind, r, seed).polylines(0.25)]
    indexed = IndexedPolys(polys)
    for _ in range(30):
        p = (data.draw(st.floats(r.x - 4, r.x2 + 4)), data.draw(st.floats(r.y - 4, r.y2 + 4)))
        assert indexed.contains(p) == _plain_contains(polys, p)


def _plain_cubic(p0: Point, p1: Point, p2: Point, p3: Point, tol: float) -> list[Point]:
    """``geometry._cubic_points`` computing its weights for every curve, as it was."""
    mx = max(abs(p0[0] - 2 * p1[0] + p2[0]), abs(p1[0] - 2 * p2[0] + p3[0]))
    my = max(abs(p0[1] - 2 * p1[1] + p2[1]), abs(p1[1] - 2 * p2[1] + p3[1]))
    n = max(1, min(MAX_CURVE_PIECES, math.ceil(math.sqrt(0.75 * math.hypot(mx, my) / tol))))
    out = []
    for i in range(1, n + 1):
        t = i / n
        u = 1.0 - t
        a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
        out.append(
            (
                a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
            )
        )
    return out


@FAST
@given(st.lists(points, min_size=4, max_size=4), st.sampled_from([0.05, 0.1, 0.25, 1.0]))
def test_cached_bezier_weights_give_the_same_points(pts: list, tol: float) -> None:
    p0, p1, p2, p3 = pts
    assert geometry._cubic_points(p0, p1, p2, p3, tol) == _plain_cubic(p0, p1, p2, p3, tol)


def test_ellipse_arc_table_is_the_running_sum() -> None:
    for a, b in ((1.0, 1.0), (57.3, 21.9), (3.2, 140.0)):
        ell = outlines._Ellipse(a, b)
        total, cum = 0.0, [0.0]
        px, py = ell.point(0.0)
        for t in ell.ts[1:]:
            qx, qy = ell.point(t)
            total = total + math.dist((px, py), (qx, qy))
            cum.append(total)
            px, py = qx, qy
        assert ell.cum == cum and ell.length == cum[-1]
