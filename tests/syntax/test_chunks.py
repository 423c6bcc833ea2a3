"""Parsing page by page gives exactly the whole parse, and the parse cache
is used when it matches and ignored when it is damaged, stale or foreign."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comicc.diagnostics import Sink
from comicc.source import SourceFile, Span
from comicc.syntax import ast, parse
from comicc.syntax import parser as parser_module
from comicc.syntax.chunks import (
    PARSE_CACHE_ENV,
    SCHEMA,
    ParseCache,
    parse_cache_dir,
    split_chunks,
)
from comicc.syntax.parser import parse_chunked

DATA = Path(__file__).resolve().parent.parent / "data"
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"
CORPUS = sorted([*DATA.rglob("*.comic"), *EXAMPLES.rglob("*.comic")])


def _spans(x: object, out: list[Span]) -> list[Span]:
    """Every span in ``x``, in order (spans take no part in ``==``)."""
    if isinstance(x, Span):
        out.append(x)
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x):
            _spans(getattr(x, f.name), out)
    elif isinstance(x, tuple):
        for y in x:
            _spans(y, out)
    return out


def _whole(src: SourceFile, monkeypatch: pytest.MonkeyPatch) -> tuple[object, str]:
    """The whole-text parse of ``src`` and what it reported."""
    with monkeypatch.context() as m:
        m.setattr(parser_module, "CHUNKED_MIN_LINES", 10**9)
        sink = Sink()
        tree = parse(src, sink)
    return tree, repr(sink.diagnostics)


def _chunked(src: SourceFile, monkeypatch: pytest.MonkeyPatch) -> tuple[object, str]:
    """The same through the chunked parse (with the cache off)."""
    with monkeypatch.context() as m:
        m.setattr(parser_module, "CHUNKED_MIN_LINES", 0)
        m.setenv(PARSE_CACHE_ENV, "off")
        sink = Sink()
        tree = parse(src, sink)
    return tree, repr(sink.diagnostics)


def _same(src: SourceFile, monkeypatch: pytest.MonkeyPatch) -> None:
    whole, whole_said = _whole(src, monkeypatch)
    chunked, chunked_said = _chunked(src, monkeypatch)
    assert chunked == whole
    assert _spans(chunked, []) == _spans(whole, [])
    assert chunked_said == whole_said
    lines = parse_chunked(src)
    assert (lines is None) == (whole is None)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_the_corpus_parses_the_same_page_by_page(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = SourceFile.read(path)
    _same(src, monkeypatch)


# lines chosen to sit on every edge of a chunk: headings in all spellings
# (and prose that only looks like one), boneyards opened, closed, unclosed and
# inline, indented continuations, list items and comments that keep a list
# going across blank lines, character attributes, lettering, settings
LINES = [
    "PAGE 1",
    "PAGE TWO (splash)",
    "PAGES 4-5",
    "page three",
    "Page turns slowly.",
    "  PAGE 7",
    "PAGE",
    "PAGE 1x",
    "PANEL 1",
    "panel two",
    "/* cut",
    "/* cut */",
    "*/",
    "still cut */",
    "text /* inline */ more",
    "/* a */ b",
    "HAMMY: Cheese!",
    "1. HAMMY (WHISPER): *Cheese*",
    "  and more cheese",
    "\tand a tab",
    "CAPTION: Midnight.",
    "prompt:",
    "  - @moonlight",
    "- wide shot",
    "  # - dutch angle",
    "# a comment",
    "",
    "   ",
    "character HAMMY: a hamster",
    "  ref: refs/hammy.png",
    "snippet ink: clean inks",
    "title: Test",
    "layout: 2/1",
    "[[ letterer: small ]]",
    "A kitchen at night.",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(LINES), max_size=40),
    st.booleans(),
)
def test_any_line_sequence_parses_the_same_page_by_page(lines: list[str], newline: bool) -> None:
    text = "\n".join(lines) + ("\n" if newline else "")
    src = SourceFile.from_text(text, "prop.comic")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same(src, monkeypatch)


def test_chunks_cut_before_page_headings_outside_boneyards() -> None:
    text = "title: T\n\nPAGE 1\nA.\n/* cut\nPAGE 2\n*/\nPAGE 3\nB.\npage four\n"
    starts = [text[a:b].split("\n", 1)[0] for a, b in split_chunks(text)]
    assert starts == ["title: T", "PAGE 1", "PAGE 3", "page four"]
    assert "".join(text[a:b] for a, b in split_chunks(text)) == text


def test_the_schema_saves_every_field_of_every_line() -> None:
    for name, (cls, kinds) in SCHEMA.items():
        assert cls.__name__ == name
        assert len(kinds) == len(dataclasses.fields(cls)), name
    nodes = {
        c
        for c in vars(ast).values()
        if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == ast.__name__
    }
    assert nodes - {cls for cls, _ in SCHEMA.values()} == {ast.Panel, ast.Page, ast.Script}


# ---------------------------------------------------------------- the cache

BOOK = "".join(
    f"PAGE {n}\n\nPANEL 1\nA kitchen, take {n}.\n1. HAMMY (WHISPER): *Cheese* {n}.\n"
    "  and more.\nprompt:\n  - @moonlight\n\n"
    for n in range(1, 6)
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "parse-cache"
    monkeypatch.setenv(PARSE_CACHE_ENV, str(where))
    return where


def _cached(text: str, folder: Path) -> tuple[object, ParseCache]:
    src = SourceFile.from_text(text, "book.comic")
    cache = ParseCache(folder, src.path)
    lines = parse_chunked(src, cache)
    assert lines is not None
    return lines, cache


def _tree(text: str, monkeypatch: pytest.MonkeyPatch) -> object:
    tree, _ = _whole(SourceFile.from_text(text, "book.comic"), monkeypatch)
    return tree


def test_a_second_parse_reuses_every_page_and_an_edit_reparses_one(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert parse_cache_dir() == folder
    first, cache = _cached(BOOK, folder)
    assert (cache.parsed, cache.reused) == (5, 0)
    again, cache = _cached(BOOK, folder)
    assert (cache.parsed, cache.reused) == (0, 5)
    assert again == first and _spans(tuple(again), []) == _spans(tuple(first), [])  # type: ignore[arg-type]
    edited = BOOK.replace("take 3.", "take three, longer now.")
    lines, cache = _cached(edited, folder)
    assert (cache.parsed, cache.reused) == (1, 4)
    src = SourceFile.from_text(edited, "book.comic")
    whole = parse_chunked(src, None)
    assert lines == whole and _spans(tuple(lines), []) == _spans(tuple(whole), [])  # type: ignore[arg-type]


def test_parse_writes_the_cache_for_a_long_script(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parser_module, "CHUNKED_MIN_LINES", 10)
    src = SourceFile.from_text(BOOK, "book.comic")
    tree = parse(src, Sink())
    assert [p.name for p in folder.iterdir()] != []
    assert parse(src, Sink()) == tree == _tree(BOOK, monkeypatch)


def _saved(folder: Path) -> Path:
    [path] = folder.glob("*.json")
    return path


def _forge(path: Path) -> None:
    """Rewrite every saved description, keeping the file's key."""
    text = path.read_text(encoding="utf-8").replace("A kitchen, take", "A forged kitchen,")
    path.write_text(text, encoding="utf-8")


