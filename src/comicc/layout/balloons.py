"""Turn placed balloons into :class:`BalloonGeom`: outlines, tails, paint, text.

Painting follows ``shapes.py``: every stroke of a balloon (body, tail,
connectors) first, then every fill without stroke, so the pieces read as one
outline. A linked group (``--`` / CONT'D) is painted as one shape: the first
balloon of the group carries the shapes of the whole group (connectors
included) and the later members have none; each member still has its own
``body``, ``tail`` and ``reserve`` (a member's reserve includes the connector
that joins it to the previous one; tails are painted over the art, not reserved,
so that the head a tail points at stays in the picture).
"""

from __future__ import annotations

import math
import zlib

from comicc.layout.geometry import BalloonGeom, PathCmd, Rect, Shape, Stroke, VectorPath
from comicc.layout.items import PanelContext, PlacedBalloon, untilted_size
from comicc.layout.shapes import body_path, stroke_for
from comicc.layout.tails import connector_path, tail_path
from comicc.model import ir
from comicc.theme import Theme

K = ir.BalloonKind
Outline = tuple[VectorPath, VectorPath | None, VectorPath | None]  # body, tail, connector


def seed_of(balloon_id: str) -> int:
    """A stable per-balloon seed for the hand-drawn wobble of outlines."""
    return zlib.crc32(balloon_id.encode("utf-8"))


def _stroke(theme: Theme, kind: ir.BalloonKind) -> tuple[Stroke, str]:
    """The outline stroke and the fill of ``kind``'s balloons."""
    style = theme.balloon_style(kind)
    s = stroke_for(kind, style.stroke_width)
    return Stroke(s.width, style.stroke, style.dash or s.dash), style.fill


# voiced captions of characters the theme does not pin get these, in order of appearance
CAPTION_PALETTE = ("#dde8f4", "#e3f1dc", "#f6e0ea", "#ece3f6", "#fbe5d3", "#dff2f1", "#eeeeee")
OVERFLOW_COLOR = "#e0001b"  # the marker of a balloon left out of its panel


def voice_colors(script: ir.Script, theme: Theme) -> dict[str, str]:
    """A caption fill for every character with a voiced caption: the theme's
    ``[caption.colors]`` entry, else the next color of the palette
    (``extra.caption_palette`` in the theme, else :data:`CAPTION_PALETTE`)
    that is neither the narration fill nor pinned to another character."""
    raw = theme.extra.get("caption_palette")
    palette = (
        tuple(str(c) for c in raw) if isinstance(raw, list | tuple) and raw else CAPTION_PALETTE
    )
    taken = {c.lower() for c in theme.caption_colors.values()} | {theme.caption_fill.lower()}
    free = [c for c in palette if c.lower() not in taken] or list(palette)
    out: dict[str, str] = {}
    for page in script.pages:
        for panel in page.panels:
            for balloon in panel.balloons:
                who = balloon.speaker
                if balloon.kind is not K.CAPTION or not who or who in out:
                    continue
                pinned = theme.caption_colors.get(who)
                out[who] = pinned if pinned is not None else free[len(out) % len(free)]
    return out


def _marker(p: PlacedBalloon) -> tuple[Shape, ...]:
    """A red box with a cross: a balloon that found no room in its panel."""
    r = p.rect
    stroke = Stroke(1.2, OVERFLOW_COLOR)
    cross = VectorPath(
        (
            PathCmd("M", (r.x + 2, r.y + 2)),
            PathCmd("L", (r.x2 - 2, r.y2 - 2)),
            PathCmd("M", (r.x2 - 2, r.y + 2)),
            PathCmd("L", (r.x + 2, r.y2 - 2)),
        )
    )
    return (Shape(VectorPath.rect(r), "#ffffff", stroke), Shape(cross, None, stroke))


