"""Property tests of balloon placement over generated scripts (IR built directly)."""

from __future__ import annotations

import json
import math
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comicc.layout import Rect, as_measurer, layout_book, to_json
from comicc.layout.shapes import path_contains
from comicc.output import draw_wireframe
from support.layout import MANGA, US, make_theme, page, panel, script

THEME = make_theme()
M = as_measurer()
ORDERED_EXEMPT = {"sfx", "note"}
WORDS = (
    "the cheese is mine tonight and nobody will stop me now what about cat "
    "listen up team plan we move out go *really* wait no yes hmm okay"
).split()
NAMES = ["HAMMY", "MOUSE", "RAT", "BRUIN"]

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "layout-long", max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("LAYOUT_HYPOTHESIS_PROFILE", "ci"))


@st.composite
def balloon_lines(draw):
    kind = draw(
        st.sampled_from(
            ["speech"] * 6
            + [
                "WHISPER",
                "SHOUT",
                "THOUGHT",
                "ELECTRONIC",
                "OFF",
                "CAPTION",
                "SFX",
                "NOTE",
                "CONT'D",
            ]
        )
    )
    n = draw(st.integers(1, 14))
    text = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=n, max_size=n)))
    if kind == "CAPTION":
        return ("CAPTION", text)
    if kind == "SFX":
        return ("SFX", draw(st.sampled_from(["BLAM", "CLICK", "KRAKOOM"])))
    if kind == "NOTE":
        return ("NOTE", "*See issue #3")
    name = draw(st.sampled_from(NAMES))
    if draw(st.booleans()) and kind == "speech":
        text += " --"
    return (name, text) if kind == "speech" else (name, text, kind)


@st.composite
def scripts(draw):
    reading = draw(st.sampled_from(["ltr", "rtl"]))
    n = draw(st.integers(1, 6))
    panels = []
    idx = 1
    for i in range(n):
        lines = draw(st.lists(balloon_lines(), min_size=0, max_size=4))
        cast = {}
        for name in {line[0] for line in lines if line[0] in NAMES}:
            if draw(st.booleans()):
                cast[name] = (draw(st.floats(0.1, 0.9)), draw(st.floats(0.35, 0.9)))
        panels.append(
            panel(
                i + 1,
                lines,
                cast,
                first_index=idx,
                width=draw(st.sampled_from([1.0, 1.0, 2.0])),
                bleed=draw(st.sampled_from([(), ("top",), ("left", "bottom")])),
            )
        )
        idx += len(lines)
    return script([page(1, panels)], reading), reading


def _live(pg, pn) -> Rect:
    r, lv = pn.rect, pg.live
    x, y = max(r.x, lv.x), max(r.y, lv.y)
    return Rect(x, y, min(r.x2, lv.x2) - x, min(r.y2, lv.y2) - y)


def _pts(path, step=1.5):
    """Points along a path's outline, at most ``step`` apart."""
    out = []
    for line in path.polylines(0.3):
        poly = line.points
        for a, b in zip(poly, poly[1:] + poly[:1], strict=True):
            n = max(1, int(math.dist(a, b) / step))
            out += [(a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n) for i in range(n)]
    return out


