"""The typed JSON codec of the layout memo (:mod:`comicc.pipeline.layoutcache`).

:func:`canonical` and :func:`digest` turn a value (IR, theme, page format:
dataclasses, tuples, sets, enums) into text and a content hash that are the
same in every process for equal values -- the memo's keys and the build
stamp's inputs are made of them. :func:`encode` writes a geometry value as
plain JSON data and :func:`decode` (:func:`decoder`, one per type) reads it
back, checking every part against the type (the cache folder is not
trusted): a value that is not one raises :class:`Malformed`. Both are
written once per dataclass as one function (its plain fields' checks
inline), and a vector path, most of a page, is kept compactly: the letters
of its commands and all their numbers. A page's warnings are kept by
:mod:`comicc.pipeline.layoutwarnings`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import types
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from comicc.layout.geometry import PathCmd, VectorPath


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
    a dataclass as the list of its fields' values, in field order (written by
    one function per dataclass, :func:`_record_encoder`); a vector path met
    again (the same object: a body is also its shape's path) as the number of
    its first writing (see "paths" below)."""
    if _WRITTEN.get() is not None:
        return _encode(value)
    token = _WRITTEN.set({})
    try:
        return _encode(value)
    finally:
        _WRITTEN.reset(token)


def _encode(value: object) -> object:
    t = type(value)
    if t in _LEAVES:
        return value
    if t is tuple or t is list:
        if _LEAVES.issuperset(map(type, value)):  # type: ignore[call-overload]  # a sequence
            return list(value)  # type: ignore[call-overload]
        return [_encode(v) for v in value]  # type: ignore[attr-defined]
    record = _RECORD_ENCODERS.get(t)
    if record is not None:
        return record(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encoder_of(t)(value)
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, frozenset):
        return sorted(_encode(v) for v in value)  # type: ignore[type-var]  # str members
    raise Unkeyable(type(value).__name__)


_LEAVES = frozenset((type(None), bool, int, float, str))  # JSON as they are
_RECORD_ENCODERS: dict[type, Callable[[Any], object]] = {}


def _record_encoder(cls: type) -> Callable[[Any], object]:
    """``encode`` of dataclass ``cls``: one function listing its fields, a
    plain value as it is, any other through :func:`encode`."""
    env: dict[str, Any] = {"_LEAVES": _LEAVES, "_encode": _encode}
    hints = get_type_hints(cls)
    items = []
    for f in dataclasses.fields(cls):
        tp, get = hints[f.name], f"(x := v.{f.name})"
        (each,) = get_args(tp)[:1] or (None,)
        tuple_of = get_origin(tp) is tuple and get_args(tp)[1:] == (Ellipsis,)
        if tuple_of and each is float:
            items.append(
                f"(list(x) if type({get}) is tuple and _LEAVES.issuperset(map(type, x))"
                " else _encode(x))"
            )
        elif tuple_of and _is_record(each):
            env[f"_t_{f.name}"], env[f"_e_{f.name}"] = each, _encoder_of(each)
            items.append(
                f"([_e_{f.name}(i) if type(i) is _t_{f.name} else _encode(i) for i in x]"
                f" if type({get}) is tuple else _encode(x))"
            )
        else:
            items.append(f"(x if type({get}) in _LEAVES else _encode(x))")
    src = f"def encode_{cls.__name__}(v):\n    return [{', '.join(items)}]\n"
    exec(compile(src, f"<{cls.__name__} encoder>", "exec"), env)  # noqa: S102  # our own source
    made: Callable[[Any], object] = env[f"encode_{cls.__name__}"]
    return made


def _is_record(tp: object) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _encoder_of(cls: type) -> Callable[[Any], object]:
    record = _RECORD_ENCODERS.get(cls)
    if record is None:
        record = _RECORD_ENCODERS[cls] = _record_encoder(cls)
    return record


Decoder = Callable[[object], Any]
_NUMBER = (int, float)
_NUMBERS = frozenset(_NUMBER)


def decode(tp: Any, v: object) -> Any:
    """``v`` (JSON data, as :func:`encode` writes it) as a value of type ``tp``,
    every part checked; :class:`Malformed` when it is not one."""
    return decoder(tp)(v)


