"""The third pass of layout speed-ups changes nothing either: candidates handed out
lazily come in the order of sorting them all, the candidate axes written out give
the values they gave, and a search that takes the first candidate computes few
tails (the goldens and ``bench/bench_layout.py --digest`` check the books byte
for byte)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comicc.layout import candidates, engine, place
from comicc.layout.geometry import Rect
from comicc.layout.grid import layout_page
from comicc.layout.items import BalloonToPlace, PanelContext, PlacedBalloon, PlacementTuning
from comicc.layout.measure import as_measurer
from comicc.layout.text import Fit
from support.layout import US, make_theme, page, panel

THEME = make_theme()
M = as_measurer()
TUNING = PlacementTuning.from_theme(THEME)
WORDS = "the cheese is mine tonight and nobody will stop me now wait *no* okay".split()
NAMES = ["HAMMY", "MOUSE", "RAT"]
KINDS = ["speech", "speech", "WHISPER", "SHOUT", "THOUGHT", "ELECTRONIC", "OFF", "CONT'D"]
KINDS += ["CAPTION", "SFX", "NOTE"]
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def panels(draw: st.DrawFn) -> list[Any]:
    """One to three generated panels, some crowded, some with cast positions."""
    out, idx = [], 1
    for i in range(draw(st.integers(1, 3))):
        lines: list[tuple[str, ...]] = []
        for _ in range(draw(st.integers(1, 6))):
            kind = draw(st.sampled_from(KINDS))
            n = draw(st.integers(1, 12))
            text = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=n, max_size=n)))
            if kind in ("CAPTION", "SFX", "NOTE"):
                lines.append((kind, text if kind != "SFX" else "BLAM"))
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


def _contexts(panel_list: list[Any], reading: str) -> list[PanelContext]:
    pg = page(1, panel_list)
    frame, boxes = layout_page(pg, US, THEME.gutter_tier, THEME.gutter_within, reading)
    return [engine.panel_context(box, frame, THEME, M, reading, TUNING)[0] for box in boxes]


@FAST
@given(panels(), st.sampled_from(["ltr", "rtl"]))
def test_lazy_candidates_come_in_the_sorted_order(panel_list: list[Any], reading: str) -> None:
    real = candidates.candidates
    seen = []

    def both(
        ctx: PanelContext,
        balloon: BalloonToPlace,
        fits: list[tuple[Fit, float]],
        state: list[PlacedBalloon],
    ) -> Any:
        got = list(real(ctx, balloon, fits, state))
        pre, prev, _tailed = candidates.prefilter(ctx, balloon, fits, state)
        assert got == candidates._all_candidates(ctx, balloon, pre, prev, state)
        seen.append(len(got))
        return iter(got)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(place, "candidates", both)
        for ctx in _contexts(panel_list, reading):
            place.place_panel(ctx)
    assert seen


def _plain_axes(
    ctx: PanelContext, balloon: BalloonToPlace, w: float, h: float, state: list[PlacedBalloon]
) -> tuple[list[float], list[float]]:
    """``candidates._axes`` as it was: lists built and clamped with ``min(max())``."""
    a, bxs, bys = candidates._base_axes(ctx, balloon, w, h)
    if a is None or bxs is None or bys is None:
        return [], []
    if not state and balloon.prev is None:
        return candidates._dedupe(bxs), candidates._dedupe(bys)
    gap = ctx.tuning.gap
    xs: list[float] = []
    ys: list[float] = []
    for other in state:
        r = other.rect
        ys += [r.y2 + gap, r.y]
        xs += [r.x2 + gap, r.x - gap - w]
        if other.tail_poly is not None:
            txs = [p[0] for p in other.tail_poly]
            xs += [max(txs) + gap, min(txs) - gap - w]
        if balloon.prev is not None and other.index == balloon.prev:
            xs += [r.x + r.w * 0.35, r.x2 - w * 0.35, r.x2 - w * 0.1, r.x + r.w * 0.5 - w * 0.5]
            xs += [r.x - w * 0.65, r.x + r.w * 0.65]
            ys += [r.y2 + gap + 3, r.y2 - h * 0.15, r.y2 + gap]
    xs = bxs + [min(max(x, a.x), a.x2 - w) for x in xs]
    ys = bys + [min(max(y, a.y), a.y2 - h) for y in ys]
    return _plain_dedupe(xs), _plain_dedupe(ys)


def _plain_dedupe(vals: list[float], grid: float = 0.75) -> list[float]:
    out: list[float] = []
    last = -math.inf
    for v in sorted(vals):
        if not out or v - last >= grid:
            out.append(v)
            last = v
    return out


@FAST
@given(panels(), st.sampled_from(["ltr", "rtl"]))
def test_axes_are_the_plain_axes(panel_list: list[Any], reading: str) -> None:
    real = candidates._axes
    checked = []

    def both(
        ctx: PanelContext, balloon: BalloonToPlace, w: float, h: float, state: list[PlacedBalloon]
    ) -> tuple[list[float], list[float]]:
        got = real(ctx, balloon, w, h, state)
        assert got == _plain_axes(ctx, balloon, w, h, state)
        checked.append(bool(state))
        return got

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(candidates, "_axes", both)
        for ctx in _contexts(panel_list, reading):
            place.place_panel(ctx)
    assert checked


def test_the_first_candidate_needs_few_tails() -> None:
    """A speech balloon in an empty panel, its speaker high up: handing out its cheapest
    candidate costs the tails of a few positions, not of all 24 the cheap filter keeps
    (a tail to a speaker low in the panel is long wherever the body is: then most are
    costed)."""
    pl = panel(1, [("HAMMY", "the cheese is mine tonight")], {"HAMMY": (0.5, 0.35)})
    (ctx,) = _contexts([pl], "ltr")
    balloon = ctx.balloons[0]
    tier = [(balloon.fits[0], 0.0)]
    pre, _prev, tailed = candidates.prefilter(ctx, balloon, tier, [])
    assert tailed and len(pre) == candidates.CANDIDATES
    first = next(candidates.candidates(ctx, balloon, tier, []))
    tails = [k for k in ctx.memo if k[0] == "tail"]
    assert 0 < len(tails) < len(pre) // 2
    pre2, prev2, _ = candidates.prefilter(ctx, balloon, tier, [])
    assert first == candidates._all_candidates(ctx, balloon, pre2, prev2, [])[0]
    assert isinstance(first.rect, Rect)
