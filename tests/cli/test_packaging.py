"""The wheel ships grammar/ and themes/ and works outside the source tree.

Builds the wheel, installs it into a fresh virtual environment (dependencies
come from the package index, as for a user), and runs the installed
`comicc` on an example from a directory outside the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from support import ROOT

pytestmark = pytest.mark.slow  # builds a wheel and installs it into a fresh virtualenv


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    (whl,) = out.glob("comicc-*.whl")
    return whl


def test_wheel_contains_grammar_and_themes(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "comicc/_data/grammar/comic.lark" in names
    assert any(n.startswith("comicc/_data/themes/") and n.endswith(".toml") for n in names)
    assert "comicc/cli.py" in names
    assert "comicc/_data/docs/language.md" in names  # what `comicc help language` prints
    # the studio's page, script and style (`comicc preview` serves them from the package)
    assert "comicc/studio/templates/index.html" in names
    assert "comicc/studio/static/studio.js" in names
    assert "comicc/studio/static/studio.css" in names


def test_installed_wheel_checks_an_example(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    r = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr[-2000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    example = work / "heist.comic"
    shutil.copy(ROOT / "examples" / "heist.comic", example)
    r = subprocess.run(
        [str(env_dir / "bin" / "comicc"), "check", str(example)],
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stderr
    # ... and builds it: themes, fonts and the draft backend all come from the install
    r = subprocess.run(
        [
            str(env_dir / "bin" / "comicc"),
            "build",
            str(example),
            "-o",
            str(work / "heist.pdf"),
            "--dpi",
            "72",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert r.returncode == 0, r.stderr
    assert (work / "heist.pdf").read_bytes().startswith(b"%PDF-")
    # the installed package reads its grammar from inside the wheel, not from this checkout
    r = subprocess.run(
        [str(py), "-c", "from comicc.resources import grammar_path; print(grammar_path())"],
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert "_data" in r.stdout and str(ROOT) not in r.stdout
