"""Text fitting: fixed size, caps, emphasis, shapes, fallbacks, diagnostics."""

from __future__ import annotations

from comicc.layout import Rect, as_measurer, layout_book
from comicc.layout.text import fit_box, fit_oval, fit_variants
from support.layout import US, balloon, make_theme, page, script

THEME = make_theme()
M = as_measurer()
LONG = (
    "Okay team, listen up, because I am only going to explain this plan once "
    "and then we move out together"
)


def _texts(fit):
    return ["".join(r.text for r in ln.runs) for ln in fit.lines]


def test_fixed_size_caps_and_emphasis():
    b = balloon("HAMMY", "Tonight it is *mine* and nobody else's")
    fit = fit_oval(b, THEME, M)
    runs = [r for ln in fit.lines for r in ln.runs]
    assert all(r.font.size == THEME.lettering.size for r in runs)
    assert all(r.text == r.text.upper() for r in runs)
    emph = [r for r in runs if "MINE" in r.text]
    assert emph and emph[0].font.path != runs[0].font.path
    small = fit_oval(balloon("HAMMY", "psst", "SMALL"), THEME, M)
    # smaller type, but never below the 7 pt floor of lettering.md
    want = max(THEME.lettering.size * THEME.small_scale, min(THEME.lettering.size, 7.0))
    assert small.lines[0].runs[0].font.size == want
    nocaps = fit_oval(b, make_theme(all_caps=False), M)
    assert "Tonight" in _texts(nocaps)[0]


def test_long_text_grows_the_balloon_not_shrinks_type():
    short = fit_oval(balloon("A", "Hi."), THEME, M)
    long = fit_oval(balloon("A", LONG + " " + LONG), THEME, M)
    assert long.w > short.w and long.h > short.h
    assert {r.font.size for ln in long.lines for r in ln.runs} == {THEME.lettering.size}


def test_oval_block_is_diamond_shaped_and_centered():
    fit = fit_oval(balloon("A", LONG), THEME, M)
    widths = [ln.width for ln in fit.lines]
    assert len(widths) >= 3
    assert max(widths) > widths[0] and max(widths) > widths[-1]
    for ln in fit.lines:
        assert abs(ln.x0 + ln.width / 2) < 1e-6  # centered
    assert len(_texts(fit)[-1].split()) >= 2  # no one-word last line


def test_caption_is_left_aligned_and_balanced():
    fit = fit_box(balloon("CAPTION", LONG), THEME, M, 150)
    assert len({round(ln.x0, 6) for ln in fit.lines}) == 1
    widths = [ln.width for ln in fit.lines]
    assert max(widths) <= 150 + 1e-6
    assert min(widths[:-1]) > 0.6 * max(widths)


def test_wider_variant_has_fewer_lines():
    fits = fit_variants(balloon("A", LONG), THEME, M, Rect(0, 0, 400, 300))
    assert len(fits[1].lines) <= len(fits[0].lines) <= len(fits[2].lines)


def test_no_crash_on_cjk_arabic_accents():
    b = balloon("A", "日本語のテキスト, café, naïve, Ελληνικά, مرحبا, ☃")
    fit = fit_oval(b, THEME, M)
    text = "".join(_texts(fit)).replace(" ", "")
    assert "CAFÉ" in text and "NAÏVE" in text
    for ch in fit.missing:  # reported characters really lack a face
        assert ch in "日本語のテキスト☃"


def test_diagnostics_for_overflow_and_missing_glyphs():
    huge = " ".join([LONG] * 12)
    pg = page(1, [[("A", huge), ("B", "☃ 日本")]], layout=(1,), heights=None)
    pg = page(1, [pg.panels[0]] + [[] for _ in range(11)])  # twelve small panels
    _, issues = layout_book(script([pg]), THEME, US)
    codes = {d.code for d in issues}
    assert "text-overflow" in codes
    over = [d for d in issues if d.code == "text-overflow"][0]
    assert over.severity.value == "warning" and "pt too" in over.message
    assert over.span is not None and over.span.line == 11
    if any(d.code == "missing-glyphs" for d in issues):
        miss = [d for d in issues if d.code == "missing-glyphs"][0]
        assert miss.span is not None and miss.span.line == 12 and "U+" in miss.message
