"""Fonts: faces, metrics and the fallback chain."""

from comicc.fonts.ref import FontRef

__all__ = ["FontRef"]
