"""Turn placed items into :class:`BalloonGeom`: outlines, tails, paint, text.

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
from comicc.layout.items import Ctx, Placed
from comicc.layout.shapes import body_path, connector_path, stroke_for, tail_path
from comicc.model import ir

K = ir.BalloonKind


def seed_of(balloon_id: str) -> int:
    """A stable per-balloon seed for the hand-drawn wobble of outlines."""
    return zlib.crc32(balloon_id.encode("utf-8"))


def _style(theme, kind: K):
    styles = theme.balloon_styles
    return styles.get(kind.value) or styles.get("speech")


def _stroke(theme, kind: K) -> tuple[Stroke, str]:
    style = _style(theme, kind)
    base = style.stroke_width if style is not None else 1.0
    s = stroke_for(kind.value, base)
    dash = style.dash if (style is not None and style.dash) else s.dash
    color = style.stroke if style is not None else "#000000"
    fill = style.fill if style is not None else "#ffffff"
    return Stroke(s.width, color, dash), fill


def build_geoms(ctx: Ctx, placed: list[Placed], theme) -> tuple[BalloonGeom, ...]:
    by_item = {q.item: q for q in placed}
    parts: dict[int, tuple[VectorPath, VectorPath | None, VectorPath | None]] = {}
    for q in placed:
        it = ctx.items[q.item]
        kind = it.b.kind
        if kind in (K.SFX, K.TITLE):
            continue
        seed = seed_of(it.b.id)
        body = body_path(kind.value, q.rect, seed)
        tail = tail_path(kind.value, q.rect, body, q.tip, seed, ctx.p.tail_base) if q.tip else None
        conn = None
        if it.prev is not None and it.prev in by_item:
            conn = connector_path(by_item[it.prev].rect, q.rect, seed, ctx.p.connector_width)
        parts[q.item] = (body, tail, conn)
    # the head of each linked group paints the whole group
    head: dict[int, int] = {}
    for q in placed:
        it = ctx.items[q.item]
        head[q.item] = (
            head.get(it.prev, it.prev) if it.prev is not None and it.prev in parts else q.item
        )
    members: dict[int, list[int]] = {}
    for i in sorted(parts):
        members.setdefault(head[i], []).append(i)

    out = []
    for q in placed:
        it = ctx.items[q.item]
        b, kind, r = it.b, it.b.kind, q.rect
        lines = q.fit.text_lines(r)
        line_no = b.span.line if getattr(b, "span", None) is not None else 0
        if q.item not in parts:  # SFX and titles: display lettering, no outline
            body = VectorPath.rect(r)
            reserve = (body,) if kind is K.TITLE else ()
            out.append(
                BalloonGeom(
                    b.id,
                    kind.value,
                    b.speaker,
                    r,
                    body,
                    None,
                    (),
                    lines,
                    reserve,
                    q.overflow,
                    line_no,
                )
            )
            continue
        body, tail, conn = parts[q.item]
        shapes: tuple[Shape, ...] = ()
        if head[q.item] == q.item:
            shapes = _paint(theme, kind, b, [p for i in members[q.item] for p in _order(parts[i])])
        reserve = tuple(p for p in (conn, tail, body) if p is not None)
        out.append(
            BalloonGeom(
                b.id,
                kind.value,
                b.speaker,
                r,
                body,
                tail,
                shapes,
                lines,
                reserve,
                q.overflow,
                line_no,
            )
        )
    return tuple(out)


def _order(p: tuple[VectorPath, VectorPath | None, VectorPath | None]) -> list[VectorPath]:
    body, tail, conn = p
    return [x for x in (body, tail, conn) if x is not None]


def _paint(theme, kind: K, b: ir.Balloon, paths: list[VectorPath]) -> tuple[Shape, ...]:
    stroke, fill = _stroke(theme, kind)
    if kind is K.CAPTION:
        fill = (
            theme.caption_colors.get(b.speaker, theme.caption_fill)
            if b.speaker
            else theme.caption_fill
        )
    if len(paths) == 1:
        return (Shape(paths[0], fill, stroke),)
    # wide strokes first, then fills covering their inner halves: one outline
    wide = Stroke(stroke.width * 2, stroke.color, stroke.dash)
    return tuple(Shape(p, None, wide) for p in paths) + tuple(Shape(p, fill, None) for p in paths)
