"""Helpers for end-to-end tests: check + build a script in-process."""

from __future__ import annotations

from pathlib import Path

from comicc.diagnostics import Sink
from comicc.pipeline.book import BuildOptions, build, layout
from comicc.pipeline.compile import check, check_source
from comicc.source import SourceFile
from support import ROOT  # noqa: E402

EXAMPLES = sorted((ROOT / "examples").glob("*.comic"))


def checked(path: Path):
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None, [d.message for d in sink.errors]
    return res, sink


def checked_text(text: str, path: str = "story.comic"):
    sink = Sink()
    res = check_source(SourceFile.from_text(text, path), sink)
    assert res is not None and res.script is not None, [(d.code, d.message) for d in sink.errors]
    return res


def build_file(path: Path, out: Path, cache: Path, **opts):
    res, sink = checked(path)
    result = build(
        res.script,
        res.theme,
        sink,
        BuildOptions(
            output=str(out), cache_dir=str(cache), progress=False, write_lock=False, **opts
        ),
    )
    assert result is not None, [(d.code, d.message) for d in sink.errors]
    return res, result, sink


def book_of(res):
    sink = Sink()
    book = layout(res.script, res.theme, sink)
    assert book is not None
    return book