def _descriptions(lines: object) -> list[str]:
    assert isinstance(lines, list)
    return [n.text for n in lines if isinstance(n, ast.Description)]


def test_the_saved_lines_are_what_is_used(folder: Path) -> None:
    _cached(BOOK, folder)
    saved = _saved(folder)
    _forge(saved)
    saved.chmod(0o600)
    lines, _ = _cached(BOOK, folder)
    assert all(d.startswith("A forged kitchen,") for d in _descriptions(lines))


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file modes")
def test_a_file_others_can_write_is_ignored(folder: Path) -> None:
    first, _ = _cached(BOOK, folder)
    saved = _saved(folder)
    _forge(saved)
    saved.chmod(0o666)
    lines, cache = _cached(BOOK, folder)
    assert lines == first and cache.parsed == 5


def _edit_first_chunk(path: Path, edit: object) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    digest = next(iter(doc["chunks"]))
    assert callable(edit)
    doc["chunks"][digest] = edit(doc["chunks"][digest])
    path.write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda lines: "not lines", id="not-a-list"),
        pytest.param(lambda lines: [["Page", 1]] + lines[1:], id="unknown-tag"),
        pytest.param(lambda lines: [["Number", "1", 1, [0, 1, 1, 1, 1, 2]]], id="not-a-line"),
        pytest.param(lambda lines: [lines[0][:-1]] + lines[1:], id="arity"),
        pytest.param(
            lambda lines: [[*lines[0][:-1], ["0", 1, 1, 1, 1, 1]]] + lines[1:], id="span-of-text"
        ),
        pytest.param(
            lambda lines: (
                [[lines[0][0], ["Mod", "X", [0, 1, 1, 1, 1, 2]], *lines[0][2:]]] + lines[1:]
            ),
            id="wrong-child",
        ),
        pytest.param(
            lambda lines: [*lines[:-1], ["Description", 7, [0, 1, 1, 1, 1, 2]]], id="int-text"
        ),
    ],
)
def test_damaged_chunks_are_parsed_again(folder: Path, edit: object) -> None:
    first, _ = _cached(BOOK, folder)
    _edit_first_chunk(_saved(folder), edit)
    lines, cache = _cached(BOOK, folder)
    assert lines == first and _spans(tuple(lines), []) == _spans(tuple(first), [])  # type: ignore[arg-type]
    assert (cache.parsed, cache.reused) == (1, 4)


