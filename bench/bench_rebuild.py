"""Benchmark: rebuilding a 100-page book that did not change, or changed on one page.

    .venv/bin/python bench/bench_rebuild.py [--pages 100] [--repeat 5] [--cache DIR] [--src DIR]

The book is bench/bench_build.py's generated script (600 draft panels at 300
dpi). The cache is warmed first (every panel painted, or taken from
``--cache DIR`` if that cache holds them; then built twice, so the lock file
holds the balloon sizes the layout settles on). Then, interleaved round by
round, each a whole process:

  no-op       ``comicc build`` of the unchanged script (everything cached)
  img2pdf     the lower bound: ``img2pdf`` copying the same 600 panel JPEGs
              (the art the lock file names, from the cache) into one PDF
  one change  ``comicc build`` after one balloon's text on the middle page
              changed (it alternates between two texts, so every round is a
              one-page change)

Best and median wall time of each, and the no-op's ratio to the bound.
``--src DIR`` runs the comicc found in ``DIR`` (another tree's ``src``) for
the comicc rows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_build import generate  # noqa: E402  # the same book as bench_build.py


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t


def panel_jpegs(lock: Path, cache: Path) -> list[str]:
    """The cached art of every panel's chosen variant, in reading order."""
    panels = json.loads(lock.read_text())["panels"]
    out = []
    for entry in panels.values():
        key = entry["cache_key"]
        out.append(str(cache / "art" / key[:2] / f"{key}.jpg"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cache", help="a cache folder to start from (copied, not changed)")
    ap.add_argument("--src", help="run the comicc in this src/ folder")
    a = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(Path(a.src).resolve())) if a.src else None
    img2pdf = shutil.which("img2pdf", path=str(Path(sys.executable).parent)) or "img2pdf"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.comic"
        text = generate(a.pages)
        script.write_text(text)
        cache = Path(tmp) / "cache"
        if a.cache:
            shutil.copytree(Path(a.cache) / "art", cache / "art")
        out = Path(tmp) / "bench.pdf"
        build = [sys.executable, "-m", "comicc", "build", str(script), "-o", str(out)]
        build += ["--no-progress", "--cache-dir", str(cache)]
        print(
            f"{a.pages} pages, {a.pages * 6} panels, {os.cpu_count()} cores, "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        t = timed(build, env)
        print(f"warm-up build: {t:.1f} s", flush=True)
        t = timed(build, env)  # the lock file's sizes: laid out once more
        print(f"second build: {t:.1f} s", flush=True)
        jpegs = panel_jpegs(Path(str(script) + ".lock"), cache)
        bound_out = Path(tmp) / "bound.pdf"
        middle = f"PAGE {a.pages // 2 + 1}\n"
        at = text.index(middle)
        line_at = text.index(". HAMMY: ", at) if ". HAMMY: " in text[at:] else -1
        assert line_at > 0, "no HAMMY balloon on the middle page"
        end = text.index("\n", line_at)
        texts = [text, text[:end] + " Really." + text[end:]]
        times: dict[str, list[float]] = {"no-op": [], "img2pdf": [], "one change": []}
        for r in range(a.repeat):
            times["no-op"].append(timed(build, env))
            times["img2pdf"].append(timed([img2pdf, *jpegs, "-o", str(bound_out)]))
            script.write_text(texts[(r + 1) % 2])
            times["one change"].append(timed(build, env))
            # the one-change build wrote a new lock file (the changed balloon's
            # size): one more build settles it, as a writer's next build would,
            # so the next round's no-op starts from a settled book
            timed(build, env)
            print(
                f"  round {r + 1}: no-op {times['no-op'][-1]:.2f} s, img2pdf "
                f"{times['img2pdf'][-1]:.2f} s, one change {times['one change'][-1]:.2f} s, "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        for name, got in times.items():
            print(f"{name:10s}  best {min(got):6.2f} s   median {statistics.median(got):6.2f} s")
        best = min(times["no-op"]) / min(times["img2pdf"])
        med = statistics.median(times["no-op"]) / statistics.median(times["img2pdf"])
        print(f"no-op / img2pdf: {best:.2f}x (best), {med:.2f}x (median); goal <= 2x")
        mib = out.stat().st_size / 2**20, bound_out.stat().st_size / 2**20
        print(f"PDF {mib[0]:.0f} MiB; img2pdf's {mib[1]:.0f} MiB")


if __name__ == "__main__":
    main()
