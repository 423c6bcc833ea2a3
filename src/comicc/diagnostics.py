"""Diagnostics: every user-facing problem is a :class:`Diagnostic`.

A stage reports into a :class:`Sink` and keeps going as long as it can, so a
writer sees every error of a stage at once. Renderers turn diagnostics into
the three formats of the command line: ``human`` (source line with a caret,
labels and hints), ``short`` (``path:line:col: error[code]: message``, one
line each, for editors) and ``json`` (for tools).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypedDict, Unpack

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


class DiagnosticKeywords(TypedDict, total=False):
    """The keywords of :meth:`Sink.error` and :meth:`Sink.warning` besides the
    code, message and span (see :meth:`Sink.add`)."""

    label: str
    labels: Sequence[Label]
    hints: Sequence[str]
    path: str | None


@dataclass
class Sink:
    """Collects the diagnostics of one run; ``has_errors(strict=True)`` counts
    warnings as errors (``--strict``)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def emit(self, diag: Diagnostic) -> None:
        self.diagnostics.append(diag)

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        span: Span | None = None,
        *,
        label: str = "",
        labels: Sequence[Label] = (),
        hints: Sequence[str] = (),
        path: str | None = None,
    ) -> None:
        """Emit a diagnostic of ``severity`` (:meth:`error`, :meth:`warning`)."""
        self.emit(
            Diagnostic(severity, code, message, span, label, tuple(labels), tuple(hints), path)
        )

    def error(
        self, code: str, message: str, span: Span | None = None, **more: Unpack[DiagnosticKeywords]
    ) -> None:
        self.add(Severity.ERROR, code, message, span, **more)

    def warning(
        self, code: str, message: str, span: Span | None = None, **more: Unpack[DiagnosticKeywords]
    ) -> None:
        self.add(Severity.WARNING, code, message, span, **more)

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
    import difflib  # loaded by the first suggestion: a clean script asks for none

    hits = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=cutoff)
    return [lowered[h] for h in hits]


# ---------------------------------------------------------------- redaction

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8  # shorter values are too common to be worth hiding
_SECRETS: set[str] = set()
# environment variables whose value is a secret, by name
_SECRET_NAME = re.compile(r".*(_KEY|_TOKEN|_SECRET)$|.*PASSWORD.*|.*API_KEY.*", re.IGNORECASE)
# `NAME = "value"` / `NAME: value` where NAME looks like a secret's (a keys.toml line)
_SECRET_ASSIGNMENT = re.compile(
    r"(?P<name>\b[A-Za-z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)[A-Za-z0-9_]*\b)"
    r"(?P<sep>\s*[=:]\s*)(?P<quote>[\"']?)(?P<value>[^\s\"']{" + str(MIN_SECRET_LENGTH) + ",})",
    re.IGNORECASE,
)


def register_secret(value: str | None) -> None:
    """Never show ``value`` in a diagnostic: every renderer replaces it with
    ``[redacted]``. The backends register every API key they load."""
    if value and len(value.strip()) >= MIN_SECRET_LENGTH:
        _SECRETS.add(value.strip())


def _secrets() -> list[str]:
    found = set(_SECRETS)
    for name, value in os.environ.items():
        if len(value) >= MIN_SECRET_LENGTH and _SECRET_NAME.fullmatch(name):
            found.add(value)
    return sorted(found, key=len, reverse=True)  # a longer secret first


def redact(text: str, secrets: Sequence[str] | None = None) -> str:
    """``text`` with every secret replaced by ``[redacted]``: each registered
    value (:func:`register_secret`), the value of each environment variable
    whose name looks like a secret's (``*_KEY``, ``*_TOKEN``, ``*_SECRET``,
    ``*PASSWORD*``, ``*API_KEY*``) of at least 8 characters, and the value of
    any ``NAME = value`` written in the text with such a name."""
    for secret in _secrets() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _SECRET_ASSIGNMENT.sub(
        lambda m: m.group("name") + m.group("sep") + m.group("quote") + REDACTED, text
    )


def redacted(d: Diagnostic, secrets: Sequence[str] | None = None) -> Diagnostic:
    """``d`` with its message, labels and hints redacted (:func:`redact`)."""
    found = _secrets() if secrets is None else secrets
    return replace(
        d,
        message=redact(d.message, found),
        label=redact(d.label, found),
        labels=tuple(Label(lb.span, redact(lb.message, found)) for lb in d.labels),
        hints=tuple(redact(h, found) for h in d.hints),
        path=redact(d.path, found) if d.path else d.path,
    )


# ---------------------------------------------------------------- renderers


def render_short(diags: Iterable[Diagnostic]) -> str:
    """One ``path:line:col: severity[code]: message`` line per diagnostic."""
    out = []
    found = _secrets()
    for d in diags:
        d = redacted(d, found)
        out.append(redact(f"{d.location}: {d.severity.value}[{d.code}]: {d.message}", found))
    return "\n".join(out) + ("\n" if out else "")


def render_json(diags: Iterable[Diagnostic]) -> str:
    """The diagnostics as a JSON list, for tools."""
    found = _secrets()
    data = [redacted(d, found).to_json() for d in diags]
    return redact(json.dumps(data, indent=2, ensure_ascii=False), found) + "\n"


def _caret_block(
    src: SourceFile | None,
    span: Span,
    label: str,
    gutter: int,
    mark: str,
    secrets: Sequence[str] = (),
) -> list[str]:
    pad = " " * gutter
    if src is None:
        return []
    raw = src.line_text(span.line)
    text = redact(raw, secrets)
    if text != raw:  # a secret was cut out: does the caret still line up?
        diff = next(
            (i for i, (a, b) in enumerate(zip(raw, text, strict=False)) if a != b), len(text)
        )
        marked_to = span.end_col - 1 if span.end_line == span.line else len(raw)
        if diff < marked_to:  # no: mark the whole line
            span = replace(span, col=1, end_line=span.line, end_col=len(text) + 1)
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
    found = _secrets()
    for d in diags:
        d = redacted(d, found)
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
        lines.append(f"{pad}--> {redact(d.location, found)}")
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
                    lines += _caret_block(src, lb.span, lb.message, gutter, "-", found)
                    lines.append(f"{pad} |")
                lines += _caret_block(src, d.span, d.label, gutter, "^", found)
                for lb in after:
                    lines.append(f"{pad} |")
                    lines += _caret_block(src, lb.span, lb.message, gutter, "-", found)
                lines.append(f"{pad} |")
        for h in d.hints:
            lines.append(f"{pad} = hint: {h}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
