"""``comicc fmt``: rewrite scripts in canonical form (or show or check what would change).

``comicc fmt -`` reads the script from standard input and writes the formatted
script to standard output (nothing at all when it does not parse), for editors.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from comicc.commands.report import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, Sources, print_diagnostics
from comicc.diagnostics import Sink
from comicc.files import STDOUT, FileRefused, describe_os_error, write_bytes_atomic
from comicc.pipeline import load_source
from comicc.source import MAX_SOURCE_BYTES, SourceFile
from comicc.syntax import format_script, parse

STDIN_NAME = "<stdin>"


def _read_stdin(sink: Sink) -> SourceFile | None:
    """The script on standard input (at most MAX_SOURCE_BYTES of UTF-8); None
    (and a diagnostic) when it is not one."""
    data = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        sink.error(
            "file-too-large",
            f"standard input is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB: "
            "comicc reads scripts of up to that size",
            path=STDIN_NAME,
        )
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        src = SourceFile.from_text(
            data[: e.start].decode("utf-8", "replace") + "\ufffd", STDIN_NAME
        )
        off = len(src.text) - 1
        sink.error(
            "not-utf8",
            f"the input is not UTF-8 text: byte 0x{data[e.start]:02x} cannot be read",
            src.span(off, off + 1),
            label="here",
            hints=["save the script as UTF-8 (every modern editor can)"],
        )
        return None
    return SourceFile.from_text(text, STDIN_NAME)


def _fmt_stdin(args: argparse.Namespace) -> int:
    """``fmt -``: standard input to standard output (``--check``: write nothing,
    exit 1 if it would change; ``--diff``: the diff instead)."""
    sink = Sink()
    src = _read_stdin(sink)
    tree = parse(src, sink) if src is not None else None
    sources: Sources = {src.path: src} if src is not None else {}
    if tree is None or src is None or sink.has_errors():
        print_diagnostics(sink, args, sources)
        return EXIT_ERRORS
    new = format_script(tree)
    if args.diff:
        sys.stdout.writelines(
            difflib.unified_diff(
                src.text.splitlines(keepends=True),
                new.splitlines(keepends=True),
                fromfile="<stdin> (original)",
                tofile="<stdin> (formatted)",
            )
        )
    elif not args.check:
        sys.stdout.write(new)
        sys.stdout.flush()
    print_diagnostics(sink, args, sources)
    if args.check and new != src.text:
        print("would reformat <stdin>", file=sys.stderr)
        return EXIT_ERRORS
    return EXIT_OK


def cmd_fmt(args: argparse.Namespace) -> int:
    """Format ``args.files`` in place; ``--check`` / ``--diff`` write nothing.
    Exit 1 on a script that does not parse, or with ``--check`` when a file
    would change."""
    if STDOUT in args.files:
        if len(args.files) > 1:
            print(
                "comicc fmt: error: `-` (standard input) cannot be formatted together with files",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if args.diag_format == "json" and not args.check:
            print(
                "comicc fmt: error: `fmt -` writes the script to standard output, and so "
                "does `--format json`; choose another diagnostics format (or `--check`)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        return _fmt_stdin(args)
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
