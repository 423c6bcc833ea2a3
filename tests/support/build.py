"""Helpers for end-to-end tests: check, lay out and build a script in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from comicc.diagnostics import Sink
from comicc.layout import BookGeom, to_json
from comicc.model import ir
from comicc.pipeline import (
    BuildOptions,
    BuildResult,
    Checked,
    build,
    check,
    check_source,
    layout,
    locked_sizes,
)
from comicc.source import SourceFile
from comicc.theme import Theme
from support import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.comic"))


@dataclass(frozen=True)
class CheckedScript:
    """A script that checked without errors, and its theme: what a build takes."""

    script: ir.Script
    theme: Theme


def _ok(res: Checked | None, sink: Sink) -> CheckedScript:
    errors = [(d.code, d.message) for d in sink.errors]
    assert res is not None and res.script is not None and not errors, errors
    return CheckedScript(res.script, res.theme)


def checked(path: Path) -> tuple[CheckedScript, Sink]:
    """Check the script at ``path``; fail the test on any error."""
    sink = Sink()
    return _ok(check(path, sink), sink), sink


def checked_text(text: str, path: str = "story.comic") -> CheckedScript:
    """Check ``text`` as the script at ``path``; fail the test on any error."""
    sink = Sink()
    return _ok(check_source(SourceFile.from_text(text, path), sink), sink)


def build_file(
    path: Path, out: Path, cache: Path, *, dpi: int | None = None, output_format: str = "pdf"
) -> tuple[CheckedScript, BuildResult, Sink]:
    """Build the script at ``path`` into ``out`` (no progress bar, no lock file)."""
    res, sink = checked(path)
    options = BuildOptions(
        output=str(out),
        output_format=output_format,
        dpi=dpi,
        cache_dir=str(cache),
        progress=False,
        write_lock=False,
    )
    result = build(res.script, res.theme, sink, options)
    assert result is not None, [(d.code, d.message) for d in sink.errors]
    return res, result, sink


def book_of(res: CheckedScript) -> BookGeom:
    """The laid-out book (no lock file)."""
    sink = Sink()
    book = layout(res.script, res.theme, sink)
    assert book is not None, [(d.code, d.message) for d in sink.errors]
    return book


def layout_json_afresh(script: Path) -> str:
    """The text ``comicc layout --json`` prints for ``script`` when nothing is
    kept: every page laid out (keeping the lock file's sizes), written by
    :func:`json.dumps`."""
    sink = Sink()
    res = check(script, sink)
    assert res is not None and res.script is not None
    book = layout(res.script, res.theme, sink, keep=locked_sizes(res.script, sink))
    assert book is not None
    return json.dumps(to_json(book), indent=1) + "\n"
