"""Benchmark: drawing one panel's init image and mask, now vs the former drawing.

    .venv/bin/python bench/bench_mask.py [--dpi 300] [--repeat 3]

Every panel of the examples and bench/scenes, planned for the draft backend at
``--dpi``: the init image and mask at the request size, drawn by
``PanelPlan.images`` (cache key version 3) and by the former drawing
(version 2: every feather ring fills the polygons, strokes the outline with
Pillow's round joints and puts a disc on every vertex), alternating panel by
panel, ``--repeat`` rounds. Reports the mean time a panel and how many mask
pixels differ between the two.
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
    """Init image and mask as version 2 drew them."""
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

    def grown(r: float, value: int) -> None:
        for poly in polys:
            if len(poly) >= 3:
                d.polygon(poly, fill=value)
            if r < 0.5:
                continue
            d.line(poly + [poly[0]], fill=value, width=max(1, round(2 * r)), joint="curve")
            for x, y in poly:
                d.ellipse([x - r, y - r, x + r, y + r], fill=value)

    steps = min(MAX_FEATHER_STEPS, math.ceil(feather)) if feather > 0 else 0
    for i in range(steps, 0, -1):
        grown(margin + feather * i / steps, round(255 * (1 - (i - 0.5) / steps)))
    grown(margin, 255)
    return init, zone.point(lambda v: 255 - v)


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
    differing = 0
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
    n = len(todo) * a.repeat
    px = sum(p.request_size[0] * p.request_size[1] for p in todo) / len(todo)
    print(f"{len(todo)} panels at {a.dpi} dpi (mean {px / 1e6:.1f} MP), {a.repeat} rounds")
    print(f"init + mask, former drawing (v2): {former / n * 1000:6.1f} ms a panel")
    print(f"init + mask, now (v3):            {now / n * 1000:6.1f} ms a panel")
    print(f"{former / now:.1f}x quicker; mask pixels that differ: {differing}")


if __name__ == "__main__":
    main()
