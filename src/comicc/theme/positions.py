"""Where things are in a TOML file: key positions for theme diagnostics.

``tomllib`` gives values but no positions, so a small line scanner records,
for every key path it can see (tables, dotted keys, inline tables), the
offsets of the key and of its value. It is lenient: it runs only on files
``tomllib`` already accepted, and anything it misses falls back to the
nearest enclosing table, then to the start of the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from comicc.source import SourceFile, Span

KeyPath = tuple[str, ...]

_BARE = re.compile(r"[A-Za-z0-9_\-]+")
_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class Loc:
    key_start: int
    key_end: int
    value_start: int
    value_end: int


def _read_key(text: str, i: int) -> tuple[list[str], int] | None:
    """Parse a (dotted) key at ``text[i:]``; return its parts and end offset."""
    parts: list[str] = []
    n = len(text)
    while True:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] in "\"'":
            q = text[i]
            j = text.find(q, i + 1)
            if j < 0:
                return None
            parts.append(text[i + 1 : j])
            i = j + 1
        else:
            m = _BARE.match(text, i)
            if not m:
                return None
            parts.append(m.group(0))
            i = m.end()
        j = i
        while j < n and text[j] in " \t":
            j += 1
        if j < n and text[j] == ".":
            i = j + 1
            continue
        return parts, i


def _value_end(text: str, i: int) -> int:
    """End offset of the value starting at ``text[i]`` (strings, arrays,
    inline tables may span lines); trailing comments are not included."""
    n = len(text)
    depth = 0
    while i < n:
        if text.startswith('"""', i) or text.startswith("'''", i):
            q = text[i : i + 3]
            j = text.find(q, i + 3)
            if j < 0:
                return n
            while text.startswith(q[0], j + 3):  # up to two quotes may close it
                j += 1
            i = j + 3
            if depth == 0:
                return i
            continue
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if (c == '"' and text[j] == "\\") else 1
            i = j + 1
            if depth == 0:
                return _line_value_end(text, i)
            continue
        if c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == "#" and depth > 0:
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c == "\n" and depth == 0:
            return i
        elif c == "#" and depth == 0:
            return i
        i += 1
    return n


def _line_value_end(text: str, i: int) -> int:
    j = text.find("\n", i)
    end = len(text) if j < 0 else j
    return min(end, i)


def index_keys(src: SourceFile) -> dict[KeyPath, Loc]:
    """Every key path of a TOML document → :class:`Loc`."""
    text = src.text
    out: dict[KeyPath, Loc] = {}
    table: KeyPath = ()
    i, n = 0, len(text)
    while i < n:
        # skip whitespace at line start
        while i < n and text[i] in " \t\r":
            i += 1
        if i >= n:
            break
        c = text[i]
        if c == "\n":
            i += 1
            continue
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "[":
            double = text.startswith("[[", i)
            k = _read_key(text, i + (2 if double else 1))
            j = text.find("\n", i)
            end = n if j < 0 else j
            if k is not None:
                table = tuple(k[0])
                close = text.find("]", k[1])
                hend = close + (2 if double else 1) if close >= 0 else end
                out.setdefault(table, Loc(i, hend, i, hend))
            i = end + 1
            continue
        k = _read_key(text, i)
        if k is None:
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        parts, kend = k
        eq = text.find("=", kend)
        vstart = eq + 1
        while vstart < n and text[vstart] in " \t":
            vstart += 1
        vend = _value_end(text, vstart)
        while vend > vstart and text[vend - 1] in " \t\r":
            vend -= 1
        path = table + tuple(parts)
        out[path] = Loc(i, kend, vstart, vend)
        for p in range(len(table) + 1, len(path)):  # dotted keys define tables too
            out.setdefault(path[:p], Loc(i, kend, vstart, vend))
        if vstart < n and text[vstart] == "{":
            _index_inline(text, vstart, vend, path, out)
        j = text.find("\n", vend)
        i = n if j < 0 else j + 1
    return out


def _index_inline(text: str, start: int, end: int, path: KeyPath, out: dict[KeyPath, Loc]) -> None:
    """Keys of an inline table ``{ a = 1, b = { c = 2 } }``."""
    i = start + 1
    while i < end:
        while i < end and text[i] in " \t\n,":
            i += 1
        if i >= end or text[i] == "}":
            return
        k = _read_key(text, i)
        if k is None:
            return
        parts, kend = k
        eq = text.find("=", kend)
        if eq < 0 or eq >= end:
            return
        vstart = eq + 1
        while vstart < end and text[vstart] in " \t":
            vstart += 1
        if text[vstart] in "{[":
            vend = _value_end(text, vstart)
        else:
            vend = vstart
            while vend < end and text[vend] not in ",}":
                if text[vend] in "\"'":
                    q = text.find(text[vend], vend + 1)
                    vend = q if q > 0 else end
                vend += 1
            while vend > vstart and text[vend - 1] in " \t":
                vend -= 1
        sub = path + tuple(parts)
        out[sub] = Loc(i, kend, vstart, vend)
        if text[vstart] == "{":
            _index_inline(text, vstart, vend, sub, out)
        i = vend


def locate(src: SourceFile, index: dict[KeyPath, Loc], path: KeyPath, value: bool = False) -> Span:
    """The span of ``path``'s key (or value) in ``src``; the nearest known
    enclosing table if the key itself is not found; else the file start."""
    for cut in range(len(path), 0, -1):
        loc = index.get(path[:cut])
        if loc is not None:
            if value and cut == len(path):
                return src.span(loc.value_start, loc.value_end)
            return src.span(loc.key_start, loc.key_end)
    return src.span(0, 0)


def syntax_error_span(src: SourceFile, exc: tomllib.TOMLDecodeError) -> Span:
    """Turn tomllib's ``(at line L, column C)`` into a span."""
    msg = str(exc)
    m = _TOML_POS.search(msg)
    if m is None:
        end = len(src.text)
        return src.span(end, end)
    line, col = int(m.group(1)), int(m.group(2))
    if line > src.line_count:
        end = len(src.text)
        return src.span(end, end)
    start = src.line_starts[line - 1] + col - 1
    start = min(start, len(src.text))
    return src.span(start, min(start + 1, len(src.text)))


def syntax_error_message(exc: tomllib.TOMLDecodeError) -> str:
    return _TOML_POS.sub("", str(exc)).replace("(at end of document)", "at end of file").strip()
