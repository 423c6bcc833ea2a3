"""The layout memo's codec: its readers (``layoutcodec.decoder``, written per
record type, plain fields checked inline) take exactly what the plain reader
they replace took, and refuse the rest -- checked against that reader, kept
here, on every example page written in the plain form and on every such page
damaged one value at a time; the compact form (paths as letters and numbers,
a path met again as a number) reads back the same page, sharing its paths as
the page laid out did, and a damaged one is read or refused, never a crash."""

from __future__ import annotations

import dataclasses
import functools
import json
import types
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comicc.diagnostics import Sink
from comicc.layout import PageGeom, VectorPath
from comicc.pipeline import check, layout
from comicc.pipeline.layoutcodec import Malformed, canonical, decode, encode
from support import ROOT

_NUMBERS = frozenset((int, float))


@functools.cache
def plain_reader(tp: Any) -> Any:
    """The reader as it was: one closure per type, each record through ``__init__``."""
    origin, args = get_origin(tp), get_args(tp)
    if tp is type(None):

        def none(v: object) -> None:
            if v is not None:
                raise Malformed("not null")

        return none
    if origin in (Union, types.UnionType):
        inner = plain_reader(next(a for a in args if a is not type(None)))
        return lambda v: None if v is None else inner(v)
    if tp is float:

        def number(v: object) -> object:
            if type(v) not in _NUMBERS:
                raise Malformed("not a number")
            return v

        return number
    if tp in (int, str, bool):

        def exact(v: object) -> object:
            if type(v) is not tp:
                raise Malformed("wrong type")
            return v

        return exact
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        each = plain_reader(args[0])

        def items(v: object) -> tuple[Any, ...]:
            if type(v) is not list:
                raise Malformed("not a list")
            return tuple(each(x) for x in v)

        return items
    if origin in (tuple, frozenset):
        parts = [plain_reader(a) for a in args] if origin is tuple else None
        one = plain_reader(args[0])

        def fixed(v: object) -> Any:
            if type(v) is not list:
                raise Malformed("not a list")
            if parts is None:
                return frozenset(one(x) for x in v)
            if len(v) != len(parts):
                raise Malformed("wrong length")
            return tuple(d(x) for d, x in zip(parts, v, strict=True))

        return fixed
    assert isinstance(tp, type) and dataclasses.is_dataclass(tp)
    hints = get_type_hints(tp)
    fields = [plain_reader(hints[f.name]) for f in dataclasses.fields(tp)]

    def record(v: object) -> Any:
        if type(v) is not list or len(v) != len(fields):
            raise Malformed("not a record")
        return tp(*[d(x) for d, x in zip(fields, v, strict=True)])

    return record


def plain_form(value: object) -> object:
    """The geometry as the memo wrote it before (every dataclass a list of its
    fields, every path in full)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [plain_form(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, frozenset):
        return sorted(plain_form(v) for v in value)  # type: ignore[type-var]
    assert isinstance(value, tuple | list)
    return [plain_form(v) for v in value]


def _geoms() -> list[PageGeom]:
    out = []
    for path in sorted((ROOT / "examples").glob("*.comic")):
        sink = Sink()
        res = check(path, sink)
        assert res is not None and res.script is not None
        book = layout(res.script, res.theme, sink)
        assert book is not None
        out += list(book.pages)
    return out


GEOMS = _geoms()
PAGES = [plain_form(p) for p in GEOMS]
COMPACT = [encode(p) for p in GEOMS]


def read_new(data: object) -> str | None:
    try:
        return canonical(decode(PageGeom, data))
    except Malformed:
        return None


def read_both(data: object) -> tuple[str | None, str | None]:
    """Both readers' results (canonical text; None: refused)."""
    got: list[str | None] = []
    for read in (functools.partial(decode, PageGeom), plain_reader(PageGeom)):
        try:
            got.append(canonical(read(data)))
        except Malformed:
            got.append(None)
    return got[0], got[1]


def test_every_example_page_reads_back_as_it_did():
    for data in PAGES:
        new, old = read_both(data)
        assert new is not None and new == old


