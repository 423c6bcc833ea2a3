"""What placement works on: the balloons of a panel, speaker positions, reading order.

:class:`PlacementTuning` holds the knobs of the placement search (all
overridable from the theme's ``extra`` table, optionally under a ``layout``
key). Where a tail will run is :mod:`comicc.layout.corridor`'s.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from functools import partial
from typing import Any

from comicc.layout.geometry import Point, Rect
from comicc.layout.text import Fit, LazyFits
from comicc.model import ir
from comicc.theme import Theme

K = ir.BalloonKind


@dataclass(frozen=True)
class PlacementTuning:
    """The knobs of the balloon-placement search; ``theme.extra`` can override each."""

    margin: float = 6.0  # panel live area -> balloons
    gap: float = 4.0  # between balloon bodies
    tail_min: float = 7.0  # shortest visible tail
    tail_pref: float = 0.14  # preferred visible tail, fraction of panel height
    tail_long: float = 1.0  # tails longer than this many body heights (40 pt at least) cost more
    mouth_clear: float = 9.0  # tail tip -> mouth
    link_gap: float = 14.0  # farthest apart two linked balloons may be
    connector_width: float = 7.0
    tail_base: float = 0.18  # tail base width, fraction of the body's smaller side
    mouth_y: float = 0.62  # mouth height of speakers placed by the engine
    face_scale: float = 0.064  # head radius, fraction of the panel's shorter side (face_box)
    tip_clear: float = 2.0  # tail tip -> head (face box), at least
    budget: int = 300  # candidate checks per panel in the search
    dense_budget: int = 400  # ... for a panel whose first search found nothing (the repair)
    branch: int = 3  # candidates tried per balloon before backtracking
    title_clear: float = 8.0  # TITLE lettering -> panel border, on top of ``margin``
    small_min: float = 7.0  # SMALL / WEAK / NOTE type never smaller than this (points)
    auto_join: bool = True  # join consecutive balloons of one speaker and kind
    sfx_tilt: float = 8.0  # SFX lettering is turned by up to this many degrees (0: upright)
    gutter_break: bool = True  # the repair may let a balloon break the border into the gutter
    gutter_clear: float = 3.0  # a broken-out balloon -> the next panel's border, at least

    @classmethod
    def from_theme(cls, theme: Theme) -> PlacementTuning:
        """The defaults, overridden by ``theme.extra`` (or its ``layout`` table)."""
        table = theme.extra.get("layout", theme.extra)
        if not isinstance(table, dict):
            table = {}
        defaults = cls()
        kw = {}
        for f in fields(cls):
            if f.name in table:
                kind = type(getattr(defaults, f.name))
                try:
                    kw[f.name] = kind(table[f.name])
                except (TypeError, ValueError):
                    continue  # a knob of the wrong type keeps its default
        return cls(**kw)


@dataclass
class BalloonToPlace:
    """One balloon of the panel as the search sees it."""

    index: int  # position in the panel (and in ``PanelContext.balloons``)
    balloon: ir.Balloon
    fits: LazyFits
    ordered: bool  # takes part in the reading-order rule
    mouth: Point | None = None  # where the tail aims (page coords)
    off_edge: str | None = None  # off-panel: the edge the tail runs to
    prev: int | None = None  # previous balloon of a linked group
    caption_no: int = 0
    head: Rect | None = None  # the speaker's face box (its tail stops just outside it)
    auto_joined: bool = False  # joined to ``prev`` by the engine (not by `--` or CONT'D)
    angle: float = 0.0  # SFX: degrees the lettering is turned (counter-clockwise on the page)

    @property
    def kind(self) -> ir.BalloonKind:
        return self.balloon.kind

    def angle_of(self, fit: Fit) -> float:
        """How far ``fit`` (one of :attr:`fits`) is turned: :attr:`angle` for the turned
        fits of an SFX (:func:`tilted_fits`), 0 for its upright last resorts."""
        if not self.angle:
            return 0.0
        turned = len(self.fits) // 2
        return self.angle if any(fit is self.fits[i] for i in range(turned)) else 0.0


@dataclass(frozen=True)
class PlacedBalloon:
    """Where the search put one balloon (the index of its :class:`BalloonToPlace`)."""

    index: int
    rect: Rect
    fit: Fit
    tip: Point | None = None  # the target handed to ``tail_path`` (mouth or past an edge)
    tail_poly: tuple[Point, ...] | None = None
    conn_poly: tuple[Point, ...] | None = None
    cost: float = 0.0
    overflow: float = 0.0
    overflow_dir: str = ""


@dataclass
class PanelContext:
    """Everything the search of one panel needs."""

    area: Rect  # where bodies may go
    live: Rect  # where tails may reach (panel clipped to the page's live area)
    reading: str
    tuning: PlacementTuning
    balloons: list[BalloonToPlace]
    faces: list[Rect] = field(default_factory=list)
    face_of: dict[str, Rect] = field(default_factory=dict)  # speaker -> face box
    points: dict[str, Point] = field(default_factory=dict)  # speaker -> cast point
    prect: Rect | None = None  # the panel's box (the frame inside the live area)
    compact: bool = False  # the repair search: pack from the top, long tails cost nothing
    # where bodies may go when they break the panel border into the gutter (the repair's
    # last step, see :func:`gutter_area`); while that step runs, ``area`` is this and
    # ``core`` the panel's own area
    breakout: Rect | None = None
    core: Rect | None = None
    # what the search computes more than once for the same body position (tails, their
    # checks and costs; shape costs of fits), filled by ``place``: a pure cache
    memo: dict[tuple[object, ...], Any] = field(default_factory=dict, repr=False, compare=False)

    def speaker_of(self, balloon: BalloonToPlace) -> str | None:
        return balloon.balloon.speaker


def face_box(point: Point, panel: Rect, tuning: PlacementTuning) -> Rect:
    """The face box of a speaker standing at ``point`` in a panel with art box ``panel``.

    It is the head the draft backend draws there: radius ``r = face_scale`` (0.064)
    × the panel's shorter side, a box ``2r`` wide from ``1.1 r`` above the point
    to ``1.05 r`` below it. Balloon bodies never cover it, tails of other
    speakers never cross it, and its own speaker's tail stops just outside it.
    """
    r = tuning.face_scale * min(panel.w, panel.h)
    x, y = point
    return Rect(x - r, y - 1.1 * r, 2 * r, 2.15 * r)


def sfx_angle(panel_id: str, text: str, most: float) -> float:
    """How far an SFX in panel ``panel_id`` is turned, in degrees counter-clockwise on
    the page: a stable hash of the panel and the sound gives a magnitude of 3/8 to
    all of ``most`` (in half-degree steps) and a side, so a sound never stands
    stiffly upright and the same script always tilts it the same way."""
    if most <= 0:
        return 0.0
    h = zlib.crc32(f"{panel_id}|{text}".encode())
    mag = most * (0.375 + 0.625 * (h % 1000) / 999)
    sign = 1.0 if (h >> 16) & 1 else -1.0
    return sign * round(mag * 2) / 2


def tilted_size(w: float, h: float, angle: float) -> tuple[float, float]:
    """The bounding box of a ``w`` x ``h`` box turned by ``angle`` degrees."""
    c, s = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    return w * c + h * s, w * s + h * c


def untilted_size(bw: float, bh: float, angle: float) -> tuple[float, float]:
    """The box that, turned by ``angle`` (under 45 degrees), has the bounding box
    ``bw`` x ``bh``: the inverse of :func:`tilted_size`."""
    c, s = abs(math.cos(math.radians(angle))), abs(math.sin(math.radians(angle)))
    d = c * c - s * s
    if d <= 1e-9:
        return bw, bh
    return max(0.0, (bw * c - bh * s) / d), max(0.0, (bh * c - bw * s) / d)


def _tilted_fit(fits: LazyFits, i: int, angle: float) -> Fit:
    fit = fits[i]
    w, h = tilted_size(fit.w, fit.h, angle)
    return replace(fit, w=w, h=h)


def _upright_fit(fits: LazyFits, i: int) -> Fit:
    return fits[i]


def tilted_fits(fits: LazyFits, angle: float) -> LazyFits:
    """The fits of an SFX turned by ``angle``: each body is the bounding box of the
    turned lettering box (the lines stay centred in it), so the placement keeps the
    turned letters clear of faces and balloons; then, as a last resort for a crowded
    panel, the same fits upright (the first ``len(fits)`` are the turned ones)."""
    if not angle:
        return fits
    n = len(fits)
    return LazyFits(
        [partial(_tilted_fit, fits, i, angle) for i in range(n)]
        + [partial(_upright_fit, fits, i) for i in range(n)]
    )


def gutter_area(
    area: Rect, panel: Rect, others: Sequence[Rect], page_live: Rect, clear: float
) -> Rect | None:
    """Where a balloon body may go when it breaks the border of ``panel`` (its art box)
    into the gutter: ``area`` grown, on each side that faces another panel across a
    gutter, up to ``clear`` short of that panel; never off the page's live area,
    never into another panel, never past an outer edge of the page. None when no
    side can grow."""
    eps = 1e-6
    x1, y1, x2, y2 = area.x, area.y, area.x2, area.y2
    right = [
        o.x - clear for o in others if o.x >= panel.x2 - eps and o.y < panel.y2 and o.y2 > panel.y
    ]
    left = [
        o.x2 + clear for o in others if o.x2 <= panel.x + eps and o.y < panel.y2 and o.y2 > panel.y
    ]
    below = [
        o.y - clear for o in others if o.y >= panel.y2 - eps and o.x < panel.x2 and o.x2 > panel.x
    ]
    above = [
        o.y2 + clear for o in others if o.y2 <= panel.y + eps and o.x < panel.x2 and o.x2 > panel.x
    ]
    if right:
        x2 = max(x2, min(min(right), page_live.x2))
    if left:
        x1 = min(x1, max(max(left), page_live.x))
    if below:
        y2 = max(y2, min(min(below), page_live.y2))
    if above:
        y1 = min(y1, max(max(above), page_live.y))
    grown = Rect(x1, y1, x2 - x1, y2 - y1)
    # a panel across a corner (a diagonal neighbour): give back the side that costs less
    for o in others:
        if not grown.intersects(o, clear - eps):
            continue
        cuts = []
        if o.x >= panel.x2 - eps:
            cuts.append(Rect(grown.x, grown.y, max(area.x2, o.x - clear) - grown.x, grown.h))
        if o.x2 <= panel.x + eps:
            nx = min(area.x, o.x2 + clear)
            cuts.append(Rect(nx, grown.y, grown.x2 - nx, grown.h))
        if o.y >= panel.y2 - eps:
            cuts.append(Rect(grown.x, grown.y, grown.w, max(area.y2, o.y - clear) - grown.y))
        if o.y2 <= panel.y + eps:
            ny = min(area.y, o.y2 + clear)
            cuts.append(Rect(grown.x, ny, grown.w, grown.y2 - ny))
        cuts = [c for c in cuts if not c.intersects(o, clear - eps)]
        if not cuts:
            return None  # overlapping panels (an inset): no break at all
        grown = max(cuts, key=lambda c: (c.w * c.h, -c.x, -c.y))
    if grown.contains(area) and area.contains(grown):
        return None
    return grown


def break_cost(ctx: PanelContext, r: Rect) -> float:
    """What breaking the panel border costs a body at ``r`` (only while the repair lets
    bodies into the gutter): a fixed price and more the farther out it reaches, so
    that a body breaks out only where it must."""
    core = ctx.core
    if core is None or core.contains(r):
        return 0.0
    out = max(core.x - r.x, r.x2 - core.x2, 0.0) + max(core.y - r.y, r.y2 - core.y2, 0.0)
    return 1.5 + 3.0 * out / max(1.0, min(core.w, core.h))


def mouth_of(head: Rect) -> Point:
    """Where a speaker's mouth is in its face box: centred, in the lower part of the head."""
    r = head.w / 2
    return (head.x + r, head.y + 1.6 * r)


