"""Incremental rebuilds (issue 12, item 1): a rebuild does only what changed.

A page's geometry is kept in the art cache's folder under a hash of what it is
laid out from, and a build whose pages, art and options are those the output
on disk was made from writes nothing ("up to date"). The work a build does is
counted by counting the real calls of the placement search
(``comicc.layout.engine.place_panel``, wrapped, not replaced) and by the files'
bytes and modification times; nothing here measures time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from comicc import cli
from comicc.diagnostics import Sink
from comicc.layout import engine
from comicc.pipeline import check, layout
from comicc.pipeline.layoutcache import LayoutStore, StoredPage, page_keys
from comicc.pipeline.layoutcodec import canonical
from comicc.theme import resolve_format
from support import ROOT
from support.doors import doors_script

SCRIPT = doors_script("Incremental", "doors", "more doors", "porch", go_away="Go away.")


@pytest.fixture(autouse=True)
def _one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMICC_LAYOUT_JOBS", "1")  # every search is counted in this process


@pytest.fixture
def searches(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The panels the placement search ran for, in order (the real search runs)."""
    seen: list[str] = []
    real: Callable[..., Any] = engine.place_panel

    def counted(ctx: Any) -> Any:
        seen.append(str(ctx.prect))
        return real(ctx)

    monkeypatch.setattr(engine, "place_panel", counted)
    return seen


def build(script: Path, cache: Path, *more: str) -> int:
    out = script.with_suffix(".pdf")
    return cli.main(
        ["build", str(script), "-o", str(out), "--no-progress", "--cache-dir", str(cache), *more]
    )


def state(*paths: Path) -> list[tuple[bytes, int]]:
    return [(p.read_bytes(), p.stat().st_mtime_ns) for p in paths]


def settled(tmp_path: Path, text: str = SCRIPT) -> tuple[Path, Path, Path, Path]:
    """A script built twice (the second build keeps the balloon sizes the first
    wrote into the lock file): the script, its PDF, lock file and cache."""
    script = tmp_path / "story.comic"
    script.write_text(text)
    cache = tmp_path / "cache"
    assert build(script, cache) == 0
    assert build(script, cache, "--force") == 0
    return script, script.with_suffix(".pdf"), Path(str(script) + ".lock"), cache


def test_a_no_op_rebuild_searches_nothing_and_writes_nothing(tmp_path, searches, capsys):
    script, pdf, lock, cache = settled(tmp_path)
    before = state(pdf, lock)
    searches.clear()
    capsys.readouterr()
    assert build(script, cache) == 0
    assert searches == []
    assert state(pdf, lock) == before
    assert f"comicc: {pdf} is up to date" in capsys.readouterr().err
    # a comment and blank lines are no change either
    script.write_text("# a note to self\n\n" + SCRIPT)
    assert build(script, cache) == 0
    assert searches == []
    assert state(pdf, lock) == before


def test_force_writes_an_up_to_date_book_again(tmp_path, searches, capsys):
    script, pdf, lock, cache = settled(tmp_path)
    before = pdf.read_bytes()
    mtime = pdf.stat().st_mtime_ns
    searches.clear()
    assert build(script, cache, "--force") == 0
    assert searches == []  # the layout still comes from the memo
    assert pdf.read_bytes() == before and pdf.stat().st_mtime_ns != mtime
    assert "comicc: wrote" in capsys.readouterr().err


def test_one_changed_balloon_lays_out_only_its_page(tmp_path, searches):
    script, pdf, lock, cache = settled(tmp_path)
    searches.clear()
    script.write_text(SCRIPT.replace("Go away.", "Go away, cat."))
    assert build(script, cache) == 0
    assert len(searches) == 2  # the two panels of page 3, nothing else
    res = _result(script, cache)
    assert res.laid_out == (3,)
    # the same bytes as a build that lays every page out afresh (no memo), from
    # the same lock file
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(script, fresh / "story.comic")
    shutil.copy(lock, fresh / "story.comic.lock")
    shutil.copytree(cache / "art", fresh / "cache" / "art")
    assert build(fresh / "story.comic", fresh / "cache", "--force") == 0
    assert (fresh / "story.pdf").read_bytes() == pdf.read_bytes()
    assert (fresh / "story.comic.lock").read_bytes() == lock.read_bytes()


