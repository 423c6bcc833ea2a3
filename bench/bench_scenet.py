"""Benchmark: `comicc layout --json` of a 48-page noir book vs scenet 0.11 writing its SVG.

    .venv/bin/python bench/bench_scenet.py [--pages 48] [--runs 3] [--cold]
        [--scenet /tmp/scenet-venv/bin/scenet] [--against OTHER_SRC] [--keep DIR]

The book is ``examples/long-night.comic`` (the noir example: 7 pages, one of
them a spread) with its pages repeated, renumbered, until it has ``--pages``
pages: 48 by default, 176 panels, 328 lettering items (neither tool reuses the
layout of a repeated page within a run). The same book is translated into
scenet's comic-script format (scenet 0.11 reads Dark Horse-style scripts with
a YAML front matter; :func:`scenet_script`): the same pages, panels,
descriptions and lettering items in the same order, each speaker cast with one
of scenet's two shipped puppets, a panel's cast being who is seen speaking in
it. What scenet has no kind for becomes its nearest: electronic / radio /
phone / TV voices are speech (off-panel when the speaker is not in the
panel), a title is a caption, a note an editorial caption; the spread is one
page (scenet has no spreads, so 41 PAGE headings hold the 48 pages' panels);
a panel that shows nobody gets one of the characters it names (scenet refuses
a panel with no cast).

Each run times both whole processes, interleaved (comicc, scenet, comicc,
scenet, ...), so both see the same load; it prints each time, the best of
each and the ratio scenet ÷ comicc. comicc runs as a user runs it again: with
the caches a first, untimed run left (the layout memo in ``.comicc-cache``
beside the book, so its pages are not laid out again, and with them the text
that run printed, which is printed again when nothing it is made of changed:
:mod:`comicc.pipeline.layoutjson`; the parse and font caches in
``$XDG_CACHE_HOME``): "warm". ``--cold`` also times, in the same
interleaving, comicc with every cache empty (a fresh ``XDG_CACHE_HOME`` and
``COMICC_CACHE`` each run: every page laid out, the script parsed, the fonts
read) and prints both ratios. ``--against DIR`` also times comicc with
``PYTHONPATH=DIR`` (the ``src`` folder of another checkout: the code before a
change) in the same interleaving (and cold with ``--cold``). scenet needs
Python >= 3.12, so it runs from its own venv:

    /root/.pyenv/versions/3.12.1/bin/python3.12 -m venv /tmp/scenet-venv
    /tmp/scenet-venv/bin/pip install 'scenet==0.11.*'

Without it (``--scenet`` not found) only comicc is timed and the comparison
is reported as skipped. Both run from compiled bytecode (a first comicc run,
not timed, writes it even where ``PYTHONDONTWRITEBYTECODE`` is set).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from comicc.diagnostics import Sink  # noqa: E402
from comicc.model import ir  # noqa: E402
from comicc.pipeline.compile import check_source  # noqa: E402
from comicc.source import SourceFile  # noqa: E402

K = ir.BalloonKind
BOOK = ROOT / "examples" / "long-night.comic"
SCENET = "/tmp/scenet-venv/bin/scenet"
HEADING = re.compile(r"^(PAGES?)\s+([A-Z0-9-]+)(.*)$")
PUPPETS = ("alice", "bob")
FILLER = "NINA"  # who stands in a panel that shows nobody (scenet needs somebody)
ANCHORS = ("left_third", "right_third", "center")


def noir_book(pages: int = 48, source: Path = BOOK) -> str:
    """The noir example with its pages repeated until the book has ``pages`` pages
    (renumbered; a spread that would pass the last page is left out)."""
    text = source.read_text(encoding="utf-8")
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if HEADING.match(line)]
    head = lines[: starts[0]]
    blocks = [lines[a:b] for a, b in zip(starts, starts[1:] + [len(lines)], strict=True)]
    out = list(head)
    n = 0
    while n < pages:
        added = False
        for block in blocks:
            m = HEADING.match(block[0])
            assert m is not None
            size = 2 if m.group(1) == "PAGES" else 1
            if n + size > pages:
                continue
            number = f"{n + 1}-{n + 2}" if size == 2 else f"{n + 1}"
            out.append(f"{m.group(1)} {number}{m.group(3)}")
            out += block[1:]
            n += size
            added = True
            if n == pages:
                break
        if not added:
            break
    return "\n".join(out) + "\n"


def lowered(text: str, name: str = "book.comic") -> ir.Script:
    """The book as comicc's checked IR (what the translation reads)."""
    sink = Sink()
    checked = check_source(SourceFile.from_text(text, str(ROOT / "examples" / name)), sink)
    if checked is None or checked.script is None:
        raise SystemExit(f"the book does not check: {[d.message for d in sink.diagnostics]}")
    return checked.script


