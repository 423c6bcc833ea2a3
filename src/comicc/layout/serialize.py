"""The book's geometry as plain JSON data (what ``comicc layout --json`` prints).

Everything is in points, origin at the top-left of the trim, y down; outlines
are SVG path data. Pure: no I/O. :func:`json_text` writes the data as
``json.dumps(data, indent=1)`` does, byte for byte, in about half its time
(with an ``indent`` the standard library falls back to its pure-Python
encoder, generator by generator).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import encode_basestring_ascii
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


# --- the text ----------------------------------------------------------------

_FLOAT_REPR = float.__repr__
_INT_REPR = int.__repr__
_INF = float("inf")


def _float(v: float) -> str:
    """A float as :mod:`json` writes it (``allow_nan``: NaN, Infinity)."""
    if v != v:
        return "NaN"
    if v == _INF:
        return "Infinity"
    if v == -_INF:
        return "-Infinity"
    return _FLOAT_REPR(v)


def _key(k: object) -> str:
    """A dict key as :mod:`json` writes it (the same types, in the same order)."""
    if isinstance(k, str):
        return encode_basestring_ascii(k)
    if isinstance(k, float):
        return encode_basestring_ascii(_float(k))
    if k is True:
        return '"true"'
    if k is False:
        return '"false"'
    if k is None:
        return '"null"'
    if isinstance(k, int):
        return encode_basestring_ascii(_INT_REPR(k))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")


def _text(o: object, nl: str) -> str:
    """``o`` as indented JSON text; ``nl``: a newline and the indent of ``o``'s line."""
    t = type(o)
    if t is str:
        return encode_basestring_ascii(o)  # type: ignore[arg-type]
    if t is float:
        return _float(o)  # type: ignore[arg-type]
    if t is int:
        return _INT_REPR(o)
    if t is dict:
        if not o:
            return "{}"
        inner = nl + " "
        return (
            "{"
            + inner
            + ("," + inner).join(
                [_key(k) + ": " + _text(v, inner) for k, v in o.items()]  # type: ignore[attr-defined]
            )
            + nl
            + "}"
        )
    if t is list or t is tuple:
        if not o:
            return "[]"
        inner = nl + " "
        return "[" + inner + ("," + inner).join([_text(v, inner) for v in o]) + nl + "]"  # type: ignore[attr-defined]
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    return _other(o, nl)


def _other(o: object, nl: str) -> str:
    """A value of a subclass (a str/int/float enum...), as :mod:`json` takes it."""
    if isinstance(o, str):
        return encode_basestring_ascii(o)
    if isinstance(o, int):
        return _INT_REPR(o)
    if isinstance(o, float):
        return _float(o)
    if isinstance(o, list | tuple):
        return _text(list(o), nl)
    if isinstance(o, dict):
        return _text(dict(o), nl)
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def json_text(data: object) -> str:
    """``data`` (JSON data: dicts, lists, tuples, str, numbers, bools, None) as
    the text ``json.dumps(data, indent=1)`` writes, byte for byte."""
    try:
        return _text(data, "\n")
    except RecursionError:  # deeper than any geometry: the standard library's own way
        return json.dumps(data, indent=1)