def off_panel_speakers(panel: ir.Panel) -> set[str]:
    """Speakers heard but not seen: not in `cast:`, and every balloon of theirs in the
    panel is off-panel (OFF / O.S.) or electronic (a radio, a phone, a TV)."""
    placed = {c.name for c in panel.cast}
    return {
        s
        for s in panel.speakers
        if s not in placed
        and all(
            balloon.off_panel or balloon.kind is K.ELECTRONIC
            for balloon in panel.balloons
            if balloon.speaker == s and balloon.kind is not K.CAPTION
        )
    }


def cast_points(
    panel: ir.Panel, prect: Rect, reading: str, tuning: PlacementTuning
) -> dict[str, Point]:
    """Speaker positions in page coordinates; unplaced speakers in reading order."""
    pts: dict[str, Point] = {}
    for c in panel.cast:
        pts[c.name] = (prect.x + c.x * prect.w, prect.y + c.y * prect.h)
    off_only = off_panel_speakers(panel)
    outside = [s for s in panel.speakers if s not in pts and s in off_only]
    # off-panel voices: just outside a side edge, the side farther from the cast
    # (so that a tail to the edge is never nearer someone in the panel)
    seen_x = [(x - prect.x) / prect.w for x, _y in pts.values()]
    first = 1.06 if reading != "rtl" else -0.06
    if seen_x and abs(sum(seen_x) / len(seen_x) - (1.0 if first > 0 else 0.0)) < 0.5:
        first = 1.0 - first  # the cast stands on that side: the voice comes from the other
    for i, name in enumerate(outside):
        fx = first if i % 2 == 0 else 1.0 - first
        pts[name] = (prect.x + fx * prect.w, prect.y + 0.45 * prect.h)
    missing = [s for s in panel.speakers if s not in pts]
    if not missing:
        return pts
    # distinct spots in reading order: slots across the panel, those nearest an
    # explicit cast member's spot taken by it, the rest given out in order
    seen = [pts[c.name] for c in panel.cast if c.name in pts]
    k = len(missing) + len(seen)
    slots = []
    for i in range(k):
        fx = 0.15 + 0.7 * (i + 0.5) / k
        slots.append(1 - fx if reading == "rtl" else fx)
    for x, _y in seen:
        if slots:
            fx = (x - prect.x) / prect.w
            slots.remove(min(slots, key=lambda s: abs(s - fx)))
    for name, fx in zip(missing, slots, strict=False):
        pts[name] = (prect.x + fx * prect.w, prect.y + tuning.mouth_y * prect.h)
    return pts


