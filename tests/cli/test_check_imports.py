"""`comicc check` loads only the checking half: not the painting stages, the
other verbs' modules, the layout engine, Pillow, reportlab or fontTools (a
fresh process each); with the font cache warm, not even the font packages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "PIL",
    "reportlab",
    "fontTools",
    "requests",
    "numpy",
    "comicc.paint",
    "comicc.output",
    "comicc.backends",
    "comicc.commands.explain",
    "comicc.commands.plan",
    "comicc.pipeline.book",
    "comicc.layout.engine",
    "comicc.layout.place",
    "comicc.layout.text",
    "comicc.layout.linebreak",
)

# what finding the installed font packages costs: read once, then kept in the
# font cache (comicc.fonts.files.fontpkg_files)
FONT_PACKAGES = ("fontpkg", "importlib.metadata")

PROBE = """
import contextlib, io, json, sys
from comicc.cli import main
with contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _run(
    args: list[str], tmp_path: Path, env: dict[str, str] | None = None
) -> tuple[int, set[str]]:
    res = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env=env,
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


def test_a_warm_check_does_not_look_for_the_font_packages(tmp_path: Path) -> None:
    path = tmp_path / "book.comic"
    path.write_text("title: Warm\n\nPAGE 1\n\nPANEL 1\nA kitchen.\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMICC_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    code, cold = _run(["check", str(path)], tmp_path, env)
    assert code == 0 and _loaded(cold, "fontpkg")  # the first run lists them
    code, warm = _run(["check", str(path)], tmp_path, env)
    assert code == 0
    assert [m for m in HEAVY + FONT_PACKAGES if _loaded(warm, m)] == []


def test_the_whole_command_line_still_lists_every_verb(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "comicc", "--help"], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0
    for verb in ("init", "check", "fmt", "build", "watch", "layout", "explain", "plan", "cache"):
        assert verb in res.stdout
