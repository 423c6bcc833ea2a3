"""``comicc fmt``: rewrite scripts in canonical form (or show or check what would change)."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from comicc.commands.report import EXIT_ERRORS, EXIT_OK, Sources, print_diagnostics
from comicc.diagnostics import Sink
from comicc.files import FileRefused, describe_os_error, write_bytes_atomic
from comicc.pipeline import load_source
from comicc.syntax import format_script, parse


def cmd_fmt(args: argparse.Namespace) -> int:
    """Format ``args.files`` in place; ``--check`` / ``--diff`` write nothing.
    Exit 1 on a script that does not parse, or with ``--check`` when a file
    would change."""
    sink = Sink()
    sources: Sources = {}
    changed = []
    for path in args.files:
        src = load_source(path, sink)
        if src is None:
            continue
        sources[src.path] = src
        tree = parse(src, sink)
        if tree is None:
            continue
        new = format_script(tree)
        original = Path(path).read_bytes().decode("utf-8")
        if new == original:
            continue
        changed.append(path)
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    original.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"{path} (original)",
                    tofile=f"{path} (formatted)",
                )
            )
        if args.check:
            print(f"would reformat {path}", file=sys.stderr)
        elif not args.diff:
            # a symbolic link is kept: its target is rewritten (comicc.files)
            try:
                write_bytes_atomic(Path(path), new.encode("utf-8"))
            except FileRefused as e:
                sink.error("cannot-write", str(e), path=path)
                continue
            except OSError as e:
                message = describe_os_error(e, path)
                if message is None:
                    raise
                sink.error("cannot-write", message, path=path)
                continue
            print(f"reformatted {path}", file=sys.stderr)
    print_diagnostics(sink, args, sources)
    if sink.has_errors():
        return EXIT_ERRORS
    if args.check and changed:
        return EXIT_ERRORS
    return EXIT_OK
