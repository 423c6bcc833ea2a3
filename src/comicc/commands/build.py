"""``comicc build``: lay out, paint and assemble a script into a book."""

from __future__ import annotations

import argparse
import sys

from comicc.backends import names as backend_names
from comicc.commands.check import check_script
from comicc.commands.report import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    plural,
    print_diagnostics,
    summary,
)
from comicc.diagnostics import Sink, did_you_mean
from comicc.files import STDOUT, describe_os_error
from comicc.pipeline import BuildOptions, BuildResult, build


def cmd_build(args: argparse.Namespace) -> int:
    """Build ``args.file``; exit 1 (writing nothing) when any stage finds errors
    or the environment fails (disk full, permission denied: a plain message),
    2 for a ``--backend`` that does not exist."""
    if args.output == STDOUT and args.diag_format == "json":
        print(
            "comicc build: error: `-o -` and `--diagnostics json` both write to standard "
            "output; write the book to a file or choose another diagnostics format",
            file=sys.stderr,
        )
        return EXIT_USAGE
    sink = Sink()
    res, sources = check_script(args.file, sink, allow_paths=args.allow_path)
    result: BuildResult | None = None
    if res is not None and not (args.strict and sink.diagnostics):
        if args.backend and args.backend not in backend_names():
            close = did_you_mean(args.backend, backend_names())
            print(
                f"comicc build: error: unknown backend `{args.backend}`"
                + (f" (did you mean `{close[0]}`?)" if close else "")
                + "; backends: "
                + ", ".join(backend_names()),
                file=sys.stderr,
            )
            return EXIT_USAGE
        opts = BuildOptions(
            output=args.output,
            output_format=args.output_format,
            backend=args.backend,
            dpi=args.dpi,
            bleed=args.bleed,
            lossless=args.lossless,
            quality=args.quality,
            cache_dir=args.cache_dir,
            workers=args.jobs,
            progress=False if args.no_progress else None,
            # every file a diagnostic may point into: the script and its theme files
            protect={path: "a file of the script's theme" for path in sources},
            allow_paths=tuple(args.allow_path or ()),
        )
        try:
            result = build(res.script, res.theme, sink, opts)
        except OSError as e:
            message = describe_os_error(e)
            if message is None:
                raise
            sink.error("cannot-write", message, path=e.filename and str(e.filename))
    print_diagnostics(sink, args, sources)
    if result is None or sink.has_errors(strict=args.strict):
        print(
            f"comicc: build failed: {summary(sink) or 'see above'}; nothing was written",
            file=sys.stderr,
        )
        return EXIT_ERRORS
    extra = f" ({summary(sink)})" if sink.diagnostics else ""
    where = "standard output" if args.output == STDOUT else result.output
    print(
        f"comicc: wrote {where}: {plural(result.pages, 'page')}, "
        f"{result.panels} panels ({result.painted} painted, {result.cached} from cache){extra}",
        file=sys.stderr,
    )
    return EXIT_OK
