"""Fonts: installed faces, style resolution, measurement and the fallback chain."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Protocol

from comicc.fonts.book import (
    DEFAULT_FALLBACKS,
    STYLES,
    Coverage,
    Face,
    FaceMetrics,
    FontBook,
)
from comicc.fonts.derive import OBLIQUE_ANGLE
from comicc.fonts.files import (
    SYSTEM_FONT_DIRS,
    FontError,
    FontFile,
    font_cache_dir,
)
from comicc.fonts.ref import FontRef

__all__ = [
    "DEFAULT_FALLBACKS",
    "OBLIQUE_ANGLE",
    "STYLES",
    "SYSTEM_FONT_DIRS",
    "Coverage",
    "Face",
    "FaceMetrics",
    "FaceSpec",
    "FontBook",
    "FontError",
    "FontFile",
    "FontRef",
    "available_families",
    "coverage",
    "default_fontbook",
    "font_cache_dir",
    "font_for",
    "font_metrics",
    "missing_glyphs",
    "resolve_font",
    "split_runs",
    "text_width",
]


# ------------------------------------------------------------ module defaults


@functools.lru_cache(maxsize=1)
def default_fontbook() -> FontBook:
    """The process-wide :class:`FontBook` (system font folders, the user's font cache)."""
    return FontBook()


def available_families() -> list[str]:
    """Every installed family, sorted (of :func:`default_fontbook`)."""
    return default_fontbook().families()


def resolve_font(family: str, style: str = "regular", size: float = 10.0) -> FontRef:
    """``family``/``style`` → :class:`FontRef`. Raises :class:`FontError`."""
    return default_fontbook().font(family, style, size)


def text_width(text: str, font: FontRef) -> float:
    """Advance width of ``text`` in ``font``, points (of :func:`default_fontbook`)."""
    return default_fontbook().width(text, font)


def font_metrics(font: FontRef) -> FaceMetrics:
    """Vertical metrics of ``font`` (of :func:`default_fontbook`)."""
    return default_fontbook().metrics(font)


def missing_glyphs(text: str, font: FontRef) -> list[str]:
    """Distinct characters of ``text`` that ``font`` lacks (of :func:`default_fontbook`)."""
    return default_fontbook().missing(text, font)


def coverage(text: str, font: FontRef, fallbacks: Iterable[str] = ()) -> Coverage:
    """See :meth:`FontBook.coverage` (of :func:`default_fontbook`)."""
    return default_fontbook().coverage(text, font, fallbacks)


def split_runs(
    text: str, font: FontRef, fallbacks: Iterable[str] = ()
) -> list[tuple[str, FontRef]]:
    """See :meth:`FontBook.split_runs` (of :func:`default_fontbook`)."""
    return default_fontbook().split_runs(text, font, fallbacks)


class FaceSpec(Protocol):
    """What :func:`font_for` reads of a face request (a theme's ``FontSpec``)."""

    @property
    def family(self) -> str: ...

    @property
    def style(self) -> str: ...

    @property
    def size(self) -> float: ...


def font_for(spec: FaceSpec, size: float | None = None) -> FontRef:
    """The face of a theme :class:`~comicc.theme.model.FontSpec` (``family``,
    ``style``, ``size``), optionally at another ``size``."""
    return resolve_font(spec.family, spec.style, spec.size if size is None else size)
