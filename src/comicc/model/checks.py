"""Semantic checks that look across lines: numbering, word budgets, and
lints for prose lines that were probably meant as something else."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence, Set

from comicc.diagnostics import Label, Sink
from comicc.model import ir
from comicc.model.slips import lint_cue_lookalike
from comicc.source import SourceFile
from comicc.syntax import ast, number_word

# lettering.md: words per panel by panels on the page
PANEL_WORD_BUDGET = {1: 210, 2: 105, 3: 70, 4: 52, 5: 42, 6: 35, 7: 30, 8: 26, 9: 23}
BALLOON_WORD_BUDGET = 25


def _as_written(n: ast.Number, value: int) -> str:
    return number_word(value) if not n.raw.isdigit() and 0 < value < 100 else str(value)


_CONTENT = (
    ast.Setting,
    ast.CharacterDef,
    ast.SnippetDef,
    ast.Description,
    ast.LetteringLine,
    ast.Panel,
)


def check_not_empty(tree: ast.Script, path: str, sink: Sink) -> bool:
    """Report ``empty-script`` when the script has no pages; True when it has some."""
    if tree.pages:
        return True
    if not any(isinstance(node, _CONTENT) for node in tree.header):
        sink.error(
            "empty-script",
            "the script is empty: there is nothing to build",
            path=path,
            hints=[
                "a minimal script is `title: Hello`, `PAGE 1`, `PANEL 1` and a line of description"
            ],
        )
    else:
        sink.error(
            "empty-script",
            "the script has no pages",
            path=path,
            hints=["start the story with a `PAGE 1` heading, then `PANEL 1`"],
        )
    return False


def check_numbering(tree: ast.Script, src: SourceFile, sink: Sink) -> None:
    """Page, panel and lettering numbers of every page, in order."""
    pages = tree.pages
    check_page_numbers(
        [page.head for page in pages], sink, lambda i: check_page_numbering(pages[i], sink)
    )


def check_page_numbers(
    heads: Sequence[ast.PageHead], sink: Sink, each: Callable[[int], None]
) -> None:
    """The page numbers of ``heads`` (one page after the other), calling
    ``each(i)`` after the page ``i``'s own to report what is inside that page
    (:func:`check_page_numbering`, or what it reported before)."""
    prev: ast.PageHead | None = None
    expected = 1
    for i, head in enumerate(heads):
        first = head.numbers[0]
        if first.value != expected:
            if prev is not None and first.value <= prev.numbers[-1].value:
                sink.error(
                    "page-number",
                    f"page {first.raw} repeats or goes back: expected page "
                    f"{_as_written(first, expected)}",
                    first.span,
                    label=f"expected {expected}",
                    labels=[Label(prev.span, "previous page")],
                    hints=[
                        f"renumber this page {_as_written(first, expected)} (pages increase by one)"
                    ],
                )
            elif prev is None:
                sink.error(
                    "page-number",
                    f"the first page is numbered {first.raw}; expected {_as_written(first, 1)}",
                    first.span,
                    label="expected 1",
                    hints=["the script starts with `PAGE 1`"],
                )
            else:
                sink.error(
                    "page-number",
                    f"page numbers skip from {prev.numbers[-1].raw} to {first.raw}",
                    first.span,
                    label=f"expected {expected}",
                    labels=[Label(prev.span, "previous page")],
                    hints=[
                        f"renumber this page {_as_written(first, expected)}, "
                        "or add the missing page"
                    ],
                )
        if len(head.numbers) == 2 and head.numbers[1].value != first.value + 1:
            sink.error(
                "page-number",
                f"a spread covers two facing pages: `{first.raw}-{head.numbers[1].raw}` "
                "is not two consecutive pages",
                head.numbers[1].span,
                label=f"expected {first.value + 1}",
                hints=[f"write `PAGES {first.raw}-{_as_written(first, first.value + 1)}`"],
            )
        expected = (
            head.numbers[-1].value + 1
            if len(head.numbers) == 2 and head.numbers[1].value == first.value + 1
            else first.value + len(head.numbers)
        )
        if first.value != expected - len(head.numbers):
            expected = max(expected, first.value + len(head.numbers))
        prev = head
        each(i)


def check_page_numbering(page: ast.Page, sink: Sink) -> None:
    """What :func:`check_numbering` reports inside one page: its panel and
    lettering numbers, a page without panels."""
    first = page.head.numbers[0]
    _check_panels(page, sink)
    _check_balloon_numbers(page, sink)
    if not page.panels:
        sink.error(
            "empty-page",
            f"page {first.raw} has no panels",
            page.head.span,
            hints=["add `PANEL 1` and a description of what we see"],
        )


def _check_panels(page: ast.Page, sink: Sink) -> None:
    prev: ast.Panel | None = None
    for i, panel in enumerate(page.panels, start=1):
        n = panel.head.number
        if n.value != i:
            what = "repeats" if prev is not None and n.value <= prev.head.number.value else "skips"
            hint = (
                f"renumber it PANEL {_as_written(n, i)}: panel numbers restart at 1 on each page "
                "and increase by one"
            )
            labels = [Label(prev.head.span, "previous panel")] if prev is not None else []
            sink.error(
                "panel-number",
                f"panel number {n.raw} {what}: expected {i}",
                n.span,
                label=f"expected {i}",
                labels=labels,
                hints=[hint],
            )
        prev = panel


def _check_balloon_numbers(page: ast.Page, sink: Sink) -> None:
    index = 0
    for panel in page.panels:
        for node in panel.lines:
            if isinstance(node, ast.LetteringLine):
                index += 1
                if node.number is not None and node.number != index:
                    sink.error(
                        "balloon-number",
                        f"lettering number {node.number} is out of sequence: expected {index}",
                        node.number_span,
                        label=f"expected {index}",
                        hints=[
                            "lettering numbers run 1, 2, 3... across the page, counting every "
                            "balloon, caption and SFX; `comicc fmt` does not renumber, "
                            "so fix it by hand"
                        ],
                    )


def check_words(script: ir.Script, sink: Sink) -> None:
    """Word budgets of every balloon and panel (warnings)."""
    for page in script.pages:
        check_page_words(page, sink)


def check_page_words(page: ir.Page, sink: Sink) -> None:
    """The word budgets of one page's balloons and panels."""
    budget = PANEL_WORD_BUDGET.get(len(page.panels), 23)
    for panel in page.panels:
        total = 0
        for balloon in panel.balloons:
            if balloon.kind in (ir.BalloonKind.SFX, ir.BalloonKind.TITLE):
                continue
            words = balloon.words
            total += words
            if words > BALLOON_WORD_BUDGET:
                sink.warning(
                    "balloon-words",
                    f"{words} words in one balloon (budget {BALLOON_WORD_BUDGET})",
                    balloon.span,
                    hints=[
                        "split it into two balloons, or cut words: "
                        "a balloon should be read in one breath"
                    ],
                )
        if total > budget:
            sink.warning(
                "panel-words",
                f"{total} words in panel {panel.number} (budget {budget} for a "
                f"{len(page.panels)}-panel page)",
                panel.span,
                hints=["move some lettering to another panel, or cut words"],
            )


