"""`comicc cache ls` and `comicc cache gc`: what the art cache holds for a
script, and removing the art its lock file no longer uses -- only that
script's, only inside the cache folder, keeping recent versions."""

from __future__ import annotations

import json
import os
from pathlib import Path

from comicc import cli

SCRIPT = """\
title: Cache
dpi: 72

PAGE 1

PANEL 1
A red door.

PANEL 2
variants: 2
A blue door.
"""


def _build(script: Path, cache: Path) -> None:
    assert cli.main(["build", str(script), "--no-progress", "--cache-dir", str(cache)]) == 0


def _art(cache: Path) -> set[Path]:
    return set(cache.rglob("*.jpg"))


def _locked_keys(script: Path) -> set[str]:
    doc = json.loads(Path(str(script) + ".lock").read_text())
    return {k for p in doc["panels"].values() for k in p["variant_keys"]}


def _versions(tmp_path: Path, cache: Path, n: int) -> Path:
    """A script whose first panel was painted in ``n`` versions (the last in use)."""
    script = tmp_path / "story.comic"
    for i in range(n):
        script.write_text(SCRIPT.replace("A red door.", f"A red door, take {i}."))
        _build(script, cache)
    return script


def test_ls_counts_images_per_panel_and_what_the_lock_uses(tmp_path, capsys):
    cache = tmp_path / "cache"
    script = _versions(tmp_path, cache, 3)
    other = tmp_path / "other.comic"
    other.write_text(SCRIPT.replace("door", "window"))
    _build(other, cache)
    capsys.readouterr()
    assert cli.main(["cache", "ls", str(script), "--cache-dir", str(cache)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:4] for line in out.splitlines()[2:4]}
    assert rows == {"p1.1": ["3", "1", "1"], "p1.2": ["2", "2", "2"]}  # images, variants, in lock
    assert "total: 5 images for 2 panels" in out and "3 in use by story.comic.lock" in out
    assert "other scripts: 3 images" in out


