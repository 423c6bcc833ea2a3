"""Byte-preserving one-line edits of a ``.comic`` script: switch a prompt item
or a style snippet on and off, write ``pick:`` and ``variants:``.

The script stays the single source of truth: the studio (``comicc preview``)
and ``comicc explore --apply`` change it through these functions, and each
edit touches exactly one line (or inserts one), keeping everything else byte
for byte -- the BOM, ``\\r\\n`` line endings, indentation, trailing text -- so
``git diff`` shows one line and ``comicc fmt`` has nothing new to say.

**Toggles.** A toggle is one line of a ``prompt:`` (or ``prompt!:``) or
``style:`` *list*, one item per line (docs/language.md, "prompt: -- adding to
the prompt"). Switching it off comments the line out: ``  - @noir`` becomes
``  # - @noir`` (``# `` inserted after the indentation); switching it on
removes that marker (``#`` and the blanks up to the ``-``). A commented-out
item is still found as a toggle when it is a comment of the list (indented,
or followed by another item) or a ``# - item`` comment line right after the
list. An *inline* value (``style: @ink, @grain``, ``prompt: low angle``) is
one line holding several parts: it is not a toggle; write it as a list to
switch its parts one by one.

The toggles of a panel are the lines its prompt is made of: the ``prompt:``
items of the header, of its page and of the panel itself (they add up), then
the items of the ``style:`` in force (the panel's, else the page's, else the
header's: a style replaces). A panel with ``prompt!:`` has only that list's
items. A toggle written in the header or on the page changes every panel
that inherits it (``Toggle.scope`` says where it is written).

Scripts are read as text without newline translation (:func:`read_script`);
line numbers are the 1-based lines of ``comicc check`` (a ``\\r\\n`` counts as
one line break, as a lone ``\\r`` does).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from comicc.diagnostics import Sink, did_you_mean
from comicc.files import FileRefused, write_bytes_atomic
from comicc.pipeline.compile import check_source
from comicc.source import MAX_SOURCE_BYTES, SourceFile, read_capped
from comicc.syntax import ast, parse

PROMPT_KEYS = ("prompt", "prompt!")
STYLE_KEY = "style"
VARIANTS_RANGE = (1, 16)  # as the language's `variants:`
_REF = re.compile(r"p?([0-9]{1,4})\.([0-9]{1,4})")
_COMMENTED_ITEM = re.compile(r"#[ \t]*-(?=[ \t]|$)")
_LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")


class EditError(Exception):
    """An edit that cannot be made; the message is for the writer."""


@dataclass(frozen=True)
class Toggle:
    """One switchable line of a panel: a ``prompt:`` item or a ``style:`` snippet."""

    line: int  # 1-based line in the script
    text: str  # the item as written, without the comment marker: "- @noir"
    label: str  # what the UI shows: "@noir", "dutch angle"
    kind: str  # "item" | "style"
    enabled: bool  # False when the line is commented out with '#'
    scope: str = "panel"  # where it is written: "panel" | "page" | "header"


# ------------------------------------------------------------------ lines
def _split(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The BOM (or "") and each line as (content, line ending)."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    lines = [(m.group(1), m.group(2)) for m in _LINE.finditer(body)]
    if lines and lines[-1] == ("", ""):
        lines.pop()  # the empty match at the end of the text
    return bom, lines


def _join(bom: str, lines: Iterable[tuple[str, str]]) -> str:
    return bom + "".join(content + ending for content, ending in lines)


def _ending(lines: list[tuple[str, str]]) -> str:
    """The line ending most lines of the script use (``\\n`` for none)."""
    counts: dict[str, int] = {}
    for _, ending in lines:
        if ending:
            counts[ending] = counts.get(ending, 0) + 1
    return max(counts, key=lambda e: counts[e]) if counts else "\n"


def read_script(path: str | Path) -> str:
    """The script's text exactly as on disk (BOM and ``\\r\\n`` kept), for the
    edits here and :func:`write_script`. Raises EditError when it cannot be read."""
    try:
        return read_capped(Path(path), MAX_SOURCE_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise EditError(f"{path} is not UTF-8 text") from None
    except Exception as e:  # InputRefused, OSError: said in words
        raise EditError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None


# ------------------------------------------------------------------ the tree
def _tree(text: str) -> ast.Script:
    tree = parse(SourceFile.from_text(text, "<edit>"), Sink())
    if tree is None:
        raise EditError("the script does not parse: fix it (`comicc check`) before editing it")
    return tree


def parse_ref(panel: str) -> tuple[int, int]:
    """``"2.1"`` (or ``"p2.1"``) -> (page, panel); EditError when it is not one."""
    m = _REF.fullmatch(panel.strip())
    if m is None:
        raise EditError(f"`{panel}` is not a panel: write PAGE.PANEL, e.g. `1.2`")
    return int(m.group(1)), int(m.group(2))


def find_panel(tree: ast.Script, panel: str) -> tuple[ast.Page, ast.Panel]:
    """The page and panel ``panel`` (``"2.1"``) names in ``tree``; EditError if none."""
    page_no, panel_no = parse_ref(panel)
    for page in tree.pages:
        if page.head.numbers[0].value != page_no:
            continue
        for p in page.panels:
            if p.head.number.value == panel_no:
                return page, p
        raise EditError(f"page {page_no} has no panel {panel_no}")
    raise EditError(f"the script has no page {page_no}")


def _settings(lines: Iterable[object], keys: tuple[str, ...]) -> Iterator[ast.Setting]:
    return (n for n in lines if isinstance(n, ast.Setting) and n.key in keys)


def _list_toggles(
    lines: tuple[object, ...],
    setting: ast.Setting,
    kind: str,
    scope: str,
    raw: list[tuple[str, str]],
) -> list[Toggle]:
    """The items of ``setting`` (a node of ``lines``) as toggles, with the
    ``# - item`` comment lines right after it."""
    nodes: list[ast.ListItem | ast.Comment] = list(setting.items)
    after = next(i for i, n in enumerate(lines) if n is setting) + 1  # nodes compare by value
    while after < len(lines) and isinstance(lines[after], ast.Comment):
        nodes.append(lines[after])  # type: ignore[arg-type]  # checked just above
        after += 1
    out = []
    for node in nodes:
        line = node.span.line
        content = raw[line - 1][0] if line <= len(raw) else ""
        stripped = content.lstrip(" \t")
        if isinstance(node, ast.ListItem):
            out.append(Toggle(line, stripped.rstrip(), node.text, kind, True, scope))
            continue
        m = _COMMENTED_ITEM.match(stripped)
        if m is None:
            continue
        shown = stripped[m.end() - 1 :].rstrip()  # from the "-"
        label = shown[1:].strip()
        if label:
            out.append(Toggle(line, shown, label, kind, False, scope))
    return out


