"""Fonts: resolution, derived styles, measurement and glyph coverage."""

from __future__ import annotations

import os
import time
from itertools import pairwise
from pathlib import Path

import pytest
from PIL import ImageFont

import comicc.fonts as fonts
from comicc.diagnostics import Sink
from comicc.fonts import FontBook, FontError
from comicc.theme import available_themes, load_theme


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> FontBook:
    """A font book whose derived faces go to a temporary cache."""
    return FontBook(cache_dir=tmp_path_factory.mktemp("font-cache"))


def test_shipped_faces_are_installed(book):
    for fam in (
        "Kalam",
        "Luckiest Guy",
        "Permanent Marker",
        "Bungee",
        "Titan One",
        "Space Mono",
        "Noto Sans",
        "Noto Sans Arabic",
    ):
        assert book.has_family(fam), fam
        ref = book.font(fam, "regular", 8)
        assert Path(ref.path).is_file()
        assert "site-packages" in ref.path or "dist-packages" in ref.path  # from a package


def test_family_names_are_forgiving(book):
    a = book.font("Kalam", "regular", 8)
    assert book.font("kalam", "regular", 8) == a
    assert book.font("KALAM", "Regular", 8) == a
    assert book.font("Kalam-Bold", "regular", 8).name == "Kalam-Bold"
    assert book.font("Kalam-Light", "regular", 8).name == "Kalam-Light"


def test_unknown_family_suggests(book):
    with pytest.raises(FontError) as exc:
        book.face("Kalem")
    assert "Kalam" in exc.value.suggestions
    with pytest.raises(FontError):
        book.face("Kalam", "wobbly")


def test_bold_italic_is_derived_and_distinct(book):
    reg = book.face("Kalam", "regular")
    bold = book.face("Kalam", "bold")
    emph = book.face("Kalam", "bolditalic")
    assert len({reg.path, bold.path, emph.path}) == 3
    assert emph.derived == "oblique" and emph.name == "Kalam-BoldOblique"
    assert Path(emph.path).parent == book.cache_dir
    # the slant shows: same advances as the bold, different outlines
    assert book.width("HELLO", emph.ref(10)) == pytest.approx(book.width("HELLO", bold.ref(10)))
    assert Path(emph.path).read_bytes() != Path(bold.path).read_bytes()
    # derived once: a second book with the same cache reuses the file
    again = FontBook(cache_dir=book.cache_dir).face("Kalam", "bolditalic")
    assert again.path == emph.path


def test_derived_faces_are_the_same_bytes_every_time(tmp_path):
    """Two empty caches, a second apart, derive byte-identical faces (no
    timestamp is stamped into them), so two cold builds give the same PDF."""
    first = FontBook(cache_dir=tmp_path / "one").face("Kalam", "bolditalic")
    time.sleep(1.1)  # fontTools would stamp head.modified in seconds
    second = FontBook(cache_dir=tmp_path / "two").face("Kalam", "bolditalic")
    assert first.path != second.path
    assert Path(first.path).read_bytes() == Path(second.path).read_bytes()


def test_single_weight_faces(book):
    assert book.face("Luckiest Guy", "bold").path == book.face("Luckiest Guy", "regular").path
    assert book.face("Luckiest Guy", "italic").derived == "oblique"


def test_reportlab_loads_every_theme_face(book):
    from reportlab.pdfbase.ttfonts import TTFont

    seen = set()
    for name in available_themes():
        theme = load_theme(name, Sink())
        assert theme is not None
        specs = [theme.lettering, theme.emphasis, theme.caption, theme.sfx, theme.title]
        specs += [s.font for s in theme.balloon_styles.values() if s.font]
        for spec in specs:
            ref = book.font(spec.family, spec.style, spec.size)
            if ref.path not in seen:
                seen.add(ref.path)
                TTFont(ref.name, ref.path)  # raises if reportlab cannot embed it
    assert len(seen) >= 6