def build_geoms(
    ctx: PanelContext,
    placed: list[PlacedBalloon],
    theme: Theme,
    voices: dict[str, str] | None = None,
) -> tuple[BalloonGeom, ...]:
    """The geometry of every placed balloon of one panel, in panel order.

    A balloon that did not fit (``overflow > 0`` and no room in the panel) is
    drawn as a red marker with no lettering and reserves no art."""
    by_index = {p.index: p for p in placed}
    parts: dict[int, Outline] = {}
    voices = voices or {}
    for p in placed:
        to_place = ctx.balloons[p.index]
        kind = to_place.kind
        if kind.body == "bare" or _left_out(p):
            continue
        seed = seed_of(to_place.balloon.id)
        body = body_path(kind, p.rect, seed)
        tail = None
        if p.tip is not None:
            tail = tail_path(kind, p.rect, body, p.tip, seed, ctx.tuning.tail_base, exact=True)
        conn = None
        if (
            to_place.prev is not None
            and to_place.prev in by_index
            and not _left_out(by_index[to_place.prev])
        ):
            prev_rect = by_index[to_place.prev].rect
            conn = connector_path(prev_rect, p.rect, seed, ctx.tuning.connector_width)
        parts[p.index] = (body, tail, conn)
    # the head of each linked group paints the whole group
    head: dict[int, int] = {}
    for p in placed:
        prev = ctx.balloons[p.index].prev
        head[p.index] = head.get(prev, prev) if prev is not None and prev in parts else p.index
    members: dict[int, list[int]] = {}
    for i in sorted(parts):
        members.setdefault(head[i], []).append(i)

    out = []
    for p in placed:
        angle = 0.0
        balloon = ctx.balloons[p.index].balloon
        kind, r = balloon.kind, p.rect
        lines = p.fit.text_lines(r)
        line_no = balloon.span.line if balloon.span is not None else 0
        reserve: tuple[VectorPath, ...]
        if _left_out(p):
            body, tail, lines, reserve = VectorPath.rect(r), None, (), ()
            shapes: tuple[Shape, ...] = _marker(p)
        elif p.index not in parts:  # SFX and titles: display lettering, no outline
            body = VectorPath.rect(r)
            reserve = (body,) if kind is K.TITLE else ()
            tail = None
            shapes = ()
            angle = ctx.balloons[p.index].angle_of(p.fit)
            if angle:  # a turned SFX: placed as its bounding box, drawn as the turned box
                r, body = _turned(r, angle)
        else:
            body, tail, conn = parts[p.index]
            shapes = ()
            if head[p.index] == p.index:
                group = [path for i in members[p.index] for path in _order(parts[i])]
                shapes = _paint(theme, balloon, group, voices)
            # the tail is not reserved: it ends just outside the speaker's head, and a
            # kept zone (grown by the mask's keep-margin) around it would erase that face
            reserve = tuple(path for path in (conn, body) if path is not None)
        out.append(
            BalloonGeom(
                balloon.id,
                kind.value,
                balloon.speaker,
                r,
                body,
                tail,
                shapes,
                lines,
                reserve,
                p.overflow,
                line_no,
                angle if p.index not in parts and not _left_out(p) else 0.0,
            )
        )
    return tuple(out)


def _turned(box: Rect, angle: float) -> tuple[Rect, VectorPath]:
    """The lettering box whose turn by ``angle`` has the bounding box ``box`` (same
    center), and the turned box as a path."""
    w, h = untilted_size(box.w, box.h, angle)
    cx, cy = box.center
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    # counter-clockwise on the page: y points down
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    pts = [(cx + x * c + y * s, cy - x * s + y * c) for x, y in corners]
    return Rect(cx - w / 2, cy - h / 2, w, h), VectorPath.polygon(pts)


def _order(outline: Outline) -> list[VectorPath]:
    body, tail, conn = outline
    return [x for x in (body, tail, conn) if x is not None]


def _left_out(p: PlacedBalloon) -> bool:
    """A balloon the search could not place: drawn as an overflow marker."""
    return p.overflow > 0


def _paint(
    theme: Theme, balloon: ir.Balloon, paths: list[VectorPath], voices: dict[str, str]
) -> tuple[Shape, ...]:
    stroke, fill = _stroke(theme, balloon.kind)
    if balloon.kind is K.CAPTION:
        who = balloon.speaker
        fill = theme.caption_fill
        if who:
            fill = theme.caption_colors.get(who) or voices.get(who) or theme.caption_fill
    if len(paths) == 1:
        return (Shape(paths[0], fill, stroke),)
    # wide strokes first, then fills covering their inner halves: one outline
    wide = Stroke(stroke.width * 2, stroke.color, stroke.dash)
    return tuple(Shape(p, None, wide) for p in paths) + tuple(Shape(p, fill, None) for p in paths)
