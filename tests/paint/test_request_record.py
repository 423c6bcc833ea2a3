"""The request record a build keeps in each cache entry's metadata is written
with the art, in the entry's one metadata write (not rewritten after painting)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from comicc.backends import Backend, Capabilities, PaintRequest, PaintResult
from comicc.paint import ArtCache, Painter, PaintJob, PanelPlan
from comicc.paint.cache import ArtCache as CacheClass
from comicc.pipeline.reasons import RECORD
from support import ROOT
from support.build import build_file
from support.panels import make_panel, two_speaker_geom


class Gray(Backend):
    """Paints flat gray (a local backend that is not built in: painted in a thread)."""

    name = "gray"
    capabilities = Capabilities(needs_network=False)

    def paint(self, request: PaintRequest) -> PaintResult:
        return PaintResult(Image.new("RGB", (request.width, request.height), "gray"))


def metas(cache: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((cache / "art").glob("*/*.json"))]


def test_the_painters_record_is_in_the_entry_it_writes(tmp_path):
    backend = Gray()
    jobs = [
        PaintJob(make_panel(backend="gray", dpi=72, number=n), two_speaker_geom(), 1)
        for n in (1, 2, 3)
    ]

    def record(job: PaintJob, plan: PanelPlan) -> dict:
        return {"request": {"panel": job.panel.id, "key": plan.cache_key, "size": [1, 2]}}

    painter = Painter(
        {"gray": backend},
        ArtCache(tmp_path / "cache"),
        workers=2,
        progress=False,
        record=record,
    )
    outcomes = painter.paint(jobs)
    assert all(o.ok and not o.from_cache for o in outcomes)
    found = {m["request"]["key"]: m for m in metas(tmp_path / "cache")}
    for o in outcomes:
        assert o.plan is not None
        meta = found[o.plan.cache_key]
        assert meta["request"] == {"panel": o.job.panel.id, "key": o.plan.cache_key, "size": [1, 2]}
        assert meta["panel"] == o.job.panel.id and "art" in meta  # the usual fields too


def test_a_cold_build_writes_each_entrys_metadata_once(tmp_path, monkeypatch):
    script = tmp_path / "story.comic"
    script.write_text((ROOT / "examples" / "heist.comic").read_text())
    writes: list[str] = []
    put_meta = CacheClass.put_meta

    def counting(self: CacheClass, key: str, meta: dict, *, durable: bool = True) -> None:
        writes.append(key)
        put_meta(self, key, meta, durable=durable)

    monkeypatch.setattr(CacheClass, "put_meta", counting)
    _, result, _ = build_file(script, tmp_path / "out.pdf", tmp_path / "cache", dpi=72)
    found = metas(tmp_path / "cache")
    assert found and all(RECORD in m for m in found)
    assert sorted(writes) == sorted(set(writes)) and len(writes) == len(found)
    writes.clear()  # a warm build: every entry has its record, nothing is rewritten
    build_file(script, tmp_path / "out.pdf", tmp_path / "cache", dpi=72)
    assert writes == []


class PaidGray(Gray):
    """The same flat gray, at a price (painted in a thread: not built in)."""

    name = "paidgray"
    capabilities = Capabilities(needs_network=False, cost_per_image=0.04)


def _fsynced_in(folder: Path, monkeypatch) -> list[str]:
    """The files under ``folder`` flushed to the disk (os.fsync still runs)."""
    import os

    synced: list[str] = []
    real = os.fsync

    def counting(fd: int) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}")
        if name.startswith(str(folder)):
            synced.append(name)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return synced


def test_only_paid_art_is_flushed_to_the_disk(tmp_path, monkeypatch):
    """Free art is written atomically but not fsync'ed (an entry torn by a power
    cut fails the cache's checks and is painted again for nothing); art that was
    paid for is flushed before it counts as stored."""
    synced = _fsynced_in(tmp_path, monkeypatch)
    for backend in (Gray(), PaidGray()):
        cache = ArtCache(tmp_path / backend.name)
        job = PaintJob(make_panel(backend=backend.name, dpi=72, number=1), two_speaker_geom(), 1)
        (outcome,) = Painter({backend.name: backend}, cache, progress=False).paint([job])
        assert outcome.ok
    assert synced, "the paid entry was flushed"
    assert all(s.startswith(str(tmp_path / "paidgray")) for s in synced)
    assert {Path(s).suffix for s in synced} >= {".tmp"}  # the temp file, before its rename
