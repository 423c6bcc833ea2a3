"""Cached art is decoded once per content: the SHA-256 of art that decoded is
remembered in the user's own cache, and art whose recorded hash matches a
remembered digest is used without decoding it again. Art this user never
decoded -- a planted entry with a forged metadata file, damaged bytes -- is
decoded like before, and a damaged one is painted again."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from comicc.images import PanelArt
from comicc.paint.cache import VERIFIED_ENV, art_problem, remember_verified, was_verified
from support import ROOT
from support.build import build_file

HEIST = (ROOT / "examples" / "heist.comic").read_text()


@pytest.fixture
def verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "verified"
    monkeypatch.setenv(VERIFIED_ENV, str(folder))
    return folder


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "art").glob("*/*.jpg"))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_art_that_decoded_is_remembered_by_its_digest(tmp_path: Path, verified: Path) -> None:
    script = tmp_path / "story.comic"
    script.write_text(HEIST)
    cache, out = tmp_path / "cache", tmp_path / "book.pdf"
    build_file(script, out, cache, dpi=72)
    arts = _entries(cache)
    assert len(arts) == 3 and not any(was_verified(_digest(p.read_bytes())) for p in arts)
    out.unlink()  # the next build has work to do: it reads the art from the cache
    _, again, _ = build_file(script, out, cache, dpi=72)
    assert again.cached == 3
    assert all(was_verified(_digest(p.read_bytes())) for p in arts)
    markers = sorted(p.name for p in verified.glob("*/*"))
    assert markers == sorted(_digest(p.read_bytes()) for p in arts)
    out.unlink()
    _, third, sink = build_file(script, out, cache, dpi=72)
    assert third.cached == 3 and not sink.warnings


def test_a_planted_entry_with_a_forged_hash_is_still_decoded(
    tmp_path: Path, verified: Path
) -> None:
    script = tmp_path / "story.comic"
    script.write_text(HEIST)
    cache, out = tmp_path / "cache", tmp_path / "book.pdf"
    build_file(script, out, cache, dpi=72)
    victim = _entries(cache)[1]
    data = victim.read_bytes()
    planted = data[: len(data) // 2]  # the headers (format, size) intact, the scan cut short
    victim.write_bytes(planted)
    meta = victim.with_suffix(".json")
    doc = json.loads(meta.read_text())
    doc["art"] = {"sha256": _digest(planted), "bytes": len(planted)}  # forged to match
    meta.write_text(json.dumps(doc))
    out.unlink()
    _, again, sink = build_file(script, out, cache, dpi=72)
    assert (again.painted, again.cached) == (1, 2)
    assert [d.code for d in sink.warnings] == ["cache-damaged"]
    assert not was_verified(_digest(planted))
    assert victim.read_bytes() == data  # painted again, the same bytes


def test_a_remembered_digest_needs_the_recorded_hash_too(tmp_path: Path, verified: Path) -> None:
    """An entry without a recorded hash is decoded whatever the memory says."""
    script = tmp_path / "story.comic"
    script.write_text(HEIST)
    cache = tmp_path / "cache"
    build_file(script, tmp_path / "book.pdf", cache, dpi=72)
    victim = _entries(cache)[0]
    broken = victim.read_bytes()[:2000]
    remember_verified(_digest(broken))  # as if these bytes had decoded once
    art = PanelArt.from_bytes(broken)  # the headers are whole
    size = (art.width, art.height)
    problem = art_problem(broken, "jpg", size, None)
    assert problem is not None and "cannot be decoded" in problem
    recorded = {"art": {"sha256": _digest(broken), "bytes": len(broken)}}
    assert art_problem(broken, "jpg", size, recorded) is None  # remembered: not decoded


def test_no_memory_when_it_is_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VERIFIED_ENV, "off")
    digest = _digest(b"art")
    remember_verified(digest)
    assert not was_verified(digest)


def test_a_marker_others_can_write_is_not_believed(tmp_path: Path, verified: Path) -> None:
    digest = _digest(b"art")
    remember_verified(digest)
    assert was_verified(digest)
    marker = verified / digest[:2] / digest
    os.chmod(marker, 0o666)
    assert not was_verified(digest)
