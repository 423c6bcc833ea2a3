"""``comicc check``: parse and check scripts, print every problem found."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NamedTuple

from comicc.collector import collector_off
from comicc.commands.report import (
    EXIT_ERRORS,
    EXIT_OK,
    Sources,
    plural,
    print_diagnostics,
    summary,
)
from comicc.diagnostics import Sink
from comicc.model import ir
from comicc.pipeline import check
from comicc.pipeline.checkmemo import check_memoized
from comicc.source import MAX_SOURCE_BYTES, InputRefused, SourceFile, read_capped
from comicc.theme import Theme


class Buildable(NamedTuple):
    """A script that checked without errors, and its theme."""

    script: ir.Script
    theme: Theme


def add_source(sources: Sources, path: str) -> None:
    """Put ``path`` into ``sources`` (for the renderers) when it is a regular file
    of a readable size, whatever its encoding, so a diagnostic about it (a byte
    that is not UTF-8) can quote its line. A FIFO or a device is never opened
    for reading twice, nor read whole."""
    try:
        data = read_capped(path, MAX_SOURCE_BYTES)
    except (OSError, InputRefused):
        return
    sources[path] = SourceFile.from_text(data.decode("utf-8", "replace"), path)


def check_script(
    path: str, sink: Sink, allow_paths: Sequence[str] = ()
) -> tuple[Buildable | None, Sources]:
    """Check the script at ``path`` for ``build``/``layout``: the script when it
    has no errors, and the files its diagnostics point into. ``allow_paths``:
    the folders given with ``--allow-path`` (where a script may read themes
    from besides its own folder)."""
    res = check(path, sink, allow_paths=allow_paths)
    if res is None:
        sources: Sources = {}
        add_source(sources, path)
        return None, sources
    if res.script is None or sink.has_errors():
        return None, dict(res.sources)
    return Buildable(res.script, res.theme), dict(res.sources)


def cmd_check(args: argparse.Namespace) -> int:
    """Check every script in ``args.files``; exit 1 on errors (or warnings with
    ``--strict``)."""
    sink = Sink()
    sources: Sources = {}
    allow = tuple(getattr(args, "allow_path", None) or ())
    # the collector's passes are about a tenth of a cold check (no cycle is made)
    with collector_off():
        for path in args.files:
            checked = check_memoized(path, sink, allow_paths=allow)
            if checked is not None:
                sources.update(checked)
            else:
                add_source(sources, path)
    print_diagnostics(sink, args, sources)
    failed = sink.has_errors(strict=args.strict)
    if args.diag_format != "json":
        found = summary(sink)
        what = plural(len(args.files), "script")
        if failed:
            print(f"comicc: checked {what}: {found}", file=sys.stderr)
        else:
            print(f"comicc: checked {what}: ok" + (f" ({found})" if found else ""), file=sys.stderr)
    return EXIT_ERRORS if failed else EXIT_OK
