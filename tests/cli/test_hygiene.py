"""The command line's own manners: every option bounded like the script
setting it mirrors, `fmt -` and `-o -` for pipes, `comicc help` instead of
paths into a repository, and docs that agree with the code's defaults."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

from comicc import cli
from comicc.commands.help import TOPICS
from comicc.model import ir
from comicc.pipeline.options import DPI_RANGE
from support import ROOT

SCRIPT = "title: Pipes\ndpi: 72\n\nPAGE 1\n\nPANEL 1\nA cat.\nCAT:   Hello.\n"


def _comicc(*args: str, **kw) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "comicc", *args], capture_output=True, **kw)


@pytest.mark.parametrize(
    "option",
    [
        ["--dpi", str(DPI_RANGE[1] + 1)],
        ["--dpi", str(DPI_RANGE[0] - 1)],
        ["--dpi", "lots"],
        ["--jobs", "-3"],
        ["-j", "0"],
        ["--quality", "500"],
        ["--quality", "0"],
        ["--format", "tiff"],
    ],
)
def test_build_options_out_of_range_are_usage_errors(option, tmp_path, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    with pytest.raises(SystemExit) as e:
        cli.main(["build", str(script), *option])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument" in err and "internal error" not in err
    assert not (tmp_path / "story.pdf").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["layout", "{s}", "--dpi", "5"],
        ["cache", "gc", "{s}", "--keep", "-1"],
        ["watch", "{s}", "--dpi", "5000"],
        ["help", "nonsense"],
    ],
)
def test_other_options_are_bounded_too(argv, tmp_path, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    argv = [a.replace("{s}", str(script)) for a in argv]
    code: object
    try:
        code = cli.main(argv)
    except SystemExit as e:
        code = e.code
    assert code == 2
    assert "internal error" not in capsys.readouterr().err


def test_fmt_dash_reads_stdin_and_writes_stdout():
    done = _comicc("fmt", "-", input=SCRIPT.encode())
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().endswith("PANEL 1\nA cat.\nCAT: Hello.\n")
    assert _comicc("fmt", "--check", "-", input=SCRIPT.encode()).returncode == 1
    formatted = done.stdout
    again = _comicc("fmt", "--check", "-", input=formatted)
    assert again.returncode == 0 and again.stdout == b""
    broken = _comicc("fmt", "-", input=b"title: x\nPAGE one two\n")
    assert broken.returncode == 1 and broken.stdout == b""  # nothing for the editor to paste
    assert b"<stdin>:2:10" in broken.stderr


def test_o_dash_writes_the_book_to_stdout(tmp_path):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    cache = ["--cache-dir", str(tmp_path / "c"), "--no-progress"]
    pdf = _comicc("build", str(script), "-o", "-", *cache)
    assert pdf.returncode == 0, pdf.stderr
    assert pdf.stdout.startswith(b"%PDF-") and pdf.stdout.rstrip().endswith(b"%%EOF")
    assert b"standard output" in pdf.stderr
    cbz = _comicc("build", str(script), "-o", "-", "--format", "cbz", *cache)
    assert cbz.returncode == 0 and cbz.stdout.startswith(b"PK\x03\x04")
    png = _comicc("build", str(script), "-o", "-", "--format", "png", *cache)
    assert png.returncode == 2 and png.stdout == b"" and b"pdf or cbz" in png.stderr


def test_help_names_comicc_help_not_a_repository_path(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "comicc help" in out
    assert not re.search(r"\bdocs/\w+\.md", out)


def test_help_prints_every_shipped_document(capsys):
    for topic, (name, _) in TOPICS.items():
        assert cli.main(["help", topic]) == 0
        assert capsys.readouterr().out == (ROOT / "docs" / name).read_text()
    assert cli.main(["help"]) == 0
    listing = capsys.readouterr().out
    assert all(topic in listing for topic in TOPICS)
    assert cli.main(["help", "build"]) == 0
    assert "--dpi" in capsys.readouterr().out
    assert cli.main(["help", "langage"]) == 2
    assert "did you mean `language`" in capsys.readouterr().err


def test_the_wheel_ships_the_documents_help_prints():
    text = (ROOT / "pyproject.toml").read_text()
    for name, _ in TOPICS.values():
        assert f'"docs/{name}" = "comicc/_data/docs/{name}"' in text


def test_the_mask_defaults_in_the_docs_are_the_code_s():
    spec = ir.MaskSpec()
    margin, feather = spec.keep_margin, spec.feather
    assert (margin.unit, feather.unit) == ("px", "px")
    row = next(
        line
        for line in (ROOT / "docs" / "language.md").read_text().splitlines()
        if line.startswith("| `mask` |")
    )
    default = row.rstrip(" |").rsplit("|", 1)[1]
    assert f"keep-margin {margin.value:g}px, feather {feather.value:g}px" in default
    backends = (ROOT / "docs" / "backends.md").read_text()
    assert f"(default {margin.value:g} px)" in backends
    assert f"px (default {feather.value:g})" in backends
    language = (ROOT / "docs" / "language.md").read_text()
    assert f"(default `{margin.value:g}px`)" in language
    assert f"(default\n  `{feather.value:g}px`)" in language


def _readme_block(title: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split(f"## {title}\n", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.strip()]


@pytest.mark.slow
def test_the_readme_s_loop_runs_as_written(tmp_path):
    """README's "Using it" commands, in a fresh folder after the set-up
    (`comicc` is on PATH once the venv is active: the venv's bin first)."""
    bindir = os.path.dirname(sys.executable)
    env = {
        **os.environ,
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "COMICC_CACHE": str(tmp_path / "cache"),
    }
    lines = _readme_block("Using it")
    assert lines[0].startswith("comicc init")
    for line in lines:
        words = shlex.split(line)
        if words[0] == "cd":
            tmp_path = tmp_path / words[1]
            continue
        assert words[0] == "comicc", line
        if words[1] == "watch":  # runs until Ctrl-C: tests/cli/test_watch.py
            continue
        done = subprocess.run(words, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (line, done.stderr)
