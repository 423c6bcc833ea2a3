"""The placement MODs: ``SEPARATE`` (no auto-join) and ``NEAR NAME`` (an SFX by a cast member)."""

from __future__ import annotations

from comicc.diagnostics import Sink
from comicc.model import ir
from comicc.pipeline import check_source
from comicc.source import SourceFile

SCRIPT = """title: Mods
character HAMMY: a hamster
PAGE 1
PANEL 1
cast: HAMMY left
HAMMY pushes a button.
1. SFX (near  hammy): CLICK
2. HAMMY: Hi.
3. HAMMY (separate): Again.
"""


def check_text(text: str) -> tuple[ir.Script, Sink]:
    sink = Sink()
    res = check_source(SourceFile.from_text(text, "mods.comic"), sink)
    assert res is not None and res.script is not None
    return res.script, sink


def test_near_and_separate_reach_the_balloons() -> None:
    script, sink = check_text(SCRIPT)
    assert not sink.diagnostics, sink.diagnostics
    sfx, hi, again = script.pages[0].panels[0].balloons
    assert sfx.mods == ("NEAR HAMMY",)
    assert hi.mods == ()
    assert again.mods == ("SEPARATE",)


def test_near_on_a_balloon_is_ignored_with_a_warning() -> None:
    script, sink = check_text(SCRIPT.replace("3. HAMMY (separate)", "3. HAMMY (NEAR HAMMY)"))
    assert [(d.code, d.span.line if d.span else 0) for d in sink.diagnostics] == [
        ("ignored-mod", 9)
    ]
