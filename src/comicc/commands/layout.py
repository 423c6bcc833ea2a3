"""``comicc layout``: the page geometry as JSON, or wireframe pages to proof lettering."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from comicc.collector import collector_off
from comicc.commands.check import check_script
from comicc.commands.report import EXIT_ERRORS, EXIT_OK, print_diagnostics
from comicc.diagnostics import Sink
from comicc.files import FileRefused, describe_os_error, write_file_set
from comicc.paint import default_cache_dir, locked_sizes
from comicc.pipeline.layoutjson import layout_json

if TYPE_CHECKING:
    from comicc.layout import BookGeom


def _wireframes(book: BookGeom, dpi: int) -> Iterator[tuple[str, bytes]]:
    """``page-001.png``... and their PNG bytes. The output stage (Pillow, the
    writers) is imported here, only when ``--png`` asks for it: ``--json``
    alone never loads it."""
    from comicc.output import draw_wireframe

    for i, page in enumerate(book.pages, start=1):
        buf = io.BytesIO()
        draw_wireframe(page, dpi=dpi).save(buf, "PNG")
        yield f"page-{i:03d}.png", buf.getvalue()


def _json(book: BookGeom) -> str:
    """The geometry's JSON text (:func:`~comicc.layout.json_text`, the bytes of
    ``json.dumps(..., indent=1)``), made with the cyclic garbage collector off,
    as pages are laid out: tens of thousands of dicts and lists, no cycle."""
    from comicc.layout.serialize import json_text, to_json

    with collector_off():
        return json_text(to_json(book))


def cmd_layout(args: argparse.Namespace) -> int:
    """Lay out ``args.file`` (keeping the lock file's balloon sizes, as a build
    would): ``--json`` prints the geometry (also the default), ``--png DIR``
    writes ``page-001.png``... wireframes. Pages come from, and go to, the
    layout memo a build of the script uses (in its cache folder): a page laid
    out before from the same things is not laid out again, and the geometry is
    the same bytes either way; ``--json`` alone prints the text kept from the
    last time when nothing it is made of changed (:mod:`comicc.pipeline.layoutjson`)."""
    sink = Sink()
    res, sources = check_script(args.file, sink, allow_paths=args.allow_path)
    book = text = None
    if res is not None:
        script = res.script
        keep = locked_sizes(script, sink, "laying out")
        cache_dir = Path(args.cache_dir) if args.cache_dir else default_cache_dir(script.path)
        if args.png:
            from comicc.pipeline import layout  # the build's half: only for the wireframes

            book = layout(script, res.theme, sink, keep=keep, cache_dir=cache_dir)
            if book is not None and args.json:
                text = _json(book)
        else:
            text = layout_json(script, res.theme, sink, keep, cache_dir)
    print_diagnostics(sink, args, sources)
    if (book is None and text is None) or sink.has_errors(strict=args.strict):
        return EXIT_ERRORS
    if text is not None:
        sys.stdout.write(text + "\n")
    if book is not None:
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
