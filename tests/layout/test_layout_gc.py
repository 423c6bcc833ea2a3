"""The layout runs with the cyclic garbage collector off (``engine.layout_book``): it
must make no reference cycles, or a long book would keep its garbage until the end,
and it must leave the collector as it found it."""

from __future__ import annotations

import gc

import pytest

from comicc.layout import layout_book
from comicc.layout.measure import as_measurer
from comicc.model import ir
from support.layout import US, make_theme, page, panel, script

THEME = make_theme()
M = as_measurer()
WORDS = "the cheese is mine tonight and nobody will stop me now wait *no* okay".split()
NAMES = ["HAMMY", "MOUSE", "RAT"]
MODS = ["", "WHISPER", "SHOUT", "THOUGHT", "ELECTRONIC", "OFF", "CONT'D"]


def _book(pages: int) -> ir.Script:
    """Every kind of lettering, dense and sparse panels, with and without cast points;
    some panels over-full (repaired, balloons left out)."""
    out = []
    for p in range(pages):
        panel_list, idx = [], 1
        for n in range(4):
            lines: list[tuple[str, ...]] = [("CAPTION", "Later that night.")] if n == 0 else []
            for k in range(1 + (p + n) % 5):
                name = NAMES[(p + k) % 3]
                text = " ".join(WORDS[: 3 + (p * 7 + k * 3) % 12])
                mod = MODS[(p + n + k) % len(MODS)]
                lines.append((name, text, mod) if mod else (name, text))
            if n == 2:
                lines += [("SFX", "BLAM"), ("NOTE", "*See issue #3")]
            cast = {name: (0.2 + 0.3 * i, 0.8) for i, name in enumerate(NAMES) if (p + n + i) % 2}
            panel_list.append(panel(n + 1, lines, cast, page=p + 1, first_index=idx))
            idx += len(lines)
        out.append(page(p + 1, panel_list))
    return script(out)


@pytest.mark.usefixtures("collector_off")
def test_layout_makes_no_reference_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMICC_LAYOUT_JOBS", "1")
    sc = _book(6)
    layout_book(sc, THEME, US, M)  # fonts, caches and module state loaded first
    gc.collect()
    book, issues = layout_book(sc, THEME, US, M)
    assert book.pages and issues  # some panels were over-full: the repair ran too
    assert gc.collect() == 0  # everything the layout made was freed by reference counting


def test_layout_leaves_the_collector_as_it_found_it() -> None:
    sc = _book(1)
    was = gc.isenabled()
    try:
        gc.enable()
        layout_book(sc, THEME, US, M)
        assert gc.isenabled()
        gc.disable()
        layout_book(sc, THEME, US, M)
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