@pytest.mark.parametrize(
    "text", ["é", "Ærø Łódź", "日本語", "مرحبا", "नमस्ते", "Привет", "🙂", "a\u200db\n"]
)
def test_coverage_never_crashes_and_is_complete(book, text):
    ref = book.font("Kalam", "regular", 8)
    cov = book.coverage(text, ref)
    for ch in cov.missing:
        assert (ch in cov.fallback) != (ch in cov.unletterable)
        if ch in cov.fallback:
            assert ch in book.metrics_of(cov.fallback[ch].path).advances
    runs = book.split_runs(text, ref)
    assert "".join(r[0] for r in runs) == text
    assert book.width(text, ref) >= 0


def test_fallback_finds_faces(book):
    ref = book.font("Kalam", "regular", 8)
    assert book.coverage("Café", ref).missing == ()
    arabic = book.coverage("مرحبا", ref)
    assert arabic.ok and {f.name for f in arabic.fallback.values()} == {"NotoSansArabic-Regular"}
    cyr = book.coverage("Привет", book.font("Luckiest Guy", "regular", 8))
    assert cyr.ok and all(f.name == "NotoSans-Regular" for f in cyr.fallback.values())
    cjk = book.coverage("日本語", ref)
    assert set(cjk.missing) == set("日本語")
    assert set(cjk.fallback) | set(cjk.unletterable) == set("日本語")


def test_theme_fallbacks_come_first(book):
    ref = book.font("Luckiest Guy", "regular", 8)
    chain = book.fallback_chain(["Kalam"])
    assert chain[0].name == "Kalam-Regular"
    cov = book.coverage("Ł", ref, ["Kalam"])
    assert cov.fallback.get("Ł", ref).name in ("Kalam-Regular", "LuckiestGuy-Regular")


def test_split_runs_groups_by_face(book):
    ref = book.font("Kalam", "regular", 8)
    runs = book.split_runs("HI مرحبا THERE", ref)
    assert [r[1].name for r in runs] == ["Kalam-Regular", "NotoSansArabic-Regular", "Kalam-Regular"]
    assert book.split_runs("PLAIN TEXT", ref) == [("PLAIN TEXT", ref)]


def test_width_monotonic_and_linear(book):
    ref = book.font("Kalam", "regular", 8)
    text = "I TOLD YOU -- NEVER COME BACK!"
    widths = [book.width(text[:i], ref) for i in range(len(text) + 1)]
    assert widths[0] == 0
    assert all(b >= a for a, b in pairwise(widths))
    big = book.font("Kalam", "regular", 16)
    assert book.width(text, big) == pytest.approx(2 * book.width(text, ref))


@pytest.mark.parametrize(
    "family,style",
    [
        ("Kalam", "regular"),
        ("Kalam", "bolditalic"),
        ("Luckiest Guy", "regular"),
        ("Space Mono", "regular"),
    ],
)
def test_width_matches_pillow(book, family, style):
    ref = book.font(family, style, 1000)
    text = "WHAT ARE YOU DOING HERE?! Café"
    pil = ImageFont.truetype(ref.path, 1000, layout_engine=ImageFont.Layout.BASIC).getlength(text)
    assert book.width(text, ref) == pytest.approx(pil, rel=2e-3)


def test_metrics(book):
    m = book.metrics(book.font("Kalam", "regular", 10))
    assert 5 < m.cap_height < m.ascent and m.descent > 0 and m.x_height < m.cap_height


def test_measuring_is_fast(book):
    ref = book.font("Kalam", "regular", 8)
    words = "I TOLD YOU NEVER TO COME BACK HERE OFFICER BRUIN SAID THE HAMSTER".split()
    t0 = time.perf_counter()
    for _ in range(2000):
        for w in words:
            book.width(w, ref)
    assert time.perf_counter() - t0 < 1.0  # 26 000 measurements


def test_module_functions_use_default_book():
    ref = fonts.resolve_font("Kalam", "regular", 8)
    assert fonts.text_width("AB", ref) > 0
    assert fonts.missing_glyphs("Aé日", ref) == ["日"]
    assert fonts.font_metrics(ref).ascent > 0
    assert "Kalam" in fonts.available_families()


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("COMICC_FONT_CACHE", str(tmp_path))
    assert fonts.font_cache_dir() == tmp_path
    monkeypatch.delenv("COMICC_FONT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fonts.font_cache_dir() == tmp_path / "xdg" / "comicc" / "fonts"
    assert os.fspath(fonts.font_cache_dir())
