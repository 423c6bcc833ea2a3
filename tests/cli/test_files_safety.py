"""What `-o` may write, and how a failing environment is reported.

comicc replaces only regular files (atomically, following a symbolic link to
its target and keeping the link), writes character devices and FIFOs through,
refuses folders, sockets and the files of the build itself (the script, its
lock file, its theme files), and turns an environment error (disk full,
permission denied...) into a plain message and exit 1 — never exit 3.
"""

from __future__ import annotations

import errno
import os
import resource
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from comicc import cli, files
from support import ROOT

SCRIPT = (ROOT / "examples" / "heist.comic").read_text()


@pytest.fixture
def story(tmp_path: Path) -> Path:
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    return script


def build(script: Path, *extra: str) -> int:
    cache = script.parent / "cache"
    return cli.main(
        ["build", str(script), "--no-progress", "--dpi", "72", "--cache-dir", str(cache), *extra]
    )


def temp_files(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.endswith(".tmp")]


# ------------------------------------------------------------ item 1: targets
def test_a_symlinked_output_is_written_to_its_target_and_the_link_kept(story, tmp_path):
    real = tmp_path / "books" / "real.pdf"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "out.pdf"
    link.symlink_to(real)
    assert build(story, "-o", str(link)) == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_bytes().startswith(b"%PDF")


def test_a_fifo_is_written_through_not_replaced(story, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as f:
            got.append(f.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    assert build(story, "-o", str(fifo)) == 0
    t.join(60)  # hang guard, not a speed requirement
    assert got and got[0].startswith(b"%PDF") and got[0].rstrip().endswith(b"%%EOF")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_character_device_is_never_replaced(monkeypatch):
    """/dev/null itself, with os.replace and os.chmod made to fail loudly: a
    device is opened and written, never replaced (as root that replaced /dev/null)."""

    def forbidden(*args: object) -> None:
        raise AssertionError(f"called on a device: {args}")

    monkeypatch.setattr(files.os, "replace", forbidden)
    monkeypatch.setattr(files.os, "chmod", forbidden)
    files.write_bytes_atomic("/dev/null", b"%PDF-1.4 nothing")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_dash_writes_the_book_to_stdout(story, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "comicc", "build", str(story), "-o", "-", "--no-progress"]
        + ["--dpi", "72", "--cache-dir", str(tmp_path / "cache")],
        capture_output=True,
        timeout=120,  # hang guard, not a speed requirement
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(b"%PDF") and b"standard output" in proc.stderr
    assert not (tmp_path / "-").exists()


def test_a_folder_is_refused_as_a_pdf_output(story, tmp_path, capsys):
    folder = tmp_path / "somewhere"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    assert build(story, "-o", str(folder)) == 1
    err = capsys.readouterr().err
    assert "is a folder" in err and "Traceback" not in err
    assert os.listdir(folder) == ["keep.txt"]


def with_theme(story: Path) -> Path:
    theme = story.parent / "mine.toml"
    theme.write_text('extends = "classic"\n')
    story.write_text(SCRIPT.replace("format: us-comic", "format: us-comic\ntheme: ./mine.toml"))
    return theme


@pytest.mark.parametrize("which", ["script", "lock", "theme"])
def test_the_builds_own_files_are_never_written_over(story, tmp_path, capsys, which):
    theme = with_theme(story)
    lock = tmp_path / "story.comic.lock"
    lock.write_text('{"version": 1, "panels": {}}\n')
    target = {"script": story, "lock": lock, "theme": theme}[which]
    before = {p: p.read_bytes() for p in (story, lock, theme)}
    assert build(story, "-o", str(target)) == 1
    err = capsys.readouterr().err
    assert "refusing to write" in err and str(target) in err, err
    assert {p: p.read_bytes() for p in before} == before
    assert not temp_files(tmp_path)
    assert not (tmp_path / "cache").exists()  # refused before anything was painted


def test_a_symlink_to_the_script_is_refused_too(story, tmp_path, capsys):
    link = tmp_path / "out.pdf"
    link.symlink_to(story)
    before = story.read_bytes()
    assert build(story, "-o", str(link)) == 1
    assert "the script being built" in capsys.readouterr().err
    assert story.read_bytes() == before and link.is_symlink()


# ------------------------------------------------------ item 9: environment
def test_an_output_under_a_regular_file_is_a_plain_error(story, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    assert build(story, "-o", str(tmp_path / "file.txt" / "out.pdf")) == 1
    err = capsys.readouterr().err
    assert "file.txt" in err and "not a folder" in err and "bug" not in err


@pytest.mark.parametrize(
    "code,words",
    [
        (errno.ENOSPC, "no space left"),
        (errno.EFBIG, "too large"),
        (errno.EMFILE, "too many open files"),
        (errno.EACCES, "permission denied"),
        (errno.EROFS, "read-only"),
    ],
)
def test_environment_errors_are_plain_messages(story, tmp_path, capsys, monkeypatch, code, words):
    out = tmp_path / "out.pdf"
    out.write_bytes(b"the old book")
    replace = os.replace

    def fail(src: str, dst: object) -> None:
        if str(dst) != str(out):  # the art cache still works
            return replace(src, dst)  # type: ignore[arg-type]
        raise OSError(code, os.strerror(code), str(dst))

    monkeypatch.setattr(files.os, "replace", fail)
    assert build(story, "-o", str(out)) == 1
    err = capsys.readouterr().err
    assert words in err and str(out) in err, err
    assert "bug" not in err and "Traceback" not in err
    assert out.read_bytes() == b"the old book"
    assert not temp_files(tmp_path)


def test_an_unknown_os_error_is_still_a_bug(story, tmp_path, capsys, monkeypatch):
    def fail(src: str, dst: object) -> None:
        raise OSError(errno.EXDEV, "cross-device link")

    monkeypatch.setattr(files.os, "replace", fail)
    assert build(story, "-o", str(tmp_path / "out.pdf")) == 3
    assert "bug" in capsys.readouterr().err


# --------------------------------------------------- item 12: fmt on a link
def test_fmt_rewrites_a_links_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.comic"
    real.write_text("title:   Spaced\n\nPAGE 1\n\nPANEL 1\nA room.\n")
    link = tmp_path / "link.comic"
    link.symlink_to(real)
    assert cli.main(["fmt", str(link)]) == 0
    assert link.is_symlink()
    assert real.read_text().startswith("title: Spaced")
    assert cli.main(["fmt", "--check", str(real)]) == 0


# ------------------------------------------------------ item 4: --dpi range
def limited_memory() -> None:  # in the child: a regression fails the test, not the machine
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.parametrize(
    "verb,dpi",
    [("build", d) for d in ("100000", "-5", "0", "71", "1201", "ten")]
    + [("layout", d) for d in ("100000", "-5", "0", "9", "1201", "ten")],
)
def test_dpi_out_of_range_is_a_usage_error(story, verb, dpi):
    """`--dpi 100000` once reached 23.8 GB, `--dpi -5` gave 1x1 px art and exit 0."""
    proc = subprocess.run(
        [sys.executable, "-m", "comicc", verb, str(story), "--dpi", dpi]
        + (
            ["--no-progress", "--cache-dir", str(story.parent / "cache")] if verb == "build" else []
        ),
        capture_output=True,
        text=True,
        timeout=120,  # hang guard, not a speed requirement
        preexec_fn=limited_memory,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    err = proc.stderr
    assert "--dpi" in err and (" to 1200" in err or "whole number" in err), err
    assert not (story.parent / "cache").exists()


def test_dpi_in_range_is_taken(story):
    assert build(story, "-o", str(story.parent / "a.pdf")) == 0