def _paths(v: object, out: list[VectorPath]) -> list[VectorPath]:
    if isinstance(v, VectorPath):
        out.append(v)
    elif isinstance(v, tuple):
        for x in v:
            _paths(x, out)
    elif dataclasses.is_dataclass(v) and not isinstance(v, type):
        for f in dataclasses.fields(v):
            _paths(getattr(v, f.name), out)
    return out


def test_the_compact_form_reads_back_the_page_sharing_its_paths():
    for geom, data in zip(GEOMS, COMPACT, strict=True):
        got = decode(PageGeom, json.loads(json.dumps(data)))
        assert canonical(got) == canonical(geom)
        assert got == geom
        before, after = _paths(geom, []), _paths(got, [])
        assert len(before) == len(after)
        assert len({id(p) for p in after}) == len({id(p) for p in before}) < len(before)
        same = [[i for i, q in enumerate(before) if q is p] for p in before]
        assert [[i for i, q in enumerate(after) if q is p] for p in after] == same
    assert len(json.dumps(COMPACT)) < len(json.dumps(PAGES)) / 2


def test_a_path_number_names_only_a_path_read_before():
    page = COMPACT[0]
    assert isinstance(page, list)
    assert read_new(_replaced(page, _first_path_at(page), 0)) is None
    assert read_new(_replaced(page, _first_path_at(page), 10**6)) is None


def _places(v: object, at: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
    """The index path of every value inside ``v`` (lists all the way down)."""
    out = [at]
    if isinstance(v, list):
        for i, x in enumerate(v):
            out += _places(x, (*at, i))
    return out


PLACES = [_places(p) for p in PAGES]
# what a damaged page may hold instead of a value; the plain form's readers must
# agree on all but what is a path in the compact form (a number, a string and numbers)
PLAIN_WRONG: list[object] = [None, True, 2.5, float("nan"), "", "M", [], [1.0], [[]], [[], []], {}]
WRONG = st.sampled_from([*PLAIN_WRONG, 0, -1, ["M", [1.0, 2.0]], ["MZ", [1, 2]], ["Q", []]])


def _replaced(v: object, at: tuple[int, ...], new: object) -> object:
    if not at:
        return new
    assert isinstance(v, list)
    out = list(v)
    out[at[0]] = _replaced(v[at[0]], at[1:], new)
    return out


@settings(max_examples=500, deadline=None)
@given(st.data(), st.sampled_from(PLAIN_WRONG))
def test_a_damaged_page_is_read_or_refused_as_it_was(data: st.DataObject, wrong: object) -> None:
    which = data.draw(st.integers(0, len(PAGES) - 1))
    at = data.draw(st.sampled_from(PLACES[which]))
    damaged = _replaced(PAGES[which], at, wrong)
    new, old = read_both(damaged)
    assert new == old


COMPACT_PLACES = [_places(p) for p in COMPACT]


def _first_path_at(page: object) -> tuple[int, ...]:
    """Where the first path of a compact page is (a list of a string and numbers)."""
    for at in _places(page):
        v = page
        for i in at:
            v = v[i]  # type: ignore[index]
        if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and v[0][:1] == "M":
            return at
    raise AssertionError("no path")


@settings(max_examples=500, deadline=None)
@given(st.data(), WRONG | st.integers(-2, 40))
def test_a_damaged_compact_page_is_read_or_refused(data: st.DataObject, wrong: object) -> None:
    which = data.draw(st.integers(0, len(COMPACT) - 1))
    at = data.draw(st.sampled_from(COMPACT_PLACES[which]))
    damaged = _replaced(COMPACT[which], at, wrong)
    got = read_new(damaged)  # Malformed is the only way to refuse
    if got is not None:  # then it is a page: written again, it reads back the same
        again = decode(PageGeom, damaged)
        assert canonical(decode(PageGeom, encode(again))) == got


@pytest.mark.parametrize("cut", [1, 2, 3])
def test_a_shortened_record_is_refused(cut: int) -> None:
    page = PAGES[0]
    assert isinstance(page, list)
    assert read_both(page[:-cut]) == (None, None)
