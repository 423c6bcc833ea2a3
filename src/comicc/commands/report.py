"""How a command reports: exit codes, diagnostics, one-line summaries.

Exit codes (docs/cli.md):
  0  success (warnings allowed unless --strict)
  1  the input has errors (diagnostics printed), or `fmt --check` found
     files to reformat
  2  usage error (bad command line)
  3  internal error: a bug in comicc (please report it)
  130 interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import os
import sys

from comicc.diagnostics import Sink, render_human, render_json, render_short
from comicc.source import SourceFile

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

Sources = dict[str, SourceFile]  # path -> the file a diagnostic may point into


def plural(n: int, noun: str) -> str:
    """``1 script``, ``2 scripts``."""
    return f"{n} {noun}{'s' if n != 1 else ''}"


def summary(sink: Sink) -> str:
    """``2 errors, 1 warning``; empty when there is nothing to report."""
    parts = []
    if sink.errors:
        parts.append(plural(len(sink.errors), "error"))
    if sink.warnings:
        parts.append(plural(len(sink.warnings), "warning"))
    return ", ".join(parts)


def print_diagnostics(sink: Sink, args: argparse.Namespace, sources: Sources) -> None:
    """Every diagnostic, sorted, as ``--format``/``--diagnostics`` asks: JSON on
    stdout (always, even empty), human or short text on stderr."""
    diags = sink.sorted()
    if args.diag_format == "json":
        sys.stdout.write(render_json(diags))
        return
    if not diags:
        return
    if args.diag_format == "short":
        sys.stderr.write(render_short(diags))
    else:
        color = args.color == "always" or (
            args.color == "auto" and sys.stderr.isatty() and not os.environ.get("NO_COLOR")
        )
        sys.stderr.write(render_human(diags, sources, color=color))