def _text(balloon: ir.Balloon) -> str:
    """The lettering in scenet's notation (emphasis between underscores), one line."""
    parts = []
    for run in balloon.runs:
        t = run.text.replace("_", " ")
        if run.emphasis and t.strip():
            lead, core, trail = re.match(r"(\s*)(.*?)(\s*)$", t, re.S).groups()  # type: ignore[union-attr]
            t = f"{lead}_{core}_{trail}"
        parts.append(t)
    return " ".join("".join(parts).split()) or "..."


def _cue(name: str) -> str:
    """A speaker as a scenet actor id: capitals and underscores."""
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


def scenet_script(script: ir.Script) -> str:
    """``script`` in scenet's comic-script format (see the module docstring)."""
    seen: dict[str, None] = {}
    for page in script.pages:
        for panel in page.panels:
            for name in _on_panel(panel):
                seen.setdefault(name)
    cast = list(seen)
    out = ["---", "cast:"]
    for i, name in enumerate(cast):
        puppet, at = PUPPETS[i % 2], ANCHORS[i % 3]
        out.append(f"  {_cue(name)}: {{reference: {puppet}, at: {at}}}")
    out += ["---", ""]
    for page in script.pages:
        out += [f"PAGE {page.number}", ""]
        for panel in page.panels:
            here = _on_panel(panel)
            out.append(f"PANEL {panel.number}")
            heard = {b.speaker for b in panel.balloons if b.speaker}  # (OP) leaves them out
            gone = [n for n in cast if n not in here and n not in heard]
            if gone:
                out.append("@cast: {" + ", ".join(f"{_cue(n)}: null" for n in gone) + "}")
            desc = " ".join(panel.description.split())
            if desc:
                out.append(desc)
            out.append("")
            for balloon in panel.balloons:
                out += [*_item(balloon, here), ""]
    return "\n".join(out)


def _on_panel(panel: ir.Panel) -> list[str]:
    """Who is seen in ``panel``: speakers with a balloon that is not off-panel and not
    an electronic voice of somebody outside the cast; in a panel with none of them
    (scenet refuses a panel with nobody to place), the characters it shows."""
    placed = {c.name for c in panel.cast}
    out: dict[str, None] = {}
    heard: set[str] = set()
    for b in panel.balloons:
        if b.speaker is None or b.kind in (K.CAPTION, K.SFX, K.NOTE, K.TITLE):
            continue
        if b.off_panel or (b.kind is K.ELECTRONIC and b.speaker not in placed):
            heard.add(b.speaker)
            continue
        out.setdefault(b.speaker)
    if not out:
        shown = [c for c in (*placed, *panel.characters) if c not in heard]
        out = dict.fromkeys(shown[:1] or [FILLER])
    return list(out)


def _item(balloon: ir.Balloon, here: list[str]) -> list[str]:
    """One lettering item as scenet script lines."""
    text = _text(balloon)
    kind = balloon.kind
    if kind is K.SFX:
        return [f"SFX: {text}"]
    if kind is K.TITLE:
        return [f"CAPTION: {text}"]
    if kind is K.NOTE:
        return [f"CAPTION (editorial): {text}"]
    if kind is K.CAPTION:
        if balloon.speaker:
            return [f"{_cue(balloon.speaker)} (V.O.)", text]
        return [f"CAPTION: {text}"]
    who = balloon.speaker or "VOICE"
    mods = []
    if who not in here:
        mods.append("OP")
    style = {K.WHISPER: "whisper", K.SHOUT: "shout", K.THOUGHT: "thought"}.get(kind)
    if style is not None:
        mods.append(style)
    if balloon.small:
        mods.append("small")
    cue = _cue(who) + (f" ({', '.join(mods)})" if mods else "")
    return [cue, text]


