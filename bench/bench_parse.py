"""Benchmark: parse + check a generated 10,000-line script.

    .venv/bin/python bench/bench_parse.py [--lines 10000] [--repeat 5] [--earley]
        [--against OTHER_SRC]

Prints the best-of-N wall time of each stage in this process (parse without
and with the parse cache, parse + check, loading the grammar built or from
its cache), then of the whole
process: `comicc check` of the script written to a file (unchanged with the
user cache warm, after a one-line edit to one page, and with an empty parse
cache), and of a one-line script (imports and start-up alone), each a fresh
Python process, wall and CPU time.
`--against DIR` runs the same commands with `PYTHONPATH=DIR` too (the `src`
folder of another checkout: the code before a change), interleaved run by run
so both see the same load, and prints the ratio. `--earley` also times Lark's
Earley parser on the same grammar for comparison (slow: run it once).
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
from pathlib import Path

from comicc.diagnostics import Sink
from comicc.pipeline.compile import check_source
from comicc.source import SourceFile
from comicc.syntax.chunks import PARSE_CACHE_ENV
from comicc.syntax.grammar import GRAMMAR_CACHE_ENV, load_parser
from comicc.syntax.parser import parse

HEADER = """title: Benchmark
author: bench
seed: 7
style: @ink
negative: text, watermark
character HAMMY: a chubby golden hamster wearing a tiny red scarf
character OFFICER BRUIN: a huge brown bear in a night-watchman uniform
snippet ink: clean comic-book inks, flat colors
snippet moonlight: cold blue moonlight through a window
"""


def generate(lines: int) -> str:
    out = [HEADER]
    page = 0
    n = HEADER.count("\n")
    while n < lines:
        page += 1
        out.append(f"\nPAGE {page}\nlayout: 2/1/2\n")
        n += out[-1].count("\n")
        counter = 0
        for panel in range(1, 6):
            counter += 1
            out.append(
                f"\nPANEL {panel}\ncast: HAMMY left, OFFICER BRUIN right\n"
                "Wide shot of the kitchen. HAMMY peers at OFFICER BRUIN over the counter.\n"
                "prompt:\n  - @moonlight\n  # - dutch angle\n  - wide establishing shot\n"
                f"{counter}. CAPTION: Midnight. The Kowalski residence.\n"
                f"{counter + 1}. HAMMY (WHISPER): There it is... forty pounds of *aged* gouda.\n"
                f"{counter + 2}. OFFICER BRUIN (SHOUT): FREEZE! -- right there,\n"
                "  you little thief.\n"
                "[[ letterer: keep the SFX small ]]\n"
            )
            counter += 2
            n += out[-1].count("\n")
    return "".join(out)


def run_check(script: Path, src_dir: str | None, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one `python -m comicc check SCRIPT` (must exit 0)."""
    env = dict(env)
    if src_dir:
        env["PYTHONPATH"] = src_dir
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", "comicc", "check", str(script)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    took = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert res.returncode == 0, res.stderr[-500:]
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return took, cpu


def edit_one_line(script: Path, n: int) -> None:
    """Change one word of one description line in the middle page of ``script``."""
    text = script.read_text(encoding="utf-8")
    page = text.index(f"\nPAGE {max(1, text.count(chr(10) + 'PAGE ') // 2)}\n")
    at = text.index("Wide shot of ", page) + len("Wide shot of ")
    end = text.index(".", at)
    script.write_text(text[:at] + f"kitchen {n % 2}" + text[end:], encoding="utf-8")


