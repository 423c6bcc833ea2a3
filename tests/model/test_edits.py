"""Script edits (comicc.pipeline.edits): switching a prompt item or style
snippet on and off touches exactly that line and keeps every other byte (BOM,
CRLF, indentation, trailing text); `pick:` and `variants:` are one line
replaced or inserted; after each edit the script checks clean and `fmt` has
nothing new to say. Property tests over generated scripts: off then on gives
the original bytes back, and every edit is a one-line diff."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comicc.diagnostics import Sink
from comicc.pipeline import check_source
from comicc.pipeline.edits import (
    EditError,
    Toggle,
    apply_states,
    read_script,
    set_pick,
    set_toggle,
    set_variants,
    toggles,
    write_script,
)
from comicc.source import SourceFile
from comicc.syntax import format_script, parse

SCRIPT = """\
title: Edits
style:
  - @ink
  # - @grain
snippet ink: clean comic-book inks
snippet grain: film grain
snippet noir: film noir lighting

PAGE 1
prompt:
  - wide shot

PANEL 1
A lighthouse at dusk.
prompt:
  - @noir
  # - dutch angle
  - low angle<sp>
MAYA: Hello.

PANEL 2
variants: 3
A lamp room.
prompt:
- @noir
# - tilted

PANEL 3
prompt!:
  - an old photograph
