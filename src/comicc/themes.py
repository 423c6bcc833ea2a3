"""Themes: the look of a book (page formats, gutters, strokes, fonts, colors,
balloon styles and the prompt template), read from ``themes/*.toml``.

Every number of ``../shared/reference/lettering.md`` lives in a theme file,
never in code. Lengths in this module are points.

NOTE: contract stub. ``load_theme`` and validation are being completed; the
dataclass field names below are the interface the layout, render and output
stages use.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class PageFormat:
    name: str
    width: float          # trim width, pt
    height: float         # trim height, pt
    bleed: float          # bleed per side, pt
    margin: float         # trim edge -> live area, pt (all sides)
    spine_margin: float = 0.0  # extra margin on the spine side (manga)


@dataclass(frozen=True)
class FontSpec:
    family: str           # a face name known to comicc.fonts, e.g. "Kalam"
    size: float           # pt
    leading: float        # baseline-to-baseline, pt
    style: str = "regular"  # "regular" | "bold" | "italic" | "bolditalic"


@dataclass(frozen=True)
class BalloonStyle:
    stroke_width: float = 1.0
    stroke: str = "#000000"
    fill: str = "#ffffff"
    dash: tuple[float, ...] | None = None
    text_color: str = "#000000"


@dataclass(frozen=True)
class Theme:
    name: str
    path: str
    formats: dict[str, PageFormat]
    gutter_tier: float            # between tiers (rows), pt
    gutter_within: float          # between panels of one tier, pt
    border_width: float           # panel border stroke, pt
    border_color: str
    page_color: str
    lettering: FontSpec           # dialogue face
    emphasis: FontSpec            # bold italic face for *emphasis*
    caption: FontSpec
    sfx: FontSpec
    title: FontSpec
    small_scale: float            # SMALL / WEAK type size factor
    all_caps: bool
    balloon_padding: float        # text to outline, pt
    caption_padding: float
    caption_fill: str
    caption_colors: dict[str, str]  # per-character voiced caption fill
    balloon_styles: dict[str, BalloonStyle]  # by BalloonKind value
    fallback_fonts: tuple[str, ...]          # tried in order for missing glyphs
    prompt_template: str          # jinja2 (sandboxed), see docs/themes.md
    character_template: str       # how a character name expands in prompts
    negative: str                 # default negative prompt
    reading: str = "ltr"          # default reading direction for this theme
    default_format: str = "us-comic"
    extra: dict = field(default_factory=dict)


DEFAULT_PROMPT_TEMPLATE = (
    "{{ description }}"
    "{% for item in items %}, {{ item }}{% endfor %}"
    "{% for s in style %}, {{ s }}{% endfor %}"
)
DEFAULT_CHARACTER_TEMPLATE = "{{ name }} ({{ description }})"
