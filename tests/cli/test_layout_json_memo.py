"""``comicc layout --json`` run again on an unchanged script prints the text it
kept (:mod:`comicc.pipeline.layoutjson`): no page read back, no JSON written
again; anything the text is made of changed (a balloon's line, a page's
text, a font file, the kept file itself) is a miss, and the text is the same
bytes as one made afresh either way."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from comicc import cli
from comicc.diagnostics import Sink
from comicc.layout import engine, serialize
from comicc.pipeline import check, layoutcache
from comicc.pipeline.layoutjson import TextMemo, text_key
from support.build import layout_json_afresh
from support.doors import doors_script

SCRIPT = doors_script("Memo", "doors", "porch")


@pytest.fixture(autouse=True)
def _one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMICC_LAYOUT_JOBS", "1")  # every search is counted in this process
    monkeypatch.delenv("COMICC_CACHE", raising=False)


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many panels were searched, pages read from the layout memo and books
    written as JSON (the real functions run)."""
    seen = {"searched": 0, "read": 0, "written": 0}

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            seen[name] += 1
            return real(*args, **kwargs)

        return counted

    monkeypatch.setattr(engine, "place_panel", counting("searched", engine.place_panel))
    monkeypatch.setattr(
        layoutcache.LayoutStore, "read", counting("read", layoutcache.LayoutStore.read)
    )
    monkeypatch.setattr(serialize, "json_text", counting("written", serialize.json_text))
    return seen


def run_layout(script: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    capsys.readouterr()
    code = cli.main(["layout", "--json", "--format", "short", str(script)])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out, out.err


def kept_file(tmp_path: Path) -> Path:
    (found,) = (tmp_path / ".comicc-cache" / "layout" / "books").iterdir()
    return found


def test_an_unchanged_script_prints_the_kept_text(tmp_path, work, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    first = run_layout(script, capsys)
    assert work["searched"] == 4 and work["written"] == 1
    for n in work:
        work[n] = 0
    again = run_layout(script, capsys)
    assert work == {"searched": 0, "read": 0, "written": 0}
    assert again == first
    assert first[0] == layout_json_afresh(script)


def test_a_moved_balloon_line_is_a_miss_but_no_layout(tmp_path, work, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    run_layout(script, capsys)
    script.write_text(SCRIPT.replace("title: Memo\n", "title: Memo\n\n\n"))
    for n in work:
        work[n] = 0
    out, _ = run_layout(script, capsys)
    assert work["searched"] == 0 and work["read"] == 2 and work["written"] == 1
    assert out == layout_json_afresh(script)
    assert '"line": 11' in out  # DOG's balloon, two lines down


def test_an_edited_page_is_laid_out_and_the_text_kept_anew(tmp_path, work, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    run_layout(script, capsys)
    script.write_text(SCRIPT.replace("CAT: Never.", "CAT: Never, ever, not in a hundred years."))
    for n in work:
        work[n] = 0
    out, _ = run_layout(script, capsys)
    assert work["searched"] == 2 and work["written"] == 1  # page 2's panels
    assert out == layout_json_afresh(script)
    for n in work:
        work[n] = 0
    assert run_layout(script, capsys)[0] == out
    assert work == {"searched": 0, "read": 0, "written": 0}


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[:-1] + bytes([b[-1] ^ 1]), id="a changed byte"),
        pytest.param(lambda b: b[: len(b) // 2], id="cut short"),
        pytest.param(lambda b: b"", id="empty"),
        pytest.param(lambda b: b"{not json\n" + b, id="no head"),
        pytest.param(
            lambda b: b.replace(b"comicc-layout-json", b"comicc-layout-jsom", 1), id="format"
        ),
    ],
)
def test_a_damaged_text_is_made_again(tmp_path, work, capsys, damage):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    first = run_layout(script, capsys)
    kept = kept_file(tmp_path)
    kept.write_bytes(damage(kept.read_bytes()))
    for n in work:
        work[n] = 0
    assert run_layout(script, capsys) == first
    assert work["searched"] == 0 and work["read"] == 2 and work["written"] == 1
    for n in work:
        work[n] = 0
    assert run_layout(script, capsys) == first  # kept anew
    assert work["written"] == 0


def test_warnings_come_back_with_the_text_on_the_lines_of_now(tmp_path, work, capsys):
    script = tmp_path / "story.comic"
    long = " ".join(["Words words words, more words and more words."] * 30)
    script.write_text(SCRIPT.replace("CAT: Never.", f"CAT: {long}"))  # warns: no room
    capsys.readouterr()
    code = cli.main(["layout", "--json", "--format", "short", str(script)])
    first = capsys.readouterr()
    assert "text-overflow" in first.err
    for n in work:
        work[n] = 0
    assert cli.main(["layout", "--json", "--format", "short", str(script)]) == code
    again = capsys.readouterr()
    assert work == {"searched": 0, "read": 0, "written": 0}
    assert (again.out, again.err) == (first.out, first.err)


def test_a_changed_font_file_is_a_miss(tmp_path):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    res = check(script, Sink())
    assert res is not None and res.script is not None
    font = tmp_path / "face.ttf"
    font.write_bytes(b"glyphs")
    st = os.stat(font)
    memo = TextMemo(tmp_path / "cache", str(script))
    key = text_key(res.script, ("a" * 64, "b" * 64))
    assert key is not None
    memo.put(key, '{\n "units": "pt"\n}', ((), ()), ((str(font), (st.st_size, st.st_mtime_ns)),))
    assert memo.get(key, res.script) == ('{\n "units": "pt"\n}', [])
    assert memo.get("0" * 64, res.script) is None  # another key
    font.write_bytes(b"other glyphs")
    assert memo.get(key, res.script) is None


def test_a_page_without_a_key_keeps_no_text(tmp_path):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    res = check(script, Sink())
    assert res is not None and res.script is not None
    assert text_key(res.script, ("a" * 64, None)) is None
    assert text_key(res.script, ("a" * 64, "b" * 64)) != text_key(res.script, ("b" * 64, "a" * 64))


def test_each_script_keeps_its_own_text(tmp_path, capsys):
    one, two = tmp_path / "one.comic", tmp_path / "two.comic"
    one.write_text(SCRIPT)
    two.write_text(SCRIPT.replace("A red door.", "A red door, ajar."))
    first = run_layout(one, capsys)
    run_layout(two, capsys)
    assert len(list((tmp_path / ".comicc-cache" / "layout" / "books").iterdir())) == 2
    assert run_layout(one, capsys) == first


def test_json_and_wireframes_together_print_the_same_text(tmp_path, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    first = run_layout(script, capsys)
    capsys.readouterr()
    code = cli.main(["layout", "--json", "--png", str(tmp_path / "wire"), str(script)])
    assert code == 0
    assert capsys.readouterr().out == first[0]
    assert sorted(p.name for p in (tmp_path / "wire").glob("*.png")) == [
        "page-001.png",
        "page-002.png",
    ]