_HEADING_LIKE = re.compile(r"(PAGES?|PANEL)\b\s*(\S.*)?$")
_NUMBERED_CUE = re.compile(r"\d+\.?\s*[A-Z][A-Z0-9 .'\-]*?\s*[(:]")
_CUE_PAREN = re.compile(r"[A-Z][A-Z0-9 .'\-]*?\s*\(")


def lint_prose(
    node: ast.Description, src: SourceFile, sink: Sink, names: Set[str], where: str
) -> bool:
    """Prose that was probably meant as a heading or a lettering line (errors),
    or as dialogue (warnings, :mod:`comicc.model.slips`). Returns True when it
    reported an error."""
    text = node.text
    m = _HEADING_LIKE.match(text)
    if m:
        kw = m.group(1)
        rest = (m.group(2) or "").split()
        shown = rest[0] if rest else "nothing"
        sink.error(
            "bad-heading",
            f"this looks like a {kw} heading, but `{shown}` is not a number",
            node.span,
            hints=[f"write `{kw} 3` or `{kw} THREE`; number words go from ONE to NINETY-NINE"],
        )
        return True
    if _NUMBERED_CUE.match(text) or (_CUE_PAREN.match(text) and ":" in text):
        paren = text.find("(")
        span = (
            src.span(node.span.start + paren, node.span.start + paren + 1)
            if paren >= 0
            else node.span
        )
        cue_match = re.match(r"(?:\d+\.?\s*)?([A-Z][A-Z0-9 .'\-]*?)\s*[(:]", text)
        who = f" after `{cue_match.group(1)}`" if cue_match else ""
        if paren >= 0 and ")" not in text[paren:]:
            message = f"unclosed `(`{who}: this lettering line does not parse"
        else:
            message = "this looks like a lettering line but it does not parse"
        sink.error(
            "bad-lettering",
            message,
            span,
            hints=[
                "lettering looks like `2. HAMMY (WHISPER, OFF): text`: a number and a space, "
                "the speaker in CAPS, one pair of parentheses, then a colon"
            ],
        )
        return True
    lint_cue_lookalike(node, src, sink, names)
    return False