def _time(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.decode()[-2000:]}")
    return dt


def _time_cold(cmd: list[str], env: dict[str, str]) -> float:
    """``cmd`` timed with every cache of comicc empty (fresh folders, removed after)."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        return _time(cmd, dict(env, XDG_CACHE_HOME=f"{tmp}/xdg", COMICC_CACHE=f"{tmp}/comicc"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=48)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scenet", default=SCENET)
    ap.add_argument("--against", metavar="SRC", help="also time comicc from this src folder")
    ap.add_argument("--keep", metavar="DIR", help="write the two books into DIR and keep them")
    ap.add_argument("--cold", action="store_true", help="also time comicc with empty caches")
    args = ap.parse_args(argv)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-scenet-"))
    work.mkdir(parents=True, exist_ok=True)
    comic = work / "noir48.comic"
    text = noir_book(args.pages)
    comic.write_text(text, encoding="utf-8")
    book = lowered(text)
    items = sum(len(p.balloons) for pg in book.pages for p in pg.panels)
    panels = sum(len(pg.panels) for pg in book.pages)
    pages = sum(len(pg.numbers) for pg in book.pages)
    script = work / "noir48.script"
    script.write_text(scenet_script(book), encoding="utf-8")
    svg = work / "svg"
    have = shutil.which(args.scenet) is not None or Path(args.scenet).is_file()
    print(f"book: {pages} pages, {panels} panels, {items} lettering items ({comic}, {script})")
    comicc = [sys.executable, "-m", "comicc", "layout", "--json", "--format", "short", str(comic)]
    # both tools from compiled bytecode, as installed (pip compiles scenet's; comicc's is
    # written by a first, untimed run): an environment that forbids it would time
    # compiling comicc's sources on every run
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env_new = dict(base, PYTHONPATH=str(ROOT / "src"))
    env_old = dict(base, PYTHONPATH=args.against) if args.against else None
    for env in (env_new, env_old):
        if env is not None and args.runs > 0:
            _time(comicc, env)
    scenet = [args.scenet, "build", str(script), "-o", str(svg), "--quiet"]
    kinds = [  # what is timed each run, in this order: name, environment, with empty caches
        ("comicc", env_new, False),
        ("comicc before", env_old, False),
        ("comicc cold", env_new, True),
        ("comicc before cold", env_old, True),
    ]
    names = [k for k, env, cold in kinds if env is not None and (args.cold or not cold)]
    times: dict[str, list[float]] = {k: [] for k in [*names, "scenet"]}
    for run in range(1, args.runs + 1):
        for name, env, cold in kinds:
            if name in names and env is not None:
                times[name].append(_time_cold(comicc, env) if cold else _time(comicc, env))
        line = f"run {run}: " + ", ".join(f"{k} {times[k][-1]:.2f} s" for k in names if times[k])
        if have:
            if svg.exists():
                shutil.rmtree(svg)
            svg.mkdir()
            times["scenet"].append(_time(scenet))
            line += f", scenet {times['scenet'][-1]:.2f} s"
        print(line, flush=True)
    best = {k: min(v) for k, v in times.items() if v}
    if not best:
        return 0
    summary = "best: " + ", ".join(f"{k} {v:.2f} s" for k, v in best.items() if k != "scenet")
    if "scenet" in best:
        written = len(list(svg.glob("*.svg")))
        summary += f", scenet {best['scenet']:.2f} s ({written} SVG files)"
        for k in names:
            if k in best:
                warm = "" if k.endswith("cold") else " (warm)"
                summary += f"\n  {k}{warm} is {best['scenet'] / best[k]:.1f}x faster than scenet"
    else:
        summary += f"; scenet not found at {args.scenet}: comparison skipped"
    print(summary)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
