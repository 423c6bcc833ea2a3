"""`comicc check` loads only the checking half: not the painting stages, the
other verbs' modules, the layout engine, Pillow, reportlab or fontTools (a
fresh process each); with the font cache warm, not even the font packages; and
with the shipped themes' simple prompt templates not jinja2 either. An
unchanged script's lines come from the parse cache: no Lark. A build whose art
is all cached loads neither jinja2 nor what painting needs (numpy, filelock,
tenacity), and a PDF build no other format's writer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "jinja2",
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
    assert not _loaded(warm, "lark")  # its lines are in the parse cache


def test_the_whole_command_line_still_lists_every_verb(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "comicc", "--help"], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0
    for verb in ("init", "check", "fmt", "build", "watch", "layout", "explain", "plan", "cache"):
        assert verb in res.stdout


def test_a_build_from_the_cache_loads_nothing_it_does_not_use(tmp_path: Path) -> None:
    book = Path(__file__).resolve().parents[2] / "examples" / "heist.comic"
    (tmp_path / "heist.comic").write_text(book.read_text(encoding="utf-8"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMICC_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    argv = ["build", "heist.comic", "--no-progress"]
    code, _ = _run(argv, tmp_path, env)  # paints the art into the cache
    assert code == 0
    code, modules = _run([*argv, "--force"], tmp_path, env)  # writes the PDF again
    assert code == 0 and (tmp_path / "heist.pdf").is_file()
    assert _loaded(modules, "reportlab")
    unused = (
        "jinja2",
        "numpy",
        "filelock",
        "tenacity",
        "comicc.output.cbz",
        "comicc.output.raster",
    )
    assert [m for m in unused if _loaded(modules, m)] == []


def test_a_long_script_all_in_the_parse_cache_loads_no_parser(tmp_path: Path) -> None:
    pages = "".join(f"PAGE {n}\n\nPANEL 1\nA kitchen.\nHAMMY: *Cheese!*\n\n" for n in range(1, 90))
    path = tmp_path / "long.comic"
    path.write_text("title: Long\n\n" + pages, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMICC_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    code, cold = _run(["check", str(path)], tmp_path, env)
    assert code == 0 and _loaded(cold, "lark")  # parsed, page by page, into the cache
    code, warm = _run(["check", str(path)], tmp_path, env)
    assert code == 0 and not _loaded(warm, "lark")
    path.write_text(path.read_text(encoding="utf-8").replace("PAGE 7\n", "PAGE 7 (edit)\n"))
    code, edited = _run(["check", str(path)], tmp_path, env)
    assert code == 0 and _loaded(edited, "lark")  # the changed page is parsed again


def test_builds_with_nothing_to_lay_out_or_decode_load_neither(tmp_path: Path) -> None:
    """A script naming the built-in `draft` backend is checked and built without
    scanning the installed packages' entry points; a build whose pages come
    from the layout memo loads no layout engine; art decoded once is not
    decoded again (no Pillow image plugin); an up-to-date build loads no book
    plan and no PDF writer."""
    book = Path(__file__).resolve().parents[2] / "examples" / "heist.comic"
    assert "backend: draft" in book.read_text(encoding="utf-8")
    (tmp_path / "heist.comic").write_text(book.read_text(encoding="utf-8"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMICC_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    argv = ["build", "heist.comic", "--no-progress"]
    for run in (argv, [*argv, "--force"]):  # paints; then decodes the cached art once
        code, _ = _run(run, tmp_path, env)
        assert code == 0
    code, checked = _run(["check", "heist.comic"], tmp_path, env)
    assert code == 0 and not _loaded(checked, "importlib.metadata")
    code, forced = _run([*argv, "--force"], tmp_path, env)
    assert code == 0 and _loaded(forced, "reportlab")  # the PDF was written again
    not_needed = ["comicc.layout.engine", "comicc.layout.place", "PIL.JpegImagePlugin", "tqdm"]
    assert [m for m in not_needed if _loaded(forced, m)] == []  # no bar: --no-progress
    code, done = _run(argv, tmp_path, env)
    assert code == 0
    not_needed += [
        "importlib.metadata",
        "comicc.pipeline.plan",
        "reportlab.pdfgen",
        "comicc.output",
        "comicc.paint.scheduler",
        "comicc.paint.composite",
    ]
    assert [m for m in not_needed if _loaded(done, m)] == []


def test_a_script_in_the_check_memo_loads_no_parser_nor_layout(tmp_path: Path) -> None:
    """Checked again, a long script's pages come from the check memo: no Lark,
    no page geometry (the layout package), nothing written; after an edit to one page's
    text, that page is parsed again (Lark) but its geometry, which the edit
    did not change, is still not worked out again."""
    pages = "".join(
        f"PAGE {n}\nlayout: 1/2\n\nPANEL 1\nA kitchen.\nHAMMY: *Cheese!*\n\n"
        "PANEL 2\nThe fridge.\n\nPANEL 3\nThe door.\n\n"
        for n in range(1, 60)
    )
    path = tmp_path / "long.comic"
    path.write_text("title: Long\n\n" + pages, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMICC_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    code, cold = _run(["check", str(path)], tmp_path, env)
    assert code == 0 and _loaded(cold, "comicc.layout.grid")
    code, warm = _run(["check", str(path)], tmp_path, env)
    assert code == 0
    # nothing parsed, laid out, suggested or written (a temp file's name loads socket)
    unused = ("lark", "comicc.layout", "comicc.syntax.lines", "difflib", "socket")
    assert [m for m in unused if _loaded(warm, m)] == []
    path.write_text(path.read_text(encoding="utf-8").replace("The fridge.", "A fridge.", 1))
    code, edited = _run(["check", str(path)], tmp_path, env)
    assert code == 0 and _loaded(edited, "lark")
    assert not _loaded(edited, "comicc.layout")


def test_layout_json_of_an_unchanged_script_loads_no_layout_nor_parser(tmp_path: Path) -> None:
    """Run again on an unchanged script, ``comicc layout --json`` prints the text
    it kept (comicc.pipeline.layoutjson): no Lark (the parse cache), no layout
    engine, no geometry read back or written as JSON, no font files."""
    book = Path(__file__).resolve().parents[2] / "examples" / "long-night.comic"
    (tmp_path / "noir.comic").write_text(book.read_text(encoding="utf-8"), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMICC_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    argv = ["layout", "--json", "noir.comic"]
    code, cold = _run(argv, tmp_path, env)
    assert code == 0 and _loaded(cold, "comicc.layout.engine")
    code, warm = _run(argv, tmp_path, env)
    assert code == 0
    unused = (
        "lark",
        "fontTools",
        "reportlab",
        "numpy",
        "jinja2",
        "comicc.output",
        "comicc.layout.engine",
        "comicc.layout.place",
        "comicc.layout.text",
        "comicc.layout.serialize",
        "comicc.pipeline.book",
        "PIL",
    )
    assert [m for m in unused if _loaded(warm, m)] == []
