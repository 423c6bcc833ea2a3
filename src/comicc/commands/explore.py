"""``comicc explore FILE PANEL --toggle T ...``: every on/off combination of
some prompt items or style snippets of one panel, painted through the art
cache, as a labelled contact sheet; ``--apply K`` writes cell K's
combination into the script.

The plan (cells, requests, cost) is printed first; a paid run asks as
``build`` does (``--yes``; never blocks without a terminal; ``--max-cost``
or the script's ``budget:`` caps it). The work is
:mod:`comicc.pipeline.explore`; the script edits :mod:`comicc.pipeline.edits`.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from comicc.commands.argtypes import cost
from comicc.commands.check import check_script
from comicc.commands.explain import add_plan_options, check_plan_options, usage_error
from comicc.commands.plan import ask_to_paint
from comicc.commands.report import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, plural, print_diagnostics
from comicc.diagnostics import Sink
from comicc.files import FileRefused, check_output, describe_os_error, write_bytes_atomic
from comicc.paint import lock_path
from comicc.pipeline import BuildOptions
from comicc.pipeline.edits import EditError, apply_states, write_script
from comicc.pipeline.explore import (
    CAP_MAX,
    DEFAULT_CAP,
    ExploreError,
    ExplorePlan,
    contact_sheet,
    plan_explore,
    run_explore,
)


def _cap(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a whole number") from None
    if not 1 <= value <= CAP_MAX:
        raise argparse.ArgumentTypeError(f"{value} is out of range: --cap must be 1 to {CAP_MAX}")
    return value


def register(sub: Any, common: Callable[..., None]) -> None:
    """Add ``comicc explore`` to the command line."""
    p = sub.add_parser(
        "explore",
        help="paint every on/off combination of some prompt items of a panel, as a sheet",
        description="Explore one panel: every on/off combination of the prompt items and "
        "style snippets named with --toggle (2^n cells), painted through the art cache (a "
        "rerun costs nothing, the cell equal to the script reuses the build's art) and "
        "drawn as a labelled contact sheet, each cell lettered. The plan is shown first; "
        "paid runs ask as `build` does. `--apply K` writes cell K's combination into the "
        "script (one line per switched toggle) and paints nothing.",
    )
    p.add_argument("file", metavar="FILE", help="the script")
    p.add_argument("panel", metavar="PANEL", help="the panel, PAGE.PANEL (e.g. `1.2`)")
    p.add_argument(
        "--toggle",
        "-t",
        action="append",
        default=[],
        metavar="T",
        help="a prompt item or style snippet of the panel, as written (`@noir`, "
        "`dutch angle`); repeatable",
    )
    p.add_argument(
        "--sheet",
        metavar="PNG",
        help="where to write the contact sheet (default: SCRIPT-PANEL-explore.png beside "
        "the script)",
    )
    p.add_argument(
        "--cap",
        type=_cap,
        default=DEFAULT_CAP,
        metavar="N",
        help=f"the most cells to make, 1-{CAP_MAX} (default {DEFAULT_CAP})",
    )
    p.add_argument(
        "--apply",
        metavar="K",
        help="write cell K (as numbered on the sheet), or the states `on,off,...` (one per "
        "--toggle, in order), into the script; paints nothing",
    )
    p.add_argument("--yes", "-y", action="store_true", help="do not ask before paid requests")
    p.add_argument(
        "--max-cost",
        type=cost,
        metavar="N",
        help="refuse to paint when the plan costs more than N (default: the script's `budget:`)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_plan_options(p)
    common(p, format_flag=False)


def default_sheet(script: Path, panel: str) -> Path:
    """``story-1.2-explore.png`` beside ``story.comic``."""
    stem = script.name[: -len(".comic")] if script.name.endswith(".comic") else script.stem
    return script.with_name(f"{stem}-{panel}-explore.png")


def plan_text(plan: ExplorePlan) -> str:
    """The plan as printed before anything is painted: one line per cell."""
    out = [
        f"explore {plan.panel_id} of {plan.script.name}: "
        f"{plural(len(plan.toggles), 'toggle')}, {len(plan.cells)} cells"
    ]
    width = max(len(c.label) for c in plan.cells)
    for c in plan.cells:
        if c.cached:
            state = "cached"
        else:
            state = f"paint ({c.cost:g} {plan.currency})" if plan.currency else "paint (free)"
        now = "  (the script now)" if c.current else ""
        out.append(f"  {c.index:>2}  {c.label:<{width}}  {state}{now}")
    out.append(f"plan: {plan.one_line().split(': ', 1)[1]}")
    return "\n".join(out) + "\n"


def _states(plan: ExplorePlan, choice: str) -> dict[str, bool] | str:
    """Cell ``choice``'s states (``3``, or ``on,off``); or the usage error."""
    text = choice.strip()
    if text.isdigit():
        k = int(text)
        if not 1 <= k <= len(plan.cells):
            return f"--apply {k}: the cells are 1 to {len(plan.cells)}"
        return dict(plan.cells[k - 1].states)
    words = [w.strip().lower() for w in text.split(",")]
    values = {"on": True, "off": False}
    if len(words) != len(plan.toggles) or any(w not in values for w in words):
        return (
            f"--apply `{choice}`: give a cell number (1 to {len(plan.cells)}) or "
            f"{len(plan.toggles)} comma-separated `on`/`off` (one per --toggle)"
        )
    return {t: values[w] for t, w in zip(plan.toggles, words, strict=True)}


