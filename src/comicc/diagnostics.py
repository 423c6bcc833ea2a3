"""Diagnostics: every user-facing problem is a :class:`Diagnostic`.

A stage reports into a :class:`Sink` and keeps going as long as it can, so a
writer sees every error of a stage at once. Renderers turn diagnostics into
the three formats of the command line: ``human`` (source line with a caret,
labels and hints), ``short`` (``path:line:col: error[code]: message``, one
line each, for editors) and ``json`` (for tools).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from comicc.source import SourceFile, Span


class Severity(StrEnum):
    """How bad a diagnostic is: errors stop a build, warnings do not (unless --strict)."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Label:
    """A secondary location, e.g. the first definition of a redefined name."""

    span: Span
    message: str


@dataclass(frozen=True)
class Diagnostic:
    """One problem, with where it is and how to fix it."""

    severity: Severity
    code: str
    message: str
    span: Span | None = None
    label: str = ""  # text printed under the caret of the primary span
    labels: tuple[Label, ...] = ()
    hints: tuple[str, ...] = ()
    path: str | None = None  # for diagnostics without a span (file not found)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def location(self) -> str:
        if self.span is not None:
            return f"{self.span.path}:{self.span.line}:{self.span.col}"
        return self.path or "<input>"

    def to_json(self) -> dict[str, object]:
        def span_json(s: Span | None) -> dict[str, object] | None:
            if s is None:
                return None
            return {
                "path": s.path,
                "line": s.line,
                "column": s.col,
                "end_line": s.end_line,
                "end_column": s.end_col,
            }

        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "path": self.span.path if self.span else self.path,
            "span": span_json(self.span),
            "label": self.label,
            "labels": [{"span": span_json(lb.span), "message": lb.message} for lb in self.labels],
            "hints": list(self.hints),
        }


@dataclass
class Sink:
    """Collects the diagnostics of one run; ``has_errors(strict=True)`` counts
    warnings as errors (``--strict``)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def emit(self, diag: Diagnostic) -> None:
        self.diagnostics.append(diag)

    def error(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        *,
        label: str = "",
        labels: Sequence[Label] = (),
        hints: Sequence[str] = (),
        path: str | None = None,
    ) -> None:
        self.emit(
            Diagnostic(
                Severity.ERROR, code, message, span, label, tuple(labels), tuple(hints), path
            )
        )

    def warning(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        *,
        label: str = "",
        labels: Sequence[Label] = (),
        hints: Sequence[str] = (),
        path: str | None = None,
    ) -> None:
        self.emit(
            Diagnostic(
                Severity.WARNING, code, message, span, label, tuple(labels), tuple(hints), path
            )
        )

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.diagnostics.extend(diags)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    def has_errors(self, strict: bool = False) -> bool:
        if strict:
            return bool(self.diagnostics)
        return any(d.is_error for d in self.diagnostics)

    def sorted(self) -> list[Diagnostic]:
        def key(d: Diagnostic) -> tuple[str, int, int]:
            if d.span is None:
                return (d.path or "", 0, 0)
            return (d.span.path, d.span.line, d.span.col)

        return sorted(self.diagnostics, key=key)


def did_you_mean(
    word: str, candidates: Iterable[str], n: int = 3, cutoff: float = 0.6
) -> list[str]:
    """Closest candidates to ``word`` (case-insensitive), best first."""
    cands = list(dict.fromkeys(candidates))
    lowered = {c.lower(): c for c in cands}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=cutoff)
    return [lowered[h] for h in hits]


# ---------------------------------------------------------------- renderers


def render_short(diags: Iterable[Diagnostic]) -> str:
    """One ``path:line:col: severity[code]: message`` line per diagnostic."""
    out = []
    for d in diags:
        out.append(f"{d.location}: {d.severity.value}[{d.code}]: {d.message}")
    return "\n".join(out) + ("\n" if out else "")


def render_json(diags: Iterable[Diagnostic]) -> str:
    """The diagnostics as a JSON list, for tools."""
    return json.dumps([d.to_json() for d in diags], indent=2, ensure_ascii=False) + "\n"


def _caret_block(
    src: SourceFile | None, span: Span, label: str, gutter: int, mark: str
) -> list[str]:
    pad = " " * gutter
    if src is None:
        return []
    text = src.line_text(span.line)
    width = 1
    if span.end_line == span.line:
        width = max(1, span.end_col - span.col)
    else:
        width = max(1, len(text) - span.col + 1)
    caret = " " * (span.col - 1) + mark * width
    lines = [f"{str(span.line).rjust(gutter)} | {text.expandtabs(1)}"]
    lines.append(f"{pad} | {caret}" + (f" {label}" if label else ""))
    return lines


def render_human(
    diags: Iterable[Diagnostic], sources: dict[str, SourceFile], color: bool = False
) -> str:
    """Render diagnostics like a compiler: header, location, source and caret."""
    blocks = []
    for d in diags:
        sev = d.severity.value
        head = f"{sev}[{d.code}]: {d.message}"
        if color:
            c = "\x1b[1;31m" if d.is_error else "\x1b[1;33m"
            head = f"{c}{sev}[{d.code}]\x1b[0m\x1b[1m: {d.message}\x1b[0m"
        lines = [head]
        spans = [d.span] if d.span else []
        spans += [lb.span for lb in d.labels]
        gutter = max([len(str(s.line)) for s in spans] + [1])
        pad = " " * gutter
        lines.append(f"{pad}--> {d.location}")
        if d.span is not None:
            src = sources.get(d.span.path)
            if src is not None:
                lines.append(f"{pad} |")
                # secondary labels that come before the primary line print first
                before = [
                    lb
                    for lb in d.labels
                    if lb.span.path == d.span.path and lb.span.line < d.span.line
                ]
                after = [lb for lb in d.labels if lb not in before and lb.span.path == d.span.path]
                for lb in before:
                    lines += _caret_block(src, lb.span, lb.message, gutter, "-")
                    lines.append(f"{pad} |")
                lines += _caret_block(src, d.span, d.label, gutter, "^")
                for lb in after:
                    lines.append(f"{pad} |")
                    lines += _caret_block(src, lb.span, lb.message, gutter, "-")
                lines.append(f"{pad} |")
        for h in d.hints:
            lines.append(f"{pad} = hint: {h}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
