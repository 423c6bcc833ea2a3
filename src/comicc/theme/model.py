"""The theme records: the look of a book (page formats, gutters, strokes, fonts,
colors, balloon styles and the prompt template), as read from ``themes/*.toml``.

Every number of the lettering conventions lives in a theme file, never in
code. Lengths in this module are points.

The dataclass field names below are the interface the layout, paint and
output stages use. Loading and validation: :mod:`comicc.theme.loader`; file
format: ``docs/themes.md``; key schema: :mod:`comicc.theme.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from comicc.source import Span
from comicc.theme.schema import BadValue, parse_size

if TYPE_CHECKING:
    from comicc.model import ir


@dataclass(frozen=True)
class PageFormat:
    """A page format: trim size, bleed and margins (a theme's `[formats.NAME]`)."""

    name: str
    width: float  # trim width, pt
    height: float  # trim height, pt
    bleed: float  # bleed per side, pt
    margin: float  # trim edge -> live area, pt (all sides)
    spine_margin: float = 0.0  # extra margin on the spine side (manga)
    dpi: float | None = None  # the format's own raster resolution (webtoon: 96), else the script's
    strip: bool = False  # pages form one vertical strip; height = one slice (webtoon)


@dataclass(frozen=True)
class FontSpec:
    """A face and its size, as a theme names it."""

    family: str  # a face name known to comicc.fonts.book, e.g. "Kalam"
    size: float  # pt
    leading: float  # baseline-to-baseline, pt
    style: str = "regular"  # "regular" | "bold" | "italic" | "bolditalic"


@dataclass(frozen=True)
class BalloonStyle:
    """How one balloon kind is drawn (a theme's `[balloons.KIND]`)."""

    stroke_width: float = 1.0
    stroke: str = "#000000"
    fill: str = "#ffffff"
    dash: tuple[float, ...] | None = None
    text_color: str = "#000000"
    font: FontSpec | None = None  # None: the theme's lettering face


@dataclass(frozen=True)
class Theme:
    """A loaded, validated theme."""

    name: str
    path: str
    formats: dict[str, PageFormat]
    gutter_tier: float  # between tiers (rows), pt
    gutter_within: float  # between panels of one tier, pt
    border_width: float  # panel border stroke, pt
    border_color: str
    page_color: str
    lettering: FontSpec  # dialogue face
    emphasis: FontSpec  # bold italic face for *emphasis*
    caption: FontSpec
    sfx: FontSpec
    title: FontSpec
    small_scale: float  # SMALL / WEAK type size factor
    all_caps: bool
    balloon_padding: float  # text to outline, pt
    caption_padding: float
    caption_fill: str
    caption_colors: dict[str, str]  # per-character voiced caption fill
    balloon_styles: dict[str, BalloonStyle]  # by BalloonKind value
    fallback_fonts: tuple[str, ...]  # tried in order for missing glyphs
    prompt_template: str  # jinja2 (sandboxed), see docs/themes.md
    character_template: str  # how a character name expands in prompts
    negative: str  # default negative prompt
    reading: str = "ltr"  # default reading direction for this theme
    default_format: str = "us-comic"
    extra: dict[str, object] = field(default_factory=dict)  # `[extra]`, uninterpreted
    description: str = ""
    # "prompt.template" -> the span of its value, in the file that wrote it
    spans: dict[str, Span | None] = field(default_factory=dict, compare=False, repr=False)

    def balloon_style(self, kind: ir.BalloonKind) -> BalloonStyle:
        """The style of ``kind``'s balloons; a kind without its own uses the speech style."""
        return (
            self.balloon_styles.get(kind.value)
            or self.balloon_styles.get("speech")
            or BalloonStyle()
        )


DEFAULT_PROMPT_TEMPLATE = (
    "{{ description }}"
    "{% for item in items %}, {{ item }}{% endfor %}"
    "{% for c in characters %}, {{ c }}{% endfor %}"
    "{% for s in style %}, {{ s }}{% endfor %}"
)
DEFAULT_CHARACTER_TEMPLATE = "{{ name }} ({{ description }})"


def resolve_format(theme: Theme, spec: str) -> PageFormat | None:
    """A page format by preset name (``us-comic``) or by size (``6.625x10.25in``,
    ``210x297mm``, ``800x1280px``); ``None`` if ``spec`` is neither.

    A custom size takes bleed, margins and dpi from the theme's default format.
    """
    key = spec.strip().lower().replace("_", "-").replace(" ", "-")
    for name, page_format in theme.formats.items():
        if name.lower() == key:
            return page_format
    try:
        w, h = parse_size(spec)
    except BadValue:
        return None
    base = theme.formats.get(theme.default_format)
    if base is None:
        return PageFormat(spec.strip(), w, h, 0.0, 0.0)
    return PageFormat(spec.strip(), w, h, base.bleed, base.margin, base.spine_margin, base.dpi)
