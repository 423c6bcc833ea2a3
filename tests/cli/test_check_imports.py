"""`comicc check` loads only the checking half: not the painting stages, the
other verbs' modules, Pillow, reportlab or fontTools (a fresh process each)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "PIL",
    "reportlab",
    "fontTools",
    "comicc.paint",
    "comicc.output",
    "comicc.backends",
    "comicc.commands.explain",
    "comicc.commands.plan",
    "comicc.pipeline.book",
)

PROBE = """
import contextlib, io, json, sys
from comicc.cli import main
with contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(args: list[str], tmp_path: Path) -> tuple[int, set[str]]:
    res = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    return out["code"], set(out["modules"])


def _loaded(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


@pytest.mark.parametrize(
    "script",
    [
        pytest.param("title: Clean\n\nPAGE 1\n\nPANEL 1\nA kitchen.\nHAMMY: *Cheese!*\n", id="ok"),
        pytest.param("title: Broken\n\nPAGE 1\n\nPANEL 1\nlayout: 9/9\n", id="errors"),
    ],
)
def test_check_loads_no_painting_stage(tmp_path: Path, script: str) -> None:
    path = tmp_path / "book.comic"
    path.write_text(script, encoding="utf-8")
    code, modules = _run(["check", str(path)], tmp_path)
    assert code in (0, 1)
    assert [m for m in HEAVY if _loaded(modules, m)] == []


def test_the_whole_command_line_still_lists_every_verb(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "comicc", "--help"], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0
    for verb in ("init", "check", "fmt", "build", "watch", "layout", "explain", "plan", "cache"):
        assert verb in res.stdout
