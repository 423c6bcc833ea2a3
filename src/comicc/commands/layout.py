"""``comicc layout``: the page geometry as JSON, or wireframe pages to proof lettering."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from comicc.commands.check import check_script
from comicc.commands.report import EXIT_ERRORS, EXIT_OK, print_diagnostics
from comicc.diagnostics import Sink
from comicc.files import write_bytes_atomic
from comicc.layout import to_json
from comicc.output import draw_wireframe
from comicc.pipeline import layout, locked_sizes


def cmd_layout(args: argparse.Namespace) -> int:
    """Lay out ``args.file`` (keeping the lock file's balloon sizes, as a build
    would): ``--json`` prints the geometry (also the default), ``--png DIR``
    writes ``page-001.png``... wireframes."""
    sink = Sink()
    res, sources = check_script(args.file, sink)
    book = (
        layout(res.script, res.theme, sink, keep=locked_sizes(res.script))
        if res is not None
        else None
    )
    print_diagnostics(sink, args, sources)
    if book is None or sink.has_errors(strict=args.strict):
        return EXIT_ERRORS
    if args.json or not args.png:
        sys.stdout.write(json.dumps(to_json(book), indent=1) + "\n")
    if args.png:
        out = Path(args.png)
        out.mkdir(parents=True, exist_ok=True)
        for i, page in enumerate(book.pages, start=1):
            buf = io.BytesIO()
            draw_wireframe(page, dpi=args.dpi).save(buf, "PNG")
            write_bytes_atomic(out / f"page-{i:03d}.png", buf.getvalue())
        print(f"comicc: wrote {len(book.pages)} wireframe page(s) to {out}", file=sys.stderr)
    return EXIT_OK