@pytest.mark.parametrize(
    "damage", [b"", b"{not json", b"\xff\xfe", b"[]", b'{"key": "other", "chunks": {}}']
)
def test_a_damaged_file_is_ignored_and_rewritten(folder: Path, damage: bytes) -> None:
    first, _ = _cached(BOOK, folder)
    saved = _saved(folder)
    saved.write_bytes(damage)
    lines, cache = _cached(BOOK, folder)
    assert lines == first and cache.parsed == 5
    _, cache = _cached(BOOK, folder)
    assert cache.reused == 5


def test_a_folder_that_cannot_be_written_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv(PARSE_CACHE_ENV, str(blocker / "parse"))
    monkeypatch.setattr(parser_module, "CHUNKED_MIN_LINES", 10)
    assert parse(SourceFile.from_text(BOOK, "book.comic"), Sink()) == _tree(BOOK, monkeypatch)


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PARSE_CACHE_ENV, "off")
    assert parse_cache_dir() is None
    monkeypatch.delenv(PARSE_CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert parse_cache_dir() == tmp_path / "comicc" / "parse"


def test_a_syntax_error_in_a_long_script_is_reported_as_ever(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = BOOK.replace("PAGE 4\n", "PAGE 4x\n").replace("take 2.", "take 2.\ncharacter X")
    src = SourceFile.from_text(broken, "book.comic")
    whole = _whole(src, monkeypatch)
    monkeypatch.setattr(parser_module, "CHUNKED_MIN_LINES", 10)
    sink = Sink()
    assert parse(src, sink) is None
    assert repr(sink.diagnostics) == whole[1]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab \n\r\t\ufeffé日", max_size=60))
def test_the_line_index_holds_every_line_start(text: str) -> None:
    src = SourceFile.from_text(text, "index.comic")
    assert list(src.line_starts) == [0] + [i + 1 for i, ch in enumerate(src.text) if ch == "\n"]
    for offset in range(len(src.text) + 1):
        line, col = src.line_col(offset)
        assert src.line_starts[line - 1] + col - 1 == offset
