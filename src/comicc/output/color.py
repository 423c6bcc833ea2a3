"""Colours as the writers read them: CSS-style hex or a basic name, to RGBA."""

from __future__ import annotations

import functools
import re

_HEX = re.compile(r"#?([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_NAMED = {
    "black": "000000",
    "white": "ffffff",
    "red": "ff0000",
    "green": "008000",
    "blue": "0000ff",
    "yellow": "ffff00",
    "gray": "808080",
    "grey": "808080",
}

RGBA = tuple[float, float, float, float]


@functools.lru_cache(maxsize=1024)
def parse_color(value: str | None) -> RGBA | None:
    """``#rgb``, ``#rgba``, ``#rrggbb``, ``#rrggbbaa`` or a basic name → (r, g, b, a)
    in 0..1; None (or "none" / "transparent") → None."""
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("", "none", "transparent"):
        return None
    v = _NAMED.get(v, v)
    m = _HEX.fullmatch(v)
    if not m:
        raise ValueError(f"not a color: {value!r} (use #rrggbb)")
    h = m.group(1)
    if len(h) in (3, 4):
        h = "".join(ch * 2 for ch in h)
    if len(h) == 6:
        h += "ff"
    r, g, b, a = (int(h[i : i + 2], 16) / 255.0 for i in range(0, 8, 2))
    return (r, g, b, a)


def color_bytes(rgba: RGBA) -> tuple[int, int, int, int]:
    """(r, g, b, a) in 0..1 → the same colour in 0..255, as Pillow takes it."""
    r, g, b, a = (round(c * 255) for c in rgba)
    return (r, g, b, a)
