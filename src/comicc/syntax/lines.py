"""The Lark half of parsing: the transformer that turns each grammar rule into
a line node of the syntax tree, with its spans, and the syntax error reports.

Loaded by :mod:`comicc.syntax.parser` only when some text must really be
parsed: a script whose pages are all in the parse cache never loads Lark.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from typing import cast

import lark
from lark import Token

from comicc.diagnostics import Sink
from comicc.source import SourceFile, Span
from comicc.syntax import ast
from comicc.syntax.grammar import describe_expected, load_parser, parser
from comicc.syntax.numbers import digits_value, number_value

MAX_SYNTAX_ERRORS = 50

# what the transformer makes of one line of the script
Node = ast.Line | ast.PageHead | ast.PanelHead


def parse_lines(src: SourceFile, sink: Sink) -> list[Node] | None:
    """The lines of the whole text of ``src``; None (and every syntax error,
    up to :data:`MAX_SYNTAX_ERRORS`, reported to ``sink``) when it has any."""
    text = src.text if src.text.endswith("\n") else src.text + "\n"
    with _INLINE_LOCK:
        inline, lines = _inline()
        lines.use(src, 0)
        try:
            # with a transformer, Lark returns what `start` returns (not a Tree)
            return cast(list[Node], inline.parse(text))
        except lark.exceptions.UnexpectedInput as e:
            error: lark.exceptions.UnexpectedInput | None = e
        finally:
            lines.use(_NO_SOURCE, 0)
    errors = 0
    while error is not None:
        errors += 1
        pos = _report(src, text, error, sink)
        if errors >= MAX_SYNTAX_ERRORS or pos is None:
            return None
        blanked = _blank_line(text, pos)
        if blanked == text:  # nothing left to skip: stop here
            return None
        text = blanked
        try:
            parser().parse(text)
            error = None
        except lark.exceptions.UnexpectedInput as e:
            error = e
    return None


def parse_chunk(src: SourceFile, chunk: str, base: int) -> list[Node] | None:
    """The lines of ``chunk``, the text of ``src`` from offset ``base`` on; None
    when it has a syntax error (nothing is reported)."""
    with _INLINE_LOCK:
        inline, lines = _inline()
        lines.use(src, base)
        try:
            return cast(list[Node], inline.parse(chunk))
        except lark.exceptions.UnexpectedInput:
            return None
        finally:
            lines.use(_NO_SOURCE, 0)


# the transformer the inline parser calls, given each parse's source in turn
_INLINE_LOCK = threading.Lock()
_NO_SOURCE = SourceFile.from_text("", "<none>")


@functools.lru_cache(maxsize=1)
def _inline() -> tuple[lark.Lark, _Lines]:
    """The parser that builds the line nodes as it reduces, and its transformer."""
    lines = _Lines(_NO_SOURCE)
    return load_parser(lines), lines


# ---------------------------------------------------------------- errors


def _report(
    src: SourceFile, text: str, e: lark.exceptions.UnexpectedInput, sink: Sink
) -> int | None:
    if isinstance(e, lark.exceptions.UnexpectedToken):
        tok = e.token
        pos = tok.start_pos if tok.start_pos is not None else len(text) - 1
        if tok.type == "$END":
            pos = len(src.text)
        expected = describe_expected(e.expected)
        if tok.type in ("CONT", "ITEM", "ITEM_COMMENT", "CHAR_ATTR"):
            # these tokens start with the newline of the previous line
            pos += len(tok.value) - len(tok.value.lstrip("\n"))
            pos += len(text[pos:]) - len(text[pos:].lstrip(" \t"))
        found = _found(tok.type, tok.value)
        end = pos + max(1, len(str(tok.value).strip()) if tok.type != "_NL" else 1)
    elif isinstance(e, lark.exceptions.UnexpectedCharacters):
        pos = e.pos_in_stream or 0
        expected = describe_expected(e.allowed or ())
        found = f"`{text[pos]}`" if pos < len(text) and text[pos] != "\n" else "the end of the line"
        end = pos + 1
    else:  # UnexpectedEOF
        pos = len(src.text)
        eof_expected = e.expected if isinstance(e, lark.exceptions.UnexpectedEOF) else ()
        expected = describe_expected(eof_expected)
        found = "the end of the file"
        end = pos
    span = src.span(min(pos, len(src.text)), min(end, len(src.text)))
    line = src.line_text(span.line)
    msg, hints = _explain(line, found, expected)
    sink.error("syntax", msg, span, label=f"found {found}", hints=hints)
    return pos


def _found(kind: str, value: str) -> str:
    if kind == "_NL":
        return "the end of the line"
    if kind == "$END":
        return "the end of the file"
    v = str(value).strip()
    return f"`{v[:30]}`"


def _explain(line: str, found: str, expected: list[str]) -> tuple[str, list[str]]:
    stripped = line.strip()
    hints: list[str] = []
    exp = " or ".join(expected[:4]) if expected else "something else"
    if stripped.startswith("character") and ":" not in stripped:
        msg = "bad character definition: the name must be followed by `:`"
        hints.append("write it as `character NAME: what the character looks like`, NAME in CAPS")
    elif stripped.startswith("snippet") and ":" not in stripped:
        msg = "bad snippet definition: the name must be followed by `:`"
        hints.append("write it as `snippet name: prompt text`, name in lower case")
    elif stripped.startswith("character"):
        msg = f"bad character definition: expected {exp}, found {found}"
        hints.append("write it as `character NAME: what the character looks like`, NAME in CAPS")
    elif stripped.startswith("snippet"):
        msg = f"bad snippet definition: expected {exp}, found {found}"
        hints.append("write it as `snippet name: prompt text`, name in lower case")
    elif (
        re.match(r"(?i)pages?\b|panel\b", stripped) and found.startswith("`(") and ")" not in found
    ):
        msg = "bad heading: the note in parentheses is not closed with `)`"
        hints.append("add the closing `)`: `PAGE 1 (three panels)`")
    elif re.match(r"(?i)pages?\b|panel\b", stripped):
        msg = f"bad heading: expected {exp}, found {found}"
        hints.append("headings look like `PAGE 3`, `PAGE THREE (splash)`, `PAGES 4-5` or `PANEL 2`")
    elif re.match(r"[0-9]*\.?\s*[A-Z][A-Z0-9 .'\-]*\s*\(", stripped):
        msg = f"bad lettering line: expected {exp}, found {found}"
        hints.append("lettering looks like `2. HAMMY (WHISPER, OFF): text`")
    else:
        msg = f"expected {exp}, found {found}"
    return msg, hints


def _blank_line(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1 if pos > 0 else 0
    end = text.find("\n", pos)
    if end < 0:
        end = len(text)
    if start == end:  # error at a newline: blank the line it ends
        start = text.rfind("\n", 0, max(0, start - 1)) + 1
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


# ---------------------------------------------------------------- tree -> lines

_MOD_SPACES = re.compile(r"\s+")


class _Lines(lark.Transformer):
    """Turn each grammar rule into an AST line node with spans."""

    def __init__(self, src: SourceFile):
        super().__init__(visit_tokens=False)
        self.use(src, 0)

    def use(self, src: SourceFile, base: int) -> None:
        """Make the spans of the next parse in ``src``, of a text that starts
        at offset ``base`` of it (a chunk of it)."""
        self.src = src
        self.base = base
        self._size = len(src.text)
        self._make = src.span  # called for every token: looked up once
        self._path = src.path
        # Lark counts lines and columns in the parsed text: at a line start of
        # ``src`` (a chunk starts at one), its columns are the file's and its
        # lines this many before the file's (None: count them in ``src``)
        line = bisect.bisect_left(src.line_starts, base)
        self._lines: int | None = (
            line if line < len(src.line_starts) and src.line_starts[line] == base else None
        )

    def _at(self, tok: Token) -> int:
        """Where ``tok`` starts in ``src``."""
        assert tok.start_pos is not None  # the lexer positions every token
        return tok.start_pos + self.base

    def _to(self, tok: Token) -> int:
        """Where ``tok`` ends in ``src``."""
        assert tok.end_pos is not None
        return tok.end_pos + self.base

    def _span(self, start: int, end: int) -> Span:
        size = self._size
        return self._make(start, end if end < size else size)

    def _tok_span(self, tok: Token) -> Span:
        """The token's span without its leading and trailing whitespace."""
        base = self.base
        start: int = tok.start_pos + base  # type: ignore[operator]  # the lexer positions every token
        end: int = tok.end_pos + base  # type: ignore[operator]
        # a token is never empty; most have no whitespace at either end: then
        # its span is where the lexer found it, lines and columns included
        # (it ends before the newline that pads a text without a final one)
        lines = self._lines
        if lines is not None and not tok[0].isspace() and not tok[-1].isspace():
            return Span(
                self._path,
                start,
                end,
                tok.line + lines,  # type: ignore[operator]
                tok.column,  # type: ignore[arg-type]
                tok.end_line + lines,  # type: ignore[operator]
                tok.end_column,  # type: ignore[arg-type]
            )
        if tok[0].isspace():
            start += len(tok) - len(tok.lstrip())
        if tok[-1].isspace():
            end -= len(tok) - len(tok.rstrip())
        if end < start:
            end = start
        size = self._size
        return self._make(start, end if end < size else size)

    def start(self, items: list[Node]) -> list[Node]:
        return list(items)

    def number(self, items: list[Token]) -> ast.Number:
        tok = items[0]
        raw = str(tok).upper()
        return ast.Number(raw, number_value(raw), self._tok_span(tok))

    def page_head(self, items: list[Token | ast.Number]) -> ast.PageHead:
        kw, *rest = items
        assert isinstance(kw, Token)
        nums = tuple(x for x in rest if isinstance(x, ast.Number))
        notes = [x for x in rest if isinstance(x, Token)]
        note = str(notes[0])[1:-1].strip() if notes else None
        end = max([n.span.end for n in nums] + [self._to(x) for x in notes])
        return ast.PageHead(nums, note, self._span(self._at(kw), end))

    def panel_head(self, items: list[Token | ast.Number]) -> ast.PanelHead:
        kw, num, *rest = items
        assert isinstance(kw, Token) and isinstance(num, ast.Number)
        note_tok = rest[0] if rest and isinstance(rest[0], Token) else None
        note = str(note_tok)[1:-1].strip() if note_tok is not None else None
        end = self._to(note_tok) if note_tok is not None else num.span.end
        return ast.PanelHead(num, note, self._span(self._at(kw), end))

    def _definition(self, items: list[Token]) -> tuple[str, str, Span, Span]:
        """name, text, span and name span of a `character`/`snippet` line."""
        kw, name, *rest = items
        text = str(rest[0]).strip() if rest else ""
        end = self._to(rest[0]) if rest else self._to(name) + 1
        return str(name).strip(), text, self._span(self._at(kw), end), self._tok_span(name)

    def character_def(self, items: list[Token]) -> ast.CharacterDef:
        lines = [t for t in items if t.type in ("CHAR_ATTR", "ITEM_COMMENT")]
        head = [t for t in items if t.type not in ("CHAR_ATTR", "ITEM_COMMENT")]
        name, text, span, name_span = self._definition(head)
        attrs: list[ast.CharacterAttr | ast.Comment] = []
        for tok in lines:
            # CHAR_ATTR and ITEM_COMMENT tokens start with the newline before them
            body = str(tok).lstrip("\n \t")
            start = self._at(tok) + len(str(tok)) - len(body)
            end = start + len(body.rstrip())
            if tok.type == "ITEM_COMMENT":
                attrs.append(ast.Comment(body.rstrip(), self._span(start, end)))
                continue
            key, _, value = body.partition(":")
            vstart = start + len(key) + 1
            vstart += len(value) - len(value.lstrip())
            key_span = self._span(start, start + len(key.rstrip()))
            value_span = self._span(vstart, max(vstart, end))
            attrs.append(
                ast.CharacterAttr(
                    key.strip(), value.strip(), self._span(start, end), key_span, value_span
                )
            )
        if attrs:
            span = self._span(span.start, attrs[-1].span.end)
        return ast.CharacterDef(name, text, span, name_span, tuple(attrs))

    def snippet_def(self, items: list[Token]) -> ast.SnippetDef:
        return ast.SnippetDef(*self._definition(items))

    def setting(self, items: list[Token]) -> ast.Setting:
        key = items[0]
        value = None
        value_span = None
        list_items: list[ast.ListItem | ast.Comment] = []
        end = self._to(key) + 1
        for tok in items[1:]:
            if tok.type == "TEXT":
                value = str(tok).strip()
                value_span = self._tok_span(tok)
                end = self._to(tok)
                continue
            # ITEM and ITEM_COMMENT tokens start with the newline before them
            start = self._at(tok) + len(str(tok)) - len(str(tok).lstrip("\n \t"))
            if tok.type == "ITEM":
                body = str(tok).lstrip("\n \t")[1:]  # drop "-"
                lead = len(body) - len(body.lstrip())
                trail = len(body) - len(body.rstrip())
                item_span = self._span(start + 1 + lead, self._to(tok) - trail)
                list_items.append(ast.ListItem(body.strip(), item_span))
            else:  # ITEM_COMMENT
                list_items.append(ast.Comment(str(tok).strip(), self._span(start, self._to(tok))))
            end = self._to(tok)
        return ast.Setting(
            str(key),
            value,
            tuple(list_items),
            self._span(self._at(key), end),
            self._tok_span(key),
            value_span,
        )

    def mods(self, items: list[Token]) -> tuple[ast.Mod, ...]:
        out = []
        for tok in items:
            name = _MOD_SPACES.sub(" ", str(tok).strip()).upper()
            out.append(ast.Mod(name, self._tok_span(tok)))
        return tuple(out)

    def lettering(self, items: list[Token | tuple[ast.Mod, ...]]) -> ast.LetteringLine:
        number = None
        number_span = None
        mods: tuple[ast.Mod, ...] = ()
        lines: list[ast.LineText] = []
        cue_tok: Token | None = None
        first = items[0]
        for item in items:
            if isinstance(item, tuple):
                mods = item
            elif item.type == "BALLOON_NO":
                number = digits_value(str(item).rstrip("."))
                number_span = self._tok_span(item)
            elif item.type in ("CUE", "TITLE_LOWER"):
                cue_tok = item
            elif item.type == "TEXT":
                lines.append(ast.LineText(str(item).strip(), self._tok_span(item)))
            elif item.type == "CONT":
                if not lines:
                    lines.append(ast.LineText("", self._span(self._at(item), self._at(item))))
                lines.append(ast.LineText(str(item).strip(), self._tok_span(item)))
        assert cue_tok is not None  # the grammar requires a cue
        if not lines:
            lines.append(ast.LineText("", self._span(self._to(cue_tok), self._to(cue_tok))))
        start = self._at(first) if isinstance(first, Token) else self._at(cue_tok)
        end = max(lines[-1].span.end, self._to(cue_tok) + 1, *(m.span.end + 1 for m in mods))
        cue = str(cue_tok).strip()
        if cue.upper() in ast.RESERVED_CUES:  # `Caption:`, `sfx:` mean CAPTION, SFX
            cue = cue.upper()
        return ast.LetteringLine(
            number,
            cue,
            mods,
            tuple(lines),
            self._span(start, end),
            self._tok_span(cue_tok),
            number_span,
        )

    def comment(self, items: list[Token]) -> ast.Comment:
        return ast.Comment(str(items[0]).rstrip(), self._tok_span(items[0]))

    def note(self, items: list[Token]) -> ast.Note:
        return ast.Note(str(items[0]).strip(), self._tok_span(items[0]))

    def boneyard(self, items: list[Token]) -> ast.Boneyard:
        tok = items[0]
        text = "\n".join(line.rstrip() for line in str(tok).rstrip().split("\n"))
        return ast.Boneyard(text, tok.type == "BONEYARD", self._tok_span(tok))

    def description(self, items: list[Token]) -> ast.Description:
        return ast.Description(str(items[0]).strip(), self._tok_span(items[0]))