def whole_process(text: str, repeat: int, against: str | None) -> None:
    """`comicc check` as a user runs it, fresh processes, interleaved with `against`.

    The user cache is a folder of its own (``XDG_CACHE_HOME``), warmed up by a
    first run: ``warm`` checks the script unchanged, ``edit`` after one line of
    one page changed (each run another edit), ``cold`` with an empty parse
    cache (and check memo) each run. Python writes its bytecode as an install
    does (``PYTHONDONTWRITEBYTECODE`` is dropped)."""
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "bench.comic"
        big.write_text(text, encoding="utf-8")
        small = Path(tmp) / "one.comic"
        small.write_text("title: One\n\nPAGE 1\n\nPANEL 1\nA room.\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("COMICC_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        variants = [("this checkout", None)] + ([("--against", against)] if against else [])
        cases = (
            ("check 10k warm", big, "warm"),
            ("check 10k edit", big, "edit"),
            ("check 10k cold", big, "cold"),
            ("check 6 lines", small, "warm"),
        )
        edits = 0
        for name, script, how in cases:
            times: dict[str, list[tuple[float, float]]] = {v: [] for v, _ in variants}
            for _v, src_dir in variants:  # warm up: bytecode, font cache, grammar, pages
                run_check(script, src_dir, env)
            for _ in range(repeat):
                for v, src_dir in variants:
                    run_env = env
                    if how == "edit":
                        edits += 1
                        edit_one_line(script, edits)
                    elif how == "cold":
                        empty = tempfile.mkdtemp(dir=tmp, prefix="parse-")
                        run_env = {**env, "COMICC_PARSE_CACHE": empty}
                    times[v].append(run_check(script, src_dir, run_env))
            for v, _ in variants:
                walls = [w for w, _ in times[v]]
                cpus = [c for _, c in times[v]]
                print(
                    f"{name:16s} {v:14s} best {min(walls) * 1000:6.0f} ms   median "
                    f"{statistics.median(walls) * 1000:6.0f} ms   cpu best "
                    f"{min(cpus) * 1000:6.0f} ms   median {statistics.median(cpus) * 1000:6.0f} ms"
                )
            if against:
                ratio = statistics.median(w for w, _ in times["--against"]) / statistics.median(
                    w for w, _ in times["this checkout"]
                )
                cpu_ratio = statistics.median(c for _, c in times["--against"]) / statistics.median(
                    c for _, c in times["this checkout"]
                )
                print(
                    f"{name:16s} median ratio --against / this checkout: wall {ratio:.2f}x, "
                    f"cpu {cpu_ratio:.2f}x"
                )


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--earley", action="store_true")
    ap.add_argument("--against", metavar="SRC", help="also time `comicc check` from this src dir")
    ap.add_argument("--no-process", action="store_true", help="skip the whole-process runs")
    a = ap.parse_args()
    text = generate(a.lines)
    src = SourceFile.from_text(text, "bench.comic")
    print(f"script: {src.line_count} lines, {len(text) / 1024:.0f} KiB")
    parse(src, Sink())  # warm up: grammar compilation is cached per process

    def do_parse():
        os.environ[PARSE_CACHE_ENV] = "off"  # every page parsed
        try:
            assert parse(src, Sink()) is not None
        finally:
            del os.environ[PARSE_CACHE_ENV]

    cache_dir = tempfile.mkdtemp(prefix="bench-parse-cache-")

    def do_parse_cached():
        os.environ[PARSE_CACHE_ENV] = cache_dir  # written by the first run
        try:
            assert parse(src, Sink()) is not None
        finally:
            del os.environ[PARSE_CACHE_ENV]

    def do_check():
        sink = Sink()
        res = check_source(src, sink)
        assert res is not None and res.script is not None, [d.message for d in sink.errors][:3]

    def grammar_built():
        with tempfile.TemporaryDirectory() as tmp:
            os.environ[GRAMMAR_CACHE_ENV] = tmp  # empty: built, then saved
            try:
                load_parser()
            finally:
                del os.environ[GRAMMAR_CACHE_ENV]

    def grammar_cached():
        load_parser()  # the user's cache, written by the warm-up parse

    for name, fn in (
        ("parse (LALR)", do_parse),
        ("parse (cached)", do_parse_cached),
        ("parse+check", do_check),
        ("grammar: build", grammar_built),
        ("grammar: cached", grammar_cached),
    ):
        b, m = best(fn, a.repeat)
        print(f"{name:16s} best {b * 1000:7.0f} ms   median {m * 1000:7.0f} ms")
    shutil.rmtree(cache_dir, ignore_errors=True)
    if not a.no_process:
        whole_process(text, a.repeat, a.against)
    if a.earley:
        import lark

        from comicc.resources import grammar_path

        g = grammar_path().read_text()
        t = time.perf_counter()
        p = lark.Lark(g, parser="earley", lexer="dynamic")
        try:
            p.parse(text if text.endswith("\n") else text + "\n")
            ms = (time.perf_counter() - t) * 1000
            print(f"parse (Earley) {ms:7.0f} ms (one run, includes grammar load)")
        except Exception as e:  # the grammar's lookahead terminals target LALR's contextual lexer
            took = time.perf_counter() - t
            print(f"parse (Earley) failed after {took:.1f} s: {type(e).__name__}: {str(e)[:120]}")


if __name__ == "__main__":
    main()
