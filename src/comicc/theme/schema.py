"""The keys a theme file may hold, their types, and unit conversion.

Lengths are written with a unit and converted to points: ``pt``, ``in``,
``mm``, ``cm``, ``px`` (a CSS pixel, 1/96 in = 0.75 pt). Colors are
``#rgb``, ``#rrggbb`` or ``#rrggbbaa`` (plus ``black``, ``white`` and, where a
fill or stroke may be absent, ``none``). See ``docs/themes.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

UNITS = {"pt": 1.0, "in": 72.0, "mm": 72.0 / 25.4, "cm": 720.0 / 25.4, "px": 0.75}
BALLOON_KINDS = (
    "speech",
    "thought",
    "whisper",
    "shout",
    "electronic",
    "caption",
    "note",
    "sfx",
    "title",
)
FONT_ROLES = ("lettering", "emphasis", "caption", "sfx", "title")
FONT_STYLES = ("regular", "bold", "italic", "bolditalic")
# variables a prompt template may use (the model stage provides them)
PROMPT_VARIABLES = ("description", "items", "style", "characters", "page", "panel")
CHARACTER_VARIABLES = ("name", "description")

_NUM = r"(\d+(?:\.\d*)?|\.\d+)"
_LENGTH = re.compile(rf"^\s*{_NUM}\s*([a-zA-Z]*)\s*$")
_SIZE = re.compile(rf"^\s*{_NUM}\s*([a-zA-Z]*)\s*[x×]\s*{_NUM}\s*([a-zA-Z]+)\s*$")
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")
_NAMED = {"black": "#000000", "white": "#ffffff"}


class BadValue(ValueError):
    """A value of the wrong shape; ``hints`` go into the diagnostic."""

    def __init__(self, message: str, hints: tuple[str, ...] = (), code: str = "theme-bad-value"):
        super().__init__(message)
        self.hints = hints
        self.code = code
        self.item: Any = None  # the offending element of a list value


def _length_error(message: str, hints: tuple[str, ...] = ()) -> BadValue:
    return BadValue(message, hints, "theme-bad-length")


def _color_error(message: str, hints: tuple[str, ...] = ()) -> BadValue:
    return BadValue(message, hints, "theme-bad-color")


def parse_length(value: Any) -> float:
    """``"0.16in"`` → 11.52 (points). A bare ``0`` is allowed."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
        return 0.0
    if not isinstance(value, str):
        raise _length_error(
            f"expected a length with a unit, found `{value!r}`",
            ('write lengths as strings with a unit, e.g. "8pt", "3mm", "0.16in"',),
        )
    m = _LENGTH.match(value)
    if not m:
        raise _length_error(
            f"`{value}` is not a length",
            ('write a number and a unit: pt, in, mm, cm or px, e.g. "3mm"',),
        )
    num, unit = float(m.group(1)), m.group(2).lower()
    if unit not in UNITS:
        if not unit and num == 0:
            return 0.0
        hint = (
            "add a unit: pt, in, mm, cm or px"
            if not unit
            else f"`{unit}` is not a unit; use pt, in, mm, cm or px"
        )
        raise _length_error(f"`{value}` has no valid unit", (hint,))
    return num * UNITS[unit]


def parse_size(value: Any) -> tuple[float, float]:
    """``"6.625x10.25in"`` or ``"128mm x 182mm"`` → (width, height) in points."""
    if not isinstance(value, str):
        raise _length_error(f'expected a size like "6.625x10.25in", found `{value!r}`')
    m = _SIZE.match(value)
    if not m:
        raise _length_error(
            f"`{value}` is not a size", ('write WIDTHxHEIGHT and a unit, e.g. "210x297mm"',)
        )
    w_unit = (m.group(2) or m.group(4)).lower()
    h_unit = m.group(4).lower()
    for u in (w_unit, h_unit):
        if u not in UNITS:
            raise _length_error(f"`{u}` is not a unit", ("use pt, in, mm, cm or px",))
    w, h = float(m.group(1)) * UNITS[w_unit], float(m.group(3)) * UNITS[h_unit]
    if w <= 0 or h <= 0:
        raise _length_error(f"`{value}` has a zero side")
    return w, h


def parse_color(value: Any, allow_none: bool = False) -> str:
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


def _str(v):
    if not isinstance(v, str):
        raise BadValue(f"expected a string, found `{v!r}`")
    return v


def _bool(v):
    if not isinstance(v, bool):
        raise BadValue(f"expected true or false, found `{v!r}`")
    return v


def _number(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise BadValue(f"expected a positive number, found `{v!r}`")
    return float(v)


def _positive_length(v):
    x = parse_length(v)
    if x <= 0:
        raise _length_error(f"`{v}` must be more than zero")
    return x


def _strlist(v):
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise BadValue(f"expected a list of strings, found `{v!r}`")
    return tuple(v)


def _dash(v):
    if v is False or v == "none" or v == []:
        return None
    if not isinstance(v, list):
        raise BadValue(f'expected a list of lengths like ["3pt", "2pt"], found `{v!r}`')
    out = []
    for x in v:
        try:
            out.append(parse_length(x))
        except BadValue as exc:
            exc.item = x  # lets the diagnostic point at the element
            raise
    out = tuple(out)
    if not any(out):
        raise BadValue("a dash pattern needs at least one non-zero length")
    return out


def _choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def conv(v):
        if not isinstance(v, str) or v.lower() not in options:
            raise BadValue(f"`{v}` is not one of {', '.join(options)}")
        return v.lower()

    return conv


def _any(v):
    return v


FONT = {
    "family": _str,
    "style": _choice(FONT_STYLES),
    "size": _positive_length,
    "leading": _positive_length,
}
BALLOON = {
    "stroke_width": parse_length,
    "stroke": lambda v: parse_color(v, True),
    "fill": lambda v: parse_color(v, True),
    "dash": _dash,
    "text_color": parse_color,
    "font": "font_or_role",
}
FORMAT = {
    "trim": parse_size,
    "bleed": parse_length,
    "margin": parse_length,
    "spine_margin": parse_length,
    "dpi": _number,
    "strip": _bool,
}

# a dict is a table; "*" inside one means "any key, each with this schema"
SCHEMA: dict[str, Any] = {
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
        "small_scale": _number,
        "balloon_padding": parse_length,
        "caption_padding": parse_length,
    },
    "caption": {"fill": parse_color, "colors": {"*": parse_color}},
    "balloons": {kind: BALLOON for kind in BALLOON_KINDS},
    "prompt": {"template": _str, "character": _str, "negative": _str},
    "extra": _any,
}
