"""``comicc build``: lay out, paint and assemble a script into a book.

:func:`build_once` is one build with the command line's options (``watch``
runs it on every save); :func:`describe` is the summary line a build prints.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from comicc.commands.check import check_script
from comicc.commands.report import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_USAGE,
    Sources,
    plural,
    print_diagnostics,
    summary,
)
from comicc.diagnostics import Sink, did_you_mean
from comicc.files import STDOUT, describe_os_error
from comicc.pipeline import BuildOptions, BuildResult, build
from comicc.pipeline.options import LayoutMemo

if TYPE_CHECKING:
    from comicc.pipeline.plan import BookPlan

NAMED_MAX = 8  # panels named in a summary before "and N more"


class Built(NamedTuple):
    """One build's outcome: the result (None when it failed) and the files its
    diagnostics point into; ``usage`` is an exit code for a bad option."""

    result: BuildResult | None
    sources: Sources
    usage: int | None = None
    workflows: tuple[str, ...] = ()  # the ComfyUI workflow files the script names


def is_proof(args: argparse.Namespace) -> bool:
    """A proof build (``--backend`` or ``--dpi`` overrides the script): it
    writes the book but not the lock file, which stays what the script builds."""
    return bool(args.backend or args.dpi)


def usage_problem(args: argparse.Namespace) -> str | None:
    """Why these options cannot build anything (before the script is read)."""
    if args.output == STDOUT and args.diag_format == "json":
        return (
            "`-o -` and `--diagnostics json` both write to standard "
            "output; write the book to a file or choose another diagnostics format"
        )
    if args.output == STDOUT and args.output_format == "png":
        return "`-o -` (standard output) takes one file: pdf or cbz, not a folder of PNG pages"
    return None


def build_once(args: argparse.Namespace, sink: Sink, memo: LayoutMemo | None = None) -> Built:
    """Check and build ``args.file`` once, diagnostics into ``sink`` (not
    printed). ``memo``: pages laid out by earlier builds (``watch``)."""
    res, sources = check_script(args.file, sink, allow_paths=args.allow_path)
    if res is None or (args.strict and sink.diagnostics):
        return Built(None, sources)
    base = Path(args.file).resolve().parent
    named = (p.settings.settings_for("comfyui").get("workflow", "") for p in res.script.panels)
    workflows = tuple(sorted({str(base / w.strip()) for w in named if w.strip()}))
    if args.backend and not _known_backend(args.backend):
        from comicc.backends import names as backend_names

        close = did_you_mean(args.backend, backend_names())
        print(
            f"comicc {args.command}: error: unknown backend `{args.backend}`"
            + (f" (did you mean `{close[0]}`?)" if close else "")
            + "; backends: "
            + ", ".join(backend_names()),
            file=sys.stderr,
        )
        return Built(None, sources, EXIT_USAGE, workflows)
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
        write_lock=not is_proof(args),
        # every file a diagnostic may point into: the script and its theme files
        protect={path: "a file of the script's theme" for path in sources},
        allow_paths=tuple(args.allow_path or ()),
        layout_memo=memo,
        force=bool(getattr(args, "force", False)),
        max_cost=getattr(args, "max_cost", None),
        on_paid_plan=_paid_plan_prompt(args),
    )
    try:
        return Built(build(res.script, res.theme, sink, opts), sources, None, workflows)
    except OSError as e:
        message = describe_os_error(e)
        if message is None:
            raise
        sink.error("cannot-write", message, path=e.filename and str(e.filename))
        return Built(None, sources, None, workflows)


def _known_backend(name: str) -> bool:
    """Whether ``--backend NAME`` names a backend (a built-in one without
    scanning the installed packages' entry points)."""
    from comicc.backends import is_known

    return is_known(name)


def _paid_plan_prompt(args: argparse.Namespace) -> Callable[[BookPlan], bool]:
    """:func:`comicc.commands.plan.paid_plan_prompt`, imported when a paid plan
    is shown (it loads ``explain``'s half of the command line: a build that
    is up to date never needs it)."""

    def confirm(plan: BookPlan) -> bool:
        from comicc.commands.plan import paid_plan_prompt

        return paid_plan_prompt(args)(plan)

    return confirm


def panel_list(names: list[str], most: int = NAMED_MAX) -> str:
    """``p1.1, p2.3`` -- past ``most`` names: ``p1.1, ..., p1.8 and 5 more``."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


def describe(result: BuildResult) -> str:
    """What a build made, for the summary line: ``2 pages, 28 images for 26
    panels (3 variants on p2.1); painted p2.1, p3.4 (4 images), 24 from the cache``."""
    images = result.painted + result.cached
    text = f"{plural(result.pages, 'page')}, "
    if images == result.panels:
        text += plural(result.panels, "panel")
    else:
        text += f"{plural(images, 'image')} for {plural(result.panels, 'panel')}"
        if result.variants:
            shown = [
                f"{n} variants on {pid}" if i == 0 else f"{n} on {pid}"
                for i, (pid, n) in enumerate(result.variants[:3])
            ]
            if len(result.variants) > 3:
                shown.append(f"{len(result.variants) - 3} more panels with variants")
            text += f" ({', '.join(shown)})"
    if not result.painted:
        return text + "; nothing painted, all from the cache"
    names = list(dict.fromkeys(r.panel_id for r in result.repainted))
    painted = f"; painted {panel_list(names)}"
    if result.painted != len(names):
        painted += f" ({plural(result.painted, 'image')})"
    if result.cached:
        painted += f", {result.cached} from the cache"
    return text + painted


def cmd_build(args: argparse.Namespace) -> int:
    """Build ``args.file``; exit 1 (writing nothing) when any stage finds errors
    or the environment fails (disk full, permission denied: a plain message),
    2 for a ``--backend`` that does not exist."""
    problem = usage_problem(args)
    if problem:
        print(f"comicc build: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    sink = Sink()
    built = build_once(args, sink)
    if built.usage is not None:
        return built.usage
    result = built.result
    print_diagnostics(sink, args, built.sources)
    if result is None or sink.has_errors(strict=args.strict):
        print(
            f"comicc: build failed: {summary(sink) or 'see above'}; nothing was written",
            file=sys.stderr,
        )
        return EXIT_ERRORS
    extra = f" ({summary(sink)})" if sink.diagnostics else ""
    where = "standard output" if args.output == STDOUT else result.output
    if result.up_to_date:  # like make: nothing changed, nothing written
        print(f"comicc: {where} is up to date: nothing painted or written{extra}", file=sys.stderr)
        return EXIT_OK
    proof = " (a proof build: the lock file was left as it was)" if is_proof(args) else ""
    print(f"comicc: wrote {where}: {describe(result)}{extra}{proof}", file=sys.stderr)
    return EXIT_OK
