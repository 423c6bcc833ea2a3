"""A short script read from its file is kept in the parse cache too (its
re-check loads no parser); a text in memory below the chunked length writes
no cache file; both give the tree and the diagnostics of a whole parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from comicc.diagnostics import Sink
from comicc.pipeline import check
from comicc.source import SourceFile
from comicc.syntax import parse
from comicc.syntax.chunks import PARSE_CACHE_ENV

SHORT = (
    "title: Short\n\nPAGE 1\n\nPANEL 1\nA kitchen.\n1. HAMMY (WHISPER): *Cheese.*\n\n"
    "PAGE 2\n\nPANEL 1\nThe fridge.\n2. HAMMY: More.\n"
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "parse-cache"
    monkeypatch.setenv(PARSE_CACHE_ENV, str(where))
    return where


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def test_a_short_script_from_its_file_is_cached(folder: Path, tmp_path: Path) -> None:
    path = tmp_path / "short.comic"
    path.write_text(SHORT, encoding="utf-8")
    first = check(path, Sink())
    assert first is not None and len(_files(folder)) == 1
    again = check(path, Sink())
    assert again is not None and again.tree == first.tree
    whole = parse(SourceFile.from_text(SHORT, str(path)), Sink())
    assert whole == first.tree


def test_a_text_in_memory_writes_no_cache(folder: Path) -> None:
    tree = parse(SourceFile.from_text(SHORT, "memory.comic"), Sink())
    assert tree is not None and _files(folder) == []


def test_a_syntax_error_is_reported_as_ever(folder: Path, tmp_path: Path) -> None:
    broken = SHORT.replace("PANEL 1\nThe fridge.", "PANEL 1 (open\nThe fridge.")
    path = tmp_path / "broken.comic"
    path.write_text(broken, encoding="utf-8")
    from_file, in_memory = Sink(), Sink()
    assert check(path, from_file) is None or from_file.has_errors()
    assert parse(SourceFile.from_text(broken, str(path)), in_memory) is None
    assert [d.message for d in from_file.diagnostics] == [d.message for d in in_memory.diagnostics]
    assert from_file.diagnostics
