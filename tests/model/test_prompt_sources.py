"""The labelled breakdown of each panel's prompt (``ir.Prompt.sources``, what
``comicc explain`` prints): it adds up to the prompt's parts, and every part
points at the line it was written on."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from support.build import checked_text

WRITTEN = ("description", "item", "prompt!", "style")
WORDS = ["a dark kitchen", "@noir", "@rain", "MAYA", "OFFICER BRUIN", "low angle", "wide shot"]
HEADER = """\
title: Sources
style: {style}
snippet noir: film noir lighting, deep shadows
snippet rain: heavy rain on the windows
character MAYA: a lighthouse keeper
character OFFICER BRUIN: a huge brown bear

PAGE 1

PANEL 1
{cast}{description}
{prompt}
1. CAPTION: Night.
"""

pieces = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)


def script(description: list[str], items: list[str], style: list[str], cast: bool) -> str:
    prompt = "prompt:\n" + "".join(f"  - {i}\n" for i in items) if items else ""
    return HEADER.format(
        style=", ".join(style),
        cast="cast: MAYA left\n" if cast else "",
        description=" and ".join(description) + ".",
        prompt=prompt.rstrip("\n"),
    )


@given(pieces, st.lists(st.sampled_from(WORDS), max_size=3), pieces, st.booleans())
def test_sources_add_up_to_the_parts_and_point_at_their_lines(description, items, style, cast):
    text = script(description, items, style, cast)
    lines = text.splitlines()
    res = checked_text(text)
    (panel,) = res.script.panels
    sources = panel.prompt.sources
    pieces_text = [
        s.text for s in sources if s.kind in WRITTEN or (s.kind == "character" and s.within is None)
    ]
    assert [t for t in pieces_text if t] == list(panel.prompt.parts)
    for s in sources:
        assert s.span is not None
        line = lines[s.span.line - 1]
        if s.kind in WRITTEN:
            assert s.source in line
        elif s.kind == "snippet":
            assert s.within is not None
            assert line.startswith(f"snippet {s.name}:")
            assert s.source in sources[s.within].source  # expanded where it was written
        else:
            assert s.name is not None
            assert line.startswith(f"character {s.name}:")
            assert s.text.startswith(s.name)


def test_a_prompt_override_is_labelled_as_such():
    text = HEADER.format(style="ink", cast="", description="Ignored.", prompt="prompt!: @rain")
    (panel,) = checked_text(text).script.panels
    assert [(s.kind, s.source, s.span and s.span.line) for s in panel.prompt.sources] == [
        ("prompt!", "@rain", 12),
        ("snippet", "@rain", 4),
    ]
    assert panel.prompt.text.startswith("heavy rain on the windows")
