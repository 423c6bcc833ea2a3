"""Benchmark: lay out a generated 200-page script (6 panels a page, 3-4 balloons a panel).

    .venv/bin/python bench/bench_layout.py [--pages 200] [--profile] [--per-page] [--digest]
    .venv/bin/python bench/bench_layout.py --write-script /tmp/bench200.comic
    time .venv/bin/comicc layout --json /tmp/bench200.comic > /dev/null

Prints the wall time of ``layout_book`` (fonts warmed up first) and counts;
``--per-page`` also lays out every page on its own in this process and prints
the median, p90 and max time a page; ``--digest`` the sha256 of the book's
geometry (``layout --json``'s text) and warnings, to check that a change to
the search keeps every byte. ``--write-script`` writes the same
generated book as a ``.comic`` script (the shipped theme instead of the test
theme, so not the same geometry) to measure the whole process through the CLI.
Target: under 10 s for 200 pages on a 2-core machine. A book of 24 pages or
more is laid out in this process and forked ones, one per core
(``layout/engine.py``); ``COMICC_LAYOUT_JOBS=1`` measures one process,
``COMICC_LAYOUT_JOBS=N`` forces N. CPU time is this process's only (its share of
the pages, and unpickling the workers' pages): compare wall times.
``PYTHONPATH=DIR`` runs the ``comicc`` found in ``DIR`` (another checkout's
``src``: a before/after comparison in one run); else this checkout's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.append(os.path.join(os.path.dirname(__file__), "..", "src"))  # after PYTHONPATH

from comicc.diagnostics import Diagnostic  # noqa: E402
from comicc.layout import BookGeom, layout_book, to_json  # noqa: E402
from comicc.layout.balloons import voice_colors  # noqa: E402
from comicc.layout.engine import layout_one_page  # noqa: E402
from comicc.layout.items import PlacementTuning  # noqa: E402
from comicc.layout.measure import as_measurer  # noqa: E402
from comicc.model import ir  # noqa: E402
from comicc.theme import Theme  # noqa: E402
from support.layout import US, make_theme, page, panel, script  # noqa: E402

WORDS = (
    "the cheese is mine tonight and nobody will stop me now what about the cat listen "
    "up team this plan is simple we go in quiet we come out rich *never* again okay "
    "wait hold on who left the lights on i told you so"
).split()
NAMES = ["HAMMY", "MOUSE", "RAT", "OFFICER BRUIN"]
MODS = [(), (), (), (), ("WHISPER",), ("SHOUT",), ("THOUGHT",), ("OFF",), ("ELECTRONIC",)]


def make_items(pages: int, seed: int = 7) -> list[list[list[tuple[str, ...]]]]:
    """The lettering of a generated book: pages of panels of (cue, text, *mods) items
    (the same for the same ``seed``)."""
    rng = random.Random(seed)
    out = []
    for _pno in range(1, pages + 1):
        panels: list[list[tuple[str, ...]]] = []
        for _n in range(1, 7):
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
            panels.append(balloons)
        out.append(panels)
    return out


def make_script(pages: int, seed: int = 7) -> ir.Script:
    """A generated script of ``pages`` pages (the same for the same ``seed``)."""
    out = []
    for pno, panels in enumerate(make_items(pages, seed), 1):
        built: list[ir.Panel] = []
        idx = 1
        for n, balloons in enumerate(panels, 1):
            built.append(panel(n, balloons, page=pno, first_index=idx))
            idx += len(balloons)
        out.append(page(pno, built))
    return script(out)


def script_text(pages: int, seed: int = 7) -> str:
    """The same book as :func:`make_script`, as a ``.comic`` script for the CLI."""
    lines = ["title: Layout bench", "format: us-comic", "backend: draft", ""]
    lines += [f"character {name}: a character of the bench" for name in NAMES] + [""]
    for pno, panels in enumerate(make_items(pages, seed), 1):
        lines += [f"PAGE {pno}", ""]
        idx = 1
        for n, balloons in enumerate(panels, 1):
            lines += [f"PANEL {n}", "A room."]
            for cue, text, *mods in balloons:
                mod = f" ({', '.join(mods)})" if mods else ""
                lines.append(f"{idx}. {cue}{mod}: {text}")
                idx += 1
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--per-page", action="store_true", help="also time each page on its own")
    ap.add_argument("--write-script", metavar="FILE", help="write the book as a .comic script")
    ap.add_argument("--digest", action="store_true", help="print a sha256 of the geometry")
    args = ap.parse_args(argv)
    if args.write_script:
        with open(args.write_script, "w", encoding="utf-8") as fh:
            fh.write(script_text(args.pages))
        print(f"wrote {args.write_script} ({args.pages} pages)")
        return 0
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
    if args.digest:
        print(f"digest {digest(book, issues)}")
    if args.per_page:
        _per_page(sc, theme)
    return 0


def digest(book: BookGeom, issues: list[Diagnostic]) -> str:
    """The sha256 of the book's geometry (the text ``comicc layout --json`` prints) and of
    its warnings (code, message, hints, line and column of each)."""
    h = hashlib.sha256((json.dumps(to_json(book), indent=1) + "\n").encode())
    for d in issues:
        span = d.span
        where = f"{span.line}:{span.col}" if span is not None else "-"
        h.update(f"{d.code}|{d.message}|{'|'.join(d.hints)}|{where}\n".encode())
    return h.hexdigest()


def _per_page(sc: ir.Script, theme: Theme) -> None:
    """Lay out every page on its own, in this process, and print the spread."""
    m = as_measurer(None)
    tuning = PlacementTuning.from_theme(theme)
    voices = voice_colors(sc, theme)
    times = []
    for pg in sc.pages:
        t0 = time.perf_counter()
        layout_one_page(pg, theme, US, m, "ltr", tuning, [], None, voices)
        times.append(time.perf_counter() - t0)
    times.sort()
    p90 = times[min(len(times) - 1, int(0.9 * len(times)))]
    print(
        f"per page, one process: median {statistics.median(times) * 1000:.1f} ms, "
        f"p90 {p90 * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms, "
        f"sum {sum(times):.2f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
