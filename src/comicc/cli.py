"""The ``comicc`` command line: argument parsing over :mod:`comicc.commands`.

Only argparse lives here: the options of every verb, the dispatch to the
verb's function, and the catch-all that turns a bug into exit 3 instead of a traceback.
Each verb runs in its module in ``comicc.commands`` (exit codes: see
:mod:`comicc.commands.report`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Protocol, TypeAlias

from comicc import __version__, commands
from comicc.commands.argtypes import cost
from comicc.files import FileRefused, describe_os_error
from comicc.pipeline import OUTPUT_FORMATS
from comicc.pipeline.options import DPI_RANGE


def _bounded(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high`` (else a usage error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"`{text}` is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{value} is out of range: {what} must be from {low} to {high}"
            )
        return value

    return parse


_dpi = _bounded(*DPI_RANGE, "the dpi")
WIREFRAME_MIN_DPI = 10  # a wireframe is a proof: small ones are fine
_wireframe_dpi = _bounded(WIREFRAME_MIN_DPI, DPI_RANGE[1], "the wireframe dpi")


class AddCommon(Protocol):
    """Adds the options every checking verb shares (see :func:`_common`)."""

    def __call__(self, p: argparse.ArgumentParser, format_flag: bool = True) -> None: ...


def _common(p: argparse.ArgumentParser, format_flag: bool = True) -> None:
    flags = ("--format", "--diagnostics") if format_flag else ("--diagnostics",)
    p.add_argument(
        *flags,
        dest="diag_format",
        choices=("human", "short", "json"),
        default="human",
        help="how diagnostics are printed (default: human)",
    )
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="color in human diagnostics (default: auto)",
    )
    p.add_argument(
        "--debug", action="store_true", help="show Python tracebacks for internal errors"
    )
    p.add_argument(
        "--allow-path",
        action="append",
        default=[],
        metavar="DIR",
        help="let the script read theme files from DIR too (repeatable); by default only "
        "its own folder, the shipped themes and your themes folder",
    )


# what add_subparsers() returns (subscriptable only for type checkers)
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _add_check(sub: Subparsers, common: AddCommon) -> None:
    c = sub.add_parser(
        "check",
        help="check scripts for errors and warnings",
        description="Parse and check .comic scripts; print every problem found. "
        "Exit 0 when clean (warnings allowed), 1 on errors, 2 on usage errors.",
    )
    c.add_argument("files", nargs="+", metavar="FILE", help="scripts to check")
    common(c)


def _add_fmt(sub: Subparsers, common: AddCommon) -> None:
    f = sub.add_parser(
        "fmt",
        help="format scripts canonically",
        description="Rewrite scripts in canonical form, keeping comments, notes and boneyard. "
        "Never changes meaning; formatting twice changes nothing.",
    )
    f.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="scripts to format in place; `-`: read standard input, write standard output",
    )
    f.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file would change"
    )
    f.add_argument(
        "--diff", action="store_true", help="write nothing; print what would change as a diff"
    )
    common(f)


def _add_build(sub: Subparsers, common: AddCommon) -> None:
    b = sub.add_parser(
        "build",
        help="build a book (PDF, CBZ or PNG pages)",
        description="Lay out, paint and assemble a script into a book. The default `draft` "
        "backend works offline. Outputs are written atomically: on failure an "
        "existing output is left untouched. With `--backend` or `--dpi` it is a proof "
        "build: the lock file is not written.",
    )
    _build_options(b)
    b.add_argument(
        "--max-cost",
        type=cost,
        metavar="N",
        help="refuse to start when the plan costs more than N, in the paying backend's "
        "cost unit (credits, USD...); default: the script's `budget:`",
    )
    b.add_argument(
        "--yes", "-y", action="store_true", help="do not ask before painting paid images"
    )
    b.add_argument(
        "--force",
        action="store_true",
        help="write the book (and lock file) even when it is up to date",
    )
    common(b, format_flag=False)


def _add_watch(sub: Subparsers, common: AddCommon) -> None:
    w = sub.add_parser(
        "watch",
        help="build, then build again on every save",
        description="Build the script, then watch it, its theme files and its ComfyUI "
        "workflows, and build again on every save: only the pages that changed are laid "
        "out again, only the panels that changed are repainted (each named, with why). "
        "A build with errors prints them and keeps the last good book. Ctrl-C stops.",
    )
    _build_options(w)
    common(w, format_flag=False)


def _build_options(b: argparse.ArgumentParser) -> None:
    """The options of ``build`` (and ``watch``, which builds)."""
    b.add_argument("file", metavar="FILE", help="the script to build")
    b.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (pdf, cbz; `-` for standard output) or directory (png); "
        "default: beside the script",
    )
    b.add_argument(
        "--format",
        dest="output_format",
        choices=OUTPUT_FORMATS,
        default="pdf",
        help="output format (default: pdf)",
    )
    b.add_argument("--backend", metavar="NAME", help="paint every panel with this backend")
    b.add_argument(
        "--dpi",
        type=_dpi,
        metavar="N",
        help=f"art resolution at print size, {DPI_RANGE[0]}-{DPI_RANGE[1]} (default: the script's)",
    )
    b.add_argument("--bleed", action="store_true", help="include the bleed area and crop marks")
    b.add_argument(
        "--lossless", action="store_true", help="keep panel art lossless (PNG) instead of JPEG"
    )
    b.add_argument(
        "--quality",
        type=_bounded(1, 100, "the JPEG quality"),
        default=90,
        metavar="Q",
        help="JPEG quality of the art, 1-100 (default 90)",
    )
    b.add_argument(
        "--cache-dir", metavar="DIR", help="art cache (default: .comicc-cache beside the script)"
    )
    b.add_argument(
        "--jobs",
        "-j",
        type=_bounded(1, 64, "the number of jobs"),
        metavar="N",
        help="panels painted at once, and processes laying out pages (1-64)",
    )
    b.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_layout(sub: Subparsers, common: AddCommon) -> None:
    lay = sub.add_parser(
        "layout",
        help="page geometry as JSON, or wireframe PNGs to proof lettering",
        description="Lay out a script without painting anything: `--json` prints the complete "
        "geometry in points; `--png DIR` draws a wireframe of every page.",
    )
    lay.add_argument("file", metavar="FILE")
    lay.add_argument("--json", action="store_true", help="print the geometry as JSON on stdout")
    lay.add_argument("--png", metavar="DIR", help="write wireframe pages into DIR")
    lay.add_argument(
        "--dpi",
        type=_wireframe_dpi,
        default=100,
        metavar="N",
        help=f"wireframe resolution, {WIREFRAME_MIN_DPI}-{DPI_RANGE[1]} (default 100)",
    )
    lay.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="the build's cache, for its layout memo (default: .comicc-cache beside the script)",
    )
    common(lay)


def _verbs() -> dict[str, Callable[[Subparsers, AddCommon], None]]:
    """verb -> what adds its subcommand, in the order ``comicc --help`` lists
    them. The verbs of ``commands/`` are looked up only when added, so adding
    one verb imports only its own module."""
    return {
        "init": lambda sub, common: commands.register_init(sub, common),
        "check": _add_check,
        "fmt": _add_fmt,
        "build": _add_build,
        "watch": _add_watch,
        "layout": _add_layout,
        "explain": lambda sub, common: commands.register_explain(sub, common),
        "plan": lambda sub, common: commands.register_plan(sub, common),
        "explore": lambda sub, common: commands.register_explore(sub, common),
        "preview": lambda sub, common: commands.register_preview(sub, common),
        "cache": lambda sub, common: commands.register_cache(sub, common),
        "backends": lambda sub, common: commands.register_backends(sub, common),
        "help": lambda sub, common: commands.register_help(sub, common),
    }


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line: every verb and its options. A usage error exits
    with argparse's status 2, which is ``EXIT_USAGE``.

    ``only``: a verb name: add that verb's subcommand alone (what :func:`main`
    does when the command line names a verb), so ``comicc check`` does not
    import the modules of ``explain`` or ``plan`` (Pillow, the painting
    stages) just to describe their options; that verb parses and reports
    usage errors exactly as in the whole parser."""
    p = argparse.ArgumentParser(
        prog="comicc",
        description="Compile .comic scripts into lettered comic books.",
        epilog="Run `comicc COMMAND --help` for a command's options, `comicc help` for the "
        "documentation (`comicc help language`: how to write a script).",
    )
    p.add_argument("--version", action="version", version=f"comicc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    verbs = _verbs()
    for name, add in verbs.items():
        if only is None or only not in verbs or name == only:
            add(sub, _common)
    return p


# verb -> what runs it; each looks its function up only when called, so a verb
# imports only its own module (`comicc check` never loads the painting half)
COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check": lambda args: commands.cmd_check(args),
    "fmt": lambda args: commands.cmd_fmt(args),
    "build": lambda args: commands.cmd_build(args),
    "layout": lambda args: commands.cmd_layout(args),
    "backends": lambda args: commands.cmd_backends(args),
    "init": lambda args: commands.cmd_init(args),
    "watch": lambda args: commands.cmd_watch(args),
    "cache": lambda args: commands.cmd_cache(args),
    "explain": lambda args: commands.cmd_explain(args),
    "plan": lambda args: commands.cmd_plan(args),
    "explore": lambda args: commands.cmd_explore(args),
    "preview": lambda args: commands.cmd_preview(args),
    "help": lambda args: commands.cmd_help(args, build_parser()),
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit code."""
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(only=words[0] if words else None)
    args = parser.parse_args(words)
    if not args.command:
        parser.print_help(sys.stderr)
        return commands.EXIT_USAGE
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        # painting threads may hold the exit for a moment while they stop: a
        # second Ctrl-C leaves at once, without a traceback
        with contextlib.suppress(ValueError):  # not the main thread: no signals here
            signal.signal(signal.SIGINT, _leave_now)
        print("comicc: interrupted", file=sys.stderr)
        return commands.EXIT_INTERRUPTED
    except BrokenPipeError:
        return commands.EXIT_OK
    except FileRefused as e:
        print(f"comicc: error: {e}", file=sys.stderr)
        return commands.EXIT_ERRORS
    except OSError as e:  # the environment (disk full, permission denied): not a bug
        message = describe_os_error(e)
        if message is None:
            return _internal_error(args)
        if args.debug:
            import traceback

            traceback.print_exc()
        print(f"comicc: error: {message}", file=sys.stderr)
        return commands.EXIT_ERRORS
    except Exception:  # an internal error: never a bare traceback for users
        return _internal_error(args)


def _leave_now(signum: int, frame: object) -> None:
    """The second Ctrl-C: exit 130 now (no cleanup left worth waiting for:
    every output is written atomically)."""
    os.write(2, b"comicc: interrupted again, stopping now\n")
    os._exit(commands.EXIT_INTERRUPTED)


def _internal_error(args: argparse.Namespace) -> int:
    """Exit 3 after a bug: the traceback with ``--debug``, else a request for a report."""
    if args.debug:
        import traceback  # loaded only to print one

        traceback.print_exc()
    else:
        print(
            "comicc: internal error: this is a bug in comicc, not in your script.\n"
            "Please report it with the command you ran; rerun with --debug to see the details.",
            file=sys.stderr,
        )
    return commands.EXIT_INTERNAL


def run() -> None:
    """The command line, exiting with its status (what :func:`comicc.launch.main` runs)."""
    sys.exit(main())
