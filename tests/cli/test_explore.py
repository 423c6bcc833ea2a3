"""`comicc explore` against a local fake Stability server: the requests equal
the plan (the cell equal to the built script comes from the cache), a second
run sends none, the contact sheet is a PNG with one lettered, labelled cell
per combination, `--apply` switches exactly the flipped lines, and the cap,
an unknown toggle and a cost over `--max-cost` are refused before any request."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from comicc.cli import main
from comicc.diagnostics import Sink
from comicc.pipeline import BuildOptions, build, check, plan_book
from comicc.pipeline.explore import (
    ExploreError,
    ExplorePlan,
    contact_sheet,
    plan_explore,
    run_explore,
    sheet_layout,
)
from support.fakes_stability_openai import KEY, FakeStability
from support.servers import allow_local_key_hosts, base_url

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SCRIPT = """\
title: Exploring
backend: stability
stability.url: {url}
dpi: 72
seed: 7
snippet noir: film noir lighting, deep shadows
character MAYA: a lighthouse keeper in a yellow raincoat

PAGE 1

PANEL 1
MAYA climbs the spiral stairs.
prompt:
  - @noir
  # - dutch angle
  - wet stone
1. MAYA: The lamp is out again.

PANEL 2
The lamp room, glass everywhere.
2. CAPTION: Midnight.
"""


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch, tmp_path):
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    monkeypatch.setenv("STABILITY_API_KEY", KEY)
    allow_local_key_hosts(monkeypatch)


@pytest.fixture
def story(httpserver, tmp_path) -> tuple[Path, FakeStability]:
    fake = FakeStability(httpserver)
    path = tmp_path / "story.comic"
    path.write_text(SCRIPT.format(url=base_url(httpserver)), encoding="utf-8")
    return path, fake


def options(tmp_path: Path, **kw: Any) -> BuildOptions:
    return BuildOptions(
        output=str(tmp_path / "book.pdf"), cache_dir=str(tmp_path / "cache"), progress=False, **kw
    )


def build_it(path: Path, tmp_path: Path) -> None:
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None
    assert build(res.script, res.theme, sink, options(tmp_path)) is not None, sink.errors


def test_explore_sends_what_it_plans_and_a_rerun_sends_nothing(story, tmp_path):
    path, fake = story
    build_it(path, tmp_path)
    assert len(fake.seen) == 2
    plan = plan_explore(path, "1.1", ["@noir", "dutch angle"], options=options(tmp_path))
    assert [c.label for c in plan.cells] == [
        "@noir ON · dutch angle ON",
        "@noir ON · dutch angle OFF",
        "@noir OFF · dutch angle ON",
        "@noir OFF · dutch angle OFF",
    ]
    # the cell equal to the script is the build's art
    assert [(c.current, c.cached) for c in plan.cells] == [
        (False, False),
        (True, True),
        (False, False),
        (False, False),
    ]
    assert (plan.requests, plan.cost, plan.currency) == (3, 15, "credits")
    asked: list[ExplorePlan] = []

    def confirm(p: ExplorePlan) -> bool:
        asked.append(p)
        assert len(fake.seen) == 2  # asked before the first request
        return True

    done = run_explore(plan, progress=False, confirm=confirm)
    fake.verify()
    assert len(asked) == 1 and len(fake.seen) == 2 + plan.requests and done.painted == 3
    assert all(c.image is not None and c.image.is_file() for c in done.cells)
    prompts = [s.fields["prompt"] for s in fake.seen[2:]]
    assert sum("dutch angle" in p for p in prompts) == 2
    assert sum("film noir" in p for p in prompts) == 1
    # again: everything is cached, nothing is sent, nothing is asked
    again = plan_explore(path, "1.1", ["@noir", "dutch angle"], options=options(tmp_path))
    assert again.requests == 0 and again.cost == 0 and all(c.cached for c in again.cells)
    run_explore(again, progress=False, confirm=confirm)
    assert len(fake.seen) == 5 and len(asked) == 1
    # the script itself was not touched
    assert path.read_text(encoding="utf-8") == SCRIPT.format(url=base_url(fake.server))


def test_the_contact_sheet_has_one_labelled_lettered_cell_each(story, tmp_path):
    path, _ = story
    plan = plan_explore(path, "1.1", ["@noir", "dutch angle"], options=options(tmp_path))
    done = run_explore(plan, progress=False)
    sheet = contact_sheet(done, width=200)
    first = Image.open(done.cells[0].image)  # type: ignore[arg-type]
    height = round(200 * first.height / first.width)
    geo = sheet_layout(done, (200, height), 2)  # at 200 px the labels take two lines
    assert sheet.size == geo.size and len(geo.boxes) == 4
    (l0, t0, *_), (l1, t1, *_), (l2, t2, *_), _ = geo.boxes
    assert t0 == t1 < t2 and l0 == l2 < l1  # two by two
    for box, at in zip(geo.boxes, geo.labels, strict=True):
        art = sheet.crop(box).convert("L")
        assert min(art.getdata()) < 200  # the art is there (the fake's colour)
        label = sheet.crop((at[0], at[1], box[2], at[1] + 16)).convert("L")
        assert min(label.getdata()) < 100  # dark type: the label
        # lettered: the balloon's white body is drawn over the art
        assert max(art.getdata()) > 240


def test_the_command_prints_the_plan_writes_the_sheet_and_applies_a_cell(story, tmp_path, capsys):
    path, fake = story
    cache = str(tmp_path / "cache")
    args = ["explore", str(path), "1.1", "-t", "@noir", "-t", "dutch angle", "--cache-dir", cache]
    # paid, without --yes and without a terminal: the plan's line, no question, no block
    assert main([*args, "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "comicc: explore p1.1: 4 cells, 4 to paint, 0 from cache, 20 credits\n" in err
    assert "[y/N]" not in err
    assert out.splitlines()[0] == "explore p1.1 of story.comic: 2 toggles, 4 cells"
    assert "   2  @noir ON · dutch angle OFF   paint (5 credits)  (the script now)" in out
    assert "plan: 4 cells, 4 to paint, 0 from cache, 20 credits" in out
    sheet = tmp_path / "story-1.1-explore.png"
    assert f"wrote {sheet}: 4 cells; painted 4, 0 from the cache" in err
    with Image.open(sheet) as im:
        assert im.format == "PNG"
    assert len(fake.seen) == 4
    # elsewhere, again: nothing painted
    other = tmp_path / "out" / "grid.png"
    assert main([*args, "--sheet", str(other)]) == 0
    assert other.is_file() and len(fake.seen) == 4
    assert "painted 0, 4 from the cache" in capsys.readouterr().err
    # choose cell 3 (@noir OFF, dutch angle ON): exactly those two lines change
    before = path.read_text(encoding="utf-8")
    assert main([*args, "--apply", "3"]) == 0
    after = path.read_text(encoding="utf-8")
    diff = [d for d in difflib.ndiff(before.splitlines(), after.splitlines()) if d[:1] in "+-"]
    assert diff == ["-   - @noir", "+   # - @noir", "-   # - dutch angle", "+   - dutch angle"]
    assert len(fake.seen) == 4  # --apply paints nothing
    assert main([*args, "--apply", "on,off"]) == 0
    assert path.read_text(encoding="utf-8") == before


def test_over_the_cap_says_how_many_and_the_flag(story, tmp_path, capsys):
    path, fake = story
    args = ["explore", str(path), "1.1", "-t", "@noir", "-t", "dutch angle", "-t", "wet stone"]
    assert main([*args, "--cap", "4"]) == 2
    err = capsys.readouterr().err
    assert "3 toggles make 8 cells, more than the cap of 4" in err and "--cap 8" in err
    with pytest.raises(ExploreError, match="--cap 8"):
        plan_explore(path, "1.1", ["@noir", "dutch angle", "wet stone"], cap=4)
    assert fake.seen == []


def test_an_unknown_toggle_is_a_diagnostic_at_the_panel(story, capsys):
    path, fake = story
    assert main(["explore", str(path), "1.1", "-t", "@nior", "--color", "never"]) == 1
    err = capsys.readouterr().err
    assert "error[unknown-toggle]: panel 1.1 has no prompt item or style snippet `@nior`" in err
    assert f"--> {path}:11:1" in err
    assert "11 | PANEL 1\n   | ^^^^^^^ the panel explored" in err
    assert "did you mean `@noir`?" in err and "`dutch angle`" in err
    assert fake.seen == []
    assert main(["explore", str(path), "3.1", "-t", "@noir"]) == 2
    assert "no panel 3.1" in capsys.readouterr().err


def test_a_cost_over_max_cost_paints_nothing(story, tmp_path, capsys):
    path, fake = story
    args = ["explore", str(path), "1.1", "-t", "@noir", "--cache-dir", str(tmp_path / "c")]
    assert main([*args, "--max-cost", "5"]) == 1
    assert "would cost 10 credits: 5 credits more than the limit of 5" in capsys.readouterr().err
    assert fake.seen == [] and not (tmp_path / "story-1.1-explore.png").exists()
    # the sheet may not go over the script: refused before any request
    before = path.read_bytes()
    assert main([*args, "--sheet", str(path)]) == 1
    assert "it is the script" in capsys.readouterr().err
    assert fake.seen == [] and path.read_bytes() == before


def test_a_panel_with_variants_explores_its_picked_one(tmp_path):
    path = tmp_path / "draft.comic"
    path.write_text(
        "title: Variants\ndpi: 72\n\nPAGE 1\n\nPANEL 1\nvariants: 2\npick: 2\nA harbour.\n"
        "prompt:\n  - rain\n",
        encoding="utf-8",
    )
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None
    planned = plan_book(res.script, res.theme, sink, options(tmp_path))
    assert planned is not None
    (picked,) = [i for i in planned[1].images if i.picked]
    plan = plan_explore(path, "1.1", ["rain"], options=options(tmp_path))
    assert [c.current for c in plan.cells] == [True, False]
    assert plan.cells[0].cache_key == picked.plan.cache_key and picked.variant == 2
    assert plan.requests == 2 and plan.currency == "" and plan.cost == 0
