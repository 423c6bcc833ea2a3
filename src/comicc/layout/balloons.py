"""Turn placed balloons into :class:`BalloonGeom`: outlines, tails, paint, text.

Painting follows ``shapes.py``: every stroke of a balloon (body, tail,
connectors) first, then every fill without stroke, so the pieces read as one
outline. A linked group (``--`` / CONT'D) is painted as one shape: the first
balloon of the group carries the shapes of the whole group (connectors
included) and the later members have none; each member still has its own
``body``, ``tail`` and ``reserve`` (a member's reserve includes the connector
that joins it to the previous one).
"""

from __future__ import annotations

import zlib

from comicc.layout.geometry import BalloonGeom, Shape, Stroke, VectorPath
from comicc.layout.items import PanelContext, PlacedBalloon
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


def build_geoms(
    ctx: PanelContext, placed: list[PlacedBalloon], theme: Theme
) -> tuple[BalloonGeom, ...]:
    """The geometry of every placed balloon of one panel, in panel order."""
    by_index = {p.index: p for p in placed}
    parts: dict[int, Outline] = {}
    for p in placed:
        to_place = ctx.balloons[p.index]
        kind = to_place.kind
        if kind.body == "bare":
            continue
        seed = seed_of(to_place.balloon.id)
        body = body_path(kind, p.rect, seed)
        tail = None
        if p.tip is not None:
            tail = tail_path(kind, p.rect, body, p.tip, seed, ctx.tuning.tail_base)
        conn = None
        if to_place.prev is not None and to_place.prev in by_index:
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
        balloon = ctx.balloons[p.index].balloon
        kind, r = balloon.kind, p.rect
        lines = p.fit.text_lines(r)
        line_no = balloon.span.line if balloon.span is not None else 0
        reserve: tuple[VectorPath, ...]
        if p.index not in parts:  # SFX and titles: display lettering, no outline
            body = VectorPath.rect(r)
            reserve = (body,) if kind is K.TITLE else ()
            tail = None
            shapes: tuple[Shape, ...] = ()
        else:
            body, tail, conn = parts[p.index]
            shapes = ()
            if head[p.index] == p.index:
                group = [path for i in members[p.index] for path in _order(parts[i])]
                shapes = _paint(theme, balloon, group)
            reserve = tuple(path for path in (conn, tail, body) if path is not None)
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
            )
        )
    return tuple(out)


def _order(outline: Outline) -> list[VectorPath]:
    body, tail, conn = outline
    return [x for x in (body, tail, conn) if x is not None]


def _paint(theme: Theme, balloon: ir.Balloon, paths: list[VectorPath]) -> tuple[Shape, ...]:
    stroke, fill = _stroke(theme, balloon.kind)
    if balloon.kind is K.CAPTION:
        fill = (
            theme.caption_colors.get(balloon.speaker, theme.caption_fill)
            if balloon.speaker
            else theme.caption_fill
        )
    if len(paths) == 1:
        return (Shape(paths[0], fill, stroke),)
    # wide strokes first, then fills covering their inner halves: one outline
    wide = Stroke(stroke.width * 2, stroke.color, stroke.dash)
    return tuple(Shape(p, None, wide) for p in paths) + tuple(Shape(p, fill, None) for p in paths)
