"""The keys a theme file may hold, their types, and their converters.

Lengths are written with a unit and converted to points (:mod:`comicc.units`);
in a theme, ``px`` is a CSS pixel (``css_px``, 1/96 in = 0.75 pt). Colors are
``#rgb``, ``#rrggbb`` or ``#rrggbbaa`` (plus ``black``, ``white`` and, where a
fill or stroke may be absent, ``none``). See ``docs/themes.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final, Literal

from comicc.model import ir
from comicc.units import (
    MAX_DPI,
    MAX_PAGE_SIDE,
    MIN_DPI,
    MIN_PAGE_SIDE,
    WRITTEN_UNITS,
    split_length,
    split_size,
    to_points,
)

MAX_FONT_SIZE = 144.0  # points: a lettering face of at most 2 in
MIN_DASH = 0.25  # points: a finer dash pattern would cut outlines into millions of pieces

BALLOON_KINDS = tuple(kind.value for kind in ir.BalloonKind)
FONT_ROLES = ("lettering", "emphasis", "caption", "sfx", "title")
FONT_STYLES = ("regular", "bold", "italic", "bolditalic")
# variables a prompt template may use (the model stage provides them)
PROMPT_VARIABLES = ("description", "items", "style", "characters", "page", "panel")
CHARACTER_VARIABLES = ("name", "description")

_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_NAMED = {"black": "#000000", "white": "#ffffff"}


class BadValue(ValueError):
    """A value of the wrong shape; ``hints`` go into the diagnostic."""

    def __init__(self, message: str, hints: tuple[str, ...] = (), code: str = "theme-bad-value"):
        super().__init__(message)
        self.hints = hints
        self.code = code
        self.item: object = None  # the offending element of a list value


def _length_error(message: str, hints: tuple[str, ...] = ()) -> BadValue:
    return BadValue(message, hints, "theme-bad-length")


def _color_error(message: str, hints: tuple[str, ...] = ()) -> BadValue:
    return BadValue(message, hints, "theme-bad-color")


def _points(value: float, unit: str) -> float:
    """A theme length in points: a theme's ``px`` is a CSS pixel."""
    return to_points(value, "css_px" if unit == "px" else unit)


def parse_length(value: object) -> float:
    """``"0.16in"`` → 11.52 (points). A bare ``0`` is allowed."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return 0.0
    if not isinstance(value, str):
        raise _length_error(
            f"expected a length with a unit, found `{value!r}`",
            ('write lengths as strings with a unit, e.g. "8pt", "3mm", "0.16in"',),
        )
    written = split_length(value)
    if written is None:
        raise _length_error(
            f"`{value}` is not a length",
            ('write a number and a unit: pt, in, mm, cm or px, e.g. "3mm"',),
        )
    num, unit = written
    if unit not in WRITTEN_UNITS:
        if not unit and num == 0:
            return 0.0
        hint = (
            "add a unit: pt, in, mm, cm or px"
            if not unit
            else f"`{unit}` is not a unit; use pt, in, mm, cm or px"
        )
        raise _length_error(f"`{value}` has no valid unit", (hint,))
    points = _points(num, unit)
    if points > MAX_PAGE_SIDE + 1e-6:
        raise _length_error(f"`{value}` is out of range: a theme length is at most 2 m")
    return points


def parse_size(value: object) -> tuple[float, float]:
    """``"6.625x10.25in"`` or ``"128mm x 182mm"`` → (width, height) in points."""
    if not isinstance(value, str):
        raise _length_error(f'expected a size like "6.625x10.25in", found `{value!r}`')
    written = split_size(value)
    if written is None:
        raise _length_error(
            f"`{value}` is not a size", ('write WIDTHxHEIGHT and a unit, e.g. "210x297mm"',)
        )
    (w, w_unit), (h, h_unit) = written
    for u in (w_unit, h_unit):
        if u not in WRITTEN_UNITS:
            raise _length_error(f"`{u}` is not a unit", ("use pt, in, mm, cm or px",))
    width, height = _points(w, w_unit), _points(h, h_unit)
    if width <= 0 or height <= 0:
        raise _length_error(f"`{value}` has a zero side")
    if not all(MIN_PAGE_SIDE - 1e-6 <= side <= MAX_PAGE_SIDE + 1e-6 for side in (width, height)):
        raise _length_error(f"`{value}` is out of range: each side of a page is 20 mm to 2 m")
    return width, height


def parse_color(value: object, allow_none: bool = False) -> str:
    """A color as lowercase ``#rrggbb`` (or ``#rrggbbaa``), or ``"none"``."""
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _NAMED:
            return _NAMED[v]
        if v == "none" and allow_none:
            return "none"
        if _COLOR.match(v):
            if len(v) == 4:
                v = "#" + "".join(c * 2 for c in v[1:])
            return v
    hint = 'write colors as "#rrggbb", e.g. "#fff3c4"'
    if allow_none:
        hint += ', or "none"'
    raise _color_error(f"`{value}` is not a color", (hint,))