def _panel_toggles(
    tree: ast.Script, page: ast.Page, panel: ast.Panel, raw: list[tuple[str, str]]
) -> list[Toggle]:
    header: tuple[object, ...] = tuple(n for n in tree.header if not isinstance(n, ast.Panel))
    own: tuple[object, ...] = tuple(panel.lines)
    scopes = (("header", header), ("page", tuple(page.lines)), ("panel", own))
    replacing = list(_settings(own, ("prompt!",)))
    if replacing:
        return [t for s in replacing for t in _list_toggles(own, s, "item", "panel", raw)]
    out: list[Toggle] = []
    for scope, lines in scopes:
        for s in _settings(lines, ("prompt",)):
            out += _list_toggles(lines, s, "item", scope, raw)
    for scope, lines in reversed(scopes):
        styles = list(_settings(lines, (STYLE_KEY,)))
        if styles:
            out += _list_toggles(lines, styles[-1], "style", scope, raw)
            break
    return out


def toggles(text: str, panel: str) -> list[Toggle]:
    """The toggles of ``panel`` (``"2.1"``: page 2, panel 1) in prompt order,
    switched-off ones included (see the module doc). EditError for a panel the
    script does not have, or a script that does not parse."""
    tree = _tree(text)
    page, p = find_panel(tree, panel)
    return _panel_toggles(tree, page, p, _split(text)[1])


def _all_toggle_lines(text: str) -> set[int]:
    """Every line of the script that is a toggle of some panel (or of a
    ``prompt:``/``style:`` list no panel inherits)."""
    tree = _tree(text)
    raw = _split(text)[1]
    blocks: list[tuple[object, ...]] = [
        tuple(n for n in tree.header if not isinstance(n, ast.Panel))
    ]
    for page in tree.pages:
        blocks.append(tuple(page.lines))
        blocks += [tuple(p.lines) for p in page.panels]
    found: set[int] = set()
    for lines in blocks:
        for s in _settings(lines, (*PROMPT_KEYS, STYLE_KEY)):
            found.update(t.line for t in _list_toggles(lines, s, "item", "panel", raw))
    return found


# ------------------------------------------------------------------ edits
def _switched(content: str, enabled: bool) -> str:
    """The line ``content`` switched on (marker removed) or off (``# `` inserted)."""
    indent = len(content) - len(content.lstrip(" \t"))
    rest = content[indent:]
    if enabled:
        m = _COMMENTED_ITEM.match(rest)
        if m is None:
            return content
        return content[:indent] + rest[m.end() - 1 :]
    if rest.startswith("#"):
        return content
    return content[:indent] + "# " + rest


def set_toggle(text: str, line: int, enabled: bool) -> str:
    """``text`` with the toggle at ``line`` switched on or off, that line alone
    changed (unchanged when it already is). EditError when ``line`` is not a
    toggle line (a ``prompt:``/``style:`` list item, or one commented out)."""
    if line not in _all_toggle_lines(text):
        raise EditError(
            f"line {line} is not a prompt item or style snippet that can be switched on or off "
            "(one `- item` per line of a `prompt:` or `style:` list)"
        )
    bom, lines = _split(text)
    content, ending = lines[line - 1]
    lines[line - 1] = (_switched(content, enabled), ending)
    return _join(bom, lines)


