"""``comicc layout``: the page geometry as JSON, or wireframe pages to proof lettering."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from comicc.commands.check import check_script
from comicc.commands.report import EXIT_ERRORS, EXIT_OK, print_diagnostics
from comicc.diagnostics import Sink
from comicc.files import FileRefused, describe_os_error, write_file_set
from comicc.layout import BookGeom, to_json
from comicc.pipeline import layout, locked_sizes


def _wireframes(book: BookGeom, dpi: int) -> Iterator[tuple[str, bytes]]:
    """``page-001.png``... and their PNG bytes. The output stage (Pillow, the
    writers) is imported here, only when ``--png`` asks for it: ``--json``
    alone never loads it."""
    from comicc.output import draw_wireframe

    for i, page in enumerate(book.pages, start=1):
        buf = io.BytesIO()
        draw_wireframe(page, dpi=dpi).save(buf, "PNG")
        yield f"page-{i:03d}.png", buf.getvalue()


def cmd_layout(args: argparse.Namespace) -> int:
    """Lay out ``args.file`` (keeping the lock file's balloon sizes, as a build
    would): ``--json`` prints the geometry (also the default), ``--png DIR``
    writes ``page-001.png``... wireframes."""
    sink = Sink()
    res, sources = check_script(args.file, sink, allow_paths=args.allow_path)
    book = (
        layout(res.script, res.theme, sink, keep=locked_sizes(res.script, sink, "laying out"))
        if res is not None
        else None
    )
    print_diagnostics(sink, args, sources)
    if book is None or sink.has_errors(strict=args.strict):
        return EXIT_ERRORS
    if args.json or not args.png:
        sys.stdout.write(json.dumps(to_json(book), indent=1) + "\n")
    if args.png:
        from comicc.output import PAGE_NAMES

        out = Path(args.png)
        try:
            write_file_set(out, _wireframes(book, args.dpi), names=PAGE_NAMES)
        except (OSError, FileRefused) as e:
            message = str(e) if isinstance(e, FileRefused) else describe_os_error(e, out)
            if message is None:
                raise
            sink.error("cannot-write", message, path=str(out))
            print_diagnostics(sink, args, sources)
            return EXIT_ERRORS
        print(f"comicc: wrote {len(book.pages)} wireframe page(s) to {out}", file=sys.stderr)
    return EXIT_OK
