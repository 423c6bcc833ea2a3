"""``comicc preview FILE``: the studio -- the book live in the browser.

Serves :mod:`comicc.studio` on loopback (``--host`` elsewhere, with a
warning), builds the book once and again on every save of the script, its
theme files and its ComfyUI workflows, and paints only what is free until the
writer confirms a paid plan in the page. Ctrl-C stops it (exit 130).
"""

from __future__ import annotations

import argparse
import sys
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comicc.commands.report import EXIT_INTERRUPTED, EXIT_USAGE, print_diagnostics
from comicc.diagnostics import Diagnostic, Sink
from comicc.source import SourceFile

if TYPE_CHECKING:
    from comicc.studio import Studio

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub: Any, common: Callable[..., None]) -> None:
    """Add ``comicc preview`` to the command line."""
    p = sub.add_parser(
        "preview",
        help="the studio: the book live in the browser, with prompts, variants and toggles",
        description="Serve a local web studio for the script: its pages, updated on every "
        "save; click a panel for its prompt (each part labelled by its line), variants, "
        "history and snippet switches that edit the script one line at a time. Free art "
        "(the draft backend, the cache) is painted at once; paid art only after you confirm "
        "the plan in the page. Listens on 127.0.0.1 only, unless --host says otherwise.",
    )
    p.add_argument("file", metavar="FILE", help="the script")
    p.add_argument(
        "--port", type=_port, default=0, metavar="N", help="port to listen on (default: a free one)"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="H",
        help="address to listen on (default 127.0.0.1; anything else lets other machines "
        "see the studio: a warning is printed)",
    )
    p.add_argument("--open", action="store_true", help="open the studio in the web browser")
    p.add_argument(
        "--no-paint", action="store_true", help="paint nothing, not even free art (layout only)"
    )
    p.add_argument(
        "--cache-dir", metavar="DIR", help="art cache (default: .comicc-cache beside the script)"
    )
    common(p, format_flag=False)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range 0-65535")
    return port


def _report(
    args: argparse.Namespace,
    studio: Studio,
    diagnostics: list[Diagnostic],
    sources: dict[str, SourceFile],
) -> None:
    """What one rebuild did, on standard error: its diagnostics (as
    ``--diagnostics`` asks), then the status line and its reasons."""
    print_diagnostics(Sink(list(diagnostics)), args, sources)
    book = studio.book_json()
    status = book["status"]
    print(f"comicc: [{book['version']}] {status['message']}", file=sys.stderr)
    for reason in status["reasons"]:
        print(f"  {reason}", file=sys.stderr)


def cmd_preview(args: argparse.Namespace) -> int:
    """Serve the studio for ``args.file`` until Ctrl-C (exit 130)."""
    from comicc.studio import Studio, StudioServer  # only this verb needs the web stack

    path = Path(args.file)
    if not path.is_file():
        print(f"comicc preview: error: no such script: {args.file}", file=sys.stderr)
        return EXIT_USAGE
    studio = Studio(
        path,
        cache_dir=args.cache_dir,
        paint=not args.no_paint,
        allow_paths=tuple(args.allow_path or ()),
        report=lambda studio, diags, sources: _report(args, studio, diags, sources),
    )
    studio.debug = bool(args.debug)
    try:
        server = StudioServer(studio, host=args.host, port=args.port)
    except OSError as e:
        print(
            f"comicc preview: error: cannot listen on {args.host}:{args.port}: {e.strerror or e}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.host not in LOOPBACK:
        print(
            f"comicc preview: warning: listening on {args.host}: other machines that can "
            "reach it see the studio (writes still need the page's token)",
            file=sys.stderr,
        )
    server.start()
    print(f"comicc: studio for {args.file} at {server.url} (Ctrl-C to stop)", file=sys.stderr)
    if args.open:
        webbrowser.open(server.url)
    try:
        while not server.wait(0.5):  # the server runs until Ctrl-C
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_INTERRUPTED
