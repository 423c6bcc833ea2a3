"""`comicc init`: a starter script that builds offline, a .gitignore for the
cache and the outputs, and never a file written over."""

from __future__ import annotations

from comicc import cli


def test_init_writes_a_story_that_builds_and_says_what_to_commit(tmp_path, capsys):
    story = tmp_path / "my-story"
    assert cli.main(["init", str(story)]) == 0
    err = capsys.readouterr().err
    assert "story.comic.lock" in err and "commit" in err
    script = story / "story.comic"
    ignore = (story / ".gitignore").read_text().splitlines()
    assert ".comicc-cache/" in ignore and "/story.pdf" in ignore
    text = script.read_text()
    # shows the pieces a writer iterates on
    for piece in ("character ", "snippet ", "prompt:", "CAPTION:", "SFX:", "backend: draft"):
        assert piece in text, piece
    assert cli.main(["check", str(script), "--strict"]) == 0
    code = cli.main(["build", str(script), "--no-progress", "--cache-dir", str(tmp_path / "c")])
    assert code == 0, capsys.readouterr().err
    assert (story / "story.pdf").read_bytes().startswith(b"%PDF")
    assert (story / "story.comic.lock").is_file()


def test_a_second_init_refuses_and_writes_nothing(tmp_path, capsys):
    assert cli.main(["init", str(tmp_path)]) == 0
    script = tmp_path / "story.comic"
    script.write_text("title: mine\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    capsys.readouterr()
    assert cli.main(["init", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert str(script) in err and "nothing was written" in err
    assert script.read_text() == "title: mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_init_refuses_when_only_the_gitignore_exists(tmp_path, capsys):
    (tmp_path / ".gitignore").write_text("*.o\n")
    assert cli.main(["init", str(tmp_path)]) == 1
    assert ".gitignore" in capsys.readouterr().err
    assert not (tmp_path / "story.comic").exists()  # all or nothing
    assert (tmp_path / ".gitignore").read_text() == "*.o\n"
    assert [p.name for p in tmp_path.iterdir()] == [".gitignore"]  # no temp file left


def test_a_symbolic_link_counts_as_an_existing_file(tmp_path):
    (tmp_path / "story.comic").symlink_to(tmp_path / "nowhere")
    assert cli.main(["init", str(tmp_path)]) == 1
    assert not (tmp_path / "nowhere").exists() and not (tmp_path / ".gitignore").exists()
