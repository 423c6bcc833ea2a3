"""The line a build ends with: pages, images and panels counted apart, the
repainted panels named, and singular and plural right everywhere."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from comicc import cli
from comicc.commands.build import describe, panel_list
from comicc.pipeline import BuildResult, Repaint

SCRIPT = """\
title: Summary
dpi: 72

PAGE 1

PANEL 1
A red door.
CAT: One.

PANEL 2
variants: 3
A blue door.
"""


def _build(path: Path, capsys) -> str:
    capsys.readouterr()
    code = cli.main(["build", str(path), "--no-progress", "--cache-dir", str(path.parent / "c")])
    err = capsys.readouterr().err
    assert code == 0, err
    return err.strip().splitlines()[-1]


def test_images_and_panels_are_counted_apart_and_repaints_are_named(tmp_path, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    line = _build(script, capsys)
    assert "1 page, 4 images for 2 panels (3 variants on p1.2)" in line
    assert "painted p1.1, p1.2 (4 images)" in line
    line = _build(script, capsys)
    assert line.endswith("nothing painted, all from the cache")
    script.write_text(SCRIPT.replace("A red door.", "A green door."))
    line = _build(script, capsys)
    assert line.endswith("; painted p1.1, 3 from the cache")


def test_one_panel_is_singular(tmp_path, capsys):
    script = tmp_path / "one.comic"
    script.write_text("title: One\ndpi: 72\n\nPAGE 1\n\nPANEL 1\nA cat.\n")
    line = _build(script, capsys)
    assert "1 page, 1 panel;" in line and "painted p1.1" in line
    assert not re.search(r"\b1 (pages|panels|images)\b", line)


def test_a_long_list_of_panels_is_abbreviated():
    names = [f"p1.{i}" for i in range(1, 13)]
    assert panel_list(names) == "p1.1, p1.2, p1.3, p1.4, p1.5, p1.6, p1.7, p1.8 and 4 more"
    assert panel_list(names[:8]) == ", ".join(names[:8])


@given(
    pages=st.integers(1, 30),
    variants=st.lists(st.integers(1, 4), min_size=1, max_size=30),
    data=st.data(),
)
def test_no_count_of_one_takes_a_plural(pages, variants, data):
    jobs = [(i + 1, v) for i, n in enumerate(variants) for v in range(1, n + 1)]
    painted = data.draw(st.lists(st.sampled_from(jobs), unique=True))
    repainted = tuple(Repaint(f"p1.{i}", 1, i, v) for i, v in sorted(painted))
    result = BuildResult(
        Path("story.pdf"),
        pages,
        len(variants),
        len(repainted),
        len(jobs) - len(repainted),
        repainted,
        tuple((f"p1.{i + 1}", n) for i, n in enumerate(variants) if n > 1),
    )
    text = describe(result)
    assert not re.search(r"(?<![\d.])1 (pages|panels|images|variants)\b", text), text
    assert not re.search(r"(?<![\d.])([02-9]|\d\d+) (page|panel|image)\b(?!s)", text), text
    assert f"{len(variants)} panel" in text
