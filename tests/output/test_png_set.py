"""PNG pages are written as one set: after a failure (or a kill) the folder
holds the whole old set or the whole new one, and comicc never removes a
file it did not write (the manifest `.comicc-pages.json` says which it did)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from comicc import cli, files
from comicc.output import raster
from support import ROOT

HEIST = (ROOT / "examples" / "heist.comic").read_text()  # 1 page
LONG = (ROOT / "examples" / "long-night.comic").read_text()  # 6 pages


def build(script: Path, out: Path, *extra: str) -> int:
    return cli.main(
        ["build", str(script), "--format", "png", "-o", str(out), "--no-progress"]
        + ["--cache-dir", str(script.parent / "cache"), *extra]
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {n: (folder / n).read_bytes() for n in sorted(os.listdir(folder))}


def leftovers(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith((".tmp", ".old"))]


@pytest.fixture
def heist(tmp_path: Path) -> Path:
    script = tmp_path / "heist.comic"
    script.write_text(HEIST)
    return script


@pytest.mark.slow
def test_files_comicc_did_not_write_are_never_removed(heist, tmp_path):
    out = tmp_path / "pages"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "page-009.png").write_bytes(b"my own page nine")
    assert build(heist, out, "--dpi", "72") == 0
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "page-009.png").read_bytes() == b"my own page nine"
    assert (out / "page-001.png").read_bytes().startswith(b"\x89PNG")
    manifest = json.loads((out / files.MANIFEST).read_text())
    assert manifest["files"] == ["page-001.png"]
    assert not leftovers(out) and not leftovers(tmp_path)


@pytest.mark.slow
def test_pages_of_the_last_set_are_removed_when_the_book_shrinks(heist, tmp_path):
    long = tmp_path / "long.comic"
    long.write_text(LONG)
    out = tmp_path / "pages"
    assert build(long, out, "--dpi", "72") == 0
    assert len([n for n in os.listdir(out) if n.endswith(".png")]) == 6
    assert build(heist, out, "--dpi", "72") == 0
    assert sorted(os.listdir(out)) == [files.MANIFEST, "page-001.png"]
    assert not leftovers(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("foreign", [False, True])
def test_a_failure_while_writing_leaves_the_whole_old_set(tmp_path, monkeypatch, foreign):
    long = tmp_path / "long.comic"
    long.write_text(LONG)
    out = tmp_path / "pages"
    assert build(long, out, "--dpi", "72") == 0
    if foreign:
        (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    encode = raster.encode_image
    calls = []

    def dies_on_page_3(image, image_format="jpeg", quality=90):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as if the build were killed
        return encode(image, image_format, quality)

    monkeypatch.setattr(raster, "encode_image", dies_on_page_3)
    assert build(long, out, "--dpi", "100") == 130
    assert snapshot(out) == before  # pages 1-2 are not new, 3-6 not old: all old
    assert not leftovers(out) and not leftovers(tmp_path)


def test_a_killed_builds_temp_folder_is_swept(tmp_path):
    out = tmp_path / "pages"
    stale = tmp_path / ".pages.abcdefgh.tmp"  # a killed build's half-written set
    stale.mkdir()
    (stale / "page-001.png").write_bytes(b"half")
    old = time.time() - 2 * files.STALE_SECONDS
    os.utime(stale, (old, old))
    fresh = tmp_path / f"{files.temp_prefix('pages')}zzzzzzzz.tmp"  # a live writer's (ours)
    fresh.mkdir()
    files.write_file_set(out, [("page-001.png", b"new")], names=raster.PAGE_NAMES)
    assert not stale.exists() and fresh.exists()
    assert (out / "page-001.png").read_bytes() == b"new"


def test_a_manifest_cannot_make_comicc_delete_other_files(tmp_path):
    out = tmp_path / "pages"
    out.mkdir()
    (out / "story.comic").write_text("precious")
    (out / files.MANIFEST).write_text(json.dumps({"files": ["story.comic", "../x"]}))
    (tmp_path / "x").write_text("also precious")
    files.write_file_set(out, [("page-001.png", b"new")], names=raster.PAGE_NAMES)
    assert (out / "story.comic").read_text() == "precious"
    assert (tmp_path / "x").read_text() == "also precious"


def test_a_file_where_the_folder_should_be_is_refused(tmp_path):
    out = tmp_path / "pages"
    out.write_text("a file")
    with pytest.raises(files.FileRefused, match="not a folder"):
        files.write_file_set(out, [("page-001.png", b"new")], names=raster.PAGE_NAMES)
    assert out.read_text() == "a file"


def test_a_symlinked_folder_is_followed_and_kept(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "pages"
    link.symlink_to(real)
    files.write_file_set(link, [("page-001.png", b"one")], names=raster.PAGE_NAMES)
    files.write_file_set(link, [("page-001.png", b"two")], names=raster.PAGE_NAMES)
    assert link.is_symlink() and (real / "page-001.png").read_bytes() == b"two"
