"""Lengths written with a unit: the one table of units in points, and the one parser.

A writer spells units ``pt``, ``in``, ``mm``, ``cm`` and ``px``. What ``px``
means depends on where it is written: in a theme it is a CSS pixel
(``css_px``, 1/96 in = 0.75 pt); in a script (``mask: keep-margin 24px``) it
is a device pixel at the panel's dpi, which has no size in points until the
paint stage knows the dpi. So the table below has ``css_px`` and no ``px``.
"""

from __future__ import annotations

import re

POINTS_PER_UNIT: dict[str, float] = {
    "pt": 1.0,
    "in": 72.0,
    "mm": 72.0 / 25.4,
    "cm": 720.0 / 25.4,
    "css_px": 0.75,
}
WRITTEN_UNITS = ("pt", "in", "mm", "cm", "px")  # as a writer spells them

# Bounds on sizes that drive work, checked before anything is allocated:
# a page side (a script's `format:`, a theme's `trim`) is 20 mm to 2 m, and so
# is at most any other theme length; a page or panel rendered at its dpi holds
# at most MAX_PAGE_PIXELS pixels (paint and output use the same budget).
MIN_PAGE_SIDE = 20 * 72 / 25.4  # 20 mm in points
MAX_PAGE_SIDE = 2000 * 72 / 25.4  # 2 m in points
MAX_PAGE_PIXELS = 150_000_000  # 150 megapixels (A4 with bleed at 1200 dpi), per page and panel
MIN_DPI, MAX_DPI = 72, 1200


def pixel_count(width_pt: float, height_pt: float, dpi: float) -> int:
    """How many device pixels a ``width_pt`` x ``height_pt`` box has at ``dpi``."""
    return max(1, round(width_pt * dpi / 72)) * max(1, round(height_pt * dpi / 72))


_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_LENGTH = re.compile(rf"\s*{_NUMBER}\s*([A-Za-z]*)\s*")
_SIZE = re.compile(rf"\s*{_NUMBER}\s*([A-Za-z]*)\s*[xX×]\s*{_NUMBER}\s*([A-Za-z]+)\s*")

WrittenLength = tuple[float, str]  # (number, unit as written in lower case, "" for none)


def split_length(text: str) -> WrittenLength | None:
    """``" 3.5mm "`` -> ``(3.5, "mm")``; ``"12"`` -> ``(12.0, "")``; None unless
    the text is a non-negative number followed by letters (the unit, unchecked)."""
    m = _LENGTH.fullmatch(text)
    if m is None:
        return None
    return float(m.group(1)), m.group(2).lower()


def split_size(text: str) -> tuple[WrittenLength, WrittenLength] | None:
    """``"6.625x10.25in"`` or ``"128mm x 182mm"`` -> ``((6.625, "in"), (10.25, "in"))``.

    The width's unit may be left out: it is the height's. None unless the text
    has the shape ``W[unit] x H unit`` (the units themselves are unchecked)."""
    m = _SIZE.fullmatch(text)
    if m is None:
        return None
    height_unit = m.group(4).lower()
    width_unit = m.group(2).lower() or height_unit
    return (float(m.group(1)), width_unit), (float(m.group(3)), height_unit)


def to_points(value: float, unit: str) -> float:
    """``value`` in ``unit`` (a key of :data:`POINTS_PER_UNIT`) as points."""
    return value * POINTS_PER_UNIT[unit]
