"""The grammar cache: the built parser is kept on disk, used when it matches,
and ignored (then rebuilt) when it is missing, corrupt, foreign or unwritable."""

from __future__ import annotations

import io
import os
from pathlib import Path

import lark
import pytest

from comicc.diagnostics import Sink
from comicc.source import SourceFile
from comicc.syntax import parse
from comicc.syntax.grammar import GRAMMAR_CACHE_ENV, grammar_cache_dir, load_parser

SCRIPT = "title: Cache\n\nPAGE 1\n\nPANEL 1\nA kitchen at night.\n1. HAMMY (WHISPER): *Cheese.*\n"


def _cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("comic-*.lark"))


def _parses_script(p: lark.Lark) -> bool:
    try:
        p.parse(SCRIPT)
    except lark.exceptions.UnexpectedInput:
        return False
    return True


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "grammar-cache"
    monkeypatch.setenv(GRAMMAR_CACHE_ENV, str(folder))
    return folder


def _forge(path: Path) -> None:
    """Replace the saved parser at ``path`` by one of another grammar, under
    the same header: whoever loads it gets a parser that only accepts `x`."""
    header = path.read_bytes().split(b"\n", 1)[0] + b"\n"
    other = lark.Lark('start: "x"', parser="lalr")
    buf = io.BytesIO()
    other.save(buf)
    path.write_bytes(header + buf.getvalue())
    path.chmod(0o600)


def test_the_first_load_writes_the_cache_and_the_next_one_uses_it(cache: Path) -> None:
    assert grammar_cache_dir() == cache
    built = load_parser()
    assert _parses_script(built)
    [saved] = _cache_files(cache)
    assert _parses_script(load_parser())
    _forge(saved)
    # the next process gets its parser from the file, not from the grammar
    used = load_parser()
    assert used.parse("x") is not None
    assert not _parses_script(used)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data.split(b"\n", 1)[0] + b"\n" + b"\x80garbage", id="garbage"),
        pytest.param(lambda data: b"comicc-grammar-cache 1 " + b"0" * 64 + b"\n", id="foreign"),
    ],
)
def test_a_damaged_cache_file_is_ignored_and_rewritten(cache: Path, damage: object) -> None:
    load_parser()
    [saved] = _cache_files(cache)
    good = saved.read_bytes()
    assert callable(damage)
    saved.write_bytes(damage(good))
    assert _parses_script(load_parser())
    assert saved.read_bytes().split(b"\n", 1)[0] == good.split(b"\n", 1)[0]
    assert _parses_script(load_parser())  # and the rewritten file loads


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="file owners and modes are POSIX")
def test_a_cache_file_others_may_write_is_not_trusted(cache: Path) -> None:
    load_parser()
    [saved] = _cache_files(cache)
    _forge(saved)
    saved.chmod(0o666)
    assert _parses_script(load_parser())


def test_an_unwritable_cache_folder_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv(GRAMMAR_CACHE_ENV, str(blocker / "grammar"))
    assert _parses_script(load_parser())
    sink = Sink()
    assert parse(SourceFile.from_text(SCRIPT), sink) is not None
    assert not sink.diagnostics
    assert blocker.read_text() == "not a folder\n"


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GRAMMAR_CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert grammar_cache_dir() is None
    assert _parses_script(load_parser())
    assert not list(tmp_path.rglob("*.lark"))


def test_the_default_folder_is_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(GRAMMAR_CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert grammar_cache_dir() == tmp_path / "comicc" / "grammar"
    load_parser()
    assert len(_cache_files(tmp_path / "comicc" / "grammar")) == 1


def test_a_parser_with_a_transformer_loads_from_the_cache(cache: Path) -> None:
    class Count(lark.Transformer[lark.Token, int]):
        def start(self, items: list[object]) -> int:
            return len(items)

    load_parser()  # writes the cache
    lines = load_parser(Count()).parse(SCRIPT)
    assert lines == 5  # title, two headings, the description, the lettering
