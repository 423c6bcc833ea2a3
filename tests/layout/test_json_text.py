"""``json_text`` writes what ``json.dumps(data, indent=1)`` writes, byte for byte
(``comicc layout --json``'s text), on any JSON data and on every example book."""

from __future__ import annotations

import enum
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comicc.diagnostics import Sink
from comicc.layout import json_text, to_json
from comicc.pipeline import check, layout
from support import ROOT

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0.0, -0.0, 1e-320, 1e300, math.pi, 0.1 + 0.2, 3.0])
    | st.text()
    | st.text(alphabet=st.characters(codec=None))  # lone surrogates, controls, astral
)
KEYS = st.text() | st.integers() | st.floats() | st.booleans() | st.none()
DATA = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(KEYS, inner, max_size=5)
    ),
    max_leaves=60,
)


@settings(max_examples=400)
@given(DATA)
def test_json_text_is_json_dumps_with_indent_1(data: object) -> None:
    assert json_text(data) == json.dumps(data, indent=1)


class Kind(enum.StrEnum):
    SPEECH = "speech"


class Count(enum.IntEnum):
    TWO = 2


class Ratio(float):
    pass


@pytest.mark.parametrize(
    "data",
    [
        {},
        [],
        [[]],
        {"a": {}},
        {"kind": Kind.SPEECH, "n": Count.TWO, "r": Ratio(0.5), Kind.SPEECH: [True, False, None]},
        {7: "seven", 2.5: "x", True: "t", None: "n", False: "f"},
        ['\u00e9\u4e2d\U0001f600\ud800\x00\x1f"\\/'],
        [float("nan"), float("inf"), -float("inf"), -0.0],
    ],
)
def test_json_text_takes_every_value_json_takes(data: object) -> None:
    assert json_text(data) == json.dumps(data, indent=1)


@pytest.mark.parametrize("data", [{(1, 2): "x"}, [object()], {"a": {1, 2}}, b"bytes"])
def test_json_text_refuses_what_json_refuses(data: object) -> None:
    with pytest.raises(TypeError):
        json.dumps(data, indent=1)
    with pytest.raises(TypeError):
        json_text(data)


@pytest.mark.parametrize("depth", [300, 600])  # 600: deeper than json_text's own recursion
def test_deep_data_is_written_or_refused_as_json_does(depth: int) -> None:
    deep: list[object] = []
    for _ in range(depth):
        deep = [deep]
    assert json_text(deep) == json.dumps(deep, indent=1)
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError):
        json_text(loop)


BOOKS = sorted(
    [
        *(ROOT / "examples").glob("*.comic"),
        *(ROOT / "docs" / "samples").glob("*.comic"),
        *(ROOT / "bench" / "scenes").glob("*.comic"),
    ]
)


@pytest.mark.parametrize("path", BOOKS, ids=[p.name for p in BOOKS])
def test_json_text_of_every_book_is_its_json_dumps(path) -> None:
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None
    book = layout(res.script, res.theme, sink)
    assert book is not None
    data = to_json(book)
    assert json_text(data) == json.dumps(data, indent=1)
