"""Themes: shipped themes load clean, formats are right, broken files are
reported at the right line with the right code."""

from __future__ import annotations

import textwrap

import pytest

from comicc.diagnostics import Sink, render_human, render_short
from comicc.pipeline import check
from comicc.source import SourceFile
from comicc.theme import PageFormat, Theme, available_themes, load_theme, resolve_format
from comicc.theme.schema import BadValue, parse_color, parse_length, parse_size

IN, MM = 72.0, 72.0 / 25.4
FORMATS = {  # name: (width, height, bleed) in points
    "us-comic": (477.0, 738.0, 9.0),
    "manga-b6": (128 * MM, 182 * MM, 3 * MM),
    "manga-tankobon": (113 * MM, 172 * MM, 3 * MM),
    "a4": (210 * MM, 297 * MM, 3 * MM),
    "a5": (148 * MM, 210 * MM, 3 * MM),
    "album": (240 * MM, 320 * MM, 3 * MM),
    "webtoon": (600.0, 960.0, 0.0),  # 800 x 1280 px at 0.75 pt/px
}


def load(name_or_path, base_dir=None):
    sink = Sink()
    sources: dict[str, SourceFile] = {}
    theme = load_theme(str(name_or_path), sink, base_dir, sources=sources)
    return theme, sink, sources


@pytest.fixture(scope="module")
def themes() -> dict[str, Theme]:
    return {name: load(name)[0] for name in available_themes()}


def test_shipped_themes(themes):
    assert {"classic", "manga", "noir"} <= set(themes)


@pytest.mark.parametrize("name", ["classic", "manga", "noir"])
def test_shipped_theme_loads_clean(name):
    theme, sink, _ = load(name)
    assert sink.diagnostics == []
    assert isinstance(theme, Theme) and theme.name == name
    assert theme.default_format in theme.formats
    assert theme.border_width > theme.balloon_styles["speech"].stroke_width
    assert set(theme.balloon_styles) >= {
        "speech",
        "thought",
        "whisper",
        "shout",
        "electronic",
        "caption",
        "note",
        "sfx",
        "title",
    }
    assert theme.balloon_styles["whisper"].dash
    assert theme.balloon_styles["speech"].dash is None
    assert theme.emphasis.style == "bolditalic"
    assert theme.gutter_tier >= theme.gutter_within > 0
    assert "{{ description }}" in theme.prompt_template
    assert theme.character_template == "{{ name }} ({{ description }})"
    assert theme.negative


@pytest.mark.parametrize("name", ["classic", "manga", "noir"])
def test_every_format_defined(themes, name):
    formats = themes[name].formats
    for format_name, (w, h, bleed) in FORMATS.items():
        page_format = formats[format_name]
        assert (page_format.width, page_format.height, page_format.bleed) == pytest.approx(
            (w, h, bleed)
        ), format_name
        assert 0 < page_format.margin < min(page_format.width, page_format.height) / 4
    assert formats["webtoon"].strip and formats["webtoon"].dpi == 96
    assert formats["manga-b6"].spine_margin > 0


def test_classic_values(themes):
    t = themes["classic"]
    assert t.default_format == "us-comic" and t.reading == "ltr"
    assert t.gutter_within == pytest.approx(0.16 * IN)
    assert t.lettering.family == "Kalam" and t.all_caps
    assert t.caption_colors["HAMMY"] == "#fff3c4"


def test_manga_values(themes):
    t = themes["manga"]
    assert t.default_format == "manga-b6" and t.reading == "rtl"
    assert 2 * MM <= t.gutter_within <= 3 * MM
    assert t.gutter_tier == pytest.approx(5 * MM)
    assert t.border_width == pytest.approx(1 * MM)
    assert t.balloon_styles["speech"].stroke_width == pytest.approx(0.3 * MM)


def test_noir_is_distinct(themes):
    c, n = themes["classic"], themes["noir"]
    assert n.page_color != c.page_color and n.caption.family != c.caption.family


def test_theme_spans_point_into_files(themes):
    span = themes["manga"].spans["prompt.template"]
    assert span.path.endswith("manga.toml") and span.line > 1
    assert themes["manga"].spans["gutters.within"].path.endswith("manga.toml")
    assert themes["manga"].spans["formats.a4.trim"].path.endswith("classic.toml")


# --------------------------------------------------------------- formats


def resolved(theme: Theme, spec: str) -> PageFormat:
    page_format = resolve_format(theme, spec)
    assert page_format is not None, spec
    return page_format


