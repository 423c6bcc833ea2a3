"""Themes: the look of a book (page formats, gutters, strokes, fonts, colors,
balloon styles and the prompt template), read from ``themes/*.toml``.

Every number of ``../shared/reference/lettering.md`` lives in a theme file,
never in code. Lengths in this module are points.

The dataclass field names below are the interface the layout, render and
output stages use. Loading and validation: :func:`load_theme`; file format:
``docs/themes.md``; key schema and units: :mod:`comicc.theme.schema`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from comicc.diagnostics import Sink
    from comicc.source import SourceFile


@dataclass(frozen=True)
class PageFormat:
    name: str
    width: float  # trim width, pt
    height: float  # trim height, pt
    bleed: float  # bleed per side, pt
    margin: float  # trim edge -> live area, pt (all sides)
    spine_margin: float = 0.0  # extra margin on the spine side (manga)
    dpi: float | None = None  # the format's own raster resolution (webtoon: 96), else the script's
    strip: bool = False  # pages form one vertical strip; height = one slice (webtoon)

    @property
    def trim_size(self) -> tuple[float, float]:
        return (self.width, self.height)


@dataclass(frozen=True)
class FontSpec:
    family: str  # a face name known to comicc.fonts.book, e.g. "Kalam"
    size: float  # pt
    leading: float  # baseline-to-baseline, pt
    style: str = "regular"  # "regular" | "bold" | "italic" | "bolditalic"


@dataclass(frozen=True)
class BalloonStyle:
    stroke_width: float = 1.0
    stroke: str = "#000000"
    fill: str = "#ffffff"
    dash: tuple[float, ...] | None = None
    text_color: str = "#000000"
    font: FontSpec | None = None  # None: the theme's lettering face


@dataclass(frozen=True)
class Theme:
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
    extra: dict = field(default_factory=dict)
    description: str = ""
    spans: dict = field(
        default_factory=dict, compare=False, repr=False
    )  # "prompt.template" -> value Span


DEFAULT_PROMPT_TEMPLATE = (
    "{{ description }}"
    "{% for item in items %}, {{ item }}{% endfor %}"
    "{% for c in characters %}, {{ c }}{% endfor %}"
    "{% for s in style %}, {{ s }}{% endfor %}"
)
DEFAULT_CHARACTER_TEMPLATE = "{{ name }} ({{ description }})"


def available_themes() -> list[str]:
    """Names of the shipped themes (``themes/*.toml``), sorted."""
    from comicc.theme.loader import shipped_names

    return shipped_names()


def load_theme(
    name_or_path: str,
    sink: Sink,
    base_dir: Path | None = None,
    *,
    sources: dict[str, SourceFile] | None = None,
) -> Theme | None:
    """Load and validate a theme; ``None`` after reporting errors into ``sink``.

    ``name_or_path`` is a shipped theme's name (``classic``) or, if it
    contains a ``/`` or ends in ``.toml``, a file path relative to
    ``base_dir`` (default: the current directory). ``extends`` chains are
    followed. The text of every file read is put into ``sources`` (path →
    :class:`SourceFile`) so diagnostics can be rendered with their lines.
    """
    from comicc.diagnostics import did_you_mean
    from comicc.theme.loader import Loader, is_path, shipped_names, theme_file

    if is_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
    else:
        path = theme_file(name_or_path)
        if not path.is_file():
            names = shipped_names()
            sug = did_you_mean(name_or_path, names)
            hints = ([f"did you mean `{sug[0]}`?"] if sug else []) + [
                "shipped themes: " + ", ".join(names),
                "a theme file of your own is given as a path, e.g. `theme: ./my-theme.toml`",
            ]
            sink.error("theme-not-found", f"unknown theme `{name_or_path}`", hints=hints)
            return None
    loader = Loader(sink, sources)
    docs = loader.chain(path)
    if docs is None:
        return None
    conv = loader.validate(loader.merge(docs))
    return loader.build(conv, path)


_SIZE_SPEC = re.compile(r"\d.*[x×]\s*[\d.]")


def resolve_format(theme: Theme, spec: str) -> PageFormat | None:
    """A page format by preset name (``us-comic``) or by size (``6.625x10.25in``,
    ``210x297mm``, ``800x1280px``); ``None`` if ``spec`` is neither.

    A custom size takes bleed, margins and dpi from the theme's default format.
    """
    from comicc.theme.schema import BadValue, parse_size

    key = spec.strip().lower().replace("_", "-").replace(" ", "-")
    for name, fmt in theme.formats.items():
        if name.lower() == key:
            return fmt
    if not _SIZE_SPEC.search(spec):
        return None
    try:
        w, h = parse_size(spec)
    except BadValue:
        return None
    base = theme.formats.get(theme.default_format)
    if base is None:
        return PageFormat(spec.strip(), w, h, 0.0, 0.0)
    return PageFormat(spec.strip(), w, h, base.bleed, base.margin, base.spine_margin, base.dpi)
