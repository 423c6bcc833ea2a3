"""A cold build with several jobs paints each page as soon as it is laid out
(`comicc.pipeline.ahead`): the book, the lock file and what the build says are
the same bytes as a one-job build's; Ctrl-C meanwhile still leaves nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import pytest

from comicc.diagnostics import Sink
from comicc.paint.scheduler import PROCESS_POOL_MIN_JOBS
from comicc.pipeline import BuildOptions, build
from comicc.pipeline.ahead import PaintAhead
from support.build import checked_text
from support.processes import ctrl_c_default

pytestmark = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="painting ahead needs worker processes: two cores"
)


def story(pages: int, dpi: int = 72) -> str:
    lines = ["title: Ahead", "seed: 7", f"dpi: {dpi}", "character HAMMY: a hamster", ""]
    for p in range(1, pages + 1):
        lines += [f"PAGE {p}", "layout: 2/2/2", ""]
        for k in range(1, 7):
            lines += [f"PANEL {k}", "cast: HAMMY left", f"A kitchen, shot {p}.{k}."]
            lines += [f"{2 * k - 1}. HAMMY: Shot {p}.{k}: there it is.", f"{2 * k}. CAPTION: {p}."]
            lines.append("")
    return "\n".join(lines)


def _comicc(args: list[str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "comicc", *args], capture_output=True, text=True, **kw
    )


def test_pages_are_painted_while_the_layout_runs_and_the_book_is_the_same(tmp_path, monkeypatch):
    pages = -(-PROCESS_POOL_MIN_JOBS // 6) + 1  # enough panels for the worker processes
    res = checked_text(story(pages), str(tmp_path / "story.comic"))
    given: list[int] = []
    at_finish: list[int] = []
    give, finish = PaintAhead.give, PaintAhead.finish

    def spy_give(self, index, geom):
        given.append(index)
        give(self, index, geom)

    def spy_finish(self, book, **kw):
        at_finish.append(len(set(given)))  # pages given while the layout was running
        return finish(self, book, **kw)

    monkeypatch.setattr(PaintAhead, "give", spy_give)
    monkeypatch.setattr(PaintAhead, "finish", spy_finish)
    results = {}
    for jobs in (1, 2):
        sink = Sink()
        out = tmp_path / f"book{jobs}.pdf"
        opts = BuildOptions(
            output=str(out),
            cache_dir=str(tmp_path / f"cache{jobs}"),
            workers=jobs,
            progress=False,
            write_lock=False,
        )
        result = build(res.script, res.theme, sink, opts)
        assert result is not None, [d.message for d in sink.errors]
        said = [(d.severity, d.code, d.message) for d in sink.diagnostics]
        results[jobs] = (out.read_bytes(), said, result.repainted, result.laid_out)
    assert at_finish and at_finish[0] > 0  # only -j2 paints ahead; it had pages before the end
    assert results[1] == results[2]


def test_a_cold_two_job_build_writes_the_bytes_of_a_one_job_build(tmp_path):
    """A book long enough to be laid out in forked processes too: PDF, lock file
    and the build's messages are the same at `-j1` and `-j2`, each from an
    empty cache."""
    text = story(26)
    made = {}
    for jobs in (1, 2):
        folder = tmp_path / f"j{jobs}"
        folder.mkdir()
        script = folder / "story.comic"
        script.write_text(text)
        run = _comicc(
            ["build", str(script), "--no-progress", "-j", str(jobs)]
            + ["--cache-dir", str(folder / "cache")],
            cwd=folder,
        )
        assert run.returncode == 0, run.stderr
        lock = (folder / "story.comic.lock").read_bytes()
        said = run.stderr.replace(str(folder), "FOLDER")
        made[jobs] = ((folder / "story.pdf").read_bytes(), lock, said, run.stdout)
    assert made[1] == made[2]


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _start_build(
    script: Path,
    out: Path,
    cache: Path,
    preexec: Callable[[], None],
    env: Mapping[str, str] = MappingProxyType({}),
) -> subprocess.Popen[str]:
    """``comicc build -j 2`` of ``script``, its signals set by ``preexec`` (a test
    sends it SIGINT)."""
    return subprocess.Popen(
        [sys.executable, "-m", "comicc", "build", str(script), "-o", str(out), "--no-progress"]
        + ["-j", "2", "--cache-dir", str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
    )


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finding processes: /proc")
def test_ctrl_c_while_painting_ahead_leaves_nothing_behind(tmp_path):
    script = tmp_path / "story.comic"
    script.write_text(story(60, dpi=300))
    out, cache = tmp_path / "story.pdf", tmp_path / "cache"
    marker = f"COMICC_TEST_RUN={uuid.uuid4().hex}"
    name, value = marker.split("=")
    proc = _start_build(script, out, cache, ctrl_c_default, {name: value})
    try:
        while not list(cache.rglob("*.jpg")):  # until the first panel is painted
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)  # a hang guard, not a speed requirement
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "comicc: interrupted" in err and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "story.comic.lock").exists()
    assert [p.name for p in tmp_path.rglob("*") if ".tmp" in p.name] == []
    assert len(list(cache.rglob("*.jpg"))) < 360  # stopped before the end
    for _ in range(100):  # the workers end with the build (polled: no time limit asserted)
        left = _processes_with(marker)
        if not left:
            break
        time.sleep(0.1)
    assert left == []


def _ctrl_c_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_a_build_started_with_ctrl_c_ignored_keeps_ignoring_it_while_painting_ahead(tmp_path):
    # `comicc build ... &` in a script: the shell starts a background job with
    # SIGINT ignored, and the build must not start hearing it for its layout
    script = tmp_path / "story.comic"
    script.write_text(story(12))
    out, cache = tmp_path / "story.pdf", tmp_path / "cache"
    proc = _start_build(script, out, cache, _ctrl_c_ignored)
    try:
        while not list(cache.rglob("*.jpg")):  # painting ahead of the layout has begun
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        pressed = 0
        while proc.poll() is None and pressed < 20:  # Ctrl-C again and again, to the end
            proc.send_signal(signal.SIGINT)
            pressed += 1
            time.sleep(0.05)
        _, err = proc.communicate(timeout=120)  # a hang guard, not a speed requirement
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "interrupted" not in err and "Traceback" not in err
    assert out.exists() and len(list(cache.rglob("*.jpg"))) == 72
