"""Benchmark: build a generated 100-page script with the draft backend.

    .venv/bin/python bench/bench_build.py [--pages 100] [--dpi 300] [--src DIR]
    .venv/bin/python bench/bench_build.py --jobs-compare [--repeat 2] [--src DIR]

Runs `comicc build` as a child process with a COLD cache (a fresh cache
directory), then again WARM (everything from the cache: layout + assembly),
and reports wall time and peak RSS (ru_maxrss of the child) for each.

``--jobs-compare``: cold builds only, ``-j1`` and ``-j2`` alternating
(``--repeat`` rounds, best of each), and how much faster ``-j2`` is.
``--src DIR`` runs the comicc found in ``DIR`` (an older tree's ``src``), in
either mode.
The PDF assembly alone, against the lower bound of copying the JPEG bytes
into a PDF, is measured by bench/bench_pdf.py.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEAK = ["HAMMY", "OFFICER BRUIN", "CAPTION"]
LINES = [
    "There it is... forty pounds of aged gouda.",
    "FREEZE! Nobody moves.",
    "Midnight. The Kowalski residence.",
    "Tonight -- it's *mine*.",
    "Who's there?",
]


def generate(pages: int) -> str:
    out = [
        "title: Benchmark",
        "seed: 7",
        "style: @ink",
        "character HAMMY: a chubby golden hamster wearing a tiny red scarf",
        "character OFFICER BRUIN: a huge brown bear in a night-watchman uniform",
        "snippet ink: clean comic-book inks, flat colors",
        "snippet moon: cold blue moonlight",
        "",
    ]
    for p in range(1, pages + 1):
        out += [f"PAGE {p}", "layout: 2/2/2", ""]
        n = 0
        for k in range(1, 7):
            out += [
                f"PANEL {k}",
                "cast: HAMMY left, OFFICER BRUIN right",
                f"Shot {k} of the kitchen at night. HAMMY and OFFICER BRUIN face off.",
                "prompt: @moon",
            ]
            for j in range(3):
                n += 1
                cue = SPEAK[(p + k + j) % 3]
                out.append(f"{n}. {cue}: {LINES[(p * 7 + k * 3 + j) % len(LINES)]}")
            out.append("")
    return "\n".join(out)


def run(cmd: list[str], src: str | None = None) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    env = dict(os.environ, PYTHONPATH=str(Path(src).resolve())) if src else None
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024  # MiB (ru_maxrss is KiB on Linux)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--jobs-compare", action="store_true", help="cold -j1 vs -j2")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--src", help="run the comicc in this src/ folder")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.comic"
        script.write_text(generate(a.pages))
        out = Path(tmp) / "bench.pdf"
        base = [
            sys.executable,
            "-m",
            "comicc",
            "build",
            str(script),
            "-o",
            str(out),
            "--no-progress",
            "--dpi",
            str(a.dpi),
            "--cache-dir",
            str(Path(tmp) / "cache"),
        ]
        print(
            f"{a.pages} pages, {a.pages * 6} panels, {a.pages * 18} balloons, {a.dpi} dpi, "
            f"{os.cpu_count()} cores"
        )
        if a.jobs_compare:
            compare_jobs(base, Path(tmp) / "cache", a.repeat, a.src)
            return
        wall, rss = run(base, a.src)
        size = out.stat().st_size / 2**20
        print(
            f"cold build (paint every panel): {wall:6.1f} s   "
            f"peak RSS {rss:6.0f} MiB   PDF {size:.0f} MiB"
        )
        wall, rss2 = run(base, a.src)
        print(
            f"warm build (all from cache):    {wall:6.1f} s   peak RSS <= {max(rss, rss2):.0f} MiB"
        )


def compare_jobs(base: list[str], cache: Path, repeat: int, src: str | None) -> None:
    """Cold builds at -j1 and -j2, alternating; the best of each."""
    best: dict[int, float] = {}
    for r in range(repeat):
        for jobs in (1, 2):
            cmd = [*base[:-1], str(cache.with_name(f"cache-{r}-{jobs}")), "-j", str(jobs)]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall, _ = run(cmd, src)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            print(
                f"  round {r + 1}: cold -j{jobs} {wall:6.1f} s wall, {cpu:6.1f} s CPU "
                f"(children reaped by it; not forkserver workers), load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            best[jobs] = min(wall, best.get(jobs, wall))
    print(
        f"cold build -j1 {best[1]:6.1f} s   -j2 {best[2]:6.1f} s   "
        f"-j2 is {best[1] / best[2]:.2f}x faster (best of {repeat})"
    )


if __name__ == "__main__":
    main()