An insert.
""".replace("<sp>", "   ")  # trailing blanks on one item


def panel_prompt(text: str, ref: str) -> str:
    sink = Sink()
    res = check_source(SourceFile.from_text(text, "edit.comic"), sink)
    assert res is not None and res.script is not None, [d.message for d in sink.errors]
    page, number = (int(x) for x in ref.split("."))
    (panel,) = [p for p in res.script.panels if (p.page, p.number) == (page, number)]
    return panel.prompt.text


def checks_clean(text: str) -> bool:
    sink = Sink()
    res = check_source(SourceFile.from_text(text, "edit.comic"), sink)
    return res is not None and res.script is not None and not sink.errors


def changed_lines(a: str, b: str) -> list[str]:
    """The diff lines (- and +) between two texts, line endings ignored."""
    diff = difflib.ndiff(a.splitlines(), b.splitlines())
    return [d for d in diff if d[:1] in "-+"]


def test_the_toggles_of_a_panel_in_prompt_order():
    found = toggles(SCRIPT, "1.1")
    assert found == [
        Toggle(11, "- wide shot", "wide shot", "item", True, "page"),
        Toggle(16, "- @noir", "@noir", "item", True, "panel"),
        Toggle(17, "- dutch angle", "dutch angle", "item", False, "panel"),
        Toggle(18, "- low angle", "low angle", "item", True, "panel"),
        Toggle(3, "- @ink", "@ink", "style", True, "header"),
        Toggle(4, "- @grain", "@grain", "style", False, "header"),
    ]
    # an unindented list; its last item switched off is a comment after the list
    assert [(t.line, t.label, t.enabled) for t in toggles(SCRIPT, "1.2")][1:3] == [
        (25, "@noir", True),
        (26, "tilted", False),
    ]
    # prompt! replaces everything: only its own items
    assert [t.label for t in toggles(SCRIPT, "1.3")] == ["an old photograph"]


def test_switching_off_and_on_touches_exactly_that_line():
    off = set_toggle(SCRIPT, 16, False)
    assert changed_lines(SCRIPT, off) == ["-   - @noir", "+   # - @noir"]
    assert "film noir" not in panel_prompt(off, "1.1")
    assert checks_clean(off)
    assert set_toggle(off, 16, True) == SCRIPT
    on = set_toggle(SCRIPT, 17, True)
    assert changed_lines(SCRIPT, on) == ["-   # - dutch angle", "+   - dutch angle"]
    assert "dutch angle" in panel_prompt(on, "1.1")
    # trailing text is kept byte for byte
    assert set_toggle(SCRIPT, 18, False).splitlines()[17] == "  # - low angle   "
    # already in that state: unchanged
    assert set_toggle(SCRIPT, 16, True) == SCRIPT


def test_the_last_unindented_item_off_and_on_again():
    off = set_toggle(SCRIPT, 25, False)
    assert changed_lines(SCRIPT, off) == ["- - @noir", "+ # - @noir"]
    assert checks_clean(off) and "film noir" not in panel_prompt(off, "1.2")
    assert [t.enabled for t in toggles(off, "1.2")][1:3] == [False, False]
    on = set_toggle(off, 26, True)
    assert "tilted" in panel_prompt(on, "1.2") and checks_clean(on)


def test_crlf_bom_and_a_missing_final_newline_are_kept():
    crlf = "\ufeff" + SCRIPT.replace("\n", "\r\n").rstrip("\r\n")
    off = set_toggle(crlf, 16, False)
    assert off.startswith("\ufeff") and off.count("\r\n") == crlf.count("\r\n")
    assert "\n" not in off.replace("\r\n", "")
    assert off.encode().replace(b"  # - @noir", b"  - @noir") == crlf.encode()
    assert set_toggle(off, 16, True) == crlf
    picked = set_pick(crlf, "1.2", 2)
    assert picked.count("\r\n") == crlf.count("\r\n") + 1 and picked.startswith("\ufeff")
    grown = set_variants(crlf, "1.3", 2)  # the last panel, no final newline
    assert grown.count("\r\n") == crlf.count("\r\n") + 1


def test_a_line_that_is_not_a_toggle_is_refused():
    for line in (1, 2, 14, 19, 999):
        with pytest.raises(EditError, match="not a prompt item"):
            set_toggle(SCRIPT, line, False)


def test_pick_and_variants_insert_or_replace_one_line():
    picked = set_pick(SCRIPT, "1.2", 2)
    assert changed_lines(SCRIPT, picked) == ["+ pick: 2"]
    assert picked.splitlines()[21:23] == ["variants: 3", "pick: 2"]  # under the settings
    assert changed_lines(picked, set_pick(picked, "1.2", 3)) == ["- pick: 2", "+ pick: 3"]
    assert checks_clean(picked)
    grown = set_variants(SCRIPT, "1.1", 4)
    assert changed_lines(SCRIPT, grown) == ["+ variants: 4"]
    assert grown.splitlines()[12:14] == ["PANEL 1", "variants: 4"]
    assert changed_lines(SCRIPT, set_variants(SCRIPT, "1.2", 5)) == [
        "- variants: 3",
        "+ variants: 5",
    ]
    assert checks_clean(grown)


def test_an_inserted_setting_never_separates_a_list_from_its_comments():
    text = "title: T\n\nPAGE 1\n\nPANEL 1\nprompt:\n- rain\n# - fog\nA street.\n"
    grown = set_variants(text, "1.1", 2)
    assert grown.splitlines()[4:6] == ["PANEL 1", "variants: 2"]
    (fog,) = [t for t in toggles(grown, "1.1") if t.label == "fog"]
    assert checks_clean(set_toggle(grown, fog.line, True))


def test_pick_and_variants_out_of_range_are_refused():
    with pytest.raises(EditError, match="pick one from 1 to 3"):
        set_pick(SCRIPT, "1.2", 4)
    with pytest.raises(EditError, match="1 to 1"):
        set_pick(SCRIPT, "1.1", 2)
    with pytest.raises(EditError, match="out of range"):
        set_variants(SCRIPT, "1.1", 17)
    with pytest.raises(EditError, match="picks variant 3"):
        set_variants(set_pick(SCRIPT, "1.2", 3), "1.2", 2)
    with pytest.raises(EditError, match="no panel 9"):
        set_pick(SCRIPT, "1.9", 1)
    with pytest.raises(EditError, match="not a panel"):
        toggles(SCRIPT, "one")


def test_apply_states_by_label():
    cell = apply_states(SCRIPT, "1.1", {"@noir": False, "dutch angle": True})
    assert len(changed_lines(SCRIPT, cell)) == 4
    assert apply_states(SCRIPT, "1.1", {"@noir": True}) == SCRIPT
    with pytest.raises(EditError, match=r"did you mean `@noir`"):
        apply_states(SCRIPT, "1.1", {"@nior": False})


def test_fmt_does_not_fight_the_edits():
    canonical = format_script(parse(SourceFile.from_text(SCRIPT, "x.comic"), Sink()))  # type: ignore[arg-type]
    for t in toggles(canonical, "1.1"):
        edited = set_toggle(canonical, t.line, not t.enabled)
        tree = parse(SourceFile.from_text(edited, "x.comic"), Sink())
        assert tree is not None and format_script(tree) == edited
    for edited in (set_pick(canonical, "1.2", 2), set_variants(canonical, "1.1", 2)):
        tree = parse(SourceFile.from_text(edited, "x.comic"), Sink())
        assert tree is not None and format_script(tree) == edited


def test_write_script_refuses_a_file_changed_meanwhile(tmp_path: Path):
    path = tmp_path / "s.comic"
    crlf = SCRIPT.replace("\n", "\r\n")
    path.write_bytes(crlf.encode())
    old = read_script(path)
    assert old == crlf  # no newline translation
    new = set_toggle(old, 16, False)
    write_script(path, new, old)
    assert path.read_bytes() == new.encode()
    with pytest.raises(EditError, match="changed on disk"):
        write_script(path, set_toggle(old, 17, True), old)
    assert path.read_bytes() == new.encode()


# ------------------------------------------------------------------ properties
WORDS = st.sampled_from(
    ["@ink", "@noir", "dutch angle", "low angle", "wide shot", "rain", "fog, mist", "golden hour"]
)
INDENTS = st.sampled_from(["  ", "    ", "\t", ""])


@st.composite
def item_lines(draw: st.DrawFn) -> list[str]:
    indent = draw(INDENTS)
    out = []
    for _ in range(draw(st.integers(1, 4))):
        marker = "# " if draw(st.booleans()) else ""
        tail = draw(st.sampled_from(["", "", " ", "  "]))
        out.append(f"{indent}{marker}- {draw(WORDS)}{tail}")
    if indent == "" and out[-1].startswith("#"):
        out.append(f"- {draw(WORDS)}")  # keep the list a list for the generator's sake
    return out


@st.composite
def edit_scripts(draw: st.DrawFn) -> str:
    lines = ["title: Generated", "snippet ink: clean inks", "snippet noir: noir lighting"]
    if draw(st.booleans()):
        lines += ["style:", *draw(item_lines())]
    for page in range(1, draw(st.integers(1, 2)) + 1):
        lines += ["", f"PAGE {page}"]
        if draw(st.booleans()):
            lines += ["prompt:", *draw(item_lines())]
        for panel in range(1, draw(st.integers(1, 2)) + 1):
            lines += ["", f"PANEL {panel}"]
            if draw(st.booleans()):
                lines.append(f"variants: {draw(st.integers(1, 3))}")
            lines.append("A quiet harbour.")
            if draw(st.booleans()):
                lines += ["prompt:", *draw(item_lines())]
            if draw(st.booleans()):
                lines.append("CAPTION: Later.")
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = ending.join(lines) + (ending if draw(st.booleans()) else "")
    return ("\ufeff" if draw(st.booleans()) else "") + text


def panels_of(text: str) -> list[str]:
    tree = parse(SourceFile.from_text(text, "g.comic"), Sink())
    assert tree is not None
    return [
        f"{pg.head.numbers[0].value}.{p.head.number.value}" for pg in tree.pages for p in pg.panels
    ]


@given(edit_scripts(), st.data())
def test_off_then_on_gives_the_original_bytes(text: str, data: st.DataObject):
    assert checks_clean(text)
    ref = data.draw(st.sampled_from(panels_of(text)))
    for t in toggles(text, ref):
        flipped = set_toggle(text, t.line, not t.enabled)
        assert len(changed_lines(text, flipped)) == 2  # exactly one line, replaced
        assert checks_clean(flipped)
        assert set_toggle(flipped, t.line, t.enabled) == text
        assert [x.enabled for x in toggles(flipped, ref) if x.line == t.line] == [not t.enabled]


@given(edit_scripts(), st.data())
def test_pick_and_variants_are_one_line(text: str, data: st.DataObject):
    ref = data.draw(st.sampled_from(panels_of(text)))
    grown = set_variants(text, ref, 3)
    diff = changed_lines(text, grown)
    had = [d for d in diff if d.startswith("- variants:")]
    assert diff == [*had, "+ variants: 3"] or (not diff and "variants: 3" in text)
    assert checks_clean(grown)
    picked = set_pick(grown, ref, 2)
    assert changed_lines(grown, picked) == ["+ pick: 2"]
    assert checks_clean(picked)
    assert picked.startswith("\ufeff") == text.startswith("\ufeff")