def _result(script: Path, cache: Path) -> Any:
    """The result of one more build (through the library): what it laid out."""
    from comicc.pipeline import BuildOptions
    from comicc.pipeline import build as build_book

    sink = Sink()
    res = check(script, sink)
    assert res is not None and res.script is not None
    opts = BuildOptions(
        output=str(script.with_suffix(".pdf")), cache_dir=str(cache), progress=False, force=True
    )
    result = build_book(res.script, res.theme, sink, opts)
    assert result is not None
    return result


def test_a_book_from_the_memo_is_the_book_laid_out_afresh(tmp_path):
    """Determinism: PDF and lock of a build whose every page comes from the
    memo equal those of a build that lays every page out (same lock file)."""
    script, pdf, lock, cache = settled(tmp_path)
    memo_pdf, memo_lock = pdf.read_bytes(), lock.read_bytes()
    shutil.rmtree(cache / "layout")
    assert build(script, cache, "--force") == 0
    assert pdf.read_bytes() == memo_pdf
    assert lock.read_bytes() == memo_lock


@pytest.mark.parametrize(
    "damage",
    [
        b"",
        b"{not json",
        b"[]",
        b'{"version": 1}',
        b"[" * 100_000 + b"]" * 100_000,
        b"\xff\xfe\x00garbage",
    ],
    ids=["empty", "not-json", "a-list", "no-body", "deep", "binary"],
)
def test_a_damaged_layout_memo_is_laid_out_again(tmp_path, searches, damage):
    script, pdf, lock, cache = settled(tmp_path)
    good = pdf.read_bytes()
    entries = sorted((cache / "layout").rglob("*.page"))
    assert len(entries) >= 3
    for entry in entries:
        entry.write_bytes(damage)
    searches.clear()
    assert build(script, cache, "--force") == 0
    assert len(searches) == 6  # every panel of every page
    assert pdf.read_bytes() == good


def test_a_plausible_but_altered_entry_is_not_used(tmp_path, searches):
    script, pdf, lock, cache = settled(tmp_path)
    good = pdf.read_bytes()
    for entry in (cache / "layout").rglob("*.page"):
        doc = json.loads(entry.read_bytes())
        doc["body"] = doc["body"].replace("5", "6", 1)  # the checksum no longer holds
        entry.write_text(json.dumps(doc))
    searches.clear()
    assert build(script, cache, "--force") == 0
    assert len(searches) == 6
    assert pdf.read_bytes() == good


def test_changing_the_theme_lays_out_every_page(tmp_path, searches):
    theme = tmp_path / "mine.toml"
    theme.write_text('name = "mine"\nextends = "classic"\n')
    text = SCRIPT.replace("dpi: 72", "dpi: 72\ntheme: mine.toml")
    script, pdf, lock, cache = settled(tmp_path, text)
    searches.clear()
    assert build(script, cache) == 0
    assert searches == []
    theme.write_text('name = "mine"\nextends = "classic"\n\n[gutters]\ntier = "0.3in"\n')
    assert build(script, cache) == 0
    assert len(searches) == 6


def test_a_deleted_or_changed_output_is_written_again(tmp_path, searches, capsys):
    script, pdf, lock, cache = settled(tmp_path)
    good = pdf.read_bytes()
    pdf.unlink()
    assert build(script, cache) == 0
    assert pdf.read_bytes() == good
    # changed in place, same size and modification time put back: still seen
    st = pdf.stat()
    pdf.write_bytes(good[:-10] + b"0123456789")
    os.utime(pdf, ns=(st.st_atime_ns, st.st_mtime_ns))
    capsys.readouterr()
    assert build(script, cache) == 0
    assert pdf.read_bytes() == good
    assert "comicc: wrote" in capsys.readouterr().err
    assert searches[-1:] == searches[-1:]  # (laid out or not, the book is right)


