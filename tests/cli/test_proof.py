"""Proof builds (`--backend`, `--dpi`) write the book but leave the committed
lock file as it is (docs/cli.md, "Proof builds")."""

from __future__ import annotations

from comicc import cli

SCRIPT = "title: Proof\ndpi: 72\n\nPAGE 1\n\nPANEL 1\nA lighthouse.\nCAT: Hello.\n"


def _build(script, *extra):
    return cli.main(
        ["build", str(script), "--no-progress", "--cache-dir", str(script.parent / "c"), *extra]
    )


def test_a_proof_build_leaves_the_lock_file_byte_for_byte(tmp_path, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    lock = tmp_path / "story.comic.lock"
    assert _build(script) == 0
    before = lock.read_bytes()
    for extra in (["--dpi", "100"], ["--backend", "draft"], ["--dpi", "96", "--format", "cbz"]):
        capsys.readouterr()
        assert _build(script, *extra) == 0
        err = capsys.readouterr().err
        assert "proof build: the lock file was left as it was" in err
        assert lock.read_bytes() == before, extra
    assert _build(script) == 0  # a plain build still writes it
    assert "proof build" not in capsys.readouterr().err


def test_a_proof_build_without_a_lock_file_writes_none(tmp_path):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    assert _build(script, "--dpi", "100") == 0
    assert (tmp_path / "story.pdf").is_file()
    assert not (tmp_path / "story.comic.lock").exists()
