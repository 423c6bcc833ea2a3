"""``layout_book(on_page=...)``: each page is told as soon as it is laid out
(so painting can start on it), in this process or by a forked worker, and the
book is the same as without it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from comicc.layout import layout_book
from support import ROOT
from support.layout import US, make_theme, page, panel, script

THEME = make_theme()

ROWS = [("HAMMY", "Okay team, listen up."), ("MOUSE", "What about the cat?")]


def test_every_page_is_told_once_in_this_process(monkeypatch):
    monkeypatch.setenv("COMICC_LAYOUT_JOBS", "1")
    sc = script([page(n, [panel(1, ROWS, page=n), panel(2, ROWS, page=n)]) for n in (1, 2, 3)])
    told = []
    book, issues = layout_book(sc, THEME, US, on_page=lambda i, geom: told.append((i, geom)))
    assert [i for i, _ in told] == [0, 1, 2]
    assert tuple(g for _, g in told) == book.pages
    assert (book, issues) == layout_book(sc, THEME, US)


def test_pages_laid_out_by_forked_workers_are_told_too():
    """In a fresh process (one thread: the engine forks there), a book long enough
    for two processes: every page told, the book the same as one process's."""
    code = textwrap.dedent(
        """
        import json, sys, threading
        sys.path.insert(0, "tests")
        from comicc.layout import engine, layout_book
        from support.layout import US, make_theme, page, panel, script
        THEME = make_theme()
        rows = [("HAMMY", "Okay team, listen up.")]
        n = engine.PARALLEL_PAGES + 2
        sc = script([page(k, [panel(1, rows, page=k)]) for k in range(1, n + 1)])
        forks = engine._jobs(n) > 1
        told, lock = {}, threading.Lock()
        def on_page(i, geom):
            with lock:
                told.setdefault(i, []).append(geom)
        book, _ = layout_book(sc, THEME, US, jobs=2, on_page=on_page)
        one, _ = layout_book(sc, THEME, US, jobs=1)
        print(json.dumps({
            "forks": forks,
            "told": sorted(told),
            "same": all(told[i][0] == book.pages[i] for i in told) and book == one,
            "n": n,
        }))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert got["told"] == list(range(got["n"])) and got["same"]
    assert got["forks"] or sys.platform != "linux"
