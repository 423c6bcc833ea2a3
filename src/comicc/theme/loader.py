"""Loading themes: TOML → ``extends`` chain → merged keys → validated :class:`Theme`.

The steps: :mod:`comicc.theme.chain` reads and merges the files,
:mod:`comicc.theme.validate` checks the keys, this module builds the record.

Every diagnostic points into the file that wrote the offending key (a theme
and the theme it extends are different files). Codes:

``theme-not-found``      no such theme / file (also a bad ``extends``)
``theme-extends-cycle``  a theme extends itself, directly or not
``theme-syntax``         TOML syntax error, or not UTF-8
``theme-unknown-key``    a key the schema does not know (with did-you-mean)
``theme-bad-length``     a length without a valid unit, a bad size
``theme-bad-color``      not ``#rrggbb``
``theme-bad-value``      wrong type or a value outside its choices
``theme-missing-key``    a required key no file of the chain sets
``theme-missing-font``   a family comicc cannot find (warning for fallbacks)
``theme-unknown-format`` ``page.default_format`` names no format
``theme-bad-template``   a prompt template that jinja2 cannot compile
``theme-unknown-variable`` (warning) a template variable comicc never sets
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from comicc.diagnostics import Sink, did_you_mean
from comicc.fonts import default_fontbook
from comicc.model import is_theme_path, script_path
from comicc.source import SourceFile
from comicc.theme.chain import (
    available_themes,
    merge_chain,
    read_chain,
    theme_file,
    theme_roots,
)
from comicc.theme.model import (
    DEFAULT_CHARACTER_TEMPLATE,
    DEFAULT_PROMPT_TEMPLATE,
    BalloonStyle,
    FontSpec,
    PageFormat,
    Theme,
)
from comicc.theme.schema import BALLOON_KINDS, CHARACTER_VARIABLES, PROMPT_VARIABLES
from comicc.theme.validate import ThemeValidator


def load_theme(
    name_or_path: str,
    sink: Sink,
    base_dir: Path | None = None,
    *,
    sources: dict[str, SourceFile] | None = None,
    allow: Sequence[str | Path] = (),
) -> Theme | None:
    """Load and validate a theme; ``None`` after reporting errors into ``sink``.

    ``name_or_path`` is a shipped theme's name (``classic``) or, if
    :func:`~comicc.model.is_theme_path` says so, a file path relative to
    ``base_dir`` (default: the current directory). ``extends`` chains are
    followed. The text of every file read is put into ``sources`` (path →
    :class:`SourceFile`) so diagnostics can be rendered with their lines.

    Every file of the chain must be in ``base_dir`` (or below), the shipped
    themes, the user's themes folder or a folder of ``allow`` (the
    ``--allow-path`` options); without ``base_dir`` (a caller naming its own
    file) the folder of that file counts as ``base_dir``.
    """
    roots = list(theme_roots(allow))
    if is_theme_path(name_or_path):
        path = script_path(name_or_path, base_dir if base_dir is not None else Path.cwd())
        roots.append(str(base_dir if base_dir is not None else path.parent))
    else:
        path = theme_file(name_or_path)
        if not path.is_file():
            names = available_themes()
            sug = did_you_mean(name_or_path, names)
            hints = ([f"did you mean `{sug[0]}`?"] if sug else []) + [
                "shipped themes: " + ", ".join(names),
                "a theme file of your own is given as a path, e.g. `theme: ./my-theme.toml`",
            ]
            sink.error("theme-not-found", f"unknown theme `{name_or_path}`", hints=hints)
            return None
    docs = read_chain(path, sink, sources if sources is not None else {}, roots)
    if docs is None:
        return None
    merged = merge_chain(docs)
    validator = ThemeValidator(sink, merged)
    return build_theme(validator, validator.validate(merged.data), path)


def build_theme(validator: ThemeValidator, conv: dict[str, Any], top: Path) -> Theme | None:
    """The :class:`Theme` of validated keys ``conv``, or ``None`` if any check failed."""
    fb = default_fontbook()
    formats = {}
    for name, f in conv.get("formats", {}).items():
        if "trim" not in f:
            validator.require(f, ("formats", name, "trim"), 'trim = "6.625x10.25in"')
            continue
        formats[name] = PageFormat(
            name,
            f["trim"][0],
            f["trim"][1],
            f.get("bleed", 0.0),
            f.get("margin", 0.0),
            f.get("spine_margin", 0.0),
            f.get("dpi"),
            f.get("strip", False),
        )
    if not conv.get("formats"):
        validator.require(
            conv, ("formats",), "define at least one page format under [formats.NAME]"
        )
    page = conv.get("page", {})
    default_format = validator.require(
        conv, ("page", "default_format"), 'default_format = "us-comic"'
    )
    if default_format is not None and formats and default_format not in formats:
        sug = did_you_mean(default_format, list(formats))
        validator.error(
            "theme-unknown-format",
            f"`{default_format}` is not a format of this theme",
            ("page", "default_format"),
            ([f"did you mean `{sug[0]}`?"] if sug else []) + ["formats: " + ", ".join(formats)],
        )
    tier = validator.require(conv, ("gutters", "tier"), 'tier = "0.2in"')
    within = validator.require(conv, ("gutters", "within"), 'within = "0.16in"')
    border = validator.require(conv, ("border", "width"), 'width = "2pt"')
    padding = validator.require(conv, ("lettering", "balloon_padding"), 'balloon_padding = "5pt"')

    fspec = conv.get("fonts", {})
    let = fspec.get("lettering", {})
    fams = {
        k: validator.require(conv, ("fonts", "lettering", k), f"{k} = …")
        for k in ("family", "size", "leading")
    }
    if None in fams.values():
        return None
    lettering = FontSpec(fams["family"], fams["size"], fams["leading"], let.get("style", "regular"))
    defaults = {
        "emphasis": ("bolditalic", 1.0),
        "caption": ("regular", 1.0),
        "sfx": ("bold", 2.5),
        "title": ("bold", 3.0),
    }
    roles = {"lettering": lettering}
    for role, (style, scale) in defaults.items():
        roles[role] = _fontspec(fspec.get(role, {}), lettering, style, scale)
    for role, spec in roles.items():
        validator.check_font(fb, spec.family, ("fonts", role, "family"), error=True)
    fallback = fspec.get("fallback", ())
    for fam in fallback:
        validator.check_font(fb, fam, ("fonts", "fallback"), error=False)

    styles = {}
    bconv = conv.get("balloons", {})
    base = bconv.get("speech", {})
    for kind in BALLOON_KINDS:
        b = {**base, **bconv.get(kind, {})}
        font = b.get("font")
        if isinstance(font, str):
            font = roles[font]
        elif isinstance(font, dict):
            font = _fontspec(font, lettering, "regular", 1.0)
            validator.check_font(fb, font.family, ("balloons", kind, "font", "family"), error=True)
        styles[kind] = BalloonStyle(
            b.get("stroke_width", 1.0),
            b.get("stroke", "#000000"),
            b.get("fill", "#ffffff"),
            b.get("dash"),
            b.get("text_color", "#000000"),
            font,
        )
    cap = conv.get("caption", {})
    caption_fill = cap.get("fill", bconv.get("caption", {}).get("fill", "#ffffff"))
    c = styles["caption"]
    styles["caption"] = BalloonStyle(
        c.stroke_width, c.stroke, caption_fill, c.dash, c.text_color, c.font
    )
    template = validator.check_template(conv, "template", PROMPT_VARIABLES)
    character = validator.check_template(conv, "character", CHARACTER_VARIABLES)
    lconf = conv.get("lettering", {})
    if validator.failed:
        return None
    spans = {".".join(p): validator.span(p) for p in validator.origin}
    return Theme(
        name=conv.get("name", top.stem),
        path=str(top),
        formats=formats,
        gutter_tier=tier,
        gutter_within=within,
        border_width=border,
        border_color=conv.get("border", {}).get("color", "#000000"),
        page_color=page.get("color", "#ffffff"),
        lettering=roles["lettering"],
        emphasis=roles["emphasis"],
        caption=roles["caption"],
        sfx=roles["sfx"],
        title=roles["title"],
        small_scale=lconf.get("small_scale", 0.85),
        all_caps=lconf.get("all_caps", True),
        balloon_padding=padding,
        caption_padding=lconf.get("caption_padding", padding),
        caption_fill=caption_fill,
        caption_colors={k.upper(): v for k, v in cap.get("colors", {}).items()},
        balloon_styles=styles,
        fallback_fonts=tuple(fallback),
        prompt_template=template if template is not None else DEFAULT_PROMPT_TEMPLATE,
        character_template=character if character is not None else DEFAULT_CHARACTER_TEMPLATE,
        negative=conv.get("prompt", {}).get("negative", ""),
        reading=page.get("reading", "ltr"),
        default_format=default_format,
        extra=dict(conv.get("extra", {})),
        description=conv.get("description", ""),
        spans=spans,
    )


def _fontspec(d: dict, base: FontSpec, style: str, scale: float) -> FontSpec:
    size = d.get("size", base.size * scale)
    leading = d.get("leading", base.leading * size / base.size)
    if "family" in d:  # another family: its regular face unless told otherwise
        style = "regular"
    return FontSpec(d.get("family", base.family), size, leading, d.get("style", style))
