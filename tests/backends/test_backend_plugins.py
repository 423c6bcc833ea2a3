"""A backend from a REAL entry point: a tiny installed-looking package (module plus
``*.dist-info`` with ``entry_points.txt``) on ``PYTHONPATH``, used by a script
through ``comicc check`` and ``comicc build`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN = '''
"""A test plugin: paints a flat colour and records what it painted."""

import os

from PIL import Image

from comicc.backends import Backend, Capabilities, PaintResult, SettingSpec

COLOURS = {"plain": (200, 200, 200), "strawberry": (230, 40, 120)}


class MineBackend(Backend):
    name = "mine"
    capabilities = Capabilities(needs_network=False, deterministic=True)
    SETTINGS = {
        "flavour": SettingSpec("str", "what to paint", "plain", choices=tuple(COLOURS)),
    }

    def __init__(self, **backend_settings):
        self.backend_settings = backend_settings
        self.setting_values(backend_settings, painting=False)

    def paint(self, request):
        values = self.setting_values(
            {**self.backend_settings, **request.backend_settings}, painting=True
        )
        flavour = values.text("flavour")
        with open(os.environ["MINE_MARKER"], "a", encoding="utf-8") as fh:
            fh.write(f"{request.panel_id} {flavour} {request.width}x{request.height}\\n")
        art = Image.new("RGB", (request.width, request.height), COLOURS[flavour])
        return PaintResult(image=Image.composite(art, request.init_image, request.mask))
'''

SCRIPT = """\
title: Plugged in
backend: mine
{setting}

PAGE 1

PANEL 1
A kitchen at night.
1. CAPTION: Midnight.

PANEL 2
The same kitchen at dawn.
"""


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    (site / "mine_backend").mkdir(parents=True)
    (site / "mine_backend" / "__init__.py").write_text(PLUGIN, encoding="utf-8")
    dist = site / "mine_backend-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mine-backend\nVersion: 1.0\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[comicc.backends]\nmine = mine_backend:MineBackend\n", encoding="utf-8"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH")) if p)
    env["MINE_MARKER"] = str(tmp_path / "painted.txt")
    env["COMICC_CONFIG"] = str(tmp_path / "no-config")
    return env


def comicc(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "comicc", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def write_script(tmp_path: Path, setting: str) -> Path:
    path = tmp_path / "plugged.comic"
    path.write_text(SCRIPT.format(setting=setting), encoding="utf-8")
    return path


def test_a_plugin_backend_is_accepted_by_check(tmp_path, plugin_env):
    path = write_script(tmp_path, "mine.flavour: strawberry")
    done = comicc(plugin_env, tmp_path, "check", str(path))
    assert done.returncode == 0, done.stderr
    assert "unknown" not in done.stderr


@pytest.mark.slow
def test_a_plugin_backend_paints_the_build(tmp_path, plugin_env):
    path = write_script(tmp_path, "mine.flavour: strawberry")
    out = tmp_path / "plugged.pdf"
    done = comicc(
        plugin_env,
        tmp_path,
        "build",
        str(path),
        "-o",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
        "--dpi",
        "72",
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    painted = (tmp_path / "painted.txt").read_text(encoding="utf-8").splitlines()
    assert sorted(line.split()[:2] for line in painted) == [
        ["p1.1", "strawberry"],
        ["p1.2", "strawberry"],
    ]


def test_an_unknown_setting_of_a_plugin_gets_a_did_you_mean(tmp_path, plugin_env):
    path = write_script(tmp_path, "mine.flavor: strawberry")
    done = comicc(
        plugin_env,
        tmp_path,
        "build",
        str(path),
        "-o",
        str(tmp_path / "plugged.pdf"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
    )
    assert done.returncode != 0
    assert "`mine` has no setting `flavor`" in done.stderr
    assert "did you mean `mine.flavour`?" in done.stderr
    assert not (tmp_path / "painted.txt").exists()  # nothing painted with a bad setting
    assert not (tmp_path / "plugged.pdf").exists()


def test_a_bad_value_of_a_plugin_setting_is_reported(tmp_path, plugin_env):
    path = write_script(tmp_path, "mine.flavour: strawbery")
    done = comicc(
        plugin_env,
        tmp_path,
        "build",
        str(path),
        "-o",
        str(tmp_path / "plugged.pdf"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--no-progress",
    )
    assert done.returncode != 0
    assert "`mine.flavour` must be one of plain, strawberry" in done.stderr
    assert "did you mean `mine.flavour: strawberry`?" in done.stderr


def test_without_the_plugin_the_name_is_unknown(tmp_path, plugin_env):
    env = {**plugin_env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    path = write_script(tmp_path, "mine.flavour: strawberry")
    done = comicc(env, tmp_path, "check", str(path))
    assert done.returncode != 0
    assert "`mine`" in done.stderr and "unknown" in done.stderr