def test_resolve_presets_and_sizes(themes):
    t = themes["classic"]
    us_comic = t.formats["us-comic"]
    assert resolved(t, "us-comic") is us_comic
    assert resolved(t, "A4") is t.formats["a4"]
    custom = resolved(t, "6.625x10.25in")
    assert (custom.width, custom.height) == pytest.approx((477, 738))
    assert (custom.bleed, custom.margin) == (us_comic.bleed, us_comic.margin)
    mm = resolved(t, "210x297mm")
    assert (mm.width, mm.height) == pytest.approx((210 * MM, 297 * MM))
    assert resolved(themes["manga"], "100x150mm").bleed == pytest.approx(3 * MM)
    for bad in ("us-comix", "210x297", "x10in", "", "0x10in"):
        assert resolve_format(t, bad) is None


def test_units():
    assert parse_length("0.16in") == pytest.approx(11.52)
    assert parse_length("3mm") == pytest.approx(8.5039, rel=1e-4)
    assert parse_length("1cm") == pytest.approx(28.3465, rel=1e-4)
    assert parse_length("8pt") == 8 and parse_length("800px") == 600 and parse_length(0) == 0
    assert parse_size("128 x 182mm") == pytest.approx((128 * MM, 182 * MM))
    assert parse_size("8.5in x 11in") == pytest.approx((612, 792))
    assert parse_color("#FFF") == "#ffffff" and parse_color("black") == "#000000"
    for bad in ("8", "8 furlongs", 8, "in"):
        with pytest.raises(BadValue):
            parse_length(bad)
    with pytest.raises(BadValue):
        parse_color("yellowish")


# ---------------------------------------------------------- broken themes

BROKEN = [
    # (file text, code, line)
    ('name = "x"\n[page\ndefault_format = "a4"\n', "theme-syntax", 2),
    ('extends = "classic"\n\n[gutters]\nwithn = "2mm"\n', "theme-unknown-key", 4),
    ('extends = "classic"\n[balloons.wisper]\ndash = ["1pt"]\n', "theme-unknown-key", 2),
    ('extends = "classic"\n[gutters]\nwithin = "2"\n', "theme-bad-length", 3),
    ('extends = "classic"\n[border]\nwidth = "2 furlongs"\n', "theme-bad-length", 3),
    ('extends = "classic"\n[formats.square]\ntrim = "10 by 10in"\n', "theme-bad-length", 3),
    (
        'extends = "classic"\n[balloons.whisper]\ndash = [\n  "3pt",\n  "2zz",\n]\n',
        "theme-bad-length",
        5,
    ),
    (
        'extends = "classic"\n[caption.colors]\nHAMMY = "#fff3c4"\nBRUIN = "yellowish"\n',
        "theme-bad-color",
        4,
    ),
    ('extends = "classic"\n[fonts.lettering]\nfamily = "Comic Sans MS"\n', "theme-missing-font", 3),
    ('extends = "classic"\n[balloons.shout]\nfont = { style = "heavy" }\n', "theme-bad-value", 3),
    ('extends = "classic"\n[balloons.shout]\nfont = "shouting"\n', "theme-bad-value", 3),
    ('extends = "classic"\n[lettering]\nall_caps = "yes"\n', "theme-bad-value", 3),
    ('extends = "classic"\n[page]\nreading = "ttb"\n', "theme-bad-value", 3),
    ('extends = "classic"\n[page]\ndefault_format = "us-comix"\n', "theme-unknown-format", 3),
    ('extends = "clasic"\n', "theme-not-found", 1),
    ('extends = "./nowhere.toml"\n', "theme-not-found", 1),
    ('name = "bare"\n', "theme-missing-key", 1),
    ('extends = "classic"\n[prompt]\ntemplate = "{{ description "\n', "theme-bad-template", 3),
    (
        'extends = "classic"\n[prompt]\n'
        'template = """\nfirst {{ description }}\nsecond {% for %}\n"""\n',
        "theme-bad-template",
        5,
    ),
    (
        'extends = "classic"\n[prompt]\n'
        'character = "{{ name }} ({{ description }}"\nnegative = "x"\n',
        None,
        None,
    ),  # valid: a lone parenthesis is text
]


@pytest.mark.parametrize("text,code,line", BROKEN)
def test_broken_theme(tmp_path, text, code, line):
    path = tmp_path / "broken.toml"
    path.write_text(text)
    theme, sink, sources = load(path)
    if code is None:
        assert theme is not None and not sink.errors
        return
    assert theme is None
    assert sink.errors, "expected an error"
    first = sink.errors[0]
    assert first.code == code, render_short(sink.diagnostics)
    assert first.span is not None and first.span.path == str(path)
    assert first.span.line == line, render_short(sink.diagnostics)
    assert render_human(sink.diagnostics, sources)  # renders with the source line


def test_did_you_mean_hints(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        'extends = "classic"\n[gutters]\nwithn = "2mm"\n[fonts.lettering]\nfamily = "Kalm"\n'
    )
    _, sink, _ = load(path)
    by_code = {d.code: d for d in sink.errors}
    assert any("within" in h for h in by_code["theme-unknown-key"].hints)
    assert any("Kalam" in h for h in by_code["theme-missing-font"].hints)
    assert by_code["theme-unknown-key"].span.col == 1


