"""The check memo (:mod:`comicc.pipeline.checkmemo`) never changes a result: a
check with the memo warm reports exactly (same diagnostics, same order) what a
check with no cache at all reports, after any edit; an unchanged page is not
lowered again; the memo file is private, beside the parse cache, and a damaged
one is ignored."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comicc.diagnostics import Sink, render_human, render_json
from comicc.model import Lowerer
from comicc.pipeline import check
from comicc.pipeline.checkmemo import check_memoized, memo_path
from comicc.syntax.chunks import PARSE_CACHE_ENV

HEADER = """title: Memo
seed: 7
style: @ink
prompt:
  - a sign that says OPEN
character HAMMY: a chubby golden hamster
character BRUIN: a huge brown bear, a shirt reading POLICE
snippet ink: clean inks, the words "THE END"
snippet moon: cold blue moonlight
"""

PAGE = """
PAGE {n}
layout: 2/1

PANEL 1
cast: HAMMY left, BRUIN right
Wide shot of the kitchen. HAMMY peers at BRUIN.
prompt:
  - @moon
1. CAPTION: Midnight.
2. HAMMY (WHISPER): There it is... *aged* gouda.

PANEL 2
A close-up of a sign that says CLOSED. @moon
3. BRUIN (SHOUT): FREEZE! -- right there,
  you little thief.

