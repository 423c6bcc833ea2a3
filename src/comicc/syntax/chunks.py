"""Parsing a long script page by page, and keeping the parsed pages on disk.

The language is a sequence of lines, and a line at the left margin that
starts a ``PAGE`` heading never continues the line before it (continuation
lines, list items and character attributes are indented or start with ``-``
or ``#``; only a boneyard ``/* ... */`` spans lines). :func:`split_chunks`
therefore cuts the text before each such heading that no open boneyard
covers, and each chunk parses on its own into exactly the lines the whole
text gives (``tests/syntax/test_chunks.py`` holds this against the whole-text
parse).

:class:`ParseCache` keeps the parsed lines of each chunk of a script in the
user cache (``$XDG_CACHE_HOME/comicc/parse``, ``COMICC_PARSE_CACHE=DIR`` or
``=off``), keyed by a digest of the chunk's text, so checking a script again
after an edit parses only the pages that changed. The file is plain JSON
(never a pickle), written atomically, read only when it is a regular file of
this user that no one else can write, and every value is checked against the
shape of the syntax tree when it is read: a damaged, stale or foreign file
means the chunk is parsed again.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, cast

from comicc.files import read_trusted, write_private
from comicc.source import SourceFile, Span
from comicc.syntax import ast
from comicc.syntax.grammar import grammar_digest
from comicc.usercache import user_cache_dir

PARSE_CACHE_ENV = "COMICC_PARSE_CACHE"
_FORMAT = "comicc-parse-cache 1"
_MAX_CACHE_BYTES = 128 * 1024 * 1024  # the lines of the largest script (8 MiB) fit
# a line that can start a chunk: a PAGE heading at the left margin
_PAGE_LINE = re.compile(r"^(?:PAGES?|(?i:pages?))[ \t]+[^ \t\n]", re.M)

# what the parser makes of one line of the script
Node = ast.Line | ast.PageHead | ast.PanelHead


def split_chunks(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` offsets of chunks of ``text`` (ending in a newline)
    that parse on their own: cut before each PAGE heading at the left margin
    that no boneyard (``/* ... */``, possibly unclosed) before it covers."""
    opens, closes = _find_all(text, "/*"), _find_all(text, "*/")
    cuts = [0]
    for m in _PAGE_LINE.finditer(text):
        at = m.start()
        if at == 0:
            continue
        k = bisect.bisect_left(opens, at) - 1  # the last `/*` before the heading
        if k >= 0:
            # the boneyard a `/*` opens ends at the first `*/` after it (or,
            # when there is none, at the end of the file): cut only when that
            # `*/` ends before the heading
            j = bisect.bisect_left(closes, opens[k] + 2)
            if j == len(closes) or closes[j] + 2 > at:
                continue
        cuts.append(at)
    cuts.append(len(text))
    return list(zip(cuts, cuts[1:], strict=False))


def _find_all(text: str, needle: str) -> list[int]:
    """Every offset where ``needle`` starts in ``text`` (str.find: no regex scan)."""
    out: list[int] = []
    find = text.find
    at = find(needle)
    while at >= 0:
        out.append(at)
        at = find(needle, at + 1)
    return out


def chunk_digest(text: str, last_without_newline: bool) -> str:
    """What a chunk's cached lines are keyed by (its text, and whether it is
    the end of a file without a final newline, where spans are clamped)."""
    h = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    h.update(b"\x00eof" if last_without_newline else b"\x00")
    return h.hexdigest()[:40]


# ------------------------------------------------------------ plain data

