"""A panel's history in the art cache (comicc.pipeline.history): after a build,
a snippet switched on and a second build, the panel has two images, newest
first, each with the prompt that made it; the difference between the two
prompts is the snippet's text; the other panel and other scripts' art are
not in it."""

from __future__ import annotations

import os
from pathlib import Path

from comicc.diagnostics import Sink
from comicc.pipeline import BuildOptions, build, check
from comicc.pipeline.edits import set_toggle, toggles
from comicc.pipeline.history import history, prompt_diff, prompt_parts

SCRIPT = """\
title: History
dpi: 72
snippet noir: film noir lighting, deep shadows

PAGE 1

PANEL 1
A lighthouse at dusk.
prompt:
  # - @noir
  - wide shot

PANEL 2
The lamp room.
"""


def build_it(path: Path, cache: Path) -> None:
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None
    opts = BuildOptions(output=str(path.with_suffix(".pdf")), cache_dir=str(cache), progress=False)
    assert build(res.script, res.theme, sink, opts) is not None, [d.message for d in sink.errors]


def test_history_after_a_snippet_toggle(tmp_path, monkeypatch):
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    path, cache = tmp_path / "story.comic", tmp_path / "cache"
    path.write_text(SCRIPT, encoding="utf-8")
    build_it(path, cache)
    (first,) = history(path, "1.1", cache_dir=cache)
    assert first.current and first.prompt.startswith("A lighthouse at dusk, wide shot")
    os.utime(first.image, (first.when - 60, first.when - 60))  # painted a minute earlier

    (noir,) = [t for t in toggles(SCRIPT, "1.1") if t.label == "@noir"]
    path.write_text(set_toggle(SCRIPT, noir.line, True), encoding="utf-8")
    build_it(path, cache)
    newer, older = history(path, "1.1", cache_dir=cache)
    assert older.key == first.key and not older.current
    assert newer.current and newer.when > older.when and newer.image.is_file()
    assert "film noir lighting" in newer.prompt and "film noir" not in older.prompt
    assert newer.negative == older.negative != ""
    assert newer.seed == older.seed != 0
    diff = prompt_diff(older.prompt, newer.prompt)
    assert [p for op, p in diff if op == "+"] == ["film noir lighting", "deep shadows"]
    assert [p for op, p in diff if op == "-"] == []
    assert [p for op, p in diff if op == " "] == prompt_parts(older.prompt)
    assert prompt_diff(newer.prompt, older.prompt) == [
        ("-" if op == "+" else op, p) for op, p in diff
    ]
    # the other panel has its own single image; another script sharing the cache none here
    assert len(history(path, "1.2", cache_dir=cache)) == 1
    other = tmp_path / "other.comic"
    other.write_text(SCRIPT, encoding="utf-8")
    assert history(other, "1.1", cache_dir=cache) == []


def test_prompt_diff_part_by_part():
    assert prompt_diff("a dog, noir lighting, rain", "a dog, dutch angle, rain") == [
        (" ", "a dog"),
        ("-", "noir lighting"),
        ("+", "dutch angle"),
        (" ", "rain"),
    ]
    assert prompt_diff("", "") == []
    assert prompt_parts(" a ,, b ,") == ["a", "b"]


def test_no_cache_no_history(tmp_path):
    path = tmp_path / "story.comic"
    path.write_text(SCRIPT, encoding="utf-8")
    assert history(path, "1.1", cache_dir=tmp_path / "nothing") == []
