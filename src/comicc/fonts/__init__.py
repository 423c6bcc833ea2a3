"""Fonts: installed faces, style resolution, measurement and the fallback chain."""

from comicc.fonts.book import (
    DEFAULT_FALLBACKS,
    STYLES,
    Coverage,
    Face,
    FaceMetrics,
    FaceSpec,
    FontBook,
    available_families,
    coverage,
    default_fontbook,
    font_for,
    font_metrics,
    missing_glyphs,
    resolve_font,
    split_runs,
    text_width,
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
