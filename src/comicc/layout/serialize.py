"""The book's geometry as plain JSON data (what ``comicc layout --json`` prints).

Everything is in points, origin at the top-left of the trim, y down; outlines
are SVG path data. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from comicc.layout.geometry import BalloonGeom, BookGeom, PageGeom, Shape, TextLine, VectorPath

JSON = dict[str, Any]  # a JSON object (values: str, numbers, lists, objects, None)


def _r(v: float) -> float:
    return round(v, 3)


Svg = Callable[[VectorPath], str]  # a path as SVG path data


def _svg_memo() -> Svg:
    """:meth:`VectorPath.to_svg`, writing each path object once: a balloon's body is
    also the path of its first shape and of its reserve."""
    done: dict[int, str] = {}  # id of a path (all alive while a page is written) -> data

    def svg(path: VectorPath) -> str:
        got = done.get(id(path))
        if got is None:
            got = done[id(path)] = path.to_svg()
        return got

    return svg


def _shape_json(s: Shape, svg: Svg = VectorPath.to_svg) -> JSON:
    st = s.stroke
    return {
        "path": svg(s.path),
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


def _balloon_json(balloon: BalloonGeom, svg: Svg = VectorPath.to_svg) -> JSON:
    out: JSON = {
        "id": balloon.id,
        "kind": balloon.kind,
        "speaker": balloon.speaker,
        "rect": balloon.rect.to_json(),
        "body": svg(balloon.body),
        "tail": svg(balloon.tail) if balloon.tail is not None else None,
        "shapes": [_shape_json(s, svg) for s in balloon.shapes],
        "lines": [_line_json(ln) for ln in balloon.lines],
        "reserve": [svg(p) for p in balloon.reserve],
        "overflow": _r(balloon.overflow),
        "line": balloon.line,
    }
    if balloon.angle:  # turned display lettering (SFX) only
        out["angle"] = _r(balloon.angle)
    return out


def page_json(p: PageGeom) -> JSON:
    """One page's geometry as JSON data."""
    svg = _svg_memo()
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
                "border": _shape_json(pn.border, svg) if pn.border is not None else None,
                "bleed": sorted(pn.bleed),
                "cast": [{"name": n, "x": _r(x), "y": _r(y)} for n, (x, y) in pn.cast],
                "balloons": [_balloon_json(balloon, svg) for balloon in pn.balloons],
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
