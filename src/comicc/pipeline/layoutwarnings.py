"""The layout memo's warnings (:mod:`comicc.pipeline.layoutcache`): a layout
warning is kept as JSON with its place and the line numbers in its message
as references to the page's balloons and panels (:func:`warning_json`,
:func:`warning_from_json`), so a reused page's warnings point at the lines
of now.
"""

from __future__ import annotations

import re
from typing import Any

from comicc.diagnostics import Diagnostic, Severity
from comicc.model import ir
from comicc.pipeline.layoutcodec import Malformed, Unkeyable, decode
from comicc.source import Span

_LINE = re.compile(r"\bline (\d+)\b")


def page_places(page: ir.Page) -> dict[str, Span]:
    """Every place on ``page`` a layout warning may point at, by reference."""
    out: dict[str, Span] = {}
    if page.span is not None:
        out["page"] = page.span
    for panel in page.panels:
        if panel.span is not None:
            out[f"panel:{panel.id}"] = panel.span
        for b in panel.balloons:
            if b.span is not None:
                out[f"balloon:{b.id}"] = b.span
    return out


def _lines(page: ir.Page) -> dict[int, str]:
    """Source line -> the balloon of ``page`` starting on it."""
    return {
        b.span.line: b.id for panel in page.panels for b in panel.balloons if b.span is not None
    }


def warning_json(d: Diagnostic, page: ir.Page) -> dict[str, Any]:
    """A layout warning of ``page`` with its place and the line numbers in its
    message as references to the page's nodes. Raises :class:`Unkeyable` when
    it points anywhere else."""
    if d.labels:
        raise Unkeyable("a warning with labels")
    place = None
    if d.span is not None:
        place = next((ref for ref, span in page_places(page).items() if span == d.span), None)
        if place is None:
            raise Unkeyable("a warning outside its page")
    lines = _lines(page)
    parts: list[object] = []
    pos = 0
    for m in _LINE.finditer(d.message):
        bid = lines.get(int(m.group(1)))
        if bid is None:
            raise Unkeyable("a warning naming a line outside its page")
        parts += [d.message[pos : m.start(1)], {"line": bid}]
        pos = m.end(1)
    parts.append(d.message[pos:])
    return {
        "severity": d.severity.value,
        "code": d.code,
        "message": parts,
        "place": place,
        "label": d.label,
        "hints": list(d.hints),
        "path": d.path,
    }


def warning_from_json(doc: object, page: ir.Page) -> Diagnostic:
    """A stored warning, placed on ``page`` as it is now; :class:`Malformed` when it cannot be."""
    if not isinstance(doc, dict):
        raise Malformed("a warning is not an object")
    places, ids = page_places(page), {bid: line for line, bid in _lines(page).items()}
    message = []
    parts = doc.get("message")
    if not isinstance(parts, list):
        raise Malformed("a warning has no message")
    for part in parts:
        if isinstance(part, str):
            message.append(part)
        elif isinstance(part, dict) and part.get("line") in ids:
            message.append(str(ids[part["line"]]))
        else:
            raise Malformed("a warning names a balloon the page does not have")
    place = doc.get("place")
    if place is not None and place not in places:
        raise Malformed("a warning points at a place the page does not have")
    try:
        severity = Severity(str(doc.get("severity")))
    except ValueError as e:
        raise Malformed("a warning of no known severity") from e
    code, label, path = doc.get("code"), doc.get("label"), doc.get("path")
    hints = decode(tuple[str, ...], doc.get("hints"))
    if not isinstance(code, str) or not isinstance(label, str):
        raise Malformed("a warning without code or label")
    if path is not None and not isinstance(path, str):
        raise Malformed("a warning's path is not a string")
    span = places[place] if place is not None else None
    return Diagnostic(severity, code, "".join(message), span, label, (), hints, path)