def test_all_errors_reported_at_once(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        'extends = "classic"\n[gutters]\nwithin = "2"\ntier = "x"\n[border]\ncolor = "red-ish"\n'
    )
    _, sink, _ = load(path)
    assert [(d.code, d.span.line) for d in sink.errors] == [
        ("theme-bad-length", 3),
        ("theme-bad-length", 4),
        ("theme-bad-color", 6),
    ]


def test_column_points_at_value(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('extends = "classic"\n[gutters]\nwithin   =   "2"  # oops\n')
    _, sink, _ = load(path)
    span = sink.errors[0].span
    assert (span.line, span.col, span.end_col) == (3, 14, 17)


def test_error_in_parent_points_into_parent(tmp_path):
    (tmp_path / "parent.toml").write_text('extends = "classic"\n[border]\nwidth = "2qt"\n')
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\n[gutters]\nwithin = "3mm"\n')
    _, sink, _ = load(tmp_path / "child.toml")
    assert sink.errors[0].span.path.endswith("parent.toml") and sink.errors[0].span.line == 3


def test_child_overrides_parent(tmp_path):
    (tmp_path / "themes").mkdir()
    (tmp_path / "themes" / "mine.toml").write_text(
        textwrap.dedent("""\
        extends = "manga"
        [gutters]
        within = "2mm"
        [fonts.lettering]
        size = "7.5pt"
        [caption.colors]
        "MR. SMITH" = "#abc"
        """)
    )
    theme, sink, _ = load("themes/mine.toml", base_dir=tmp_path)
    assert not sink.diagnostics
    assert theme.name == "mine" and theme.reading == "rtl"
    assert theme.gutter_within == pytest.approx(2 * MM)
    assert theme.gutter_tier == pytest.approx(5 * MM)  # from manga
    assert theme.lettering == theme.lettering.__class__("Kalam", 7.5, 8.0, "regular")
    assert theme.caption_colors["MR. SMITH"] == "#aabbcc"
    assert theme.caption_colors["HAMMY"] == "#fff3c4"  # from classic


def test_extends_cycle(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('name = "b"\nextends = "a.toml"\n')
    _, sink, _ = load(tmp_path / "a.toml")
    assert sink.errors[0].code == "theme-extends-cycle"
    assert sink.errors[0].span.line == 2


def test_unknown_theme_name():
    theme, sink, _ = load("mangaa")
    assert theme is None and sink.errors[0].code == "theme-not-found"
    assert any("manga" in h for h in sink.errors[0].hints)


def test_unknown_template_variable_warns(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('extends = "classic"\n[prompt]\ntemplate = "{{ descripton }}"\n')
    theme, sink, _ = load(path)
    assert theme is not None and not sink.errors
    (w,) = sink.warnings
    assert w.code == "theme-unknown-variable" and w.span.line == 3
    assert any("description" in h for h in w.hints)


def test_missing_fallback_font_is_a_warning(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('extends = "classic"\n[fonts]\nfallback = ["Noto Sans", "Nope Sans"]\n')
    theme, sink, _ = load(path)
    assert theme is not None and sink.warnings[0].code == "theme-missing-font"


def test_standalone_theme(tmp_path):
    path = tmp_path / "solo.toml"
    path.write_text(
        textwrap.dedent("""\
        [page]
        default_format = "square"
        [formats.square]
        trim = "8x8in"
        bleed = "0.125in"
        margin = "0.5in"
        [gutters]
        within = "4mm"
        tier = "6mm"
        [border]
        width = "1.5pt"
        [fonts.lettering]
        family = "Kalam"
        size = "9pt"
        leading = "10pt"
        [lettering]
        balloon_padding = "5pt"
        """)
    )
    theme, sink, _ = load(path)
    assert not sink.diagnostics, render_short(sink.diagnostics)
    assert theme.formats["square"] == PageFormat("square", 576, 576, 9, 36)
    assert theme.emphasis.style == "bolditalic" and theme.emphasis.size == 9
    assert theme.balloon_styles["whisper"].stroke_width == 1.0
    assert resolved(theme, "5x7in").margin == 36


def test_a_broken_theme_still_checks_the_script(tmp_path):
    (tmp_path / "broken.toml").write_text('extends = "classic"\n[gutters]\nwithin = "3"\n')
    script = tmp_path / "story.comic"
    script.write_text(
        "title: Broken\ntheme: ./broken.toml\n\nPAGE 1\n\nPANEL 1\nA cat. @nope\n",
        encoding="utf-8",
    )
    sink = Sink()
    res = check(str(script), sink)
    assert res is not None and res.script is None
    assert sorted(d.code for d in sink.errors) == ["theme-bad-length", "unknown-snippet"]
    assert str(tmp_path / "broken.toml") in res.sources  # its lines can be shown
