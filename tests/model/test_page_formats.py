"""Page formats come from the script's theme: `format:` picks one of the theme's
`[formats.NAME]` tables (docs/themes.md), or gives a size."""

from __future__ import annotations

from pathlib import Path

import pytest

from comicc.diagnostics import Sink
from comicc.pipeline import check, layout

DIGEST_THEME = """\
extends = "classic"

[formats.digest]
trim = "5.5x8.5in"
bleed = "0.125in"
margin = "0.25in"
"""


def _script(tmp_path: Path, page_format: str) -> Path:
    (tmp_path / "digest.toml").write_text(DIGEST_THEME, encoding="utf-8")
    script = tmp_path / "story.comic"
    script.write_text(
        f"title: Digest\ntheme: ./digest.toml\nformat: {page_format}\n\n"
        "PAGE 1\n\nPANEL 1\nA cat on a windowsill.\n",
        encoding="utf-8",
    )
    return script


@pytest.mark.parametrize("written", ["digest", "Digest"])
def test_a_format_defined_in_the_theme_can_be_chosen(tmp_path, written):
    sink = Sink()
    res = check(_script(tmp_path, written), sink)
    assert sink.diagnostics == []
    assert res is not None and res.script is not None
    assert res.script.page_format == "digest"
    book = layout(res.script, res.theme, sink)
    assert book is not None, [d.message for d in sink.diagnostics]
    [page] = book.pages
    assert (page.width, page.height) == pytest.approx((5.5 * 72, 8.5 * 72))
    assert page.bleed == pytest.approx(0.125 * 72)


def test_a_misspelt_theme_format_gets_a_did_you_mean(tmp_path):
    sink = Sink()
    res = check(_script(tmp_path, "digets"), sink)
    assert res is None or res.script is None
    [d] = sink.diagnostics
    assert (d.code, d.span and (d.span.line, d.span.col)) == ("unknown-format", (3, 9))
    assert "did you mean `digest`?" in d.hints
    assert any("digest" in h and "us-comic" in h for h in d.hints[1:])


def test_the_formats_of_another_theme_are_unknown(tmp_path):
    script = tmp_path / "story.comic"
    script.write_text(
        "title: Digest\nformat: digest\n\nPAGE 1\n\nPANEL 1\nA cat.\n", encoding="utf-8"
    )
    sink = Sink()
    check(script, sink)
    assert [d.code for d in sink.diagnostics] == ["unknown-format"]


@pytest.mark.parametrize(
    "written, canonical, size_pt",
    [
        ("6.625x10.25in", "6.625x10.25in", (477.0, 738.0)),
        ("210 x 297mm", "210x297mm", (595.28, 841.89)),
        ("128mm x 182mm", "128x182mm", (362.83, 515.91)),
        ("800x1280px", "800x1280px", (600.0, 960.0)),  # a theme's px is a CSS pixel
    ],
)
def test_a_size_is_a_format_too(tmp_path, written, canonical, size_pt):
    script = tmp_path / "story.comic"
    script.write_text(
        f"title: Sized\nformat: {written}\n\nPAGE 1\n\nPANEL 1\nA cat.\n", encoding="utf-8"
    )
    sink = Sink()
    res = check(script, sink)
    assert res is not None and res.script is not None, [d.message for d in sink.diagnostics]
    assert res.script.page_format == canonical
    book = layout(res.script, res.theme, sink)
    assert book is not None
    assert (book.pages[0].width, book.pages[0].height) == pytest.approx(size_pt, abs=0.01)
