"""Draw every balloon kind (body, tail, text block, connectors) into a PNG.

    .venv/bin/python bench/shapes_gallery.py [out.png] [--seed N] [--scale S]

Paths are flattened with :meth:`comicc.layout.VectorPath.polylines` and painted
the way the renderer should: all strokes of a balloon group first, then all white
fills over them, so body, tail and connector read as one shape. The light blue
box is the text block the body was sized for; the red dot is the tail target.
"""

from __future__ import annotations

import argparse
import math
import sys
from itertools import pairwise
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from comicc.layout import Point, Rect, Stroke, VectorPath  # noqa: E402
from comicc.layout.shapes import body_path, stroke_for, text_block_to_body  # noqa: E402
from comicc.layout.tails import connector_path, tail_path  # noqa: E402
from comicc.model import ir  # noqa: E402

K = ir.BalloonKind

BASE_STROKE = 1.2
PAD = 6.0


def _dashes(poly: list[Point], dash: list[float], closed: bool = True) -> list[list[Point]]:
    """Split a polyline into dash segments (lists of points)."""
    pts = poly + [poly[0]] if closed else poly
    on, off = dash[0], dash[1]
    out: list[list[Point]] = []
    cur, pos, draw = [pts[0]], 0.0, True
    for a, b in pairwise(pts):
        seg = math.dist(a, b)
        t = 0.0
        while seg - t > 1e-9:
            left = (on if draw else off) - pos
            step = min(left, seg - t)
            t += step
            pos += step
            p = (a[0] + (b[0] - a[0]) * t / seg, a[1] + (b[1] - a[1]) * t / seg)
            if draw:
                cur.append(p)
            if pos >= (on if draw else off) - 1e-9:
                if draw and len(cur) > 1:
                    out.append(cur)
                draw, pos, cur = not draw, 0.0, [p]
    if draw and len(cur) > 1:
        out.append(cur)
    return out


def paint(draw: ImageDraw.ImageDraw, items: list[tuple[VectorPath, Stroke]], s: float) -> None:
    """Strokes first (twice the width: the fill covers the inner half), then fills."""
    flat = [(p.polylines(0.2, lambda x, y: (x * s, y * s)), st) for p, st in items]
    for polys, st in flat:
        w = max(1, round(2 * st.width * s))
        for line in polys:
            sp = line.points
            if st.dash:
                for d in _dashes(sp, [v * s for v in st.dash]):
                    draw.line(d, fill="black", width=w, joint="curve")
            else:
                draw.line(sp + sp[:1], fill="black", width=w, joint="curve")
    for polys, _ in flat:
        for line in polys:
            draw.polygon(line.points, fill="white")


def balloon(
    draw: ImageDraw.ImageDraw,
    kind: ir.BalloonKind,
    tw: float,
    th: float,
    x: float,
    y: float,
    target: Point | None,
    seed: int,
    s: float,
    label: str | None = None,
) -> tuple[Rect, VectorPath, Stroke]:
    """Draw one balloon sized for a ``tw`` x ``th`` text block at ``(x, y)``."""
    w, h = text_block_to_body(kind, tw, th, PAD)
    rect = Rect(x, y, w, h)
    body = body_path(kind, rect, seed)
    st = stroke_for(kind, BASE_STROKE)
    items = [(body, st)]
    tail = tail_path(kind, rect, body, target, seed) if target else None
    if tail is not None:
        items.append((tail, st))
    if kind.body == "bare":
        draw.rectangle([x * s, y * s, (x + w) * s, (y + h) * s], outline="#bbbbbb")
    else:
        paint(draw, items, s)
    cx, cy = rect.center
    draw.rectangle(
        [(cx - tw / 2) * s, (cy - th / 2) * s, (cx + tw / 2) * s, (cy + th / 2) * s],
        outline="#5aa0ff",
        width=1,
    )
    if target:
        draw.ellipse(
            [target[0] * s - 4, target[1] * s - 4, target[0] * s + 4, target[1] * s + 4], fill="red"
        )
    draw.text(((x) * s, (y - 12) * s), label or kind.value, fill="#444444")
    return rect, body, st


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default="/tmp/shapes.png")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=float, default=3.0)
    args = ap.parse_args(argv)
    s = args.scale
    kinds = list(ir.BalloonKind)
    blocks = [(70, 30), (110, 22), (46, 46), (60, 24)]
    rows = []
    for kind in kinds:
        sizes = [text_block_to_body(kind, tw, th, PAD) for tw, th in blocks]
        rows.append(max(h for _, h in sizes) + 110)
    col_w = [max(text_block_to_body(k, tw, th, PAD)[0] for k in kinds) + 90 for tw, th in blocks]
    total_h = sum(rows) + 560
    img = Image.new("RGB", (int(sum(col_w) * s), int(total_h * s)), "#f4efe4")
    draw = ImageDraw.Draw(img)
    oy = 16.0
    for row, kind in enumerate(kinds):
        ox = 10.0
        for col, (tw, th) in enumerate(blocks):
            w, h = text_block_to_body(kind, tw, th, PAD)
            x, y = ox, oy
            cx = x + w / 2
            targets: list[Point] = [
                (cx - 30, y + h + 70),
                (x + w + 25, y + h + 40),
                (cx + 6, y + h + 95),
                (x + w + 70, y + h * 0.4),
            ]
            balloon(
                draw,
                kind,
                tw,
                th,
                x,
                y,
                targets[col] if kind.has_tail else None,
                args.seed + 7 * col + row,
                s,
                f"{kind.value} {w:.0f}x{h:.0f}",
            )
            ox += col_w[col]
        oy += rows[row]
    # connector pairs
    for col, (kind, dx, dy) in enumerate(
        [(K.SPEECH, 100, 55), (K.THOUGHT, 110, 30), (K.SHOUT, 20, 80), (K.ELECTRONIC, 105, 10)]
    ):
        ox = col * 220 + 10
        wa, ha = text_block_to_body(kind, 50, 20, PAD)
        wb, hb = text_block_to_body(kind, 60, 26, PAD)
        ra = Rect(ox, oy, wa, ha)
        rb = Rect(ox + dx - 20, oy + dy, wb, hb)
        ba, bb = body_path(kind, ra, 3), body_path(kind, rb, 4)
        st = stroke_for(kind, BASE_STROKE)
        tgt = (rb.center[0] - 10, rb.y2 + 35)
        tail = tail_path(kind, rb, bb, tgt, 4)
        items = [(ba, st), (bb, st), (connector_path(ra, rb, col), st)]
        if tail:
            items.append((tail, st))
        paint(draw, items, s)
        draw.text((ox * s, (oy - 12) * s), f"{kind.value} connector", fill="#444444")
    # tails in every direction, near and far, on a thin and a round body
    oy += 230
    cases = [
        (K.SPEECH, (-40, -60)),
        (K.SPEECH, (-90, 10)),
        (K.SPEECH, (40, 30)),
        (K.THOUGHT, (-30, -70)),
        (K.SHOUT, (70, -20)),
        (K.ELECTRONIC, (-60, 70)),
    ]
    for col, (kind, (dx, dy)) in enumerate(cases):
        ox = col * 160 + 70
        w, h = text_block_to_body(kind, 70, 12, PAD)
        rect_y = oy + 20
        tgt = (ox + w / 2 + dx, rect_y + (h if dy > 0 else 0) + dy)
        balloon(draw, kind, 70, 12, ox, rect_y, tgt, col, s, f"{kind.value} thin")
    img.save(args.out)
    print(args.out, img.size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
