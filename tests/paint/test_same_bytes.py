"""Determinism: the same book, byte for byte, whether its panels were painted one
at a time, by two jobs in worker processes, or again from nothing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from comicc.paint.scheduler import PROCESS_POOL_MIN_JOBS
from comicc.pipeline import BuildOptions, build
from support.build import checked

PAGES = -(-PROCESS_POOL_MIN_JOBS // 6)  # enough draft panels for the worker processes


def story(tmp_path: Path) -> Path:
    lines = ["title: Same bytes", "seed: 3", ""]
    for page in range(1, PAGES + 1):
        lines += [f"PAGE {page}", "layout: 2/2/2", ""]
        for k in range(1, 7):
            lines += [
                f"PANEL {k}",
                "cast: HAMMY left",
                f"A moonlit city street, shot {k} of page {page}.",
                f"{k}. HAMMY: Line {k} of page {page}.",
                "",
            ]
    path = tmp_path / "story.comic"
    path.write_text("\n".join(lines))
    return path


def build_with(path: Path, out: Path, cache: Path, workers: int) -> dict[str, str]:
    """Build with ``workers`` jobs; the PDF's and every cached art file's SHA-256."""
    res, sink = checked(path)
    options = BuildOptions(
        output=str(out),
        dpi=100,
        cache_dir=str(cache),
        progress=False,
        write_lock=False,
        workers=workers,
    )
    result = build(res.script, res.theme, sink, options)
    assert result is not None and result.painted == result.panels == PAGES * 6
    digests = {"pdf": hashlib.sha256(out.read_bytes()).hexdigest()}
    for art in sorted(cache.rglob("*.jpg")):
        digests[art.name] = hashlib.sha256(art.read_bytes()).hexdigest()
    return digests


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="worker processes need two cores")
def test_one_job_and_two_jobs_give_the_same_book(tmp_path):
    path = story(tmp_path)
    one = build_with(path, tmp_path / "one.pdf", tmp_path / "cache-1", 1)
    two = build_with(path, tmp_path / "two.pdf", tmp_path / "cache-2", 2)
    again = build_with(path, tmp_path / "again.pdf", tmp_path / "cache-3", 2)
    assert len(one) == 1 + PAGES * 6
    assert one == two == again
