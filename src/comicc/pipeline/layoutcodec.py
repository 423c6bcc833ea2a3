"""The typed JSON codec of the layout memo (:mod:`comicc.pipeline.layoutcache`).

:func:`canonical` and :func:`digest` turn a value (IR, theme, page format:
dataclasses, tuples, sets, enums) into text and a content hash that are the
same in every process for equal values -- the memo's keys and the build
stamp's inputs are made of them. :func:`encode` writes a geometry value as
plain JSON data and :func:`decode` (:func:`decoder`, one per type) reads it
back, checking every part against the type (the cache folder is not
trusted): a value that is not one raises :class:`Malformed`. A layout
warning is kept as JSON with its place and the line numbers in its message
as references to the page's balloons and panels (:func:`warning_json`,
:func:`warning_from_json`), so a reused page's warnings point at the lines
of now.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import re
import types
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from comicc.diagnostics import Diagnostic, Severity
from comicc.model import ir
from comicc.source import Span


class Unkeyable(Exception):
    """A value that has no canonical form here: the page is laid out, not memoized."""


class Malformed(Exception):
    """A stored entry that is not what this version writes."""


def canonical(value: object) -> str:
    """``value`` as text that is the same in every process for equal values:
    dataclasses by their compared fields (spans and other ``compare=False``
    fields left out), sets sorted, enums by value, bytes by their SHA-256,
    floats exactly (``repr``). Raises :class:`Unkeyable` for anything else."""
    out: list[str] = []
    _canon(value, out)
    return "".join(out)


_PLAIN = (str, int, float, bool, type(None))


_COMPARED: dict[type, tuple[str, ...]] = {}  # dataclass -> the names of its compared fields


def _compared(cls: type) -> tuple[str, ...]:
    names = _COMPARED.get(cls)
    if names is None:
        names = _COMPARED[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.compare)
    return names


def _canon(value: object, out: list[str]) -> None:
    t = type(value)
    if t in _PLAIN:
        out.append(repr(value))
        return
    if t is tuple or t is list:
        out.append("[")
        for v in value:  # type: ignore[attr-defined]  # a tuple or list
            if type(v) in _PLAIN:
                out.append(repr(v))
            else:
                _canon(v, out)
            out.append(",")
        out.append("]")
        return
    names = _COMPARED.get(t)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _compared(t)
    if names is not None:
        out.append(t.__name__ + "(")
        for name in names:
            v = getattr(value, name)
            if type(v) in _PLAIN:
                out.append(f"{name}={v!r},")
            else:
                out.append(name + "=")
                _canon(v, out)
                out.append(",")
        out.append(")")
        return
    if isinstance(value, enum.Enum):
        out.append(f"{t.__name__}.")
        _canon(value.value, out)
        return
    if isinstance(value, frozenset | set):
        out.append("{" + ",".join(sorted(canonical(v) for v in value)) + "}")
        return
    if isinstance(value, dict):
        out.append("dict(")
        for k, v in value.items():
            _canon(k, out)
            out.append(":")
            _canon(v, out)
            out.append(",")
        out.append(")")
        return
    if isinstance(value, bytes):
        out.append(f"bytes:{hashlib.sha256(value).hexdigest()}")
        return
    if isinstance(value, datetime | date | time | Path):  # TOML dates in a theme's `[extra]`
        out.append(f"{t.__name__}:{value}")
        return
    raise Unkeyable(t.__name__)


def digest(value: object) -> str:
    """SHA-256 (hex) of :func:`canonical` ``value``."""
    return hashlib.sha256(canonical(value).encode("utf-8", "surrogatepass")).hexdigest()


# --- geometry as JSON -----------------------------------------------------------


def encode(value: object) -> object:
    """A geometry value (dataclasses of numbers, strings, tuples) as JSON data:
    a dataclass as the list of its fields' values, in field order."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [encode(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, frozenset):
        return sorted(encode(v) for v in value)  # type: ignore[type-var]  # str members
    raise Unkeyable(type(value).__name__)


Decoder = Callable[[object], Any]
_NUMBER = (int, float)
_NUMBERS = frozenset(_NUMBER)


def decode(tp: Any, v: object) -> Any:
    """``v`` (JSON data, as :func:`encode` writes it) as a value of type ``tp``,
    every part checked; :class:`Malformed` when it is not one."""
    return decoder(tp)(v)


def _bad(what: str) -> Malformed:
    return Malformed(what)


@functools.lru_cache(maxsize=128)
def decoder(tp: Any) -> Decoder:
    """The checking reader of type ``tp`` (made once per type)."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is type(None):

        def none(v: object) -> None:
            if v is not None:
                raise _bad("not null")

        return none
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1 or type(None) not in args:
            raise Malformed(f"cannot read {tp}")
        inner = decoder(rest[0])
        return lambda v: None if v is None else inner(v)
    if tp is float:

        def number(v: object) -> object:
            if type(v) not in _NUMBER:
                raise _bad("not a number")
            return v

        return number
    if tp in (int, str, bool):

        def exact(v: object, tp: type = tp) -> object:
            if type(v) is not tp:
                raise _bad(f"not a {tp.__name__}")
            return v

        return exact
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if args[0] is float:

            def numbers(v: object) -> tuple[float, ...]:
                if type(v) is not list or not _NUMBERS.issuperset(map(type, v)):
                    raise _bad("not a list of numbers")
                return tuple(v)

            return numbers
        each = decoder(args[0])

        def items(v: object) -> tuple[Any, ...]:
            if type(v) is not list:
                raise _bad("not a list")
            return tuple([each(x) for x in v])

        return items
    if origin in (tuple, frozenset):
        parts = [decoder(a) for a in args] if origin is tuple else None
        each = decoder(args[0])

        def fixed(v: object) -> Any:
            if type(v) is not list:
                raise _bad("not a list")
            if parts is None:
                return frozenset(each(x) for x in v)
            if len(v) != len(parts):
                raise _bad("a list of the wrong length")
            return tuple([d(x) for d, x in zip(parts, v, strict=True)])

        return fixed
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = get_type_hints(tp)
        fields = [decoder(hints[f.name]) for f in dataclasses.fields(tp)]
        n, cls = len(fields), tp

        def record(v: object) -> Any:
            if type(v) is not list or len(v) != n:
                raise _bad(f"not a {cls.__name__}")
            return cls(*[d(x) for d, x in zip(fields, v, strict=True)])

        return record
    raise Malformed(f"cannot read {tp}")


# --- warnings ------------------------------------------------------------------

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