@functools.lru_cache(maxsize=128)
def decoder(tp: Any) -> Decoder:
    """The checking reader of type ``tp`` (made once per type)."""
    read = _reader(tp)

    def scoped(v: object) -> Any:
        token = _READ.set([])  # the paths read so far: what a number refers to
        try:
            return read(v)
        finally:
            _READ.reset(token)

    return scoped


def _bad(what: str) -> Malformed:
    return Malformed(what)


@functools.lru_cache(maxsize=128)
def _reader(tp: Any) -> Decoder:
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
        inner = _reader(rest[0])
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
        if _is_record(args[0]) and args[0] is not VectorPath:
            return _records_decoder(args[0])
        each = _reader(args[0])

        def items(v: object) -> tuple[Any, ...]:
            if type(v) is not list:
                raise _bad("not a list")
            return tuple([each(x) for x in v])

        return items
    if origin in (tuple, frozenset):
        parts = [_reader(a) for a in args] if origin is tuple else None
        each = _reader(args[0])

        def fixed(v: object) -> Any:
            if type(v) is not list:
                raise _bad("not a list")
            if parts is None:
                return frozenset(each(x) for x in v)
            if len(v) != len(parts):
                raise _bad("a list of the wrong length")
            return tuple([d(x) for d, x in zip(parts, v, strict=True)])

        return fixed
    if tp is VectorPath:
        return _decode_path
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _record_decoder(tp)
    raise Malformed(f"cannot read {tp}")


# the checks of a field of these types, written into a record's reader
_INLINE = {
    str: "if type({v}) is not str: raise _bad('not a str')",
    int: "if type({v}) is not int: raise _bad('not a int')",
    bool: "if type({v}) is not bool: raise _bad('not a bool')",
    float: "if type({v}) not in _NUMBERS: raise _bad('not a number')",
    tuple[float, ...]: (
        "if type({v}) is not list or not _NUMBERS.issuperset(map(type, {v})): "
        "raise _bad('not a list of numbers')\n{v} = tuple({v})"
    ),
}


def _field_code(tp: Any, v: str, env: dict[str, Any]) -> list[str]:
    """The lines that check field value ``v`` of type ``tp`` (and convert it),
    as :func:`decoder` of ``tp`` would; helpers it needs go into ``env``."""
    check = _INLINE.get(tp)
    if check is not None:
        return check.format(v=v).split("\n")
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _INLINE.get(next(a for a in args if a is not type(None)))
        if inner is not None:
            return [f"if {v} is not None:", *("    " + ln for ln in inner.format(v=v).split("\n"))]
    name = f"_d_{v}"
    env[name] = _reader(tp)
    return [f"{v} = {name}({v})"]


def _record_code(cls: type, v: str, env: dict[str, Any]) -> list[str]:
    """The lines that check ``v``, a dataclass ``cls`` as a list of its fields'
    values in field order (each checked as :func:`decoder` of its type checks
    it), and set ``r`` to the record made of them. The record is made without
    calling its ``__init__`` (a frozen dataclass's sets each field through
    ``object.__setattr__``) when ``__init__`` would only set them."""
    hints = get_type_hints(cls)
    fields = dataclasses.fields(cls)
    env.update(_bad=_bad, _NUMBERS=_NUMBERS, _cls=cls, _new=object.__new__)
    names = [f"f{i}" for i in range(len(fields))]
    lines = [
        f"if type({v}) is not list or len({v}) != {len(fields)}:",
        f"    raise _bad({f'not a {cls.__name__}'!r})",
    ]
    if fields:
        lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = {v}")
    for f, name in zip(fields, names, strict=True):
        lines += _field_code(hints[f.name], name, env)
    if not _plain_init(cls):
        return [*lines, f"r = _cls({', '.join(names)})"]
    values = ", ".join(f"{f.name!r}: {name}" for f, name in zip(fields, names, strict=True))
    return [*lines, "r = _new(_cls)", f"r.__dict__.update({{{values}}})"]


def _plain_init(cls: type) -> bool:
    """Whether ``cls``'s ``__init__`` is the one dataclasses write for a frozen
    class, which only sets the fields (so a record may be made without it)."""
    code = getattr(getattr(cls, "__init__", None), "__code__", None)
    return (
        all(f.init for f in dataclasses.fields(cls))
        and not hasattr(cls, "__post_init__")
        and "__slots__" not in cls.__dict__
        and "__dataclass_builtins_object__" in getattr(code, "co_freevars", ())
    )


