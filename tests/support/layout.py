"""Hand-built IR scripts and a theme for the layout tests (no parser needed)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from comicc.model import ir
from comicc.source import Span
from comicc.theme import BalloonStyle, FontSpec, PageFormat, Theme

US = PageFormat("us-comic", 477.0, 738.0, 9.0, 22.5)
MANGA = PageFormat("manga-b6", 362.83, 515.91, 8.5, 8.5, spine_margin=6.0)


def make_theme(**over: object) -> Theme:
    fields: dict[str, Any] = dict(
        name="test",
        path="<test>",
        formats={"us-comic": US, "manga-b6": MANGA},
        gutter_tier=14.0,
        gutter_within=9.0,
        border_width=2.0,
        border_color="#000000",
        page_color="#ffffff",
        lettering=FontSpec("Kalam", 7.5, 8.6),
        emphasis=FontSpec("Kalam", 7.5, 8.6, "bolditalic"),
        caption=FontSpec("Kalam", 7.5, 8.6),
        sfx=FontSpec("Luckiest Guy", 22.0, 24.0),
        title=FontSpec("Titan One", 20.0, 23.0),
        small_scale=0.8,
        all_caps=True,
        balloon_padding=5.0,
        caption_padding=4.0,
        caption_fill="#fff6c8",
        caption_colors={"HAMMY": "#ffe0d0"},
        balloon_styles={
            "speech": BalloonStyle(1.0),
            "thought": BalloonStyle(1.0),
            "whisper": BalloonStyle(1.0, dash=(3.0, 2.0)),
            "shout": BalloonStyle(1.6),
            "electronic": BalloonStyle(1.0),
            "caption": BalloonStyle(0.8),
            "note": BalloonStyle(0.6),
            "sfx": BalloonStyle(0.0, text_color="#c01010"),
            "title": BalloonStyle(0.0),
        },
        fallback_fonts=("DejaVu Sans",),
        prompt_template="",
        character_template="",
        negative="",
    )
    fields.update(over)
    return Theme(**fields)


_SPAN_LINE = [100]


def span(line: int) -> Span:
    return Span("test.comic", 0, 1, line, 1, line, 2)


def runs(text: str) -> tuple[ir.TextRun, ...]:
    """``*word*`` marks emphasis, as in the language."""
    out = []
    for i, part in enumerate(re.split(r"\*", text)):
        if part:
            out.append(ir.TextRun(part, emphasis=bool(i % 2)))
    return tuple(out)


KIND_MODS = {
    "WHISPER": ir.BalloonKind.WHISPER,
    "SHOUT": ir.BalloonKind.SHOUT,
    "THOUGHT": ir.BalloonKind.THOUGHT,
    "ELECTRONIC": ir.BalloonKind.ELECTRONIC,
    "CAPTION": ir.BalloonKind.CAPTION,
    "V.O.": ir.BalloonKind.CAPTION,
}
CUE_KINDS = {
    "CAPTION": ir.BalloonKind.CAPTION,
    "SFX": ir.BalloonKind.SFX,
    "NOTE": ir.BalloonKind.NOTE,
    "TITLE": ir.BalloonKind.TITLE,
}


def balloon(
    cue: str,
    text: str,
    *mods: str,
    page: int = 1,
    panel: int = 1,
    index: int = 1,
    line: int | None = None,
) -> ir.Balloon:
    mods = tuple(m.upper() for m in mods)
    kind = CUE_KINDS.get(cue, ir.BalloonKind.SPEECH)
    for m in mods:
        kind = KIND_MODS.get(m, kind)
    linked = text.rstrip().endswith("--")
    return ir.Balloon(
        id=f"p{page}.{panel}.b{index}",
        index=index,
        number=None,
        cue=cue,
        speaker=None if cue in CUE_KINDS else cue,
        kind=kind,
        mods=mods,
        off_panel=any(m in ("OFF", "OP", "O.S.") for m in mods),
        small=any(m in ("SMALL", "WEAK") for m in mods),
        contd=any(m in ("CONT'D", "CONT") for m in mods),
        linked_next=linked,
        runs=runs(text),
        span=span(line if line is not None else index + 10),
    )


def panel(
    number: int,
    items: list[tuple],
    cast: dict[str, tuple[float, float]] | None = None,
    page: int = 1,
    width: float = 1.0,
    bleed=(),
    first_index: int = 1,
) -> ir.Panel:
    """``items``: (cue, text, *mods) tuples in reading order."""
    bs = tuple(
        balloon(it[0], it[1], *it[2:], page=page, panel=number, index=first_index + k)
        for k, it in enumerate(items)
    )
    cs = tuple(ir.CastPosition(n, x, y, True, None) for n, (x, y) in (cast or {}).items())
    return ir.Panel(
        id=f"p{page}.{number}",
        page=page,
        number=number,
        note=None,
        description="",
        prompt=ir.Prompt("", ""),
        cast=cs,
        balloons=bs,
        width=width,
        bleed=frozenset(bleed),
        span=span(number),
    )


def page(
    number: int,
    panels: Sequence[list[tuple] | ir.Panel],
    layout: tuple[int, ...] | None = None,
    heights=None,
    numbers=None,
    casts=None,
) -> ir.Page:
    built, idx = [], 1
    for i, p in enumerate(panels):
        if isinstance(p, ir.Panel):
            built.append(p)
        else:
            cast = (casts or {}).get(i + 1)
            built.append(panel(i + 1, p, cast, page=number, first_index=idx))
            idx += len(p)
    spec = (
        ir.LayoutSpec(tuple(layout), tuple(heights) if heights else None, None, None)
        if layout
        else None
    )
    return ir.Page(number, tuple(numbers or (number,)), None, spec, tuple(built), None)


def script(pages: list[ir.Page], reading: str = "ltr") -> ir.Script:
    return ir.Script(
        "test.comic", ir.Metadata("Test"), "classic", "us-comic", reading, (), (), tuple(pages)
    )
