"""Benchmark: whole-process start-up, check and one-page build, before vs after.

    .venv/bin/python bench/bench_startup.py [--repeat 5] [--against OTHER_SRC]
        [--no-bytecode] [--only CASE ...]

Each case is one fresh ``python -m comicc ...`` process, timed from outside
(wall) and by the kernel (user + system CPU of the child):

* ``check 10k cold``: the generated 10,006-line script of
  ``bench_parse.py``, with an empty user cache (no grammar cache, no parse
  cache, no font caches);
* ``check 10k warm``: the same script, the user cache kept from the run before;
* ``check 10k new script``: the same, the user cache kept (grammar, compiled
  methods, fonts) but nothing kept of this script (an empty parse cache, so no
  check memo either): the first check of a script on a machine where comicc
  has run before, every page parsed and lowered;
* ``check 10k after a one-line edit``: the same, warm, but before each run
  one description line in the middle of the script is changed (a new text
  every run): what a writer's check after an edit costs (that page is parsed
  again, every page lowered and checked);
* ``check 6 lines``: start-up and imports, with a warm user cache;
* ``build 1 page warm``: ``examples/heist.comic`` (one page, three panels,
  the ``draft`` backend), its art cache and the user cache kept: what a
  rebuild of an unchanged book costs (it is "up to date": nothing written);
* ``build 1 page warm --force``: the same, the PDF and the lock really
  written (the art from the cache): what issue 12 measured as a one-page build;
* ``build 1 page cold``: the same with an empty art cache and user cache (the
  three panels are painted by the draft backend).

``--against DIR`` runs every case with ``PYTHONPATH=DIR`` too (the ``src``
folder of another tree: the code before a change, e.g. made with
``git archive HEAD src | tar -x -C /tmp/before``), alternating run by run so
both see the same load, and prints the ratio of the medians. Each tree has
its own caches. By default the byte code of each tree is written (to a
private ``PYTHONPYCACHEPREFIX``) and used, as in an installed comicc (pip
compiles on install); ``--no-bytecode`` measures the source checkout with
``PYTHONDONTWRITEBYTECODE=1``, every module compiled on every run.

The one-page build is compared with comicforge's 2.36 s from issue 12
(comicforge is not installed here).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_parse import generate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
COMICFORGE_ONE_PAGE_S = 2.36  # issue 12: comicforge's one-page build, whole process
SMALL = "title: One\n\nPAGE 1\n\nPANEL 1\nA room.\n"


@dataclass
class Tree:
    """One tree under test: its src folder (None: this checkout) and its folders."""

    name: str
    src: str | None
    home: Path
    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def env(self, cache: Path, bytecode: bool) -> dict[str, str]:
        env = dict(os.environ)
        if self.src:
            env["PYTHONPATH"] = self.src
        else:
            env.pop("PYTHONPATH", None)
        env["XDG_CACHE_HOME"] = str(cache)
        for var in ("COMICC_GRAMMAR_CACHE", "COMICC_PARSE_CACHE", "COMICC_FONT_CACHE"):
            env.pop(var, None)
        env.pop("COMICC_CACHE", None)
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.home / "pycache")
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env.pop("PYTHONPYCACHEPREFIX", None)
        return env


def run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one ``python -m comicc ARGV`` (must exit 0)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "comicc", *argv],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert res.returncode == 0, (argv, res.stderr[-800:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def cases(work: Path) -> dict[str, Callable[[Tree, bool], tuple[float, float]]]:
    """case name -> a function running it once for a tree."""
    big = work / "bench.comic"
    big.write_text(generate(10_000), encoding="utf-8")
    small = work / "one.comic"
    small.write_text(SMALL, encoding="utf-8")
    heist = (ROOT / "examples" / "heist.comic").read_text(encoding="utf-8")

    def fresh(tree: Tree, what: str) -> Path:
        """An empty folder of ``tree`` for one cold run."""
        d = tree.home / what
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        return d

    def check_cold(tree: Tree, bc: bool) -> tuple[float, float]:
        return run(["check", str(big)], tree.env(fresh(tree, "cold-cache"), bc), work)

    def check_warm(tree: Tree, bc: bool) -> tuple[float, float]:
        return run(["check", str(big)], tree.env(tree.home / "cache", bc), work)

    def check_new(tree: Tree, bc: bool) -> tuple[float, float]:
        env = tree.env(tree.home / "cache", bc)
        env["COMICC_PARSE_CACHE"] = str(fresh(tree, "parse-cache"))
        return run(["check", str(big)], env, work)

    edits = [0]
    lines = big.read_text(encoding="utf-8").split("\n")
    middle = next(
        i for i in range(len(lines) // 2, len(lines)) if lines[i].startswith("Wide shot of")
    )

    def check_edited(tree: Tree, bc: bool) -> tuple[float, float]:
        edits[0] += 1
        edited = work / f"edited-{tree.name[:4]}.comic"
        changed = [*lines[:middle], f"{lines[middle]} Edit {edits[0]}.", *lines[middle + 1 :]]
        edited.write_text("\n".join(changed), encoding="utf-8")
        return run(["check", str(edited)], tree.env(tree.home / "cache", bc), work)

    def check_small(tree: Tree, bc: bool) -> tuple[float, float]:
        return run(["check", str(small)], tree.env(tree.home / "cache", bc), work)

    def build_warm(tree: Tree, bc: bool) -> tuple[float, float]:
        book = tree.home / "book"
        if not (book / "heist.comic").is_file():
            book.mkdir(parents=True, exist_ok=True)
            (book / "heist.comic").write_text(heist, encoding="utf-8")
        argv = ["build", "heist.comic", "--no-progress"]
        return run(argv, tree.env(tree.home / "cache", bc), book)

    def build_forced(tree: Tree, bc: bool) -> tuple[float, float]:
        book = tree.home / "book"
        if not (book / "heist.comic").is_file():
            book.mkdir(parents=True, exist_ok=True)
            (book / "heist.comic").write_text(heist, encoding="utf-8")
        argv = ["build", "heist.comic", "--no-progress", "--force"]
        return run(argv, tree.env(tree.home / "cache", bc), book)

    def build_cold(tree: Tree, bc: bool) -> tuple[float, float]:
        book = fresh(tree, "cold-book")
        (book / "heist.comic").write_text(heist, encoding="utf-8")
        argv = ["build", "heist.comic", "--no-progress"]
        return run(argv, tree.env(fresh(tree, "cold-cache"), bc), book)

    return {
        "check 10k cold": check_cold,
        "check 10k warm": check_warm,
        "check 10k new script": check_new,
        "check 10k after a one-line edit": check_edited,
        "check 6 lines": check_small,
        "build 1 page warm": build_warm,
        "build 1 page warm --force": build_forced,
        "build 1 page cold": build_cold,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--against", metavar="SRC", help="also run the cases from this src dir")
    ap.add_argument("--no-bytecode", action="store_true", help="compile every module every run")
    ap.add_argument("--only", nargs="+", metavar="CASE", help="run only these cases (by prefix)")
    a = ap.parse_args()
    bytecode = not a.no_bytecode
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        work = Path(tmp)
        trees = [Tree("this checkout", None, work / "this")]
        if a.against:
            trees.append(Tree("--against", str(Path(a.against).resolve()), work / "against"))
        todo = cases(work)
        if a.only:
            todo = {k: v for k, v in todo.items() if any(k.startswith(p) for p in a.only)}
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load "
            f"{os.getloadavg()[0]:.1f}, byte code {'on' if bytecode else 'off'}, "
            f"{a.repeat} runs each"
        )
        for name, fn in todo.items():
            for tree in trees:  # warm up: byte code, page cache, the warm caches
                fn(tree, bytecode)
                tree.wall[name], tree.cpu[name] = [], []
            for _ in range(a.repeat):
                for tree in trees:
                    w, c = fn(tree, bytecode)
                    tree.wall[name].append(w)
                    tree.cpu[name].append(c)
            for tree in trees:
                ws, cs = tree.wall[name], tree.cpu[name]
                print(
                    f"{name:31s} {tree.name:14s} wall best {min(ws) * 1000:6.0f} ms  "
                    f"median {statistics.median(ws) * 1000:6.0f} ms   "
                    f"cpu median {statistics.median(cs) * 1000:6.0f} ms"
                )
            if len(trees) == 2:
                this, other = trees
                rw = statistics.median(other.wall[name]) / statistics.median(this.wall[name])
                rc = statistics.median(other.cpu[name]) / statistics.median(this.cpu[name])
                print(f"{name:31s} --against / this checkout: wall {rw:.2f}x  cpu {rc:.2f}x")
            if name.startswith("build 1 page"):
                med = statistics.median(trees[0].wall[name])
                print(
                    f"{name:31s} comicforge {COMICFORGE_ONE_PAGE_S:.2f} s / this checkout: "
                    f"{COMICFORGE_ONE_PAGE_S / med:.1f}x"
                )
        print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
