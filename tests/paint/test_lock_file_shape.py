"""A lock file of the wrong shape is a warning naming the file, and the build
(or `layout`) goes on as if there were none: never exit 3, never RecursionError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from comicc import cli
from comicc.paint import read_lock
from support import ROOT

SCRIPT = (ROOT / "examples" / "heist.comic").read_text()
GOOD = {
    "backend": "draft",
    "model": None,
    "variants": 1,
    "pick": 1,
    "seed": 1,
    "cache_key": "ab",
    "variant_keys": ["ab"],
    "balloons": {"p1.1.b1": [1, 2, 3, 4]},
}


def lock_with(**changes: object) -> str:
    return json.dumps({"version": 1, "panels": {"p1.1": {**GOOD, **changes}}})


BAD = {
    "list": "[]",
    "null": "null",
    "number": "3",
    "panels-list": '{"version": 1, "panels": []}',
    "panel-null": '{"version": 1, "panels": {"p1.1": null}}',
    "rect-strings": lock_with(balloons={"p1.1.b1": ["a", "b", "c", "d"]}),
    "rect-short": lock_with(balloons={"p1.1.b1": [1, 2]}),
    "rect-nan": lock_with(balloons={"p1.1.b1": [1, 2, "NaN", 4]}).replace('"NaN"', "NaN"),
    "balloons-list": lock_with(balloons=[1, 2, 3, 4]),
    "variants-string": lock_with(variants="2"),
    "seed-bool": lock_with(seed=True),
    "keys-mixed": lock_with(variant_keys=["a", 1]),
    "missing-field": json.dumps({"version": 1, "panels": {"p1.1": {"backend": "draft"}}}),
    "deep": "[" * 100_000 + "]" * 100_000,
    "deep-in-object": '{"version": 1, "panels": ' + "[" * 50_000 + "]" * 50_000 + "}",
    "not-json": "{",
    "not-utf8": b"\xff\xfe{}".decode("latin-1"),
}


@pytest.mark.parametrize("name", BAD)
def test_read_lock_reports_the_problem(tmp_path, name):
    path = tmp_path / "story.comic.lock"
    path.write_text(BAD[name], encoding="latin-1" if name == "not-utf8" else "utf-8")
    lock = read_lock(path)
    assert lock.panels == {} and lock.problem


def test_a_good_lock_reads_back(tmp_path):
    path = tmp_path / "story.comic.lock"
    path.write_text(lock_with())
    lock = read_lock(path)
    assert lock.problem is None and lock.panels["p1.1"]["balloons"]["p1.1.b1"] == [1, 2, 3, 4]
    assert read_lock(tmp_path / "none.lock").problem is None


@pytest.fixture
def story(tmp_path: Path) -> Path:
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    return script


@pytest.mark.parametrize("name", ["list", "null", "rect-strings", "deep"])
def test_build_and_layout_warn_and_go_on(story, tmp_path, capsys, name):
    lock = tmp_path / "story.comic.lock"
    lock.write_text(BAD[name])
    assert cli.main(["layout", str(story), "--json"]) == 0
    err = capsys.readouterr().err
    assert "story.comic.lock is not a comicc lock file" in err, err
    assert "laying out as if there were none" in err
    # the script's own dpi, not `--dpi` (a proof build, which writes no lock file)
    story.write_text(SCRIPT.replace("seed: 1234", "seed: 1234\ndpi: 72", 1))
    code = cli.main(
        ["build", str(story), "-o", str(tmp_path / "a.pdf"), "--no-progress"]
        + ["--cache-dir", str(tmp_path / "cache")]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "building as if there were none" in err
    assert read_lock(lock).problem is None  # the build wrote a good one
