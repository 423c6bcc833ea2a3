"""``comicc layout`` takes its pages from the layout memo a build uses (and keeps
the pages it lays out there), and prints the same bytes either way."""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from comicc import cli
from comicc.diagnostics import Sink
from comicc.layout import engine, json_text, to_json
from comicc.pipeline import check, layout, locked_sizes
from support.build import layout_json_afresh
from support.doors import doors_script

SCRIPT = doors_script("Memo", "doors", "more doors", "porch")


@pytest.fixture(autouse=True)
def _one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMICC_LAYOUT_JOBS", "1")  # every search is counted in this process
    monkeypatch.delenv("COMICC_CACHE", raising=False)


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The panels the placement search ran for (the real search runs)."""
    seen: list[str] = []
    real: Callable[..., Any] = engine.place_panel

    def counted(ctx: Any) -> Any:
        seen.append(str(ctx.prect))
        return real(ctx)

    monkeypatch.setattr(engine, "place_panel", counted)
    return seen


def run_layout(script: Path, capsys: pytest.CaptureFixture[str], *more: str) -> str:
    capsys.readouterr()
    assert cli.main(["layout", "--json", str(script), *more]) == 0
    return capsys.readouterr().out


def test_layout_keeps_its_pages_and_takes_them_back(tmp_path, searches, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    first = run_layout(script, capsys)
    assert len(searches) == 6  # every panel: nothing laid out before
    entries = sorted((tmp_path / ".comicc-cache" / "layout").rglob("*.page"))
    assert len(entries) == 3  # where a build of the script keeps its pages
    searches.clear()
    again = run_layout(script, capsys)
    assert searches == []
    assert again == first == layout_json_afresh(script)


def test_layout_uses_the_pages_a_build_laid_out(tmp_path, searches, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    pdf = tmp_path / "story.pdf"
    for more in ([], ["--force"]):  # the second keeps the sizes the first wrote into the lock
        assert cli.main(["build", str(script), "-o", str(pdf), "--no-progress", *more]) == 0
    assert Path(str(script) + ".lock").exists()  # layout keeps those sizes too
    searches.clear()
    out = run_layout(script, capsys)
    assert searches == []
    assert out == layout_json_afresh(script)


def test_one_changed_balloon_lays_out_only_its_page(tmp_path, searches, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    run_layout(script, capsys)
    script.write_text(SCRIPT.replace("CAT: Never.", "CAT: Never, ever, not in a hundred years."))
    searches.clear()
    out = run_layout(script, capsys)
    assert len(searches) == 2  # the two panels of page 3
    assert out == layout_json_afresh(script)


def test_the_cache_folder_is_the_builds_own(tmp_path, monkeypatch, searches, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    cache = tmp_path / "elsewhere"
    monkeypatch.setenv("COMICC_CACHE", str(cache))
    run_layout(script, capsys)
    assert len(list((cache / "layout").rglob("*.page"))) == 3
    assert not (tmp_path / ".comicc-cache").exists()


def test_cache_dir_names_the_cache_of_a_build_given_the_same(tmp_path, searches, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    cache = tmp_path / "elsewhere"
    pdf = tmp_path / "story.pdf"
    build = ["build", str(script), "-o", str(pdf), "--no-progress", "--cache-dir", str(cache)]
    assert cli.main(build) == 0
    assert cli.main([*build, "--force"]) == 0  # the sizes the first wrote into the lock kept
    searches.clear()
    out = run_layout(script, capsys, "--cache-dir", str(cache))
    assert searches == []  # every page from the build's memo
    assert not (tmp_path / ".comicc-cache").exists()
    assert out == layout_json_afresh(script)


def test_a_cache_that_cannot_be_written_is_no_cache(tmp_path, searches, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    (tmp_path / ".comicc-cache").write_text("not a folder")
    first = run_layout(script, capsys)
    again = run_layout(script, capsys)
    assert len(searches) == 12  # laid out both times
    assert first == again == layout_json_afresh(script)
    assert (tmp_path / ".comicc-cache").read_text() == "not a folder"


def test_warnings_of_pages_from_the_memo_are_the_same(tmp_path, searches, capsys):
    script = tmp_path / "story.comic"
    long = " ".join(["Words words words, more words and more words."] * 30)
    script.write_text(SCRIPT.replace("CAT: Never.", f"CAT: {long}"))  # warns: no room
    capsys.readouterr()
    code = cli.main(["layout", "--json", "--format", "short", str(script)])
    first = capsys.readouterr()
    searches.clear()
    assert cli.main(["layout", "--json", "--format", "short", str(script)]) == code
    again = capsys.readouterr()
    assert searches == []
    assert "text-overflow" in first.err
    assert (again.out, again.err) == (first.out, first.err)


def test_a_damaged_entry_is_laid_out_again(tmp_path, searches, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    first = run_layout(script, capsys)
    shutil.rmtree(tmp_path / ".comicc-cache" / "layout" / "books")  # the text memo's
    for entry in (tmp_path / ".comicc-cache" / "layout").rglob("*.page"):
        entry.write_bytes(b"{not json")
        os.utime(entry)
    searches.clear()
    assert run_layout(script, capsys) == first
    assert len(searches) == 6


@pytest.mark.usefixtures("collector_off")
def test_reading_pages_back_and_writing_the_text_make_no_reference_cycles(
    tmp_path, searches, capsys
):
    """The memo is read and the text written with the collector off: nothing
    they make may need it."""
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    first = run_layout(script, capsys)  # stores the pages; loads fonts, caches, module state
    sink = Sink()
    res = check(script, sink)
    assert res is not None and res.script is not None
    keep = locked_sizes(res.script, sink)
    gc.collect()
    searches.clear()
    book = layout(res.script, res.theme, sink, keep=keep, cache_dir=tmp_path / ".comicc-cache")
    assert book is not None and searches == []  # every page read back
    text = json_text(to_json(book)) + "\n"
    assert text == first
    del book, text
    assert gc.collect() == 0  # everything they made was freed by reference counting


def test_layout_leaves_the_collector_as_it_found_it(tmp_path, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    assert gc.isenabled()
    run_layout(script, capsys)
    run_layout(script, capsys)
    assert gc.isenabled()
