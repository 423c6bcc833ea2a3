"""The book's geometry as plain JSON data (what ``comicc layout --json`` prints).

Everything is in points, origin at the top-left of the trim, y down; outlines
are SVG path data. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from comicc.layout.geometry import BalloonGeom, BookGeom, PageGeom, Shape, TextLine

JSON = dict[str, Any]  # a JSON object (values: str, numbers, lists, objects, None)


def _r(v: float) -> float:
    return round(v, 3)


def _shape_json(s: Shape) -> JSON:
    st = s.stroke
    return {
        "path": s.path.to_svg(),
        "fill": s.fill,
        "stroke": None
        if st is None
        else {"width": _r(st.width), "color": st.color, "dash": list(st.dash) if st.dash else None},
    }


def _line_json(ln: TextLine) -> JSON:
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


def _balloon_json(balloon: BalloonGeom) -> JSON:
    return {
        "id": balloon.id,
        "kind": balloon.kind,
        "speaker": balloon.speaker,
        "rect": balloon.rect.to_json(),
        "body": balloon.body.to_svg(),
        "tail": balloon.tail.to_svg() if balloon.tail is not None else None,
        "shapes": [_shape_json(s) for s in balloon.shapes],
        "lines": [_line_json(ln) for ln in balloon.lines],
        "reserve": [p.to_svg() for p in balloon.reserve],
        "overflow": _r(balloon.overflow),
        "line": balloon.line,
    }


def page_json(p: PageGeom) -> JSON:
    """One page's geometry as JSON data."""
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
                "balloons": [_balloon_json(balloon) for balloon in pn.balloons],
            }
            for pn in p.panels
        ],
    }


def to_json(book: BookGeom) -> JSON:
    """The whole book's geometry as plain JSON data (units: points)."""
    return {
        "units": "pt",
        "origin": "trim top-left, y down",
        "reading": book.reading,
        "pages": [page_json(p) for p in book.pages],
    }
