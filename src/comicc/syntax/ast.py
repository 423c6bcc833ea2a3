"""The syntax tree of a .comic script: frozen dataclasses, each with a span.

Spans are excluded from equality (``compare=False``), so
``parse(format_script(t)) == t`` compares meaning-bearing content only. Values are stored in the
canonical form the formatter writes (upper-case MODs and number words,
stripped text), so formatting never changes the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from comicc.source import Span, span_field

# the cues with a fixed meaning (not speakers); written in any case, they are
# stored (and formatted) in capitals
RESERVED_CUES = ("CAPTION", "SFX", "NOTE", "TITLE")


@dataclass(frozen=True)
class Number:
    raw: str  # "3", "ONE", "TWENTY-ONE" (words upper-cased)
    value: int
    span: Span = span_field()


@dataclass(frozen=True)
class PageHead:
    numbers: tuple[Number, ...]  # one, or two for a spread (PAGES 4-5)
    note: str | None  # text inside the parentheses
    span: Span = span_field()


@dataclass(frozen=True)
class PanelHead:
    number: Number
    note: str | None
    span: Span = span_field()


@dataclass(frozen=True)
class CharacterAttr:
    """An indented ``key: value`` line under a character (``ref: refs/hammy.png``,
    ``lora: hammy-v2:0.8``); the lowering checks the key and the value."""

    key: str  # lower case, as written: "ref", "lora"
    value: str  # stripped; "" when empty
    span: Span = span_field()
    key_span: Span = span_field()
    value_span: Span = span_field()


@dataclass(frozen=True)
class CharacterDef:
    name: str
    text: str
    span: Span = span_field()  # the definition line and its indented lines
    name_span: Span = span_field()
    attrs: tuple[CharacterAttr | Comment, ...] = ()  # the indented lines, in order


@dataclass(frozen=True)
class SnippetDef:
    name: str
    text: str
    span: Span = span_field()
    name_span: Span = span_field()


@dataclass(frozen=True)
class ListItem:
    text: str  # without the leading "- "
    span: Span = span_field()


@dataclass(frozen=True)
class Comment:
    text: str  # including the leading "#"
    span: Span = span_field()


@dataclass(frozen=True)
class Setting:
    key: str  # "seed", "stability.style_preset", "prompt!"
    value: str | None  # inline value, None if empty
    items: tuple[ListItem | Comment, ...] = ()
    span: Span = span_field()
    key_span: Span = span_field()
    value_span: Span | None = span_field()


@dataclass(frozen=True)
class Mod:
    name: str  # upper-case, stripped: "WHISPER", "CONT'D"
    span: Span = span_field()


@dataclass(frozen=True)
class LineText:
    text: str
    span: Span = span_field()


@dataclass(frozen=True)
class LetteringLine:
    number: int | None
    cue: str  # as written; a reserved cue in capitals
    mods: tuple[Mod, ...]
    lines: tuple[LineText, ...]  # first line, then continuation lines
    span: Span = span_field()
    cue_span: Span = span_field()
    number_span: Span | None = span_field()


@dataclass(frozen=True)
class Note:
    text: str  # the whole "[[ ... ]]"
    span: Span = span_field()


@dataclass(frozen=True)
class Boneyard:
    text: str  # the whole "/* ... */", lines right-stripped
    closed: bool = True
    span: Span = span_field()


@dataclass(frozen=True)
class Description:
    text: str
    span: Span = span_field()


Line = CharacterDef | SnippetDef | Setting | LetteringLine | Comment | Note | Boneyard | Description


@dataclass(frozen=True)
class Panel:
    head: PanelHead
    lines: tuple[Line, ...]
    span: Span = span_field()


@dataclass(frozen=True)
class Page:
    head: PageHead
    lines: tuple[Line, ...]  # page-level lines, before the first PANEL
    panels: tuple[Panel, ...]
    span: Span = span_field()


@dataclass(frozen=True)
class Script:
    path: str
    header: tuple[Line | Panel, ...]  # a Panel here is misplaced (before any PAGE)
    pages: tuple[Page, ...]