# per node type, the kind of each field, in order (the tests hold this to the
# syntax tree's own fields, so a new field cannot be forgotten here):
# s str, s? str|None, i int, i? int|None, b bool, S Span, S? Span|None,
# N:T one node of type T, T:A|B a tuple of nodes of those types
SCHEMA: dict[str, tuple[type, tuple[str, ...]]] = {
    "Number": (ast.Number, ("s", "i", "S")),
    "PageHead": (ast.PageHead, ("T:Number", "s?", "S")),
    "PanelHead": (ast.PanelHead, ("N:Number", "s?", "S")),
    "CharacterAttr": (ast.CharacterAttr, ("s", "s", "S", "S", "S")),
    "CharacterDef": (ast.CharacterDef, ("s", "s", "S", "S", "T:CharacterAttr|Comment")),
    "SnippetDef": (ast.SnippetDef, ("s", "s", "S", "S")),
    "ListItem": (ast.ListItem, ("s", "S")),
    "Comment": (ast.Comment, ("s", "S")),
    "Setting": (ast.Setting, ("s", "s?", "T:ListItem|Comment", "S", "S", "S?")),
    "Mod": (ast.Mod, ("s", "S")),
    "LineText": (ast.LineText, ("s", "S")),
    "LetteringLine": (
        ast.LetteringLine,
        ("i?", "s", "T:Mod", "T:LineText", "S", "S", "S?"),
    ),
    "Note": (ast.Note, ("s", "S")),
    "Boneyard": (ast.Boneyard, ("s", "b", "S")),
    "Description": (ast.Description, ("s", "S")),
}
_LINE_TYPES = (
    "PageHead",
    "PanelHead",
    "CharacterDef",
    "SnippetDef",
    "Setting",
    "LetteringLine",
    "Comment",
    "Note",
    "Boneyard",
    "Description",
)


class Invalid(Exception):
    """Saved data that is not the plain form of syntax-tree lines."""


def encode_lines(nodes: Sequence[Node], base: int, line_base: int) -> list[Any]:
    """``nodes`` (one chunk's lines, spans in the whole file) as plain data,
    spans relative to the chunk starting at offset ``base``, line
    ``line_base + 1``."""

    def node(n: Any) -> list[Any]:
        name = type(n).__name__
        out: list[Any] = [name]
        for attr, code in _FIELDS[name]:
            value = getattr(n, attr)
            if code == 5 or code == 6:
                # a span (the inner loop: written out, not a call)
                out.append(
                    None
                    if value is None
                    else [
                        value.start - base,
                        value.end - base,
                        value.line - line_base,
                        value.col,
                        value.end_line - line_base,
                        value.end_col,
                    ]
                )
            elif code == 7:
                out.append(node(value))
            elif code == 8:
                out.append([node(v) for v in value])
            else:
                out.append(value)
        return out

    return [node(n) for n in nodes]


# the field kinds as small numbers, for the decoder's inner loop
_CODES = {"s": 0, "s?": 1, "i": 2, "i?": 3, "b": 4, "S": 5, "S?": 6, "N": 7, "T": 8}
_PLANS: dict[str, tuple[type, int, tuple[tuple[int, frozenset[str]], ...]]] = {
    name: (
        cls,
        len(kinds) + 1,
        tuple(
            (_CODES[k.split(":")[0]], frozenset(k.split(":")[1].split("|") if ":" in k else ()))
            for k in kinds
        ),
    )
    for name, (cls, kinds) in SCHEMA.items()
}
_LINES = frozenset(_LINE_TYPES)
# per node type, (field name, kind code) in order, for the encoder
_FIELDS: dict[str, tuple[tuple[str, int], ...]] = {
    name: tuple((f.name, _CODES[k.split(":")[0]]) for f, k in zip(fields(cls), kinds, strict=True))
    for name, (cls, kinds) in SCHEMA.items()
}


