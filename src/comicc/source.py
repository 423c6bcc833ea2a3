"""Source files and spans.

A :class:`SourceFile` owns the normalised text of one input (BOM removed,
``\\r\\n`` turned into ``\\n``) and an index of line starts, so any character
offset can be turned into a 1-based line and a 1-based *character* column.
A :class:`Span` is a half-open range of offsets into one source file.
"""

from __future__ import annotations

import bisect
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_SOURCE_BYTES = 8 * 1024 * 1024  # the largest script comicc reads (8 MiB)
_after = bisect.bisect_right  # looked up once: SourceFile.span runs for every token


class InputRefused(Exception):
    """An input that is not read at all: not a regular file, or too large.

    The message is a plain sentence for the writer (``reason`` alone, without
    the path, so a caller can put the path where it fits)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_capped(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, refusing anything else.

    The file is opened without blocking (a FIFO with no writer does not hang),
    checked to be a regular file on the open descriptor (no race with a swap),
    and read up to ``limit + 1`` bytes, so ``/dev/zero`` or a huge file costs at
    most that much memory. Raises :class:`InputRefused` (not a regular file,
    larger than ``limit``) or OSError (missing, unreadable)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputRefused(f"is {_kind(st.st_mode)}, not a file")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise InputRefused(f"is larger than {limit // (1024 * 1024) or 1} MiB")
    return b"".join(chunks)


@dataclass(frozen=True, slots=True, init=False)
class Span:
    """A half-open character range ``[start, end)`` in the file ``path``.

    ``line``/``col`` (1-based) locate ``start``; ``end_line``/``end_col``
    locate ``end``. Spans never take part in equality of the nodes that carry
    them (see the ``compare=False`` fields in the AST), so two parses of
    differently formatted but equivalent scripts compare equal.
    """

    path: str
    start: int
    end: int
    line: int
    col: int
    end_line: int
    end_col: int

    def __init__(
        self,
        path: str,
        start: int,
        end: int,
        line: int,
        col: int,
        end_line: int,
        end_col: int,
    ) -> None:
        # the dataclass's own __init__, each field set by its slot's own setter
        # (what `object.__setattr__` finds, without the lookup by name): a
        # script's parse makes tens of thousands of spans
        _put_path(self, path)
        _put_start(self, start)
        _put_end(self, end)
        _put_line(self, line)
        _put_col(self, col)
        _put_end_line(self, end_line)
        _put_end_col(self, end_col)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


# the setters of the slots of Span (of the class the dataclass made)
_put_path = Span.__dict__["path"].__set__
_put_start = Span.__dict__["start"].__set__
_put_end = Span.__dict__["end"].__set__
_put_line = Span.__dict__["line"].__set__
_put_col = Span.__dict__["col"].__set__
_put_end_line = Span.__dict__["end_line"].__set__
_put_end_col = Span.__dict__["end_col"].__set__


def span_field() -> Any:
    """A dataclass field for spans that is ignored by ``==`` and ``repr``.

    It defaults to None so it can follow fields with defaults; parsers always
    fill it in. Typed ``Any`` like :func:`dataclasses.field` itself, so each use
    declares the field's real type (``span: Span = span_field()``)."""
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SourceFile:
    """The normalised text of one input and the offsets where its lines start."""

    path: str
    text: str
    line_starts: tuple[int, ...]

    @classmethod
    def from_text(cls, text: str, path: str = "<input>") -> SourceFile:
        if text.startswith("\ufeff"):
            text = text[1:]
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        starts = [0]
        find = text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        return cls(path, text, tuple(starts))

    @classmethod
    def read(cls, path: str | Path, limit: int = MAX_SOURCE_BYTES) -> SourceFile:
        """Read a regular file of at most ``limit`` bytes as UTF-8.

        Raises :class:`InputRefused`, OSError or UnicodeDecodeError."""
        data = read_capped(path, limit)
        return cls.from_text(data.decode("utf-8"), str(path))

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, character column) of ``offset``, clamped to the text."""
        offset = max(0, min(offset, len(self.text)))
        idx = bisect.bisect_right(self.line_starts, offset) - 1
        return idx + 1, offset - self.line_starts[idx] + 1

    def span(self, start: int, end: int | None = None) -> Span:
        """The span of offsets ``[start, end)`` (empty at ``start`` by default).

        Its lines and columns are those of :meth:`line_col`; called for every
        token of a script, so it looks the line index up once when the span
        ends on the line it starts on."""
        if end is None:
            end = start
        starts = self.line_starts
        size = len(self.text)
        first = start if 0 <= start <= size else (0 if start < 0 else size)
        idx = _after(starts, first) - 1
        at = starts[idx]
        col = first - at + 1
        if end == start:
            return Span(self.path, start, end, idx + 1, col, idx + 1, col)
        last = end if 0 <= end <= size else (0 if end < 0 else size)
        if last < at or (idx + 1 < len(starts) and last >= starts[idx + 1]):
            eidx = _after(starts, last) - 1
            return Span(self.path, start, end, idx + 1, col, eidx + 1, last - starts[eidx] + 1)
        return Span(self.path, start, end, idx + 1, col, idx + 1, last - at + 1)

    def line_text(self, line: int) -> str:
        """The text of 1-based line ``line`` without its newline."""
        if line < 1 or line > len(self.line_starts):
            return ""
        start = self.line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    @property
    def line_count(self) -> int:
        return len(self.line_starts)
