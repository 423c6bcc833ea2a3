"""Geometry out of the layout stage: JSON for tools, wireframes for proofing.

``to_json`` writes the complete geometry (points, origin top-left of the trim,
y down; outlines as SVG path data). ``draw_wireframe`` paints one page's
panels, balloons, lettering and speaker marks, without art, so a writer can
proof the lettering before any image backend runs.
"""

from __future__ import annotations

import math

from comicc.layout.geometry import BalloonGeom, BookGeom, PageGeom, Rect, Shape, TextLine
from comicc.layout.shapes import flatten


def _r(v: float) -> float:
    return round(v, 3)


def _shape_json(s: Shape) -> dict:
    st = s.stroke
    return {
        "path": s.path.to_svg(),
        "fill": s.fill,
        "stroke": None
        if st is None
        else {"width": _r(st.width), "color": st.color, "dash": list(st.dash) if st.dash else None},
    }


def _line_json(ln: TextLine) -> dict:
    return {
        "text": ln.text,
        "runs": [
            {
                "text": r.text,
                "x": _r(r.x),
                "baseline": _r(r.baseline),
                "width": _r(r.width),
                "color": r.color,
                "font": {"name": r.font.name, "path": r.font.path, "size": _r(r.font.size)},
            }
            for r in ln.runs
        ],
    }


def _balloon_json(b: BalloonGeom) -> dict:
    return {
        "id": b.id,
        "kind": b.kind,
        "speaker": b.speaker,
        "rect": b.rect.to_json(),
        "body": b.body.to_svg(),
        "tail": b.tail.to_svg() if b.tail is not None else None,
        "shapes": [_shape_json(s) for s in b.shapes],
        "lines": [_line_json(ln) for ln in b.lines],
        "reserve": [p.to_svg() for p in b.reserve],
        "overflow": _r(b.overflow),
        "line": b.line,
    }


def page_json(p: PageGeom) -> dict:
    return {
        "numbers": list(p.numbers),
        "width": _r(p.width),
        "height": _r(p.height),
        "bleed": _r(p.bleed),
        "live": p.live.to_json(),
        "panels": [
            {
                "id": pn.id,
                "number": pn.number,
                "rect": pn.rect.to_json(),
                "border": _shape_json(pn.border) if pn.border is not None else None,
                "bleed": sorted(pn.bleed),
                "cast": [{"name": n, "x": _r(x), "y": _r(y)} for n, (x, y) in pn.cast],
                "balloons": [_balloon_json(b) for b in pn.balloons],
            }
            for pn in p.panels
        ],
    }


def to_json(book: BookGeom) -> dict:
    """The whole book's geometry as plain JSON data (units: points)."""
    return {
        "units": "pt",
        "origin": "trim top-left, y down",
        "reading": book.reading,
        "pages": [page_json(p) for p in book.pages],
    }


# ------------------------------------------------------------------ wireframe


