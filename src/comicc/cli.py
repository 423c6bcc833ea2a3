"""The ``comicc`` command line: thin argument parsing over compiler functions.

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
import difflib
import os
import sys
import tempfile
import traceback
from pathlib import Path

from . import __version__
from .diagnostics import Sink, render_human, render_json, render_short

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with a short message
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", dest="diag_format", choices=("human", "short", "json"), default="human",
                   help="how diagnostics are printed (default: human)")
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                   help="color in human diagnostics (default: auto)")
    p.add_argument("--debug", action="store_true", help="show Python tracebacks for internal errors")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="comicc", description="Compile .comic scripts into lettered comic books.",
                epilog="Run `comicc COMMAND --help` for a command's options. Docs: docs/language.md")
    p.add_argument("--version", action="version", version=f"comicc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser("check", help="check scripts for errors and warnings",
                       description="Parse and check .comic scripts; print every problem found. "
                                   "Exit 0 when clean (warnings allowed), 1 on errors, 2 on usage errors.")
    c.add_argument("files", nargs="+", metavar="FILE", help="scripts to check")
    _common(c)

    f = sub.add_parser("fmt", help="format scripts canonically",
                       description="Rewrite scripts in canonical form, keeping comments, notes and boneyard. "
                                   "Never changes meaning; formatting twice changes nothing.")
    f.add_argument("files", nargs="+", metavar="FILE", help="scripts to format in place")
    f.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    f.add_argument("--diff", action="store_true", help="write nothing; print what would change as a diff")
    _common(f)

    for register in _EXTRA_COMMANDS:
        register(sub, _common)
    return p


# later stages add their commands here (build, layout, backends)
_EXTRA_COMMANDS: list = []


def _print_diags(sink: Sink, args, sources) -> None:
    diags = sink.sorted()
    if args.diag_format == "json":
        sys.stdout.write(render_json(diags))
        return
    if not diags:
        return
    if args.diag_format == "short":
        sys.stderr.write(render_short(diags))
    else:
        color = args.color == "always" or (args.color == "auto" and sys.stderr.isatty()
                                           and not os.environ.get("NO_COLOR"))
        sys.stderr.write(render_human(diags, sources, color=color))


def _summary(sink: Sink) -> str:
    e, w = len(sink.errors), len(sink.warnings)
    parts = []
    if e:
        parts.append(f"{e} error{'s' if e != 1 else ''}")
    if w:
        parts.append(f"{w} warning{'s' if w != 1 else ''}")
    return ", ".join(parts)


def cmd_check(args) -> int:
    from .compiler import check
    sink = Sink()
    sources = {}
    for f in args.files:
        res = check(f, sink)
        if res is not None:
            sources[res.source.path] = res.source
        else:
            _add_source(sources, f)
    _print_diags(sink, args, sources)
    failed = sink.has_errors(strict=args.strict)
    if args.diag_format != "json":
        summary = _summary(sink)
        n = len(args.files)
        what = f"{n} script{'s' if n != 1 else ''}"
        if failed:
            print(f"comicc: checked {what}: {summary}", file=sys.stderr)
        else:
            print(f"comicc: checked {what}: ok" + (f" ({summary})" if summary else ""), file=sys.stderr)
    return EXIT_ERRORS if failed else EXIT_OK


def _add_source(sources, path):
    from .source import SourceFile
    try:
        sources[str(path)] = SourceFile.from_text(Path(path).read_bytes().decode("utf-8", "replace"), str(path))
    except OSError:
        pass


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def cmd_fmt(args) -> int:
    from .compiler import load_source
    from .syntax.fmt import format_script
    from .syntax.parser import parse
    sink = Sink()
    sources = {}
    changed = []
    for f in args.files:
        src = load_source(f, sink)
        if src is None:
            continue
        sources[src.path] = src
        tree = parse(src, sink)
        if tree is None:
            continue
        new = format_script(tree)
        original = Path(f).read_bytes().decode("utf-8")
        if new == original:
            continue
        changed.append(f)
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(
                original.splitlines(keepends=True), new.splitlines(keepends=True),
                fromfile=f"{f} (original)", tofile=f"{f} (formatted)"))
        if args.check:
            print(f"would reformat {f}", file=sys.stderr)
        elif not args.diff:
            write_atomic(Path(f), new.encode("utf-8"))
            print(f"reformatted {f}", file=sys.stderr)
    _print_diags(sink, args, sources)
    if sink.has_errors():
        return EXIT_ERRORS
    if args.check and changed:
        return EXIT_ERRORS
    return EXIT_OK


COMMANDS = {"check": cmd_check, "fmt": cmd_fmt}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("comicc: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # an internal error: never a bare traceback for users
        if getattr(args, "debug", False):
            traceback.print_exc()
        else:
            print("comicc: internal error: this is a bug in comicc, not in your script.\n"
                  "Please report it with the command you ran; rerun with --debug to see the details.",
                  file=sys.stderr)
        return EXIT_INTERNAL


def run() -> None:
    sys.exit(main())
