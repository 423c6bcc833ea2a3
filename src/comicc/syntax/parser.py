"""Parse a .comic source into the syntax tree (:mod:`comicc.syntax.ast`).

Lark's LALR parser gives a flat sequence of lines (:mod:`comicc.syntax.lines`);
:func:`fold` nests them into header, pages and panels. A long script is
parsed page by page (:func:`parse_chunked`, :mod:`comicc.syntax.chunks`), each
page's lines kept in the parse cache, so checking it again parses only the
pages that changed, and when every page is in the cache Lark is not even
loaded. Syntax errors are collected, not fatal: the offending line is blanked
out and parsing resumes, so one run reports every broken line (up to a limit).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from comicc.diagnostics import Sink
from comicc.source import SourceFile
from comicc.syntax import ast
from comicc.syntax.chunks import (
    Invalid,
    ParseCache,
    chunk_digest,
    decode_lines,
    encode_lines,
    open_cache,
    split_chunks,
)

# from this many lines on, a script is parsed page by page through the parse
# cache; a shorter one only when it was read from its file (`parse(cached=True)`:
# a text in memory, a test's or the studio's, writes no cache file)
CHUNKED_MIN_LINES = 400

# what the transformer makes of one line of the script
_Node = ast.Line | ast.PageHead | ast.PanelHead


def parse(src: SourceFile, sink: Sink, *, cached: bool = False) -> ast.Script | None:
    """Parse ``src``; report problems to ``sink``; None if the syntax is broken.

    The first attempt builds the lines as the parser goes (the transformer runs
    inline: no parse tree is made); after a syntax error, the attempts that
    look for more errors only parse, as their lines are not used. ``cached``:
    ``src`` is a script read from its file, kept in the parse cache whatever
    its length (checking it again unchanged loads no parser at all)."""
    long = src.line_count >= CHUNKED_MIN_LINES
    if long or cached:
        cache = open_cache(src)
        if long or cache is not None:
            found = parse_chunked(src, cache)
            if found is not None:
                return fold(src, found)
        # a syntax error: the whole text is parsed again, to report it as ever
    from comicc.syntax.lines import parse_lines

    nodes = parse_lines(src, sink)
    return None if nodes is None else fold(src, nodes)


def parse_chunked(src: SourceFile, cache: ParseCache | None = None) -> list[_Node] | None:
    """The lines of ``src``, parsed chunk by chunk (:func:`split_chunks`):
    exactly the lines a whole parse gives. A chunk found in ``cache`` is not
    parsed again (nor Lark loaded for it); the ones parsed are saved there.
    None when a chunk has a syntax error (nothing is reported: :func:`parse`
    reports it)."""
    text = padded_text(src)
    out: list[_Node] = []
    for start, end in split_chunks(text):
        nodes = chunk_lines(src, text, start, end, cache)
        if nodes is None:
            return None
        out.extend(nodes)
    if cache is not None:
        cache.save()
    return out


def padded_text(src: SourceFile) -> str:
    """The text of ``src`` ending in a newline, as it is cut into chunks."""
    return src.text if src.text.endswith("\n") else src.text + "\n"


def chunk_lines(
    src: SourceFile, text: str, start: int, end: int, cache: ParseCache | None
) -> list[_Node] | None:
    """The lines of the chunk ``text[start:end]`` (``text``: :func:`padded_text`),
    from ``cache`` or parsed (and put there); None on a syntax error."""
    chunk = text[start:end]
    line_base = bisect.bisect_left(src.line_starts, start)
    digest = chunk_digest(chunk, not src.text.endswith("\n") and end == len(text))
    saved = cache.get(digest) if cache is not None else None
    if saved is not None and cache is not None:
        try:
            return decode_lines(saved, src.path, start, line_base)
        except Invalid:
            cache.drop(digest)
    from comicc.syntax.lines import parse_chunk

    nodes = parse_chunk(src, chunk, start)
    if nodes is not None and cache is not None:
        cache.put(digest, encode_lines(nodes, start, line_base))
    return nodes


# ---------------------------------------------------------------- folding


def fold(src: SourceFile, lines: Iterable[_Node]) -> ast.Script:
    """Nest a sequence of lines into header, pages and panels."""
    header: list[ast.Line | ast.Panel] = []
    pages: list[ast.Page] = []
    page_head: ast.PageHead | None = None
    page_lines: list[ast.Line] = []
    panels: list[ast.Panel] = []
    panel_head: ast.PanelHead | None = None
    panel_lines: list[ast.Line] = []

    def close_panel() -> None:
        nonlocal panel_head, panel_lines
        if panel_head is not None:
            end = panel_lines[-1].span.end if panel_lines else panel_head.span.end
            p = ast.Panel(panel_head, tuple(panel_lines), src.span(panel_head.span.start, end))
            if page_head is None:
                header.append(p)
            else:
                panels.append(p)
        panel_head, panel_lines = None, []

    def close_page() -> None:
        nonlocal page_head, page_lines, panels
        close_panel()
        if page_head is not None:
            last = (
                panels[-1].span.end
                if panels
                else (page_lines[-1].span.end if page_lines else page_head.span.end)
            )
            pages.append(
                ast.Page(
                    page_head,
                    tuple(page_lines),
                    tuple(panels),
                    src.span(page_head.span.start, last),
                )
            )
        page_head, page_lines, panels = None, [], []

    for node in lines:
        if isinstance(node, ast.PageHead):
            close_page()
            page_head = node
        elif isinstance(node, ast.PanelHead):
            close_panel()
            panel_head = node
        elif panel_head is not None:
            panel_lines.append(node)
        elif page_head is not None:
            page_lines.append(node)
        else:
            header.append(node)
    close_page()
    return ast.Script(src.path, tuple(header), tuple(pages))
