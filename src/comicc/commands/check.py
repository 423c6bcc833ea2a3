"""``comicc check``: parse and check scripts, print every problem found."""

from __future__ import annotations

import argparse
import sys
from typing import NamedTuple

from comicc.commands.report import (
    EXIT_ERRORS,
    EXIT_OK,
    Sources,
    add_source,
    plural,
    print_diagnostics,
    summary,
)
from comicc.diagnostics import Sink
from comicc.model import ir
from comicc.pipeline import check
from comicc.theme import Theme


class Buildable(NamedTuple):
    """A script that checked without errors, and its theme."""

    script: ir.Script
    theme: Theme


def check_script(path: str, sink: Sink) -> tuple[Buildable | None, Sources]:
    """Check the script at ``path`` for ``build``/``layout``: the script when it
    has no errors, and the files its diagnostics point into."""
    res = check(path, sink)
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
    for path in args.files:
        res = check(path, sink)
        if res is not None:
            sources.update(res.sources)
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