def draw_wireframe(page: PageGeom, dpi: float = 150, supersample: int = 2):
    """A proof of one page (trim plus bleed) as a Pillow RGB image."""
    from PIL import Image, ImageDraw

    k = dpi / 72.0 * supersample
    off = page.bleed
    out_w = max(1, round((page.width + 2 * off) * dpi / 72.0))
    out_h = max(1, round((page.height + 2 * off) * dpi / 72.0))
    W, H = out_w * supersample, out_h * supersample
    img = Image.new("RGB", (W, H), "#dcdcdc")
    d = ImageDraw.Draw(img)

    def pt(p):
        return ((p[0] + off) * k, (p[1] + off) * k)

    def box(r: Rect):
        return [pt((r.x, r.y)), pt((r.x2, r.y2))]

    d.rectangle(box(Rect(0, 0, page.width, page.height)), fill="#ffffff")
    _dashed_poly(
        d, [pt(q) for q in _rect_pts(page.live)], "#8fb4e8", max(1, round(k * 0.5)), 4 * k, 3 * k
    )
    if len(page.numbers) > 1:  # the fold of a spread
        x = page.width / 2
        _dashed_poly(
            d,
            [pt((x, -off)), pt((x, page.height + off))],
            "#b0b0b0",
            max(1, round(k * 0.5)),
            6 * k,
            4 * k,
            closed=False,
        )
    for pn in page.panels:
        d.rectangle(box(pn.rect), fill="#f4f1ea")
    for pn in page.panels:
        if pn.border is not None:
            _paint(d, pn.border, pt, k)
        d.text(
            pt((pn.rect.x + 3, pn.rect.y2 - 2)),
            pn.id,
            fill="#9a9a9a",
            anchor="lb",
            font=_font(None, 6 * k),
        )
        for name, (x, y) in pn.cast:
            cx, cy = pt((x, y))
            r = 3 * k
            d.ellipse(
                [cx - r, cy - r, cx + r, cy + r], outline="#2a7", width=max(1, round(k * 0.8))
            )
            d.line([cx - r * 1.6, cy, cx + r * 1.6, cy], fill="#2a7", width=max(1, round(k * 0.5)))
            d.text((cx, cy + r * 1.5), name, fill="#2a7", anchor="mt", font=_font(None, 5.5 * k))
    for pn in page.panels:
        for b in pn.balloons:
            for s in b.shapes:
                _paint(d, s, pt, k)
        for b in pn.balloons:
            if b.overflow > 0:
                d.rectangle(box(b.rect), outline="#e02020", width=max(1, round(k)))
            for ln in b.lines:
                for run in ln.runs:
                    d.text(
                        pt((run.x, run.baseline)),
                        run.text,
                        fill=run.color,
                        anchor="ls",
                        font=_font(run.font.path, run.font.size * k),
                    )
    if supersample > 1:
        img = img.resize((out_w, out_h), Image.LANCZOS)
    return img


_FONTS: dict = {}


def _font(path: str | None, px: float):
    from PIL import ImageFont

    key = (path, round(px, 2))
    f = _FONTS.get(key)
    if f is None:
        try:
            f = ImageFont.truetype(path or "DejaVuSans.ttf", max(1, round(px)))
        except OSError:
            f = ImageFont.load_default()
        _FONTS[key] = f
    return f


def _rect_pts(r: Rect):
    return [(r.x, r.y), (r.x2, r.y), (r.x2, r.y2), (r.x, r.y2)]


def _paint(d, s: Shape, pt, k: float) -> None:
    polys = [[pt(q) for q in poly] for poly in flatten(s.path, 0.3)]
    for poly in polys:
        if s.fill is not None and len(poly) >= 3:
            d.polygon(poly, fill=s.fill)
    if s.stroke is None or s.stroke.width <= 0:
        return
    w = max(1, round(s.stroke.width * k))
    for poly in polys:
        if s.stroke.dash:
            _dashed_poly(
                d,
                poly,
                s.stroke.color,
                w,
                s.stroke.dash[0] * k,
                (s.stroke.dash[1] if len(s.stroke.dash) > 1 else s.stroke.dash[0]) * k,
            )
        else:
            d.line(poly + [poly[0]], fill=s.stroke.color, width=w, joint="curve")


def _dashed_poly(d, poly, color, width, on, off_len, closed=True) -> None:
    pts = poly + [poly[0]] if closed else poly
    draw, left = True, on
    for (x1, y1), (x2, y2) in zip(pts, pts[1:]):
        seg = math.hypot(x2 - x1, y2 - y1)
        pos = 0.0
        while pos < seg - 1e-9:
            step = min(left, seg - pos)
            if draw:
                t0, t1 = pos / seg, (pos + step) / seg
                d.line(
                    [
                        (x1 + (x2 - x1) * t0, y1 + (y2 - y1) * t0),
                        (x1 + (x2 - x1) * t1, y1 + (y2 - y1) * t1),
                    ],
                    fill=color,
                    width=width,
                )
            pos += step
            left -= step
            if left <= 1e-9:
                draw = not draw
                left = on if draw else off_len


__all__ = ["to_json", "page_json", "draw_wireframe"]
