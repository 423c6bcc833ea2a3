"""``comicc watch FILE``: build, then build again on every save.

Watches the script, its theme files and the ComfyUI workflow files it names
(their folders, through ``watchfiles``, so an editor that saves by writing a
new file and renaming it is seen too). Each rebuild lays out again only the
pages whose content changed (a :class:`~comicc.pipeline.options.LayoutMemo`
kept between builds), takes unchanged art from the cache, writes the book
again and says which panels were repainted and why. A rebuild with errors
prints them and keeps the last good book (builds write nothing on errors).
Ctrl-C stops it (exit 130).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from comicc.commands.build import Built, build_once, describe, is_proof, panel_list
from comicc.commands.report import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    print_diagnostics,
    summary,
)
from comicc.diagnostics import Sink
from comicc.files import STDOUT
from comicc.pipeline.options import LayoutMemo

READY_SECONDS = 0.4  # how long the watcher waits for a change before saying it is ready


def _watched(built: Built, script: str) -> set[str]:
    """The absolute paths of the files a build read: the script, its theme
    files and the ComfyUI workflows it names."""
    files = {script, *built.sources, *built.workflows}
    return {str(Path(f).resolve()) for f in files if f and not f.startswith("<")}


def _pages(numbers: list[int]) -> str:
    return f"{'page' if len(numbers) == 1 else 'pages'} {', '.join(map(str, numbers))}"


def _report(
    args: argparse.Namespace, built: Built, sink: Sink, memo: LayoutMemo, good: bool
) -> bool:
    """What one build did: its diagnostics, then the book written (or kept:
    ``good``, an earlier build wrote one), the pages laid out again and every
    repainted image with its reasons. True when it wrote the book."""
    print_diagnostics(sink, args, built.sources)
    result = built.result
    if result is None or sink.has_errors(strict=args.strict):
        kept = "the last good book was kept" if good else "nothing was written"
        print(f"comicc: build failed: {summary(sink) or 'see above'}; {kept}", file=sys.stderr)
        return False
    extra = f" ({summary(sink)})" if sink.diagnostics else ""
    proof = " (a proof build: the lock file was left as it was)" if is_proof(args) else ""
    if result.up_to_date:  # a save that changed nothing the book is made from
        print(f"comicc: {result.output} is up to date: nothing painted or written", file=sys.stderr)
        return True
    print(f"comicc: wrote {result.output}: {describe(result)}{extra}{proof}", file=sys.stderr)
    if memo.laid_out and memo.reused:
        print(
            f"  laid out {_pages(memo.laid_out)} again; {_pages(memo.reused)} unchanged",
            file=sys.stderr,
        )
    elif memo.reused:
        print("  layout unchanged", file=sys.stderr)
    # one line per panel and reason: "repainted p1.2 v1, v2, v3: prompt: ..."
    lines: dict[tuple[str, str], list[int]] = {}
    for r in result.repainted:
        why = "; ".join(r.reasons) if r.reasons else "its art was not in the cache"
        lines.setdefault((r.panel_id, why), []).append(r.variant)
    for (panel, why), variants in lines.items():
        shown = ", ".join(f"v{v}" for v in variants)
        print(f"  repainted {panel} {shown}: {why}", file=sys.stderr)
    return True


def _rebuild(args: argparse.Namespace, memo: LayoutMemo, good: bool) -> tuple[Built, bool]:
    """One build and its report; whether a good book is on disk now."""
    sink = Sink()
    built = build_once(args, sink, memo)
    return built, _report(args, built, sink, memo, good) or good


def cmd_watch(args: argparse.Namespace) -> int:
    """Build ``args.file`` now and again on every change; exit 130 on Ctrl-C."""
    from watchfiles import watch  # only this verb needs it

    if args.output == STDOUT:
        print(
            "comicc watch: error: `-o -` is not for watch: it writes the book again on "
            "every save; give a file",
            file=sys.stderr,
        )
        return EXIT_USAGE
    script = str(Path(args.file).resolve())
    memo = LayoutMemo()
    try:
        print(f"comicc: building {args.file}", file=sys.stderr)
        built, good = _rebuild(args, memo, False)
        if built.usage is not None:
            return built.usage
        files = _watched(built, script)
        ready = False
        while True:
            folders = sorted(
                {os.path.dirname(f) for f in files if os.path.isdir(os.path.dirname(f))}
            )
            wanted = set(files)

            def relevant(change: object, path: str, wanted: set[str] = wanted) -> bool:
                return str(Path(path).resolve()) in wanted

            restart = False
            for changes in watch(
                *folders,
                watch_filter=relevant,
                rust_timeout=int(READY_SECONDS * 1000),
                yield_on_timeout=True,
            ):
                if not ready:
                    others = sorted(os.path.basename(f) for f in files if f != script)
                    more = f" (and {panel_list(others, 3)})" if others else ""
                    print(
                        f"comicc: watching {args.file}{more}; Ctrl-C to stop",
                        file=sys.stderr,
                    )
                    ready = True
                if not changes:
                    continue
                names = sorted({_shown(p) for _, p in changes})
                print(f"comicc: {panel_list(names, 4)} changed: rebuilding", file=sys.stderr)
                built, good = _rebuild(args, memo, good)
                now = files | _watched(built, script)
                if now != files:
                    files, restart = now, True
                    break
            if not restart:
                return EXIT_INTERRUPTED  # the watcher stopped (it does on Ctrl-C)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _shown(path: str) -> str:
    """``path`` relative to the current folder when it is inside it."""
    try:
        shown = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if shown.startswith("..") else shown
