"""Benchmark: lay out a generated 200-page script (6 panels a page, 3-4 balloons a panel).

    .venv/bin/python bench/bench_layout.py [--pages 200] [--profile]

Prints the wall time of ``layout_book`` (fonts warmed up first) and counts.
Target: under 10 s for 200 pages on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from comicc.layout import layout_book  # noqa: E402
from comicc.model import ir  # noqa: E402
from support.layout import US, make_theme, page, panel, script  # noqa: E402

WORDS = (
    "the cheese is mine tonight and nobody will stop me now what about the cat listen "
    "up team this plan is simple we go in quiet we come out rich *never* again okay "
    "wait hold on who left the lights on i told you so"
).split()
NAMES = ["HAMMY", "MOUSE", "RAT", "OFFICER BRUIN"]
MODS = [(), (), (), (), ("WHISPER",), ("SHOUT",), ("THOUGHT",), ("OFF",), ("ELECTRONIC",)]


def make_script(pages: int, seed: int = 7) -> ir.Script:
    """A generated script of ``pages`` pages (the same for the same ``seed``)."""
    rng = random.Random(seed)
    out = []
    for pno in range(1, pages + 1):
        panels: list[ir.Panel] = []
        idx = 1
        for n in range(1, 7):
            balloons: list[tuple[str, ...]] = []
            for k in range(rng.choice((3, 4))):
                words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 11)))
                r = rng.random()
                if k == 0 and r < 0.3:
                    balloons.append(("CAPTION", words))
                elif r < 0.08:
                    balloons.append(("SFX", rng.choice(["BLAM", "CLICK", "SKREE"])))
                else:
                    balloons.append((rng.choice(NAMES), words, *rng.choice(MODS)))
            panels.append(panel(n, balloons, page=pno, first_index=idx))
            idx += len(balloons)
        out.append(page(pno, panels))
    return script(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args(argv)
    theme = make_theme()
    sc = make_script(args.pages)
    layout_book(make_script(1, seed=1), theme, US)  # load fonts once
    if args.profile:
        import cProfile
        import pstats

        cProfile.runctx("layout_book(sc, theme, US)", globals(), locals(), "/tmp/bench_layout.prof")
        pstats.Stats("/tmp/bench_layout.prof").sort_stats("cumulative").print_stats(25)
        return 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    book, issues = layout_book(sc, theme, US)
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    balloons = sum(len(p.balloons) for pg in book.pages for p in pg.panels)
    print(
        f"layout of {len(book.pages)} pages, {balloons} balloons: {dt:.2f} s wall, {cpu:.2f} s CPU "
        f"({dt / max(1, len(book.pages)) * 1000:.1f} ms/page), {len(issues)} warnings "
        f"({sum(d.code == 'text-overflow' for d in issues)} overflow)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
