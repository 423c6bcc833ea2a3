"""``comicc explain``: what each panel's image request is, where every piece of
its prompt came from, and what the next build will do with it.

Nothing is painted and no request is sent (the book plan, see
:mod:`comicc.pipeline.plan`). ``--json`` prints the same facts for tools
(keys: docs/cli.md); ``--images DIR`` writes each variant's init image and
mask as the backend receives them, and its cached art when there is some.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from comicc.backends import Capabilities, names, to_service_mask
from comicc.commands.check import check_script
from comicc.commands.report import EXIT_ERRORS, EXIT_OK, EXIT_USAGE, Sources, print_diagnostics
from comicc.diagnostics import Sink, did_you_mean
from comicc.files import FileRefused, check_output, describe_os_error, write_bytes_atomic
from comicc.model import ir
from comicc.paint import ArtCache, default_cache_dir, lock_path
from comicc.pipeline import BookPlan, BuildOptions, PlannedImage, plan_book
from comicc.pipeline.explain import explain_json
from comicc.pipeline.options import DPI_RANGE

WRITTEN = ("description", "item", "prompt!", "style")  # what a writer writes in the panel
PANEL_REF = re.compile(r"([0-9]{1,4})\.([0-9]{1,4})")


def register(sub: Any, common: Callable[..., None]) -> None:
    """Add ``comicc explain`` to the command line."""
    p = sub.add_parser(
        "explain",
        help="show each panel's image request: prompt and its sources, size, mask, cost",
        description="Explain what each panel's image request is and what the next build "
        "does with it: backend, model, seed per variant, size asked and negotiated, the final "
        "prompt with every part labelled by the line it came from, the negative prompt, the "
        "mask settings, and per variant: cached, would paint (and the cost), picked, and why "
        "it repaints. Sends no request.",
    )
    p.add_argument("file", metavar="FILE", help="the script")
    p.add_argument(
        "panels", nargs="*", metavar="PANEL", help="panels to explain, e.g. `2.3` (default: all)"
    )
    p.add_argument("--json", action="store_true", help="print JSON for tools on standard output")
    p.add_argument(
        "--images",
        metavar="DIR",
        help="write every variant's init image and mask, as its backend receives them, "
        "and its cached art, into DIR",
    )
    add_plan_options(p)
    common(p, format_flag=False)


def add_plan_options(p: argparse.ArgumentParser) -> None:
    """The build options that change a plan (shared by ``explain`` and ``plan``)."""
    p.add_argument("--backend", metavar="NAME", help="plan as if painted with this backend")
    p.add_argument(
        "--dpi", type=int, metavar="N", help="plan at this art resolution (default: the script's)"
    )
    p.add_argument("--lossless", action="store_true", help="plan for lossless (PNG) art")
    p.add_argument(
        "--cache-dir", metavar="DIR", help="art cache (default: .comicc-cache beside the script)"
    )


def plan_options(args: argparse.Namespace) -> BuildOptions:
    return BuildOptions(
        backend=args.backend,
        dpi=args.dpi,
        lossless=args.lossless,
        cache_dir=args.cache_dir,
        allow_paths=tuple(args.allow_path or ()),
    )


def usage_error(command: str, message: str) -> int:
    print(f"comicc {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def check_plan_options(command: str, args: argparse.Namespace) -> str | None:
    """A usage error in the plan options (the same bounds as ``build``'s), or None."""
    if args.dpi is not None and not DPI_RANGE[0] <= args.dpi <= DPI_RANGE[1]:
        low, high = DPI_RANGE
        return f"--dpi {args.dpi} is out of range: the dpi must be from {low} to {high}"
    if args.backend and args.backend not in names():
        close = did_you_mean(args.backend, names())
        return (
            f"unknown backend `{args.backend}`"
            + (f" (did you mean `{close[0]}`?)" if close else "")
            + "; backends: "
            + ", ".join(names())
        )
    return None


def planned_script(
    command: str, args: argparse.Namespace
) -> tuple[ir.Script, BookPlan, Sources, Sink] | int:
    """What ``explain`` and ``plan`` (``command``) do first: the options checked,
    the script checked and planned, its diagnostics printed. The script, its
    plan, the files the diagnostics point into and the sink holding them; or
    the exit code (a usage error, or errors in the script)."""
    if args.json and args.diag_format == "json":
        return usage_error(
            command, "`--json` and `--diagnostics json` both write to standard output"
        )
    problem = check_plan_options(command, args)
    if problem:
        return usage_error(command, problem)
    sink = Sink()
    res, sources = check_script(args.file, sink, allow_paths=args.allow_path)
    planned = None
    if res is not None:
        planned = plan_book(res.script, res.theme, sink, plan_options(args))
    print_diagnostics(sink, args, sources)
    if planned is None or sink.has_errors(strict=args.strict):
        return EXIT_ERRORS
    return (*planned, sources, sink)


def select(script: ir.Script, refs: Sequence[str]) -> tuple[list[str], str | None]:
    """The panel ids ``refs`` (``2.3``) name, in reading order; or the usage error."""
    if not refs:
        return [p.id for p in script.panels], None
    by_page: dict[int, list[int]] = {}
    for panel in script.panels:
        by_page.setdefault(panel.page, []).append(panel.number)
    wanted: list[str] = []
    for ref in refs:
        m = PANEL_REF.fullmatch(ref.strip())
        pages = sorted(by_page)
        valid = f"pages {pages[0]}-{pages[-1]}" if len(pages) > 1 else f"page {pages[0]}"
        if m is None:
            return [], (
                f"`{ref}` is not a panel: write PAGE.PANEL, e.g. `{pages[0]}.1` "
                f"(the script has {valid})"
            )
        page, number = int(m.group(1)), int(m.group(2))
        if page not in by_page:
            return [], f"there is no page {page}: the script has {valid}"
        numbers = by_page[page]
        if number not in numbers:
            return [], (
                f"page {page} has no panel {number}: its panels are "
                f"{page}.{numbers[0]} to {page}.{numbers[-1]}"
            )
        pid = f"p{page}.{number}"
        if pid not in wanted:
            wanted.append(pid)
    order = [p.id for p in script.panels]
    return sorted(wanted, key=order.index), None


def cmd_explain(args: argparse.Namespace) -> int:
    """Explain ``args.panels`` of ``args.file`` (all when none): text on stdout, or
    ``--json``; ``--images DIR`` writes the requests' images. Exit 2 for a panel
    the script does not have."""
    planned = planned_script("explain", args)
    if isinstance(planned, int):
        return planned
    script, plan, sources, sink = planned
    ids, error = select(script, args.panels)
    if error:
        return usage_error("explain", error)
    if args.images:
        protect = {path: "a file the script reads" for path in sources}
        protect[script.path] = "the script"
        protect[str(lock_path(script.path))] = "the script's lock file"
        cache = ArtCache(args.cache_dir or default_cache_dir(script.path))
        ext = "png" if args.lossless else "jpg"
        try:
            written = write_images(Path(args.images), plan, ids, cache, ext, protect)
        except (OSError, FileRefused) as e:
            message = str(e) if isinstance(e, FileRefused) else describe_os_error(e)
            if message is None:
                raise
            sink.error("cannot-write", message, path=args.images)
            print_diagnostics(sink, args, sources)
            return EXIT_ERRORS
        print(f"comicc: wrote {len(written)} image(s) to {args.images}", file=sys.stderr)
    if args.json:
        sys.stdout.write(json.dumps(explain_json(script, plan, ids), indent=1) + "\n")
    else:
        sys.stdout.write(explain_text(script, plan, ids))
    return EXIT_OK


# ------------------------------------------------------------------ text
def _line(span: Any) -> str:
    return f"line {span.line}" if span is not None else "theme"


def _size(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def state_text(image: PlannedImage) -> str:
    """``cached``, ``would paint (5 credits)``, ``would paint (free)``."""
    if image.cached:
        return "cached"
    cost = f"{image.cost:g} {image.unit}" if image.unit else "free"
    return f"would paint ({cost})"


def mask_text(image: PlannedImage, caps: Capabilities) -> str:
    plan = image.plan
    text = (
        f"{plan.mask_mode}, keep margin {plan.keep_margin:g} px, feather {plan.feather:g} px "
        f"(at the panel box); sent as {caps.mask_convention} = paint"
    )
    edge = caps.edge_control
    if edge is not None:
        value = dict(plan.backend_settings).get(edge.param, f"{edge.minimum:g}")
        text += f", {edge.param} {value}"
    return text


def explain_text(script: ir.Script, plan: BookPlan, ids: Sequence[str]) -> str:
    """What a writer reads: one block per panel."""
    out: list[str] = []
    for pid in ids:
        images = plan.of_panel(pid)
        first = images[0]
        panel, p = first.panel, first.plan
        where = f", line {panel.span.line}" if panel.span is not None else ""
        out.append(f"{pid}  page {panel.page}, panel {panel.number}{where}")
        model = p.model or dict(p.backend_settings).get("model") or "its default"
        out.append(f"  backend   {p.backend} (model: {model})")
        out.append(
            f"  size      {_size(p.box_size)} px asked (the panel at {p.dpi} dpi) -> "
            f"{_size(p.request_size)} px negotiated"
        )
        out.append(f"  prompt    {p.prompt}")
        out.append("  from")
        for part in panel.prompt.sources:
            indent = "    " if part.within is None else "      "
            label = part.kind if part.kind in WRITTEN else ""
            if part.kind == "snippet":
                label = f"snippet {part.source}"
            elif part.kind == "character":
                label = f"character {part.source}" + (" (cast)" if part.within is None else "")
            text = part.source if part.kind in WRITTEN else part.text
            out.append(f"{indent}{_line(part.span):<9} {label}: {text}")
        if not panel.prompt.sources:
            out.append("    (nothing: the prompt is the theme's template alone)")
        out.append("    theme     its prompt template joins these (and may add words of its own)")
        out.append(f"  negative  {p.negative or '(none)'}")
        out.append(f"  mask      {mask_text(first, plan.capabilities[p.backend])}")
        for note in p.notes:
            out.append(f"  note      {note}")
        for image in images:
            seed = f"seed {image.plan.seed}" if image.plan.seed is not None else "no seed"
            picked = ", picked" if image.picked and len(images) > 1 else ""
            out.append(f"  v{image.variant}        {seed}{picked}: {state_text(image)}")
            for reason in image.reasons:
                out.append(f"              because {reason}")
        out.append("")
    out.append(plan.one_line())
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ images
def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def write_images(
    folder: Path,
    plan: BookPlan,
    ids: Sequence[str],
    cache: ArtCache,
    ext: str,
    protect: dict[str, str],
) -> list[Path]:
    """Write ``p2.1-v1-init.png`` and ``p2.1-v1-mask.png`` (exactly what the
    backend is sent, in its mask convention) for every variant of the panels
    ``ids``, and ``p2.1-v1-art.jpg`` (the finished art) for every cached one.
    Each file is written atomically; a protected file is never written over."""
    check_output(folder, folder=True, protect=protect)
    written: list[Path] = []
    for pid in ids:
        for image in plan.of_panel(pid):
            caps = plan.capabilities[image.plan.backend]
            init, mask = to_service_mask(image.plan.request(), caps.mask_convention)
            files = [("init", "png", _png(init)), ("mask", "png", _png(mask))]
            if image.cached:
                art = cache.get(image.plan.cache_key, ext)
                if art is not None:
                    files.append(("art", ext, art))
            for what, suffix, data in files:
                path = folder / f"{image.name}-{what}.{suffix}"
                write_bytes_atomic(path, data, protect=protect, follow_symlinks=False)
                written.append(path)
    return written