def _compiled(name: str, lines: list[str], env: dict[str, Any]) -> Decoder:
    src = f"def {name}(v):\n" + "".join(f"    {line}\n" for line in lines)
    exec(compile(src, f"<{name} decoder>", "exec"), env)  # noqa: S102  # our own source
    made: Decoder = env[name]
    return made


@functools.cache
def _record_decoder(cls: type) -> Decoder:
    """The reader of dataclass ``cls``: one function, the checks of its plain
    fields inline (:func:`_record_code`)."""
    env: dict[str, Any] = {}
    lines = _record_code(cls, "v", env)
    return _compiled(f"record_{cls.__name__}", [*lines, "return r"], env)


def _records_decoder(cls: type) -> Decoder:
    """The reader of ``tuple[cls, ...]`` for a dataclass ``cls``: one loop, each
    record read inline (:func:`_record_code`)."""
    env: dict[str, Any] = {}
    body = [
        "if type(v) is not list: raise _bad('not a list')",
        "out = []",
        "for x in v:",
        *("    " + ln for ln in _record_code(cls, "x", env)),
        "    out.append(r)",
        "return tuple(out)",
    ]
    return _compiled(f"records_{cls.__name__}", body, env)


# --- paths, compactly ------------------------------------------------------------
# A VectorPath (most of a page's geometry) is kept as its commands' letters and
# all their numbers: ``["MCCZ", [x, y, x1, y1, ...]]``; a path of other commands,
# or of numbers of other types, in the plain form (``[[cmd, ...]]``). A path
# object met again in the same value is kept as the number of its first
# writing (0, 1, ...): the book read back shares its paths as the book laid
# out did, and a page is kept in about a third of the room.

_ARITY = {"M": 2, "L": 2, "C": 6, "Z": 0}  # the numbers of each command
_WRITTEN: ContextVar[dict[int, int] | None] = ContextVar("paths_written", default=None)
_READ: ContextVar[list[VectorPath] | None] = ContextVar("paths_read", default=None)


def _encode_path(path: VectorPath) -> object:
    written = _WRITTEN.get()
    if written is not None:
        seen = written.get(id(path))  # every path of the value is alive meanwhile
        if seen is not None:
            return seen
        written[id(path)] = len(written)
    ops: list[str] = []
    nums: list[float] = []
    for c in path.cmds:
        if type(c) is not PathCmd or type(c.pts) is not tuple or _ARITY.get(c.op) != len(c.pts):
            return [_encode(path.cmds)]
        ops.append(c.op)
        nums += c.pts
    if not _NUMBERS.issuperset(map(type, nums)):
        return [_encode(path.cmds)]
    return ["".join(ops), nums]


_RECORD_ENCODERS[VectorPath] = _encode_path
_PLAIN_CMD = _plain_init(PathCmd)


def _decode_path(v: object) -> VectorPath:
    read = _READ.get()
    if type(v) is int:
        if read is None or not 0 <= v < len(read):
            raise _bad("a path number that names no path read before")
        return read[v]
    path = _path(v)
    if read is not None:
        read.append(path)
    return path


def _path(v: object) -> VectorPath:
    if type(v) is not list:
        raise _bad("not a VectorPath")
    if len(v) == 1:
        plain: VectorPath = _record_decoder(VectorPath)(v)
        return plain
    if len(v) != 2:
        raise _bad("not a VectorPath")
    ops, nums = v
    if type(ops) is not str or type(nums) is not list or not _NUMBERS.issuperset(map(type, nums)):
        raise _bad("not a VectorPath")
    flat, cmds, i, new = tuple(nums), [], 0, object.__new__
    for op in ops:
        n = _ARITY.get(op)
        if n is None:
            raise _bad("not a path command")
        if _PLAIN_CMD:
            c = new(PathCmd)
            c.__dict__.update({"op": op, "pts": flat[i : i + n]})
        else:
            c = PathCmd(op, flat[i : i + n])
        cmds.append(c)
        i += n
    if i != len(flat):
        raise _bad("a path's numbers are not its commands'")
    return VectorPath(tuple(cmds))
