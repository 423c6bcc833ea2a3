"""Font measurement as the layout stage needs it.

The layout engine talks to fonts through the small :class:`Measurer`
protocol; :func:`as_measurer` adapts the fonts stage's :class:`FontBook`
(``font``, ``width``, ``metrics``, ``has_glyph``, ``fallback_chain``) or
passes through an object that already implements the protocol. Widths are
cached per (face, size, text).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from comicc.fonts import FontBook, FontRef, default_fontbook


@runtime_checkable
class Measurer(Protocol):
    """What the layout asks of fonts."""

    def font(self, family: str, style: str, size: float) -> FontRef:
        """A concrete face for ``family``/``style`` at ``size`` points."""

    def width(self, text: str, font: FontRef) -> float:
        """Advance width of ``text`` in points."""

    def metrics(self, font: FontRef) -> tuple[float, float, float]:
        """(ascent, descent, cap height) in points, all positive."""

    def covers(self, ch: str, font: FontRef) -> bool:
        """Whether ``font`` has a glyph for ``ch``."""

    def fallbacks(self, families: Iterable[str], style: str, size: float) -> list[FontRef]:
        """Faces to try, in order, for characters the primary face lacks."""


class BookMeasurer:
    """:class:`Measurer` over a :class:`FontBook`."""

    def __init__(self, book: FontBook):
        self.book = book
        self._w: dict[tuple[str, float, str], float] = {}
        self._fonts: dict[tuple[str, str, float], FontRef] = {}
        self._fb: dict[tuple[tuple[str, ...], str, float], list[FontRef]] = {}

    def font(self, family: str, style: str, size: float) -> FontRef:
        key = (family, style, size)
        f = self._fonts.get(key)
        if f is None:
            f = self._fonts[key] = self.book.font(family, style, size)
        return f

    def width(self, text: str, font: FontRef) -> float:
        key = (font.path, font.size, text)
        w = self._w.get(key)
        if w is None:
            w = self._w[key] = float(self.book.width(text, font))
        return w

    def metrics(self, font: FontRef) -> tuple[float, float, float]:
        m = self.book.metrics(font)
        return m.ascent, m.descent, m.cap_height

    def covers(self, ch: str, font: FontRef) -> bool:
        return ch.isspace() or self.book.has_glyph(ch, font)

    def fallbacks(self, families: Iterable[str], style: str, size: float) -> list[FontRef]:
        key = (tuple(families), style, size)
        fb = self._fb.get(key)
        if fb is None:
            fb = self._fb[key] = list(self.book.fallback_chain(key[0], style, size))
        return fb


_CACHE: dict[int, BookMeasurer] = {}


def as_measurer(fonts: FontBook | Measurer | None = None) -> Measurer:
    """A :class:`Measurer` for ``fonts`` (``None``: the default font book)."""
    if fonts is None:
        fonts = default_fontbook()
    if isinstance(fonts, Measurer):
        return fonts
    m = _CACHE.get(id(fonts))
    if m is None or m.book is not fonts:
        m = _CACHE[id(fonts)] = BookMeasurer(fonts)
    return m