def _off_edge(mouth: Point, live: Rect) -> str:
    x, y = mouth
    if x < live.x:
        return "left"
    if x > live.x2:
        return "right"
    if y > live.y2:
        return "bottom"
    if y < live.y:
        return "top"
    return "left" if x - live.x <= live.x2 - x else "right"


SEPARATE_MODS = ("SEPARATE", "NEW")  # a balloon that opts out of auto-joining


def joinable(before: ir.Balloon, balloon: ir.Balloon) -> bool:
    """Whether ``balloon`` is auto-joined to ``before``: the same speaker, the same kind
    and the same off-panel state, one right after the other, and no opt-out
    (a ``SEPARATE`` MOD) on the later one."""
    return (
        before.speaker is not None
        and before.speaker == balloon.speaker
        and before.kind is balloon.kind
        and balloon.kind.has_tail
        and before.off_panel == balloon.off_panel
        and not any(m in SEPARATE_MODS for m in balloon.mods)
    )


def balloons_to_place(
    panel: ir.Panel,
    fits: list[LazyFits],
    mouths: dict[str, Point],
    live: Rect,
    heads: dict[str, Rect] | None = None,
    auto_join: bool = True,
    sfx_tilt: float = 0.0,
) -> list[BalloonToPlace]:
    """The search state of each balloon of ``panel``: mouth, off-panel edge, link.

    ``heads``: each visible speaker's face box; their tails aim at the mouth in
    it. With ``auto_join``, consecutive balloons of one speaker and kind are
    linked like CONT'D (see :func:`joinable`). ``sfx_tilt``: the most an SFX is turned
    (:func:`sfx_angle`); its fits are then the turned boxes (:func:`tilted_fits`)."""
    heads = heads or {}
    out: list[BalloonToPlace] = []
    captions = 0
    for i, (balloon, balloon_fits) in enumerate(zip(panel.balloons, fits, strict=True)):
        kind = balloon.kind
        angle = sfx_angle(panel.id, balloon.text, sfx_tilt) if kind is K.SFX else 0.0
        if angle:
            balloon_fits = tilted_fits(balloon_fits, angle)
        to_place = BalloonToPlace(i, balloon, balloon_fits, kind not in (K.SFX, K.NOTE))
        to_place.angle = angle
        if kind is K.CAPTION:
            captions += 1
            to_place.caption_no = captions
        if kind.has_tail and balloon.speaker:
            m = mouths.get(balloon.speaker)
            if m is not None:
                to_place.mouth = m
                if balloon.off_panel or not live.contains_point(m):
                    to_place.off_edge = _off_edge(m, live)
                elif balloon.speaker in heads:
                    to_place.head = heads[balloon.speaker]
                    to_place.mouth = mouth_of(to_place.head)
        if i and kind.has_tail and balloon.speaker:
            before = panel.balloons[i - 1]
            if (
                before.speaker == balloon.speaker
                and before.kind.has_tail
                and (balloon.contd or before.linked_next)
            ):
                to_place.prev = i - 1
            elif auto_join and joinable(before, balloon):
                to_place.prev = i - 1
                to_place.auto_joined = True
        out.append(to_place)
    return out


# ------------------------------------------------------------- reading order


def reading_order_ok(r: Rect, q: Rect, reading: str) -> bool:
    """Comic Chat's rule: a balloon at ``r`` reads after one at ``q`` (below, or beside
    it in the reading direction and not above)."""
    if r.y >= q.y2 - 1e-6:
        return True
    left_of = q.x2 <= r.x + 1e-6 if reading != "rtl" else q.x >= r.x2 - 1e-6
    return left_of and r.y >= q.y - 1e-6
