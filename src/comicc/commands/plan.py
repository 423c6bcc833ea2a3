"""``comicc plan``: what the next build will paint, take from the cache and
cost, per backend, and why each image is painted. No request is sent."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from comicc.commands.explain import add_plan_options, planned_script
from comicc.commands.report import EXIT_OK
from comicc.model import ir
from comicc.pipeline import BookPlan
from comicc.pipeline.explain import plan_json


def register(sub: Any, common: Callable[..., None]) -> None:
    """Add ``comicc plan`` to the command line."""
    p = sub.add_parser(
        "plan",
        help="what the next build paints, takes from the cache and costs",
        description="Plan the next build without sending a request: per backend the images "
        "to paint and those from the cache, which panels and why, and the estimated cost in "
        "the backend's unit (and in money where a price is known: an estimate, with its "
        "source and date).",
    )
    p.add_argument("file", metavar="FILE", help="the script")
    p.add_argument("--json", action="store_true", help="print JSON for tools on standard output")
    add_plan_options(p)
    common(p, format_flag=False)


def cmd_plan(args: argparse.Namespace) -> int:
    """Print the plan of ``args.file``: text on stdout, or ``--json``."""
    planned = planned_script("plan", args)
    if isinstance(planned, int):
        return planned
    script, plan, _, _ = planned
    if args.json:
        doc = {"version": 1, "script": script.path, **plan_json(plan), **_budget_json(script)}
        sys.stdout.write(json.dumps(doc, indent=1) + "\n")
    else:
        sys.stdout.write(plan_text(script, plan))
    return EXIT_OK


def _budget_json(script: ir.Script) -> dict[str, Any]:
    if script.budget is None:
        return {"budget": None}
    span = script.budget.span
    return {"budget": {"amount": script.budget.amount, "line": span.line if span else None}}


def plan_text(script: ir.Script, plan: BookPlan) -> str:
    """Per backend: the totals, the money estimate, and each image to paint with why."""
    out = []
    for b in plan.backends:
        cost = f"{b.cost:g} {b.unit}" if b.unit else "free"
        out.append(f"{b.backend}: {b.paint} to paint, {b.cached} from cache: {cost}")
        if b.price is not None and b.paint:
            out.append(
                f"  about {b.usd:.2f} USD, an estimate ({b.price.basis}; "
                f"{b.price.source}, {b.price.as_of})"
            )
        for image in plan.to_paint:
            if image.plan.backend != b.backend:
                continue
            why = "; ".join(image.reasons)
            variant = f" v{image.variant}" if image.panel.settings.variants > 1 else ""
            out.append(f"  {image.panel.id}{variant}: {why}")
    if script.budget is not None:
        limit = script.budget.amount
        line = f" (line {script.budget.span.line})" if script.budget.span else ""
        over = plan.over(limit)
        if over:
            for b in over:
                out.append(
                    f"budget {limit:g}{line}: {b.backend} is {b.cost - limit:g} {b.unit} over it; "
                    "`comicc build` will refuse to start"
                )
        else:
            out.append(f"budget {limit:g}{line}: within")
    if not plan.to_paint:
        out.append("nothing to paint: a build takes every image from the cache")
    return "\n".join(out) + "\n"


def paid_plan_prompt(args: argparse.Namespace) -> Callable[[BookPlan], bool]:
    """What ``build`` does before its first paid request: print the plan's line
    (standard error); ``comicc build`` on a terminal then asks once (y/N) unless
    ``--yes``. Never blocks otherwise: a run whose standard input is not a
    terminal (a script, CI, ``watch``) goes on, within ``--max-cost``/``budget:``."""

    def confirm(plan: BookPlan) -> bool:
        asks = getattr(args, "command", None) == "build" and not getattr(args, "yes", False)
        return ask_to_paint(plan.one_line(), asks=asks)

    return confirm


def ask_to_paint(line: str, *, asks: bool) -> bool:
    """Print the plan's ``line`` (standard error); when ``asks`` and both
    standard input and error are a terminal, ask once (y/N) and say whether
    the answer was yes. Never blocks otherwise: True."""
    print(f"comicc: {line}", file=sys.stderr)
    if not (asks and sys.stdin.isatty() and sys.stderr.isatty()):
        return True
    print("comicc: paint these images? [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    return answer.strip().lower() in ("y", "yes")