PANEL 3
HAMMY: this was meant as lettering
4. SFX: KRAK
[[ letterer: keep the SFX small ]]
"""

# lines an edit may put anywhere: good ones, and every kind of mistake
LINES = [
    "",
    "A quiet room.",
    "A poster that reads WANTED in red letters.",
    "5. HAMMY: Hello?",
    "7. BRUIN (OFF): Who's there?",
    "BRUIN: no number here",
    "SFX:",
    "PAGE 3",
    "PAGES 4-5",
    "PAGE 9",
    "PANEL 2",
    "PANEL 7",
    "layout: 3/3/3",
    "layout: 1",
    "dpi: 1200",
    "dpi: 9000",
    "width: 2",
    "bleed: top, left",
    "backend: draft",
    "backend: nosuch",
    "stability.cfg_scale: 7",
    "nosuch.knob: 1",
    "variants: 2",
    "pick: 3",
    "seed: -1",
    "cast: HAMMY center, NOBODY left",
    "style: @ink, @nosuch",
    "prompt:",
    "  - @moon",
    "  - a banner saying HAPPY BIRTHDAY",
    "prompt!:",
    "  - just this",
    "snippet late: defined on a page",
    "character LATE: defined on a page",
    "format: manga",
    "format: 16x20in",
    "reading: rtl",
    "theme: nosuch",
    "negative: text",
    "/* a boneyard",
    "*/",
    "# a comment",
    "[[ a note ]]",
    "HAMMY (WHISPER, OFF): words words words words words words words words words words "
    "words words words words words words words words words words words words words words",
    "unknwn: setting",
    "PANEL ONE",
    "  an indented continuation",
    "3. HAMMY (: broken",
]


def _script(pages: int) -> str:
    return HEADER + "".join(PAGE.format(n=n) for n in range(1, pages + 1))


@contextmanager
def _cache(value: str) -> Iterator[None]:
    old = os.environ.get(PARSE_CACHE_ENV)
    os.environ[PARSE_CACHE_ENV] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[PARSE_CACHE_ENV]
        else:
            os.environ[PARSE_CACHE_ENV] = old


def _memo_check(path: Path, memo: Path) -> tuple[object, list[object], str, str]:
    sink = Sink()
    with _cache(str(memo)):
        sources = check_memoized(path, sink)
    return _result(sink, sources)


def _plain_check(path: Path) -> tuple[object, list[object], str, str]:
    sink = Sink()
    with _cache("off"):
        res = check(path, sink)
    return _result(sink, None if res is None else res.sources)


def _result(sink: Sink, sources: dict | None) -> tuple[object, list[object], str, str]:
    diags = sink.sorted()
    keys = None if sources is None else sorted(sources)
    human = render_human(diags, sources or {}, color=False)
    return keys, list(sink.diagnostics), human, render_json(diags)


edits = st.lists(
    st.tuples(
        st.sampled_from(["replace", "insert", "delete", "append"]),
        st.floats(min_value=0, max_value=1, allow_nan=False),
        st.sampled_from(LINES),
    ),
    min_size=1,
    max_size=4,
)


@settings(deadline=None)
@given(pages=st.integers(min_value=1, max_value=4), steps=edits)
def test_a_warm_memo_checks_every_edit_as_an_empty_cache_does(
    tmp_path_factory: pytest.TempPathFactory, pages: int, steps: list[tuple[str, float, str]]
) -> None:
    tmp = tmp_path_factory.mktemp("memo")
    path, memo = tmp / "book.comic", tmp / "cache"
    lines = _script(pages).splitlines()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _memo_check(path, memo) == _plain_check(path)  # the memo is written
    for what, where, line in steps:
        at = int(where * len(lines))
        if what == "replace" and at < len(lines):
            lines[at] = line
        elif what == "delete" and at < len(lines):
            del lines[at]
        elif what == "append":
            lines.append(line)
        else:
            lines.insert(at, line)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        warm = _memo_check(path, memo)
        assert warm == _plain_check(path)
        assert _memo_check(path, memo) == warm  # and again, all of it from the memo


def test_a_script_in_the_memo_lowers_no_page_and_an_edit_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, memo = tmp_path / "book.comic", tmp_path / "cache"
    text = _script(12)
    path.write_text(text, encoding="utf-8")
    lowered: list[int] = []
    real = Lowerer.page

    def page(self: Lowerer, node: object) -> object:
        lowered.append(node.head.numbers[0].value)  # type: ignore[attr-defined]
        return real(self, node)  # type: ignore[arg-type]

    monkeypatch.setattr(Lowerer, "page", page)
    first = _memo_check(path, memo)
    assert sorted(lowered) == list(range(1, 13))
    lowered.clear()
    assert _memo_check(path, memo) == first and lowered == []
    # one line longer on page 4: page 4 is lowered again, every later page moves
    path.write_text(text.replace("PAGE 4\n", "PAGE 4\nA new first line.\n"), encoding="utf-8")
    edited = _memo_check(path, memo)
    assert lowered == [4]
    monkeypatch.setattr(Lowerer, "page", real)
    assert edited == _plain_check(path)


def test_the_memo_file_is_private_beside_the_parse_cache(tmp_path: Path) -> None:
    path, memo = tmp_path / "book.comic", tmp_path / "cache"
    path.write_text(_script(3), encoding="utf-8")
    _memo_check(path, memo)
    kept = memo_path(memo, str(path))
    assert kept.parent == memo and kept.name.endswith(".check.json")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert kept.stat().st_size < 40 * path.stat().st_size


@pytest.mark.parametrize(
    "damage",
    [b"", b"not json", b'{"key": "other"}', b"[1, 2]", None],
    ids=["empty", "garbage", "foreign", "shape", "rewritten"],
)
def test_a_damaged_memo_is_ignored(tmp_path: Path, damage: bytes | None) -> None:
    path, memo = tmp_path / "book.comic", tmp_path / "cache"
    path.write_text(_script(3), encoding="utf-8")
    want = _memo_check(path, memo)
    kept = memo_path(memo, str(path))
    if damage is None:  # the right key, every value of the wrong type
        text = kept.read_text(encoding="utf-8")
        head, _, _ = text.partition('"header"')
        damage = (head + '"header":7,"pages":{"x":1},"geometry":[]}').encode()
    kept.write_bytes(damage)
    assert _memo_check(path, memo) == want == _plain_check(path)


def test_a_memo_another_user_could_write_is_not_read(tmp_path: Path) -> None:
    path, memo = tmp_path / "book.comic", tmp_path / "cache"
    path.write_text(_script(2).replace("PAGE 2", "PAGE 5"), encoding="utf-8")
    want = _memo_check(path, memo)
    kept = memo_path(memo, str(path))
    planted = kept.read_text(encoding="utf-8").replace("dpi has more", "PLANTED")
    assert "PLANTED" not in planted  # nothing to plant there: plant a message
    planted = kept.read_text(encoding="utf-8").replace("no panels", "PLANTED")
    planted = planted.replace("skip from", "PLANTED").replace("inside a snippet", "PLANTED")
    planted = planted.replace("the image prompt asks", "PLANTED")
    assert "PLANTED" in planted
    kept.write_text(planted, encoding="utf-8")
    kept.chmod(0o666)
    assert _memo_check(path, memo) == want == _plain_check(path)


def _cli(args: list[str], cache: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from comicc.cli import main

    with _cache(cache):
        code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("fmt", [[], ["--format", "json"], ["--format", "short", "--strict"]])
def test_several_scripts_at_once_print_what_they_print_without_the_memo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: list[str]
) -> None:
    """The second script's word and geometry checks see the first one's errors,
    and a script named twice sees its own warnings: as without the memo."""
    broken, good = tmp_path / "broken.comic", tmp_path / "good.comic"
    broken.write_text(_script(2).replace("PAGE 2", "PAGE 3"), encoding="utf-8")
    good_text = (
        _script(3)
        .replace("4. SFX", "5. SFX")
        .replace("you little thief.", "you little thief" + " and more words" * 10 + ".")
        .replace("seed: 7\n", "seed: 7\nformat: 16x20in\n")
        .replace("PAGE 2\n", "PAGE 2\ndpi: 1200\n")  # a panel too large to paint
    )
    good.write_text(good_text, encoding="utf-8")
    memo = str(tmp_path / "cache")
    for files in ([broken, good], [good, broken], [good, good], [good]):
        args = ["check", "--color", "never", *fmt, *map(str, files)]
        want = _cli(args, "off", capsys)
        assert _cli(args, memo, capsys) == want  # the memo is written
        assert _cli(args, memo, capsys) == want  # and read
