"""Hostile lettering: an over-long word is broken by characters, so fitting it
takes time linear in its length (a 5,000-character word took 145 s).

The timed-out case runs in a subprocess: ``timeout=`` is a hang guard
(generous), not a speed requirement.
"""

from __future__ import annotations

import subprocess
import sys

from comicc.layout import as_measurer
from comicc.layout.linebreak import MAX_WORD_CHARS, text_style, words_of
from comicc.layout.text import fit_oval
from support import ROOT
from support.layout import balloon, make_theme

THEME = make_theme()
M = as_measurer()
HANG_GUARD = 60  # seconds: a hang detector, not a speed requirement


def test_an_over_long_word_is_cut_into_glued_chunks():
    b = balloon("A", "go " + "a" * 100 + "*" + "b" * 10 + "* end")
    words, _ = words_of(b, text_style(b, THEME, M), M)
    texts = ["".join(s.text for s in w.segs) for w in words]
    assert texts[0] == "GO" and texts[-1] == "END"
    chunks = words[1:-1]
    assert "".join(texts[1:-1]) == "A" * 100 + "B" * 10
    assert all(len(t) <= MAX_WORD_CHARS for t in texts)
    assert not chunks[0].glue and all(w.glue for w in chunks[1:])
    emphasized = {s.font for w in chunks for s in w.segs if "B" in s.text}
    assert emphasized and emphasized.isdisjoint({s.font for s in chunks[0].segs})


def test_a_normal_word_is_not_cut():
    b = balloon("A", "antidisestablishmentarianism")  # 28 characters
    words, _ = words_of(b, text_style(b, THEME, M), M)
    assert len(words) == 1


def test_a_long_word_letters_on_several_lines():
    fit = fit_oval(balloon("A", "x" * 400), THEME, M)
    assert len(fit.lines) > 1
    assert "".join(r.text for ln in fit.lines for r in ln.runs).replace(" ", "") == "X" * 400


def test_a_5000_character_word_lays_out():
    code = (
        "import sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from comicc.layout import layout_book\n"
        "from support.layout import US, make_theme, page, script\n"
        "book, issues = layout_book(script([page(1, [[('A', 'a' * 5000)]])]), make_theme(), US)\n"
        "print(len(book.pages))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=HANG_GUARD
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "1"
