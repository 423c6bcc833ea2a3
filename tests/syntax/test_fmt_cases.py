"""Fixture cases for `comicc fmt`: each ``tests/data/fmt/<case>.in.comic``
formats to exactly ``<case>.out.comic``, and the output formats to itself.

After an intended change to the formatter, rewrite the expected outputs and
review the diff::

    COMICC_UPDATE_FIXTURES=1 .venv/bin/python -m pytest tests/syntax/test_fmt_cases.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from comicc.diagnostics import Sink
from comicc.source import SourceFile
from comicc.syntax import ast, format_script, parse
from support import DATA

CASES = sorted((DATA / "fmt").glob("*.in.comic"))
UPDATE = os.environ.get("COMICC_UPDATE_FIXTURES") == "1"


def _name(path: Path) -> str:
    return path.name.removesuffix(".in.comic")


def _parse(src: SourceFile) -> ast.Script:
    sink = Sink()
    tree = parse(src, sink)
    assert tree is not None and not sink.diagnostics, [d.message for d in sink.diagnostics]
    return tree


@pytest.mark.parametrize("path", CASES, ids=[_name(p) for p in CASES])
def test_fmt_case(path: Path):
    src = SourceFile.read(path)
    tree = _parse(src)
    out = format_script(tree)
    expected = path.with_name(_name(path) + ".out.comic")
    if UPDATE:
        expected.write_bytes(out.encode("utf-8"))
    assert out == expected.read_bytes().decode("utf-8")
    assert out != src.text, "a case whose input is already canonical tests nothing"
    again = _parse(SourceFile.from_text(out, src.path))
    assert again == tree  # same meaning
    assert format_script(again) == out  # a fixed point


def test_every_case_has_its_output():
    assert len(CASES) >= 8
    outputs = {p.name.removesuffix(".out.comic") for p in (DATA / "fmt").glob("*.out.comic")}
    assert outputs == {_name(p) for p in CASES}