def _apply(plan: ExplorePlan, choice: str) -> int:
    states = _states(plan, choice)
    if isinstance(states, str):
        return usage_error("explore", states)
    try:
        new = apply_states(plan.text, plan.panel, states)
        if new == plan.text:
            print(f"comicc: {plan.script} already has {cell_words(states)}", file=sys.stderr)
            return EXIT_OK
        write_script(plan.script, new, plan.text)
    except EditError as e:
        print(f"comicc explore: error: {e}", file=sys.stderr)
        return EXIT_ERRORS
    changed = sum(a != b for a, b in zip(plan.text.splitlines(), new.splitlines(), strict=False))
    print(
        f"comicc: wrote {plan.script}: {cell_words(states)} ({plural(changed, 'line')} changed)",
        file=sys.stderr,
    )
    return EXIT_OK


def cell_words(states: dict[str, bool]) -> str:
    return ", ".join(f"{k} {'on' if v else 'off'}" for k, v in states.items())


def _confirm(args: argparse.Namespace) -> Callable[[ExplorePlan], bool]:
    """Before the first paid request: the plan's line, then (on a terminal,
    without --yes) one y/N question; never blocks otherwise."""

    def confirm(plan: ExplorePlan) -> bool:
        return ask_to_paint(plan.one_line(), asks=not args.yes)

    return confirm


def cmd_explore(args: argparse.Namespace) -> int:
    """Plan, paint and draw the exploration of ``args.panel``; ``--apply`` edits
    the script instead. Exit 1 on errors in the script or while painting, 2
    for a bad request (unknown panel, no toggle, over the cap)."""
    problem = check_plan_options("explore", args)
    if problem:
        return usage_error("explore", problem)
    sink = Sink()
    res, sources = check_script(args.file, sink, allow_paths=args.allow_path)
    if res is None or sink.has_errors(strict=args.strict):
        print_diagnostics(sink, args, sources)
        return EXIT_ERRORS
    opts = BuildOptions(
        backend=args.backend,
        dpi=args.dpi,
        lossless=args.lossless,
        cache_dir=args.cache_dir,
        allow_paths=tuple(args.allow_path or ()),
        max_cost=args.max_cost,
    )
    script = Path(args.file)
    try:
        plan = plan_explore(script, args.panel, args.toggle, cap=args.cap, options=opts)
    except ExploreError as e:
        return _failed(e, sink, args, sources)
    print_diagnostics(sink, args, sources)  # the script's warnings, once
    if args.apply is not None:
        return _apply(plan, args.apply)
    shown = sys.stderr if args.diag_format == "json" else sys.stdout  # stdout: the JSON
    shown.write(plan_text(plan))
    shown.flush()
    out = Path(args.sheet) if args.sheet else default_sheet(script, plan.panel)
    protect = {path: "a file the script reads" for path in sources}
    protect[str(script)] = "the script"
    protect[str(lock_path(str(script)))] = "the script's lock file"
    try:  # before anything is painted: a refused sheet costs no request
        check_output(out, protect=protect, follow_symlinks=bool(args.sheet))
        done = run_explore(
            plan, progress=False if args.no_progress else None, confirm=_confirm(args)
        )
        buf = io.BytesIO()
        contact_sheet(done).save(buf, "PNG")
        write_bytes_atomic(out, buf.getvalue(), protect=protect, follow_symlinks=bool(args.sheet))
    except ExploreError as e:
        return _failed(e, Sink(), args, sources)
    except FileRefused as e:
        print(f"comicc explore: error: {e}", file=sys.stderr)
        return EXIT_ERRORS
    except OSError as e:
        message = describe_os_error(e, out)
        if message is None:
            raise
        print(f"comicc explore: error: {message}", file=sys.stderr)
        return EXIT_ERRORS
    cached = len(done.cells) - done.painted
    print(
        f"comicc: wrote {out}: {len(done.cells)} cells; painted {done.painted}, "
        f"{cached} from the cache",
        file=sys.stderr,
    )
    return EXIT_OK


def _failed(e: ExploreError, sink: Sink, args: argparse.Namespace, sources: Any) -> int:
    sink.extend(e.diagnostics)
    if e.diagnostics:
        print_diagnostics(sink, args, {**sources, **e.sources})
    else:
        print_diagnostics(sink, args, sources)
        print(f"comicc explore: error: {e}", file=sys.stderr)
    return EXIT_USAGE if e.usage else EXIT_ERRORS