def decode_lines(data: object, path: str, base: int, line_base: int) -> list[Node]:
    """The lines :func:`encode_lines` saved, spans in the file ``path`` for a
    chunk at offset ``base``, line ``line_base + 1``. Raises :class:`Invalid`
    for anything that is not such data (every value's type is checked)."""

    def span(v: object) -> Span:
        if type(v) is not list or len(v) != 6:
            raise Invalid("span")
        s, e, line, col, end_line, end_col = v
        if not (
            type(s) is int
            and type(e) is int
            and type(line) is int
            and type(col) is int
            and type(end_line) is int
            and type(end_col) is int
        ):
            raise Invalid("span")
        return Span(path, s + base, e + base, line + line_base, col, end_line + line_base, end_col)

    def node(v: object, allowed: frozenset[str]) -> object:
        if type(v) is not list or not v or v[0] not in allowed:
            raise Invalid("node")
        cls, size, plan = _PLANS[v[0]]
        if len(v) != size:
            raise Invalid("arity")
        args: list[object] = []
        for (code, kinds), value in zip(plan, v[1:], strict=True):
            if code == 5:
                args.append(span(value))
                continue
            if code == 0:
                ok = type(value) is str
            elif code == 1:
                ok = value is None or type(value) is str
            elif code == 6:
                args.append(None if value is None else span(value))
                continue
            elif code == 8:
                if type(value) is not list:
                    raise Invalid("tuple")
                args.append(tuple([node(x, kinds) for x in value]))
                continue
            elif code == 7:
                args.append(node(value, kinds))
                continue
            elif code == 2:
                ok = type(value) is int
            elif code == 3:
                ok = value is None or type(value) is int
            else:
                ok = type(value) is bool
            if not ok:
                raise Invalid("value")
            args.append(value)
        return cls(*args)

    if type(data) is not list:
        raise Invalid("lines")
    return cast(list[Node], [node(v, _LINES) for v in data])  # line types, by their tags


# ------------------------------------------------------------ the cache


def parse_cache_dir() -> Path | None:
    """Where parsed chunks are kept: ``$COMICC_PARSE_CACHE`` (``off``: no
    cache), else ``$XDG_CACHE_HOME/comicc/parse`` or ``~/.cache/comicc/parse``."""
    return user_cache_dir(PARSE_CACHE_ENV, "parse")


class ParseCache:
    """The parsed chunks of one script, read from and saved to its file in
    ``folder`` (one file per script path, holding the chunks it had at its
    last parse, so the file never grows past the script's own size)."""

    def __init__(self, folder: Path, script_path: str):
        name = hashlib.sha256(
            os.path.abspath(script_path).encode("utf-8", "surrogatepass")
        ).hexdigest()
        self.path = folder / f"{name[:32]}.json"
        self.key = f"{_FORMAT} {grammar_digest()}"
        self._saved: dict[str, Any] = self._read()
        self._now: dict[str, Any] = {}
        self._changed = False
        self.reused = 0  # chunks of this parse found in the file
        self.parsed = 0  # chunks of this parse parsed (and put)

    def get(self, digest: str) -> object | None:
        """The saved plain lines of the chunk ``digest`` (None: parse it)."""
        found = self._saved.get(digest)
        if found is not None:
            self._now[digest] = found
            self.reused += 1
        return found

    def put(self, digest: str, lines: list[Any]) -> None:
        """Keep the plain lines of the chunk ``digest``, just parsed."""
        self._now[digest] = lines
        self._changed = True
        self.parsed += 1

    def drop(self, digest: str) -> None:
        """Forget saved lines that turned out not to be valid."""
        self._saved.pop(digest, None)
        if self._now.pop(digest, None) is not None:
            self.reused -= 1
        self._changed = True

    def save(self) -> None:
        """Write the chunks used by this parse, when they differ from the file's."""
        if not self._changed and self._now.keys() == self._saved.keys():
            return
        data = json.dumps(
            {"key": self.key, "chunks": self._now}, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8", "surrogatepass")
        if len(data) > _MAX_CACHE_BYTES:
            return
        write_private(self.path, data)

    def _read(self) -> dict[str, Any]:
        """The chunks in the file, when it can be trusted: a regular file of
        this user that no one else can write, of this format and grammar."""
        data = read_trusted(self.path, _MAX_CACHE_BYTES)
        if data is None:
            return {}
        try:
            doc = json.loads(data.decode("utf-8", "surrogatepass"))
        except ValueError:  # also a UnicodeDecodeError
            return {}
        if type(doc) is not dict or doc.get("key") != self.key:
            return {}
        saved = doc.get("chunks")
        return saved if type(saved) is dict else {}


def open_cache(src: SourceFile) -> ParseCache | None:
    """The parse cache of ``src``, or None when the cache is off or has no folder."""
    folder = parse_cache_dir()
    return None if folder is None else ParseCache(folder, src.path)
