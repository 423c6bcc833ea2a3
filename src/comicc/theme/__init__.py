"""Themes: the look of a book, loaded from TOML theme files and validated."""

from comicc.model import is_theme_path
from comicc.theme.chain import available_themes, theme_roots, user_themes_dir
from comicc.theme.loader import load_theme
from comicc.theme.model import BalloonStyle, FontSpec, PageFormat, Theme, resolve_format

__all__ = [
    "BalloonStyle",
    "FontSpec",
    "PageFormat",
    "Theme",
    "available_themes",
    "is_theme_path",
    "load_theme",
    "resolve_format",
    "theme_roots",
    "user_themes_dir",
]