def _color_or_none(v: object) -> str:
    return parse_color(v, allow_none=True)


def _str(v: object) -> str:
    if not isinstance(v, str):
        raise BadValue(f"expected a string, found `{v!r}`")
    return v


def _bool(v: object) -> bool:
    if not isinstance(v, bool):
        raise BadValue(f"expected true or false, found `{v!r}`")
    return v


def _number(v: object) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise BadValue(f"expected a positive number, found `{v!r}`")
    return float(v)


def _positive_length(v: object) -> float:
    x = parse_length(v)
    if x <= 0:
        raise _length_error(f"`{v}` must be more than zero")
    return x


def _font_size(v: object) -> float:
    x = _positive_length(v)
    if x > MAX_FONT_SIZE:
        raise _length_error(f"`{v}` is out of range: a font size is at most 144pt (2in)")
    return x


def _dpi(v: object) -> float:
    x = _number(v)
    if not MIN_DPI <= x <= MAX_DPI:
        raise BadValue(f"`{v!r}` is out of range: a dpi is {MIN_DPI} to {MAX_DPI}")
    return x


def _scale(v: object) -> float:
    x = _number(v)
    if x > 4:
        raise BadValue(f"`{v!r}` is out of range: a scale is more than 0 and at most 4")
    return x


def _strlist(v: object) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise BadValue(f"expected a list of strings, found `{v!r}`")
    return tuple(v)


def _dash(v: object) -> tuple[float, ...] | None:
    if v is False or v == "none" or v == []:
        return None
    if not isinstance(v, list):
        raise BadValue(f'expected a list of lengths like ["3pt", "2pt"], found `{v!r}`')
    lengths: list[float] = []
    for x in v:
        try:
            lengths.append(parse_length(x))
        except BadValue as exc:
            exc.item = x  # lets the diagnostic point at the element
            raise
    if not any(lengths):
        raise BadValue("a dash pattern needs at least one non-zero length")
    if any(0 < x < MIN_DASH for x in lengths):
        raise _length_error(f"a dash length is 0 or at least {MIN_DASH}pt")
    return tuple(lengths)


def _choice(options: tuple[str, ...]) -> Callable[[object], str]:
    def conv(v: object) -> str:
        if not isinstance(v, str) or v.lower() not in options:
            raise BadValue(f"`{v}` is not one of {', '.join(options)}")
        return v.lower()

    return conv


def _any(v: object) -> object:
    return v


Converter = Callable[[object], object]
FONT_OR_ROLE: Final = "font_or_role"  # a role name (FONT_ROLES) or a FONT table
# a Mapping is a table; "*" inside one means "any key, each with this schema"
Schema = Mapping[str, "Converter | Schema | Literal['font_or_role']"]

FONT: Schema = {
    "family": _str,
    "style": _choice(FONT_STYLES),
    "size": _font_size,
    "leading": _font_size,
}
BALLOON: Schema = {
    "stroke_width": parse_length,
    "stroke": _color_or_none,
    "fill": _color_or_none,
    "dash": _dash,
    "text_color": parse_color,
    "font": FONT_OR_ROLE,
}
FORMAT: Schema = {
    "trim": parse_size,
    "bleed": parse_length,
    "margin": parse_length,
    "spine_margin": parse_length,
    "dpi": _dpi,
    "strip": _bool,
}

SCHEMA: Schema = {
    "name": _str,
    "extends": _str,
    "description": _str,
    "page": {"default_format": _str, "reading": _choice(("ltr", "rtl")), "color": parse_color},
    "formats": {"*": FORMAT},
    "gutters": {"tier": parse_length, "within": parse_length},
    "border": {"width": parse_length, "color": parse_color},
    "fonts": {"fallback": _strlist, **{role: FONT for role in FONT_ROLES}},
    "lettering": {
        "all_caps": _bool,
        "small_scale": _scale,
        "balloon_padding": parse_length,
        "caption_padding": parse_length,
    },
    "caption": {"fill": parse_color, "colors": {"*": parse_color}},
    "balloons": {kind: BALLOON for kind in BALLOON_KINDS},
    "prompt": {"template": _str, "character": _str, "negative": _str},
    "extra": _any,
}
