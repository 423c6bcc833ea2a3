"""Source files and spans.

A :class:`SourceFile` owns the normalised text of one input (BOM removed,
``\\r\\n`` turned into ``\\n``) and an index of line starts, so any character
offset can be turned into a 1-based line and a 1-based *character* column.
A :class:`Span` is a half-open range of offsets into one source file.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
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

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


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
        for i, ch in enumerate(text):
            if ch == "\n":
                starts.append(i + 1)
        return cls(path, text, tuple(starts))

    @classmethod
    def read(cls, path: str | Path) -> SourceFile:
        """Read a file as UTF-8. Raises OSError / UnicodeDecodeError."""
        data = Path(path).read_bytes()
        return cls.from_text(data.decode("utf-8"), str(path))

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, character column) of ``offset``, clamped to the text."""
        offset = max(0, min(offset, len(self.text)))
        idx = bisect.bisect_right(self.line_starts, offset) - 1
        return idx + 1, offset - self.line_starts[idx] + 1

    def span(self, start: int, end: int | None = None) -> Span:
        """The span of offsets ``[start, end)`` (empty at ``start`` by default)."""
        end = start if end is None else end
        line, col = self.line_col(start)
        eline, ecol = self.line_col(end)
        return Span(self.path, start, end, line, col, eline, ecol)

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