def _check_book(book, reading):
    fit_count = 0
    for pg in book.pages:
        for pn in pg.panels:
            live = _live(pg, pn)
            ok = [b for b in pn.balloons if b.overflow == 0]
            fit_count += len(ok)
            others = [o.rect for o in pg.panels if o is not pn]
            for b in ok:
                if not live.inset(1.0).contains(b.rect):
                    # broken out into the gutter (``gutter_break``): a balloon, on the
                    # page's live area, out of every other panel
                    assert b.kind not in ("sfx", "note", "title"), (b.id, b.rect, live)
                    assert pg.live.contains(b.rect), (b.id, b.rect, pg.live)
                    assert not any(b.rect.intersects(o) for o in others), (b.id, b.rect)
                if b.tail is not None and live.inset(1.0).contains(b.rect):
                    assert live.contains(b.tail.bbox(), eps=0.6), (b.id, b.tail.bbox(), live)
                elif b.tail is not None:
                    # a broken-out body: its tail's base is buried in the body out
                    # there; every other point of the tail is in the panel
                    stray = [
                        q
                        for q in _pts(b.tail)
                        if not live.contains_point(q, eps=0.6) and not b.rect.contains_point(q)
                    ]
                    assert not stray, (b.id, stray[:3], live, b.rect)
            for i, a in enumerate(ok):
                for b in ok[i + 1 :]:
                    assert not a.rect.intersects(b.rect), (a.id, b.id)
            for a in ok:  # tails and connectors never cross another balloon
                for path in [a.tail, *a.reserve[:-1]]:  # its tail, its connector
                    if path is None:
                        continue
                    pts = _pts(path)
                    for b in ok:
                        if b is a or b.kind in ("sfx",):
                            continue
                        if path is not a.tail and b.speaker == a.speaker:
                            continue  # a connector joins its own group
                        assert not any(
                            path_contains(b.body, p) for p in pts if b.rect.contains_point(p)
                        ), (a.id, b.id)
            ordered = [b for b in ok if b.kind not in ORDERED_EXEMPT]
            for i, e in enumerate(ordered):  # Comic Chat's reading-order rule
                for r in ordered[i + 1 :]:
                    left = (
                        e.rect.x2 <= r.rect.x + 1e-6
                        if reading == "ltr"
                        else e.rect.x >= r.rect.x2 - 1e-6
                    )
                    assert r.rect.y >= e.rect.y2 - 1e-6 or (left and r.rect.y >= e.rect.y - 1e-6), (
                        e.id,
                        r.id,
                    )
            for b in ok:  # text never leaves its balloon
                for ln in b.lines:
                    for run in ln.runs:
                        asc, desc, cap = M.metrics(run.font)
                        for p in (
                            (run.x, run.baseline - cap),
                            (run.x + run.width, run.baseline - cap),
                            (run.x, run.baseline + desc * 0.5),
                            (run.x + run.width, run.baseline + desc * 0.5),
                        ):
                            if b.kind in ("sfx", "title"):
                                assert b.rect.contains_point(p, eps=0.5), (b.id, ln.text)
                            else:
                                assert path_contains(b.body, p), (b.id, ln.text, p)
    return fit_count


@given(scripts())
def test_placement_properties(data):
    sc, reading = data
    book, _ = layout_book(sc, THEME, US)
    _check_book(book, reading)


@given(scripts())
def test_deterministic(data):
    sc, _ = data
    a, ia = layout_book(sc, THEME, MANGA)
    b, ib = layout_book(sc, THEME, MANGA)
    assert a == b and ia == ib
    assert json.dumps(to_json(a), sort_keys=True) == json.dumps(to_json(b), sort_keys=True)


def test_crowded_page_fits_and_exports():
    lines = [
        ("CAPTION", "Meanwhile, in the cheese cellar beneath the old bakery, a meeting."),
        ("HAMMY", "Okay, team. Listen up, I explain this plan once --"),
        ("HAMMY", "-- and then we move.", "CONT'D"),
        ("MOUSE", "What about the cat?"),
        ("RAT", "The cat is *not* our problem.", "WHISPER"),
        ("BOSS", "Don't fail me again.", "OFF"),
        ("HAMMY", "I wonder...", "THOUGHT"),
        ("SFX", "SKREE"),
        ("NOTE", "*See issue #3"),
    ]
    pg = page(
        1,
        [
            panel(1, lines, {"HAMMY": (0.25, 0.7), "MOUSE": (0.5, 0.75), "RAT": (0.75, 0.7)}),
            panel(2, [("HAMMY", "Go!", "SHOUT")], first_index=10),
        ],
        layout=(1, 1),
        heights=(3, 1),
    )
    for reading in ("ltr", "rtl"):
        book, issues = layout_book(script([pg], reading), THEME, US)
        assert not issues
        assert _check_book(book, reading) == 10
        p1 = book.pages[0].panels[0]
        group = [b for b in p1.balloons if b.speaker == "HAMMY" and b.kind == "speech"]
        assert sum(b.tail is not None for b in group) == 1  # one tail for the linked pair
        assert group[0].shapes and not group[1].shapes  # painted as one shape
        off = [b for b in p1.balloons if b.speaker == "BOSS"][0]
        assert off.tail is not None
        tb = off.tail.bbox()
        assert min(abs(tb.x - p1.rect.x), abs(tb.x2 - p1.rect.x2)) < 2.0  # reaches the edge
        cap = [b for b in p1.balloons if b.kind == "caption"][0]
        if reading == "ltr":
            assert cap.rect.x - p1.rect.x < 10 and cap.rect.y - p1.rect.y < 10
        else:
            assert p1.rect.x2 - cap.rect.x2 < 10 and cap.rect.y - p1.rect.y < 10
    data = to_json(book)
    json.dumps(data)
    b0 = data["pages"][0]["panels"][0]["balloons"][1]
    assert b0["body"].startswith("M ") and b0["lines"][0]["runs"][0]["font"]["size"] > 0
    img = draw_wireframe(book.pages[0], dpi=36)
    assert img.size == (round((US.width + 2 * US.bleed) / 2), round((US.height + 2 * US.bleed) / 2))
