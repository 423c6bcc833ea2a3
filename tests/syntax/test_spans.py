"""Every span the parser makes locates its offsets as the source's line index
does: the lines and columns the lexer counted (a token's span is taken from
them) are those of :meth:`SourceFile.line_col`, in a whole parse and in a
chunk of a longer text alike."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from comicc.diagnostics import Sink
from comicc.source import SourceFile, Span
from comicc.syntax.chunks import split_chunks
from comicc.syntax.lines import parse_chunk, parse_lines
from comicc.syntax.parser import padded_text

LINES = [
    "PAGE 1",
    "PAGES 2-3 (a spread)",
    "PANEL 1",
    "Panel two (wide)",
    "/* cut",
    "still cut */",
    "text /* inline */ more",
    "HAMMY: Cheese!   ",
    "1. HAMMY (WHISPER ,  OFF ): *Cheese*",
    "2. OFFICER BRUIN: FREEZE!",
    "  and more cheese  ",
    "\tand a tab",
    "Caption: Midnight.",
    "prompt:",
    "  - @moonlight  ",
    "- wide shot",
    "  # - dutch angle",
    "# a comment   ",
    "",
    "   ",
    "character HAMMY: a hamster  ",
    "  ref: refs/hammy.png ",
    "snippet ink: clean inks",
    "title:   Test",
    "layout: 2/1",
    "[[ letterer: small ]]",
    "A kitchen at night, é日 and all.",
    "Un café (l'été) : 日本",
]


def _spans(x: object, out: list[Span]) -> list[Span]:
    if isinstance(x, Span):
        out.append(x)
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x):
            _spans(getattr(x, f.name), out)
    elif isinstance(x, (tuple, list)):
        for y in x:
            _spans(y, out)
    return out


def _located(src: SourceFile, spans: list[Span]) -> None:
    for sp in spans:
        assert sp.path == src.path
        assert (sp.line, sp.col) == src.line_col(sp.start), sp
        assert (sp.end_line, sp.end_col) == src.line_col(sp.end), sp


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=40), st.booleans())
def test_every_span_of_a_parse_is_where_the_line_index_puts_it(
    lines: list[str], newline: bool
) -> None:
    src = SourceFile.from_text("\n".join(lines) + ("\n" if newline else ""), "spans.comic")
    whole = parse_lines(src, Sink())
    if whole is not None:
        _located(src, _spans(whole, []))
    text = padded_text(src)
    for start, end in split_chunks(text):
        nodes = parse_chunk(src, text[start:end], start)
        if nodes is not None:
            _located(src, _spans(nodes, []))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab \n\t日", max_size=40), st.data())
def test_a_span_locates_both_ends_as_line_col_does(text: str, data: st.DataObject) -> None:
    src = SourceFile.from_text(text, "index.comic")
    start = data.draw(st.integers(-3, len(src.text) + 3))
    end = data.draw(st.none() | st.integers(-3, len(src.text) + 3))
    sp = src.span(start, end)
    stop = start if end is None else end
    assert (sp.start, sp.end) == (start, stop)
    assert (sp.line, sp.col) == src.line_col(start)
    assert (sp.end_line, sp.end_col) == src.line_col(stop)