def test_a_deleted_lock_file_is_written_again(tmp_path):
    script, pdf, lock, cache = settled(tmp_path)
    good = lock.read_bytes()
    lock.unlink()
    assert build(script, cache) == 0
    assert lock.read_bytes() == good


def test_a_changed_option_is_no_no_op(tmp_path, capsys):
    script, pdf, lock, cache = settled(tmp_path)
    capsys.readouterr()
    assert build(script, cache, "--bleed") == 0
    assert "comicc: wrote" in capsys.readouterr().err
    assert build(script, cache, "--bleed") == 0
    assert "is up to date" in capsys.readouterr().err


def test_png_pages_are_up_to_date_too(tmp_path, capsys):
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    cache, out = tmp_path / "cache", tmp_path / "pages"
    args = ["build", str(script), "--format", "png", "-o", str(out), "--no-progress"]
    args += ["--cache-dir", str(cache)]
    assert cli.main(args) == 0
    assert cli.main(args) == 0
    pages = sorted(out.glob("page-*.png"))
    before = state(*pages)
    capsys.readouterr()
    assert cli.main(args) == 0
    assert "is up to date" in capsys.readouterr().err
    assert state(*pages) == before
    pages[1].unlink()
    assert cli.main(args) == 0
    assert "comicc: wrote" in capsys.readouterr().err
    assert pages[1].read_bytes() == before[1][0]


def test_warnings_of_an_up_to_date_book_point_at_the_lines_of_now(tmp_path, capsys):
    """A reused page's layout warnings are those of a fresh layout, at today's lines."""
    long = "\n".join(f"DOG: {'Words ' * 60}" for _ in range(8))
    text = SCRIPT.replace("DOG: Go away.", long)
    script, pdf, lock, cache = settled(tmp_path, text)
    capsys.readouterr()
    assert build(script, cache) == 0
    first = capsys.readouterr().err
    assert "warning[text-overflow]" in first
    script.write_text("# two more lines\n\n" + text)
    assert build(script, cache) == 0
    moved = capsys.readouterr().err
    assert moved.count("warning[text-overflow]") == first.count("warning[text-overflow]")
    lines = [i for i, t in enumerate(text.splitlines(), 1) if t.startswith("DOG: Words")]
    shown = [int(m) for m in re.findall(r"story\.comic:(\d+):", first)]
    now = [int(m) for m in re.findall(r"story\.comic:(\d+):", moved)]
    assert now == [n + 2 for n in shown]
    assert set(lines) & set(shown)  # the warnings do point at the long balloons


def test_the_stored_geometry_reads_back_equal_on_every_example():
    """Every page of the examples goes through the store's JSON and back unchanged."""
    import tempfile

    for path in sorted((ROOT / "examples").glob("*.comic")):
        sink = Sink()
        res = check(path, sink)
        assert res is not None and res.script is not None, path
        book = layout(res.script, res.theme, sink)
        assert book is not None
        fmt = resolve_format(res.theme, res.script.page_format)
        assert fmt is not None
        keys = page_keys(res.script, res.theme, fmt, {})
        with tempfile.TemporaryDirectory() as tmp:
            store = LayoutStore(tmp)
            for key, page in zip(keys, book.pages, strict=True):
                assert key is not None
                store.put(key, StoredPage(page, ()))
                got = store.get(key)
                assert got is not None and got.geom == page
                # exactly: ints stay ints, -0.0 stays -0.0 (sets compared sorted)
                assert canonical(got.geom) == canonical(page)


