"""The check memo's parts (:mod:`comicc.pipeline.checkmemo`): diagnostics as
plain data with their spans relative to the page that holds them, and the
backend names that record what a page asked of them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from comicc.diagnostics import Diagnostic, Label, Severity
from comicc.source import Span


class Unusable(Exception):
    """The memo cannot describe this script: check it the ordinary way."""


class Recorder(Sequence[str]):
    """The backend names, recording what a page asks of them: a name's
    membership (asked again on reuse); anything else (a listing) taints it."""

    def __init__(self, inner: Sequence[str]):
        self.inner = inner
        self.asked: dict[str, bool] = {}
        self.tainted = False

    def __contains__(self, name: object) -> bool:
        found = name in self.inner
        if isinstance(name, str):
            self.asked[name] = found
        else:
            self.tainted = True
        return found

    def __iter__(self) -> Iterator[str]:
        self.tainted = True
        return iter(self.inner)

    def __len__(self) -> int:
        self.tainted = True
        return len(self.inner)

    def __getitem__(self, index: Any) -> Any:
        self.tainted = True
        return self.inner[index]


class DiagnosticCodec:
    """Diagnostics as plain data, spans relative to the page chunk that holds
    them (or absolute, in the header, which the key holds unchanged)."""

    def __init__(self, path: str, header_end: int):
        self.path, self.header_end = path, header_end

    def span(self, sp: Span | None, start: int, end: int, line_base: int) -> list[int] | None:
        if sp is None:
            return None
        if sp.path != self.path or sp.start > sp.end:
            raise Unusable("a span into another file")
        if start <= sp.start and sp.end <= end:
            return [
                1,
                sp.start - start,
                sp.end - start,
                sp.line - line_base,
                sp.col,
                sp.end_line - line_base,
                sp.end_col,
            ]
        if 0 <= sp.start and sp.end <= self.header_end:
            return [0, sp.start, sp.end, sp.line, sp.col, sp.end_line, sp.end_col]
        raise Unusable("a span into another page")

    def unspan(self, v: Any, start: int, line_base: int) -> Span | None:
        if v is None:
            return None
        rel, s, e, line, col, end_line, end_col = v
        if not all(type(x) is int for x in v):
            raise ValueError("span")
        if rel:
            return Span(
                self.path,
                s + start,
                e + start,
                line + line_base,
                col,
                end_line + line_base,
                end_col,
            )
        return Span(self.path, s, e, line, col, end_line, end_col)

    def encode(
        self, diags: Sequence[Diagnostic], start: int, end: int, line_base: int
    ) -> list[Any]:
        return [
            [
                d.severity.value,
                d.code,
                d.message,
                self.span(d.span, start, end, line_base),
                d.label,
                [[self.span(lb.span, start, end, line_base), lb.message] for lb in d.labels],
                list(d.hints),
                d.path,
            ]
            for d in diags
        ]

    def decode(self, data: Any, start: int, line_base: int) -> list[Diagnostic]:
        out = []
        for sev, code, message, span, label, labels, hints, path in data:
            texts = [code, message, label, *hints, *(m for _, m in labels)]
            if not all(type(t) is str for t in texts) or not (path is None or type(path) is str):
                raise ValueError("diagnostic")
            decoded_labels = []
            for lb_span, lb_message in labels:
                lb = self.unspan(lb_span, start, line_base)
                if lb is None:
                    raise ValueError("label")
                decoded_labels.append(Label(lb, lb_message))
            out.append(
                Diagnostic(
                    Severity(sev),
                    code,
                    message,
                    self.unspan(span, start, line_base),
                    label,
                    tuple(decoded_labels),
                    tuple(hints),
                    path,
                )
            )
        return out