def apply_states(text: str, panel: str, states: dict[str, bool]) -> str:
    """``text`` with the toggles of ``panel`` labelled as the keys of ``states``
    switched on (True) or off: one line per toggle that changes (every toggle
    with that label). EditError for a label the panel has no toggle for."""
    found = toggles(text, panel)
    labels = [t.label for t in found]
    for label in states:
        if label not in labels:
            close = did_you_mean(label, labels)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            have = ", ".join(f"`{x}`" for x in dict.fromkeys(labels)) or "none"
            raise EditError(
                f"panel {panel} has no prompt item or style snippet `{label}`{hint}; "
                f"its toggles: {have}"
            )
    bom, lines = _split(text)
    for t in found:
        if t.label in states and states[t.label] != t.enabled:
            content, ending = lines[t.line - 1]
            lines[t.line - 1] = (_switched(content, states[t.label]), ending)
    return _join(bom, lines)


def _set_panel_setting(text: str, panel: str, key: str, value: int) -> str:
    """Replace the value of the panel's own ``key:`` line, or insert ``key: value``
    where a writer puts it: under the heading, after the one-line settings
    right below it."""
    tree = _tree(text)
    _, p = find_panel(tree, panel)
    bom, lines = _split(text)
    own = [n for n in _settings(p.lines, (key,))]
    if own:
        line = own[-1].span.line
        content, ending = lines[line - 1]
        m = re.match(rf"([ \t]*{re.escape(key)}[ \t]*:[ \t]*)([^\r\n]*?)([ \t]*)$", content)
        if m is None:  # not reached: the parser read this line as `key:`
            raise EditError(f"line {line} is not a `{key}:` line")
        lines[line - 1] = (f"{m.group(1)}{value}{m.group(3)}", ending)
        return _join(bom, lines)
    after = p.head.span.line
    for node in p.lines:  # one-line settings right under the heading (a list may
        # own the comments after it, so the run stops at the first list or comment)
        if not isinstance(node, ast.Setting) or node.items or node.span.end_line != after + 1:
            break
        after = node.span.end_line
    ending = _ending(lines)
    if lines[after - 1][1] == "":  # the last line had no line ending
        lines[after - 1] = (lines[after - 1][0], ending)
        ending = ""
    lines.insert(after, (f"{key}: {value}", ending))
    return _join(bom, lines)


def _resolved(text: str, panel: str, path: str | Path | None) -> tuple[int, int] | None:
    """The panel's (variants, pick) as the script resolves them; None when the
    script does not compile (then nothing is checked here)."""
    checked = check_source(SourceFile.from_text(text, str(path or "<edit>")), Sink())
    if checked is None or checked.script is None:
        return None
    page_no, panel_no = parse_ref(panel)
    for q in checked.script.panels:
        if (q.page, q.number) == (page_no, panel_no):
            return q.settings.variants, q.settings.pick
    return None


def set_pick(text: str, panel: str, variant: int, *, path: str | Path | None = None) -> str:
    """``text`` with ``pick: variant`` in ``panel`` (its ``pick:`` line replaced,
    or one inserted): a one-line diff. EditError when the panel has fewer
    variants. ``path``: where the script is (its theme files are found from
    there when the variants are counted)."""
    parse_ref(panel)
    now = _resolved(text, panel, path)
    count = now[0] if now else None
    if variant < 1 or (count is not None and variant > count):
        raise EditError(
            f"panel {panel} has {count} variant{'s' if count != 1 else ''}: "
            f"pick one from 1 to {count}"
            if count
            else f"pick {variant} is not a variant: variants count from 1"
        )
    return _set_panel_setting(text, panel, "pick", variant)


def set_variants(text: str, panel: str, count: int, *, path: str | Path | None = None) -> str:
    """``text`` with ``variants: count`` in ``panel`` (replaced or inserted). EditError
    outside 1 to 16, or below the panel's ``pick:`` (``path``: as for :func:`set_pick`)."""
    low, high = VARIANTS_RANGE
    if not low <= count <= high:
        raise EditError(f"variants: {count} is out of range: a panel has {low} to {high}")
    now = _resolved(text, panel, path)
    if now is not None and now[1] > count:
        raise EditError(f"panel {panel} picks variant {now[1]}: pick a variant up to {count} first")
    return _set_panel_setting(text, panel, "variants", count)


def write_script(path: Path, new_text: str, expected_old: str) -> None:
    """Replace the script at ``path`` with ``new_text`` atomically (a symbolic
    link keeps pointing at it); EditError, writing nothing, when the file on
    disk is no longer ``expected_old`` (saved meanwhile in an editor)."""
    current = read_script(path)
    if current != expected_old:
        raise EditError(
            f"{path} changed on disk since it was read: nothing was written (reload it)"
        )
    try:
        write_bytes_atomic(path, new_text.encode("utf-8"))
    except FileRefused as e:
        raise EditError(str(e)) from None
    except OSError as e:
        raise EditError(f"cannot write {path}: {e.strerror or e}") from None