@pytest.mark.parametrize("output_format", ["png", "cbz"])
def test_one_changed_page_is_the_only_page_drawn_again(tmp_path, monkeypatch, output_format):
    """PNG pages and CBZ pages: after a one-page change only that page is drawn;
    the others are read back from the output, and the output is the one a
    build drawing every page writes."""
    from comicc.output import raster

    drawn: list[tuple[int, ...]] = []
    real = raster.render_page

    def counted(page: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.append(page.numbers)
        return real(page, *args, **kwargs)

    monkeypatch.setattr(raster, "render_page", counted)
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT)
    cache, out = tmp_path / "cache", tmp_path / f"book.{output_format}"
    args = ["build", str(script), "--format", output_format, "-o", str(out), "--no-progress"]
    args += ["--cache-dir", str(cache)]
    assert cli.main(args) == 0
    assert cli.main([*args, "--force"]) == 0
    drawn.clear()
    script.write_text(SCRIPT.replace("Go away.", "Go away, cat."))
    assert cli.main(args) == 0
    assert drawn == [(3,)]
    assert cli.main([*args, "--force"]) == 0  # page 3 keeps the balloon size now locked
    got = sorted(p.read_bytes() for p in out.glob("*.png")) if output_format == "png" else None
    whole = out.read_bytes() if output_format == "cbz" else None
    drawn.clear()
    shutil.rmtree(cache / "builds")  # no stamp: nothing to reuse, every page drawn afresh
    assert cli.main([*args, "--force"]) == 0
    assert len(drawn) == 3
    if output_format == "png":
        assert sorted(p.read_bytes() for p in out.glob("*.png")) == got
    else:
        assert out.read_bytes() == whole


def test_a_fifo_or_a_link_planted_in_the_cache_is_no_entry(tmp_path, searches):
    """The cache folder is not trusted: a FIFO in place of a layout entry or a
    build stamp is neither read nor written through (either would block the
    build), a link to a device is not read; the pages are laid out again, the
    book written, and the entries stored again in their place."""
    script, pdf, lock, cache = settled(tmp_path)
    good = pdf.read_bytes()
    for plant in (os.mkfifo, lambda p: p.symlink_to("/dev/zero")):
        for entry in [*(cache / "layout").rglob("*.page"), *(cache / "builds").iterdir()]:
            entry.unlink()
            plant(entry)
        searches.clear()
        assert build(script, cache) == 0
        assert len(searches) == 6
        assert pdf.read_bytes() == good
        searches.clear()
        assert build(script, cache) == 0  # stored again: a no-op
        assert searches == []


def test_voiced_captions_keep_their_colors_when_one_page_changes(tmp_path, searches):
    """A voiced caption's fill depends on where its speaker first speaks in the
    whole book: a page laid out alone must get the same colors as in a fresh
    layout of the book (else the whole book is laid out)."""
    text = SCRIPT.replace("DOG: Go away.", "DOG (CAPTION): Not again.\nDOG: Go away.")
    script, pdf, lock, cache = settled(tmp_path, text)
    counted = []
    for old, new in (("Not again.", "Not again, cat."), ("Knock, knock.", "Knock knock.")):
        text = text.replace(old, new)
        script.write_text(text)
        searches.clear()
        assert build(script, cache) == 0
        assert build(script, cache) == 0  # the lock file's new size, kept
        counted.append(len(searches))
        fresh = tmp_path / f"fresh-{len(new)}"
        fresh.mkdir()
        shutil.copy(script, fresh / "story.comic")
        shutil.copy(lock, fresh / "story.comic.lock")
        shutil.copytree(cache / "art", fresh / "cache" / "art")
        assert build(fresh / "story.comic", fresh / "cache", "--force") == 0
        assert (fresh / "story.pdf").read_bytes() == pdf.read_bytes()
    # page 3 holds the book's second voiced speaker, first heard there: laid out
    # alone it would take the first color, so the whole book is laid out (each
    # build that lays it out: the text, then perhaps the size now kept)
    assert counted[0] in (6, 12)
    # page 1 has no voiced caption: it is laid out alone
    assert counted[1] in (2, 4)