def test_gc_keeps_what_the_lock_uses_and_the_newest_versions(tmp_path, capsys):
    cache = tmp_path / "cache"
    script = _versions(tmp_path, cache, 5)
    other = tmp_path / "other.comic"
    other.write_text(SCRIPT.replace("door", "window"))
    _build(other, cache)
    theirs = {p for p in _art(cache) if p.stem in _locked_keys(other)}
    before = _art(cache)
    assert len(before) == 5 + 2 + 3
    capsys.readouterr()
    args = ["cache", "gc", str(script), "--cache-dir", str(cache), "--keep", "2"]
    assert cli.main([*args, "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert _art(cache) == before  # a dry run removes nothing
    assert captured.out.count("would remove p1.1 v1") == 2
    assert "would remove 2 images" in captured.err
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.count("removed p1.1 v1") == 2 and "freed" in captured.err
    after = _art(cache)
    assert len(after) == len(before) - 2
    assert {p.stem for p in after} >= _locked_keys(script)
    assert theirs <= after  # another script's art is never touched
    assert not any(
        p.suffix in (".json", ".lock") and p.stem not in {a.stem for a in after}
        for p in cache.rglob("*")
        if p.is_file()
    )  # nothing left of removed entries
    assert cli.main([*args[:-1], "0"]) == 0
    assert {p.stem for p in _art(cache)} == _locked_keys(script) | _locked_keys(other)
    _build(script, cache)  # what the lock uses is all still there: nothing to paint
    assert "nothing painted" in capsys.readouterr().err


def test_gc_never_follows_a_link_out_of_the_cache(tmp_path, capsys):
    cache = tmp_path / "cache"
    script = _versions(tmp_path, cache, 2)
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / ("ab" + "0" * 62 + ".jpg")
    victim.write_bytes(b"precious")
    (cache / "art" / "ab").mkdir(exist_ok=True)
    link = cache / "art" / "ab" / victim.name
    link.symlink_to(victim)
    (cache / "art" / "cd").symlink_to(outside, target_is_directory=True)
    stray = cache / "art" / "notes.txt"
    stray.write_text("mine")
    assert cli.main(["cache", "gc", str(script), "--cache-dir", str(cache), "--keep", "0"]) == 0
    assert victim.read_bytes() == b"precious" and link.is_symlink() and stray.exists()
    assert [p.name for p in outside.iterdir()] == [victim.name]
    assert {p.stem for p in _art(cache) if not p.is_symlink()} == _locked_keys(script)


def test_gc_refuses_without_a_readable_lock_file(tmp_path, capsys):
    cache = tmp_path / "cache"
    script = _versions(tmp_path, cache, 2)
    Path(str(script) + ".lock").write_text("not json")
    before = _art(cache)
    assert cli.main(["cache", "gc", str(script), "--cache-dir", str(cache), "--keep", "0"]) == 1
    assert "nothing was removed" in capsys.readouterr().err
    assert _art(cache) == before


def test_ls_of_an_empty_cache_and_a_missing_script(tmp_path, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    assert cli.main(["cache", "ls", str(script), "--cache-dir", str(tmp_path / "none")]) == 0
    assert "total: 0 images for 0 panels" in capsys.readouterr().out
    assert cli.main(["cache", "ls", str(tmp_path / "nope.comic")]) == 1
    assert os.listdir(tmp_path) == ["story.comic"]


def test_art_two_scripts_share_is_kept_while_either_uses_it(tmp_path, capsys):
    cache = tmp_path / "cache"
    script = tmp_path / "story.comic"
    copy = tmp_path / "copy.comic"
    script.write_text(SCRIPT)
    copy.write_text(SCRIPT)  # the same panels: the same art, painted once
    _build(script, cache)
    _build(copy, cache)
    assert "nothing painted" in capsys.readouterr().err
    shared = _locked_keys(copy)
    script.write_text(SCRIPT.replace("A red door.", "A red door, open."))
    _build(script, cache)
    capsys.readouterr()
    assert cli.main(["cache", "gc", str(script), "--cache-dir", str(cache), "--keep", "0"]) == 0
    captured = capsys.readouterr()
    assert "kept p1.1 v1" in captured.out and "copy.comic uses it too" in captured.out
    assert "removed 0 images" in captured.err
    assert {p.stem for p in _art(cache)} >= shared
    # the copy still uses all of it; once it lets go, its own gc may remove it
    assert cli.main(["cache", "gc", str(copy), "--cache-dir", str(cache), "--keep", "0"]) == 0
    assert {p.stem for p in _art(cache)} >= shared
    copy.write_text(SCRIPT.replace("A red door.", "A red door, shut."))
    _build(copy, cache)
    capsys.readouterr()
    assert cli.main(["cache", "gc", str(copy), "--cache-dir", str(cache), "--keep", "0"]) == 0
    assert "removed p1.1 v1" in capsys.readouterr().out
    assert {p.stem for p in _art(cache)} == _locked_keys(script) | _locked_keys(copy)


def _pages(cache: Path) -> set[str]:
    return {p.name.partition(".")[0] for p in (cache / "layout").rglob("*.page")}


TWO_PAGES = (
    SCRIPT
    + """
PAGE 2

PANEL 1
A green door.
"""
)


def test_gc_removes_the_layout_pages_and_stamps_the_build_no_longer_uses(tmp_path, capsys):
    cache = tmp_path / "cache"
    script = tmp_path / "story.comic"
    script.write_text(TWO_PAGES)
    _build(script, cache)
    before = _pages(cache)
    assert len(before) == 2
    script.write_text(TWO_PAGES.replace("A green door.", "A green door, ajar."))
    _build(script, cache)
    after = _pages(cache)
    assert len(after) == 3 and before < after  # page 2's old geometry is still kept
    # a build with -o elsewhere stamps that output; once it is gone, so is its stamp
    out = tmp_path / "elsewhere.pdf"
    argv = ["build", str(script), "--no-progress", "--cache-dir", str(cache), "-o", str(out)]
    assert cli.main(argv) == 0
    assert len(list((cache / "builds").glob("*.stamp"))) == 2
    out.unlink()
    capsys.readouterr()
    assert cli.main(["cache", "ls", str(script), "--cache-dir", str(cache)]) == 0
    listed = capsys.readouterr().out
    assert "layout memo: 3 pages" in listed and "2 in use by the current build" in listed
    assert "build stamps: 2" in listed
    assert cli.main(["cache", "gc", str(script), "--cache-dir", str(cache)]) == 0
    err = capsys.readouterr().err
    assert "removed 1 layout page" in err and "kept 2 in use" in err
    assert "removed 1 build stamp of outputs that are gone; kept 1" in err
    assert len(_pages(cache)) == 2 and _pages(cache) < after and not before <= _pages(cache)
    assert len(list((cache / "builds").glob("*.stamp"))) == 1
    # nothing the current build uses went: it is still up to date
    _build(script, cache)
    assert "up to date" in capsys.readouterr().err


def test_gc_keeps_the_layout_pages_another_script_uses(tmp_path, capsys):
    cache = tmp_path / "cache"
    script = tmp_path / "story.comic"
    other = tmp_path / "other.comic"
    script.write_text(TWO_PAGES)
    other.write_text(TWO_PAGES.replace("A red door.", "A red door, for the other."))
    _build(script, cache)
    _build(other, cache)  # page 2 is the same: taken from the memo, now used by both
    theirs = _pages(cache)
    assert len(theirs) == 3
    script.write_text(TWO_PAGES.replace("A green door.", "A green door, ajar."))
    _build(script, cache)
    capsys.readouterr()
    assert cli.main(["cache", "gc", str(script), "--cache-dir", str(cache)]) == 0
    err = capsys.readouterr().err
    assert "removed 0 layout pages" in err and "let go of 1 another script uses too" in err
    assert _pages(cache) >= theirs  # the other script's pages are all kept
    # once the other script stops using its pages, its own gc removes them
    other.write_text(TWO_PAGES.replace("A red door.", "A red door, shut.").replace("green", "grey"))
    _build(other, cache)
    capsys.readouterr()
    assert cli.main(["cache", "gc", str(other), "--cache-dir", str(cache)]) == 0
    assert "removed 2 layout pages" in capsys.readouterr().err
    _build(script, cache)
    assert "up to date" in capsys.readouterr().err


def test_a_page_whose_users_are_not_a_list_of_paths_is_not_ours(tmp_path, capsys):
    import hashlib

    from comicc.pipeline.layoutcache import LayoutStore

    cache = tmp_path / "cache"
    script = tmp_path / "story.comic"
    script.write_text(TWO_PAGES)
    _build(script, cache)
    entry = next((cache / "layout").rglob("*.page"))
    doc = json.loads(entry.read_text())
    body = json.loads(doc["body"])
    assert body["scripts"] == [str(script.resolve())]
    body["scripts"] = [str(script.resolve()), 7]
    doc["body"] = json.dumps(body)
    doc["sha256"] = hashlib.sha256(doc["body"].encode()).hexdigest()
    entry.write_text(json.dumps(doc))
    assert LayoutStore(cache).read(entry.stem) is None  # checked on reading: a miss
    script.write_text(TWO_PAGES.replace("door", "gate"))
    _build(script, cache)
    capsys.readouterr()
    assert cli.main(["cache", "gc", str(script), "--cache-dir", str(cache)]) == 0
    assert "removed 1 layout page" in capsys.readouterr().err  # the other old page
    assert entry.exists()  # whose it is cannot be told: left alone
