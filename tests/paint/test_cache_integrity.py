"""The art cache is verified on every read (recorded hash and size, image
format, pixel size, a decode): a damaged entry is a miss, said so, removed and
painted again. Temp files of killed builds are swept; two builds of one script
at once paint each panel once (a per-panel lock in the cache)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from comicc import files
from comicc.backends import Backend, Capabilities, PaintRequest, PaintResult
from comicc.images import encode_image
from comicc.paint import ArtCache, Painter, PaintJob, plan_panel
from support import ROOT
from support.build import build_file
from support.panels import make_panel, two_speaker_geom

HEIST = (ROOT / "examples" / "heist.comic").read_text()


@pytest.fixture
def story(tmp_path: Path) -> Path:
    script = tmp_path / "story.comic"
    script.write_text(HEIST)
    return script


def entries(cache: Path, ext: str = "jpg") -> list[Path]:
    return sorted((cache / "art").glob(f"*/*.{ext}"))


def forget_hash(meta: Path) -> None:
    """Make the entry look written before hashes were recorded."""
    doc = json.loads(meta.read_text())
    del doc["art"]
    meta.write_text(json.dumps(doc))


def damage(kind: str, path: Path) -> None:
    data = path.read_bytes()
    w, h = Image.open(path).size
    if kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif kind == "wrong-size":
        path.write_bytes(encode_image(Image.new("RGB", (w + 7, h), "red"), "jpeg"))
    elif kind == "mislabelled":
        path.write_bytes(encode_image(Image.new("RGB", (w, h), "red"), "png"))
    elif kind == "no-hash":  # an entry from before hashes were recorded, damaged
        forget_hash(path.with_suffix(".json"))
        path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "kind", ["truncated", "empty", "garbage", "wrong-size", "mislabelled", "no-hash"]
)
def test_a_damaged_entry_is_painted_again(story, tmp_path, kind):
    cache, out = tmp_path / "cache", tmp_path / "book.pdf"
    _, first, _ = build_file(story, out, cache, dpi=72)
    assert first.painted == first.panels == 3
    good = {p.name: p.read_bytes() for p in entries(cache)}
    victim = entries(cache)[1]
    damage(kind, victim)
    _, again, sink = build_file(story, out, cache, dpi=72)
    assert (again.painted, again.cached) == (1, 2)
    (warning,) = [d for d in sink.warnings if d.code == "cache-damaged"]
    assert "was damaged" in warning.message and "painting it again" in warning.message
    assert "page 1 panel" in warning.message
    assert {p.name: p.read_bytes() for p in entries(cache)} == good  # repaired
    _, third, sink = build_file(story, out, cache, dpi=72)
    assert third.cached == 3 and not [d for d in sink.warnings if d.code == "cache-damaged"]


def test_an_entry_without_recorded_hash_is_still_used_when_it_decodes(story, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "book.pdf"
    build_file(story, out, cache, dpi=72)
    for meta in (cache / "art").glob("*/*.json"):
        forget_hash(meta)
    _, again, sink = build_file(story, out, cache, dpi=72)
    assert again.cached == 3 and not sink.warnings


def test_stale_temp_files_of_killed_builds_are_swept(story, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "book.pdf"
    build_file(story, out, cache, dpi=72)
    shard = entries(cache)[0].parent
    old = time.time() - 2 * files.STALE_SECONDS
    stale = [tmp_path / ".book.pdf.k3j4h5g6.tmp", shard / f".{entries(cache)[0].name}.a1b2c3d4.tmp"]
    host = files.temp_prefix("x").rsplit("-", 1)[1]  # this machine's tag, then a dot
    dead = tmp_path / f".book.pdf.{2**22 + 12345}-{host}x1y2z3w4.tmp"  # its writer is gone
    fresh = [tmp_path / ".book.pdf.q1w2e3r4.tmp", shard / ".other.jpg.q1w2e3r4.tmp"]
    unrelated = [tmp_path / ".book.pdf.notes", tmp_path / "book.pdf.k3j4h5g6.tmp"]
    for p in [*stale, dead, *fresh, *unrelated]:
        p.write_bytes(b"x")
    for p in [*stale, *unrelated]:
        os.utime(p, (old, old))
    build_file(story, out, cache, dpi=72)
    assert not any(p.exists() for p in [*stale, dead])
    assert all(p.exists() for p in [*fresh, *unrelated])


class Counting(Backend):
    """Paints flat gray, slowly enough for two builds to overlap; counts calls."""

    name = "counting"
    capabilities = Capabilities(needs_network=False)

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def paint(self, request: PaintRequest) -> PaintResult:
        with self.lock:
            self.calls += 1
        time.sleep(0.05)
        return PaintResult(Image.new("RGB", (request.width, request.height), "gray"))


def test_two_builds_at_once_paint_each_panel_once(tmp_path):
    backend = Counting()
    jobs = [
        PaintJob(make_panel(backend="counting", dpi=72, number=n), two_speaker_geom(), 1)
        for n in range(1, 9)
    ]
    results = []

    def one_build() -> None:
        painter = Painter(
            {"counting": backend}, ArtCache(tmp_path / "cache"), workers=4, progress=False
        )
        results.append(painter.paint(jobs))

    threads = [threading.Thread(target=one_build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)  # hang guard, not a speed requirement
    assert len(results) == 2 and all(o.ok for r in results for o in r)
    assert backend.calls == len(jobs)
    assert sum(not o.from_cache for r in results for o in r) == len(jobs)


def test_cancelling_stops_a_wait_for_another_builds_panel(tmp_path):
    backend = Counting()
    cache = ArtCache(tmp_path / "cache")
    job = PaintJob(make_panel(backend="counting", dpi=72), two_speaker_geom(), 1)
    painter = Painter({"counting": backend}, cache, workers=1, progress=False)
    key = plan_panel(job.panel, job.geom, backend.capabilities, variant=1).cache_key
    held = cache.lock(key)
    held.acquire()  # "another build" is painting it
    try:
        threading.Timer(0.3, painter.cancelled.set).start()
        out = []
        t = threading.Thread(target=lambda: out.extend(painter.paint([job])))
        t.start()
        t.join(60)  # hang guard, not a speed requirement
        assert not t.is_alive() and out[0].art is None and backend.calls == 0
    finally:
        held.release()
