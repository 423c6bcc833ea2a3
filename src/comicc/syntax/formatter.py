"""The canonical formatter behind ``comicc fmt``.

It rewrites each line in canonical form and keeps everything else: comments,
``[[notes]]``, ``/* boneyard */`` and the writer's paragraphing. Rules:

- headings: ``PAGE``/``PAGES``/``PANEL`` in capitals, number words in
  capitals, note in parentheses after one space;
- settings: ``key: value``; list items indented two spaces as ``- item``;
- a character's ``ref:``/``lora:`` lines indented two spaces as ``key: value``;
- lettering: ``n. CUE (MOD, MOD): text`` with the number followed by a dot,
  MODs in capitals; continuation lines indented two spaces;
- trailing whitespace removed; runs of blank lines collapse to one; a blank
  line before every PAGE and PANEL heading (above any comments attached to
  the heading); exactly one newline at the end of the file.

Formatting keeps the tree (``parse(format_script(t)) == t``) and is a fixed
point: property tests in ``tests/syntax/test_fmt_properties.py``, exact cases
in ``tests/data/fmt``.
"""

from __future__ import annotations

from collections.abc import Iterator

from comicc.syntax import ast

_Node = ast.Line | ast.PageHead | ast.PanelHead


def format_script(tree: ast.Script) -> str:
    """The canonical text of ``tree``."""
    items = list(_flatten(tree))
    out: list[str] = []
    blank_before = [False] * len(items)
    for i, node in enumerate(items):
        if i > 0 and node.span.line > items[i - 1].span.end_line + 1:
            blank_before[i] = True
    # headings get a blank line above them (above their attached comments)
    for i, node in enumerate(items):
        if isinstance(node, (ast.PageHead, ast.PanelHead)) and i > 0:
            j = i
            while (
                j - 1 >= 0
                and isinstance(items[j - 1], (ast.Comment, ast.Note))
                and not blank_before[j]
            ):
                j -= 1
            if j == 0:
                j = i
            blank_before[j] = True
    for i, node in enumerate(items):
        if blank_before[i] and out:
            out.append("")
        out.append(_line(node))
    return "\n".join(out) + "\n" if out else ""


def _flatten(tree: ast.Script) -> Iterator[_Node]:
    for node in tree.header:
        if isinstance(node, ast.Panel):
            yield node.head
            yield from node.lines
        else:
            yield node
    for page in tree.pages:
        yield page.head
        yield from page.lines
        for panel in page.panels:
            yield panel.head
            yield from panel.lines


def _note(note: str | None) -> str:
    return f" ({note})" if note is not None else ""


def _line(node: _Node) -> str:
    if isinstance(node, ast.PageHead):
        nums = "-".join(n.raw for n in node.numbers)
        kw = "PAGES" if len(node.numbers) > 1 else "PAGE"
        return f"{kw} {nums}{_note(node.note)}"
    if isinstance(node, ast.PanelHead):
        return f"PANEL {node.number.raw}{_note(node.note)}"
    if isinstance(node, ast.CharacterDef):
        lines = [f"character {node.name}: {node.text}".rstrip()]
        for attr in node.attrs:
            if isinstance(attr, ast.CharacterAttr):
                lines.append(f"  {attr.key}: {attr.value}".rstrip())
            else:
                lines.append(f"  {attr.text}")
        return "\n".join(lines)
    if isinstance(node, ast.SnippetDef):
        return f"snippet {node.name}: {node.text}".rstrip()
    if isinstance(node, ast.Setting):
        head = f"{node.key}: {node.value}" if node.value else f"{node.key}:"
        lines = [head]
        for item in node.items:
            if isinstance(item, ast.ListItem):
                lines.append(f"  - {item.text}".rstrip())
            else:
                lines.append(f"  {item.text}")
        return "\n".join(lines)
    if isinstance(node, ast.LetteringLine):
        num = f"{node.number}. " if node.number is not None else ""
        mods = f" ({', '.join(m.name for m in node.mods)})" if node.mods else ""
        first, *rest = node.lines
        head = f"{num}{node.cue}{mods}: {first.text}".rstrip()
        return "\n".join([head] + [f"  {t.text}" for t in rest])
    return node.text  # Comment, Note, Boneyard, Description: kept as written
