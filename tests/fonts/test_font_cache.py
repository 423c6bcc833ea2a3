"""The font cache's listings and metrics: written on the first run, used on
the next, and ignored (then rebuilt) when damaged, stale or foreign."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from comicc.fonts import FontBook
from comicc.fonts.files import FileMetrics, face_name, fontpkg_files, system_files


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "font-cache"
    monkeypatch.setenv("COMICC_FONT_CACHE", str(folder))
    return folder


def _kalam() -> str:
    files = fontpkg_files()
    return next(f.path for f in files if f.family == "Kalam" and f.weight == 400 and not f.italic)


def _poison(path: Path, family: str) -> None:
    """Keep the saved listing's key but rename every family in it."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    for row in doc["files"]:
        row[0] = family
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_the_packaged_listing_is_saved_then_used(cache: Path) -> None:
    first = fontpkg_files()
    saved = cache / "listing-fontpkg.json"
    assert saved.is_file()
    assert fontpkg_files() == first
    _poison(saved, "Forged")
    saved.chmod(0o600)
    # the next run reads the listing, not the packages (proof that it is used)
    assert {f.family for f in fontpkg_files()} == {"Forged"}


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file modes")
def test_a_listing_others_can_write_is_ignored(cache: Path) -> None:
    first = fontpkg_files()
    saved = cache / "listing-fontpkg.json"
    _poison(saved, "Forged")
    saved.chmod(0o666)
    assert fontpkg_files() == first


@pytest.mark.parametrize(
    "damage",
    [b"", b"{not json", b"\xff\xfe", b'{"key": 1, "files": []}', b"[1, 2, 3]", b"null"],
)
def test_a_damaged_listing_is_ignored_and_rewritten(cache: Path, damage: bytes) -> None:
    first = fontpkg_files()
    saved = cache / "listing-fontpkg.json"
    saved.write_bytes(damage)
    assert fontpkg_files() == first
    assert json.loads(saved.read_text(encoding="utf-8"))["files"]


def test_a_listing_naming_a_missing_file_is_ignored(cache: Path) -> None:
    first = fontpkg_files()
    saved = cache / "listing-fontpkg.json"
    doc = json.loads(saved.read_text(encoding="utf-8"))
    doc["files"][0][1] = str(cache / "gone.ttf")
    saved.write_text(json.dumps(doc), encoding="utf-8")
    assert fontpkg_files() == first


def test_a_bad_row_in_a_listing_is_ignored(cache: Path) -> None:
    first = fontpkg_files()
    saved = cache / "listing-fontpkg.json"
    doc = json.loads(saved.read_text(encoding="utf-8"))
    doc["files"][0][2] = "heavy"  # a weight that is not a number
    saved.write_text(json.dumps(doc), encoding="utf-8")
    assert fontpkg_files() == first


def test_the_system_listing_follows_the_folder(cache: Path, tmp_path: Path) -> None:
    system = tmp_path / "system-fonts"
    system.mkdir()
    assert system_files([str(system)]) == []
    shutil.copy(_kalam(), system / "Kalam-Regular.ttf")
    [found] = system_files([str(system)])  # a new file: listed again
    assert found.family == "Kalam" and found.source == "system"
    assert system_files([str(system)]) == [found]
    (system / "Kalam-Regular.ttf").unlink()
    assert system_files([str(system)]) == []


def test_a_unreadable_cache_folder_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("COMICC_FONT_CACHE", str(blocker / "fonts"))
    assert fontpkg_files()
    m = FileMetrics(_kalam())
    assert m.width_units("A") > 0


def _facts(m: FileMetrics) -> tuple[object, ...]:
    return (
        m.name,
        m.upem,
        m.advances,
        m.notdef,
        m.ascent,
        m.descent,
        m.line_gap,
        m.cap_height,
        m.x_height,
    )


def _saved_metrics(cache: Path) -> Path:
    [path] = (cache / "metrics").glob("*.json")
    return path


def test_metrics_from_the_cache_are_the_metrics_of_the_file(cache: Path) -> None:
    path = _kalam()
    fresh = FileMetrics(path)
    saved = _saved_metrics(cache)
    again = FileMetrics(path)
    assert _facts(again) == _facts(fresh)
    assert face_name(path) == fresh.name
    doc = json.loads(saved.read_text(encoding="utf-8"))
    doc["metrics"]["ascent"] = 12345
    saved.write_text(json.dumps(doc), encoding="utf-8")
    saved.chmod(0o600)
    assert FileMetrics(path).ascent == 12345  # proof that the cache is read


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["metrics"].__setitem__("upem", 0),
        lambda d: d["metrics"].__setitem__("advances", [[65, "wide"]]),
        lambda d: d["metrics"].__setitem__("advances", [[-1, 500]]),
        lambda d: d["metrics"].__setitem__("advances", [[0x110000, 500]]),
        lambda d: d["metrics"].pop("descent"),
        lambda d: d.__setitem__("metrics", "none"),
        lambda d: d.__setitem__("key", "another file"),
    ],
)
def test_damaged_metrics_are_read_again(cache: Path, edit: object) -> None:
    path = _kalam()
    fresh = FileMetrics(path)
    saved = _saved_metrics(cache)
    doc = json.loads(saved.read_text(encoding="utf-8"))
    assert callable(edit)
    edit(doc)
    saved.write_text(json.dumps(doc), encoding="utf-8")
    assert _facts(FileMetrics(path)) == _facts(fresh)


def test_a_changed_font_file_is_read_again(cache: Path, tmp_path: Path) -> None:
    copy = tmp_path / "face.ttf"
    shutil.copy(_kalam(), copy)
    fresh = FileMetrics(str(copy))
    saved = _saved_metrics(cache)
    doc = json.loads(saved.read_text(encoding="utf-8"))
    doc["metrics"]["ascent"] = 12345
    saved.write_text(json.dumps(doc), encoding="utf-8")
    os.utime(copy, ns=(1, 1))  # another modification time: not the file it saw
    assert FileMetrics(str(copy)).ascent == fresh.ascent


def test_a_packaged_family_resolves_without_listing_the_system_folders(
    cache: Path, tmp_path: Path
) -> None:
    system = tmp_path / "system-fonts"
    system.mkdir()
    book = FontBook(cache_dir=tmp_path / "derived", system_dirs=[str(system)])
    ref = book.font("Kalam", "regular", 9)
    assert Path(ref.path) == Path(_kalam())
    assert not (cache / "listing-system.json").exists()
    assert "Kalam" in book.families()  # the whole index, when asked for
    assert (cache / "listing-system.json").exists()
