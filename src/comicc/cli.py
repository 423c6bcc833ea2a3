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
import traceback
from pathlib import Path

from comicc import __version__
from comicc.diagnostics import Sink, render_human, render_json, render_short

EXIT_OK, EXIT_ERRORS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with a short message
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


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


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="comicc",
        description="Compile .comic scripts into lettered comic books.",
        epilog="Run `comicc COMMAND --help` for a command's options. Docs: docs/language.md",
    )
    p.add_argument("--version", action="version", version=f"comicc {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser(
        "check",
        help="check scripts for errors and warnings",
        description="Parse and check .comic scripts; print every problem found. "
        "Exit 0 when clean (warnings allowed), 1 on errors, 2 on usage errors.",
    )
    c.add_argument("files", nargs="+", metavar="FILE", help="scripts to check")
    _common(c)

    f = sub.add_parser(
        "fmt",
        help="format scripts canonically",
        description="Rewrite scripts in canonical form, keeping comments, notes and boneyard. "
        "Never changes meaning; formatting twice changes nothing.",
    )
    f.add_argument("files", nargs="+", metavar="FILE", help="scripts to format in place")
    f.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file would change"
    )
    f.add_argument(
        "--diff", action="store_true", help="write nothing; print what would change as a diff"
    )
    _common(f)

    for register in _EXTRA_COMMANDS:
        register(sub, _common)
    return p


def _register_build(sub, common) -> None:
    b = sub.add_parser(
        "build",
        help="build a book (PDF, CBZ or PNG pages)",
        description="Lay out, paint and assemble a script into a book. The default `draft` "
        "backend works offline. Outputs are written atomically: on failure an "
        "existing output is left untouched.",
    )
    b.add_argument("file", metavar="FILE", help="the script to build")
    b.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="output file (pdf, cbz) or directory (png); default: beside the script",
    )
    b.add_argument(
        "--format",
        dest="out_format",
        choices=("pdf", "cbz", "png"),
        default="pdf",
        help="output format (default: pdf)",
    )
    b.add_argument("--backend", metavar="NAME", help="paint every panel with this backend")
    b.add_argument(
        "--dpi", type=int, metavar="N", help="art resolution at print size (default: the script's)"
    )
    b.add_argument("--bleed", action="store_true", help="include the bleed area and crop marks")
    b.add_argument(
        "--lossless", action="store_true", help="keep panel art lossless (PNG) instead of JPEG"
    )
    b.add_argument(
        "--quality", type=int, default=90, metavar="Q", help="JPEG quality of the art (default 90)"
    )
    b.add_argument(
        "--cache-dir", metavar="DIR", help="art cache (default: .comicc-cache beside the script)"
    )
    b.add_argument("--jobs", "-j", type=int, metavar="N", help="panels painted at once")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    common(b, format_flag=False)

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
        "--dpi", type=int, default=100, metavar="N", help="wireframe resolution (default 100)"
    )
    common(lay)


# later stages add their commands here
_EXTRA_COMMANDS: list = [_register_build]


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
        color = args.color == "always" or (
            args.color == "auto" and sys.stderr.isatty() and not os.environ.get("NO_COLOR")
        )
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
    from comicc.pipeline.compile import check

    sink = Sink()
    sources = {}
    for f in args.files:
        res = check(f, sink)
        if res is not None:
            sources.update(res.sources)
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
            print(
                f"comicc: checked {what}: ok" + (f" ({summary})" if summary else ""),
                file=sys.stderr,
            )
    return EXIT_ERRORS if failed else EXIT_OK


