"""Benchmark: drawing one panel's init image and mask, now vs the former drawing.

    .venv/bin/python bench/bench_mask.py [--dpi 300] [--repeat 3]

Every panel of the examples and bench/scenes, planned for the draft backend at
``--dpi``: the init image and mask at the request size, drawn by
``PanelPlan.images`` (cache key version 4) and by the former drawing
(version 3: a feather ring every pixel, each stroking the outlines flattened
within 0.2 px with a disc on every vertex, then the zone inverted),
alternating panel by panel, ``--repeat`` rounds. Reports the mean time a
panel, how many mask pixels differ between the two, and how many pixels the
new mask keeps (0) that the former did not and the other way round.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

from comicc.backends.draft import DraftBackend
from comicc.diagnostics import Sink
from comicc.paint import PanelPlan, plan_panel
from comicc.paint.mask import MAX_FEATHER_STEPS, build_init
from comicc.pipeline import check, layout

ROOT = Path(__file__).resolve().parent.parent


def former_images(plan: PanelPlan, size: tuple[int, int]) -> tuple[Image.Image, Image.Image]:
    """Init image and mask as version 3 drew them."""
    sx, sy = plan.scale(size)
    margin, feather = plan._px(plan.keep_margin, size), plan._px(plan.feather, size)
    init = build_init(plan.reserve, size, sx, sy, mode=plan.mask_mode, lines=plan.lines)
    if plan.mask_mode == "none":
        return init, Image.new("L", size, 255)
    polys = [
        line.points
        for p in plan.reserve
        for line in p.polylines(0.2, lambda x, y: (x * sx, y * sy))
        if len(line.points) >= 2
    ]
    zone = Image.new("L", size, 0)
    d = ImageDraw.Draw(zone)

    def grown(r: float, value: int, fill: bool) -> None:
        for poly in polys:
            if fill and len(poly) >= 3:
                d.polygon(poly, fill=value)
            if r < 0.5:
                continue
            d.line([*poly, poly[0]], fill=value, width=max(1, round(2 * r)))
            boxes = {(int(x - r), int(y - r), int(x + r), int(y + r)) for x, y in poly}
            for box in boxes:
                d.ellipse(box, fill=value)

    steps = min(MAX_FEATHER_STEPS, math.ceil(feather)) if feather > 0 else 0
    for i in range(steps, 0, -1):
        grown(margin + feather * i / steps, round(255 * (1 - (i - 0.5) / steps)), False)
    grown(margin, 255, True)
    return init, ImageChops.invert(zone)


def plans(dpi: int) -> list[PanelPlan]:
    out = []
    files = sorted((ROOT / "examples").glob("*.comic")) + sorted(
        (ROOT / "bench" / "scenes").glob("*.comic")
    )
    for path in files:
        res = check(path, Sink())
        if res is None or res.script is None:
            continue
        book = layout(res.script, res.theme, Sink())
        if book is None:
            continue
        geoms = {g.id: g for page in book.pages for g in page.panels}
        for panel in res.script.panels:
            at = dataclasses.replace(panel, settings=dataclasses.replace(panel.settings, dpi=dpi))
            out.append(plan_panel(at, geoms[panel.id], DraftBackend.capabilities))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    todo = plans(a.dpi)
    now = former = 0.0
    differing = kept_more = kept_less = 0
    for r in range(a.repeat):
        for plan in todo:
            t = time.perf_counter()
            _, mask = plan.images()
            now += time.perf_counter() - t
            t = time.perf_counter()
            _, old = former_images(plan, plan.request_size)
            former += time.perf_counter() - t
            if r == 0:
                differing += sum(ImageChops.difference(mask, old).histogram()[1:])
                new_keep = mask.point(lambda v: 255 if v == 0 else 0)
                old_keep = old.point(lambda v: 255 if v == 0 else 0)
                kept_more += ImageChops.subtract(new_keep, old_keep).histogram()[255]
                kept_less += ImageChops.subtract(old_keep, new_keep).histogram()[255]
    n = len(todo) * a.repeat
    px = sum(p.request_size[0] * p.request_size[1] for p in todo) / len(todo)
    print(f"{len(todo)} panels at {a.dpi} dpi (mean {px / 1e6:.1f} MP), {a.repeat} rounds")
    print(f"init + mask, former drawing (v3): {former / n * 1000:6.1f} ms a panel")
    print(f"init + mask, now (v4):            {now / n * 1000:6.1f} ms a panel")
    print(f"{former / now:.1f}x quicker; mask pixels that differ: {differing}")
    print(f"kept now, not before: {kept_more} px; kept before, not now: {kept_less} px")


if __name__ == "__main__":
    main()
