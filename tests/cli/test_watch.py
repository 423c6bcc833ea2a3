"""`comicc watch` as a writer runs it: a real process, the script edited from
the test. Each wait below is bounded only as a guard against a hang (the
process is killed and the test fails); nothing asserts how long a rebuild takes."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support.processes import ctrl_c_default

pytestmark = pytest.mark.slow

GUARD = 120.0  # seconds: only a hang ever takes this long

SCRIPT = """\
title: Watched
dpi: 72

PAGE 1
layout: 1/1

PANEL 1
A red door.
CAT: Knock, knock.

PANEL 2
A blue door.

PAGE 2
layout: 1/1

PANEL 1
A green door.
DOG: Who is there?

PANEL 2
A yellow door.
"""


class Watcher:
    """A running `comicc watch` whose standard error is read line by line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)
        self.lines.put(None)

    def until(self, text: str) -> list[str]:
        """The lines up to the first one containing ``text`` (since the last call)."""
        got: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=GUARD)
            except queue.Empty:
                pytest.fail(f"no line with {text!r} (a hang?); got {self.seen + got}")
            if line is None:
                pytest.fail(f"watch exited before {text!r}: {self.seen + got}")
            got.append(line)
            if text in line:
                self.seen += got
                return got


@contextmanager
def watching(script: Path, *extra: str) -> Iterator[Watcher]:
    cmd = [sys.executable, "-m", "comicc", "watch", str(script), "--no-progress"]
    proc = subprocess.Popen(
        [*cmd, "--cache-dir", str(script.parent / "cache"), *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        preexec_fn=ctrl_c_default,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield Watcher(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _edit(script: Path, old: str, new: str) -> None:
    text = script.read_text()
    assert old in text
    script.write_text(text.replace(old, new))


def test_watch_rebuilds_on_save_names_the_repaint_and_keeps_the_last_good_book(tmp_path):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    pdf = tmp_path / "story.pdf"
    with watching(script) as w:
        w.until("comicc: wrote")
        w.until("watching")
        first = pdf.read_bytes()

        _edit(script, "A yellow door.", "A yellow door, ajar.")
        w.until("story.comic changed: rebuilding")
        got = w.until("comicc: wrote")
        assert "painted p2.2, 3 from the cache" in got[-1]
        got = w.until("repainted p2.2 v1: ")
        assert got[-1].split(": ", 1)[1].strip()  # and why
        assert pdf.read_bytes() != first

        # lettering on page 1 that still fits its balloon: page 2 is not laid out
        # again, and nothing is repainted
        _edit(script, "Knock, knock.", "Knock knock.")
        w.until("rebuilding")
        got = w.until("laid out")
        assert "laid out page 1 again; page 2 unchanged" in got[-1]
        assert "nothing painted" in "".join(got)

        good = pdf.read_bytes()
        _edit(script, "A red door.", "A red door.\nprompt: @nowhere")
        w.until("rebuilding")
        got = w.until("build failed")
        assert any("unknown-snippet" in line for line in got)
        assert "the last good book was kept" in got[-1]
        assert pdf.read_bytes() == good

        written = pdf.stat().st_mtime_ns
        _edit(script, "prompt: @nowhere", "")  # fixed again: the book it was (a blank line more)
        w.until("rebuilding")
        got = w.until("is up to date")
        assert "nothing painted or written" in got[-1]
        assert pdf.read_bytes() == good and pdf.stat().st_mtime_ns == written

        w.proc.send_signal(signal.SIGINT)
        assert w.proc.wait(timeout=GUARD) == 130
        rest = w.proc.stderr.read() if w.proc.stderr else ""
    assert "Traceback" not in "".join(w.seen) + rest


def test_watch_follows_a_theme_file(tmp_path):
    theme = tmp_path / "mine.toml"
    theme.write_text('name = "mine"\nextends = "classic"\n')
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT.replace("dpi: 72", "dpi: 72\ntheme: mine.toml"))
    with watching(script) as w:
        w.until("watching")
        theme.write_text('name = "mine"\nextends = "classic"\n\n[page]\ncolor = "#fff8e0"\n')
        w.until("mine.toml changed: rebuilding")
        w.until("comicc: wrote")
        w.proc.send_signal(signal.SIGINT)
        assert w.proc.wait(timeout=GUARD) == 130