def _add_source(sources, path):
    from comicc.source import SourceFile

    try:
        sources[str(path)] = SourceFile.from_text(
            Path(path).read_bytes().decode("utf-8", "replace"), str(path)
        )
    except OSError:
        pass


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and a rename."""
    from comicc.files import write_bytes_atomic

    write_bytes_atomic(path, data)


def cmd_fmt(args) -> int:
    from comicc.pipeline.compile import load_source
    from comicc.syntax.formatter import format_script
    from comicc.syntax.parser import parse

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
            sys.stdout.writelines(
                difflib.unified_diff(
                    original.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"{f} (original)",
                    tofile=f"{f} (formatted)",
                )
            )
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


def _checked(args, sink):
    from comicc.pipeline.compile import check

    res = check(args.file, sink)
    sources = dict(res.sources) if res is not None else {}
    if res is None or res.script is None or res.theme is None or sink.has_errors():
        if res is None:
            _add_source(sources, args.file)
        return None, sources
    return res, sources


def cmd_build(args) -> int:
    from comicc.pipeline.book import BuildOptions, build

    sink = Sink()
    res, sources = _checked(args, sink)
    result = None
    if res is not None and not (args.strict and sink.diagnostics):
        if args.backend:
            from comicc.backends import registry

            if args.backend not in registry.names():
                from comicc.diagnostics import did_you_mean

                close = did_you_mean(args.backend, registry.names())
                print(
                    f"comicc build: error: unknown backend `{args.backend}`"
                    + (f" (did you mean `{close[0]}`?)" if close else "")
                    + "; backends: "
                    + ", ".join(registry.names()),
                    file=sys.stderr,
                )
                return EXIT_USAGE
        opts = BuildOptions(
            output=args.output,
            format=args.out_format,
            backend=args.backend,
            dpi=args.dpi,
            bleed=args.bleed,
            lossless=args.lossless,
            quality=args.quality,
            cache_dir=args.cache_dir,
            workers=args.jobs,
            progress=False if args.no_progress else None,
        )
        result = build(res.script, res.theme, sink, opts)
    _print_diags(sink, args, sources)
    if result is None or sink.has_errors(strict=args.strict):
        print(
            f"comicc: build failed: {_summary(sink) or 'see above'}; nothing was written",
            file=sys.stderr,
        )
        return EXIT_ERRORS
    extra = f" ({_summary(sink)})" if sink.diagnostics else ""
    print(
        f"comicc: wrote {result.output}: {result.pages} page{'s' if result.pages != 1 else ''}, "
        f"{result.panels} panels ({result.painted} painted, {result.cached} from cache){extra}",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_layout(args) -> int:
    import json as _json

    from comicc.pipeline.book import layout

    sink = Sink()
    res, sources = _checked(args, sink)
    from comicc.pipeline.book import locked_sizes

    book = (
        layout(res.script, res.theme, sink, keep=locked_sizes(res.script))
        if res is not None
        else None
    )
    _print_diags(sink, args, sources)
    if book is None or sink.has_errors(strict=args.strict):
        return EXIT_ERRORS
    from comicc.output.wireframe import draw_wireframe, to_json

    if args.json or not args.png:
        sys.stdout.write(_json.dumps(to_json(book), indent=1) + "\n")
    if args.png:
        out = Path(args.png)
        out.mkdir(parents=True, exist_ok=True)
        for i, page in enumerate(book.pages, start=1):
            buf = __import__("io").BytesIO()
            draw_wireframe(page, dpi=args.dpi).save(buf, "PNG")
            write_atomic(out / f"page-{i:03d}.png", buf.getvalue())
        print(f"comicc: wrote {len(book.pages)} wireframe page(s) to {out}", file=sys.stderr)
    return EXIT_OK


COMMANDS = {"check": cmd_check, "fmt": cmd_fmt, "build": cmd_build, "layout": cmd_layout}

from comicc.commands.backends import cmd_backends  # noqa: E402
from comicc.commands.backends import register as _register_backends

_EXTRA_COMMANDS.append(_register_backends)
COMMANDS["backends"] = cmd_backends


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
            print(
                "comicc: internal error: this is a bug in comicc, not in your script.\n"
                "Please report it with the command you ran; rerun with --debug to see the details.",
                file=sys.stderr,
            )
        return EXIT_INTERNAL


def run() -> None:
    sys.exit(main())
