"""The book plan equals the requests a build makes, counted on a local fake
Stability server: a cold build, a warm build (0), a typo fixed in a lettering
line (0), a snippet switched on in one panel (exactly that panel), and
`variants: 3` (the two new variants); the build's repaint reasons are the
plan's, and a budget below the plan refuses the build before any request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from comicc.diagnostics import Sink
from comicc.pipeline import BookPlan, BuildOptions, BuildResult, build, check, plan_book
from support.fakes_stability_openai import KEY, FakeStability
from support.servers import allow_local_key_hosts, base_url

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

SCRIPT = """\
title: Counting requests
backend: stability
stability.url: {url}
dpi: 72
seed: 7
snippet noir: film noir lighting, deep shadows
character MAYA: a lighthouse keeper in a yellow raincoat

PAGE 1

PANEL 1
MAYA climbs the spiral stairs.
1. MAYA: The lamp is out agian.

PANEL 2
The lamp room, glass everywhere.
2. CAPTION: Midnight.

PAGE 2

PANEL 1
The sea at night, waves on the rocks.
1. SFX: CRASH
"""


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch, tmp_path):
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    monkeypatch.setenv("STABILITY_API_KEY", KEY)
    allow_local_key_hosts(monkeypatch)


def options(tmp_path: Path, **kw: Any) -> BuildOptions:
    return BuildOptions(
        output=str(tmp_path / "book.pdf"),
        cache_dir=str(tmp_path / "cache"),
        progress=False,
        **kw,
    )


def plan_of(path: Path, tmp_path: Path) -> BookPlan:
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None, [d.message for d in sink.errors]
    planned = plan_book(res.script, res.theme, sink, options(tmp_path))
    assert planned is not None and not sink.has_errors(), [d.message for d in sink.errors]
    return planned[1]


def build_it(path: Path, tmp_path: Path, **kw: Any) -> tuple[BuildResult | None, Sink]:
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None, [d.message for d in sink.errors]
    return build(res.script, res.theme, sink, options(tmp_path, **kw)), sink


def planned_then_built(path: Path, tmp_path: Path, fake: FakeStability) -> tuple[BookPlan, int]:
    """The plan, then the number of requests the build made (its result checked)."""
    plan = plan_of(path, tmp_path)
    before = len(fake.seen)
    result, sink = build_it(path, tmp_path)
    fake.verify()
    assert result is not None, [d.message for d in sink.errors]
    made = len(fake.seen) - before
    assert result.painted == made
    # the build's repaint reasons are the plan's
    assert [(r.panel_id, r.variant, r.reasons) for r in result.repainted] == [
        (i.panel.id, i.variant, i.reasons) for i in plan.to_paint
    ]
    return plan, made


def painted(plan: BookPlan) -> list[str]:
    return [i.name for i in plan.to_paint]


def test_plan_equals_requests(httpserver, tmp_path):
    fake = FakeStability(httpserver)
    path = tmp_path / "story.comic"
    text = SCRIPT.format(url=base_url(httpserver))
    path.write_text(text, encoding="utf-8")

    # cold: every panel, at the backend's cost
    plan, made = planned_then_built(path, tmp_path, fake)
    assert made == len(plan.to_paint) == 3
    (stability,) = plan.backends
    assert (stability.paint, stability.cached, stability.unit) == (3, 0, "credits")
    assert stability.cost == 15 and stability.usd == pytest.approx(0.15)
    assert all(i.reasons == ("not painted yet (no lock file)",) for i in plan.to_paint)

    # warm: nothing
    plan, made = planned_then_built(path, tmp_path, fake)
    assert made == len(plan.to_paint) == 0 and not plan.paid

    # a typo fixed in a lettering line: the balloon keeps its shape, nothing repaints
    path.write_text(text.replace("agian", "again"), encoding="utf-8")
    plan, made = planned_then_built(path, tmp_path, fake)
    assert made == len(plan.to_paint) == 0

    # a snippet switched on in one panel: exactly that panel, and why
    text = text.replace("agian", "again")
    toggled = text.replace("The lamp room, glass everywhere.", "The lamp room, @noir.")
    path.write_text(toggled, encoding="utf-8")
    plan, made = planned_then_built(path, tmp_path, fake)
    assert made == 1 and painted(plan) == ["p1.2-v1"]
    assert "prompt: added `@noir`" in plan.to_paint[0].reasons

    # and off again: the old art is still in the cache
    path.write_text(text, encoding="utf-8")
    plan, made = planned_then_built(path, tmp_path, fake)
    assert made == len(plan.to_paint) == 0

    # three variants of one panel: the two new ones
    varied = text.replace("PANEL 1\nThe sea at night", "PANEL 1\nvariants: 3\nThe sea at night")
    path.write_text(varied, encoding="utf-8")
    plan, made = planned_then_built(path, tmp_path, fake)
    assert made == 2 and painted(plan) == ["p2.1-v2", "p2.1-v3"]
    assert plan.to_paint[0].reasons == ("variants 1 -> 3",)
    assert plan.backends[0].cost == 10

    # a new panel on page 2: it, and the panel whose box it shrinks (all 3 variants)
    grown = varied + "\nPANEL 2\nA gull on the railing.\n"
    path.write_text(grown, encoding="utf-8")
    plan, made = planned_then_built(path, tmp_path, fake)
    assert made == 4 and painted(plan) == ["p2.1-v1", "p2.1-v2", "p2.1-v3", "p2.2-v1"]
    assert plan.to_paint[-1].reasons == ("new panel",)
    assert all(i.reasons[0].startswith("panel size ") for i in plan.to_paint[:3])


def test_reasons_for_a_prompt_item_and_a_seed(httpserver, tmp_path):
    fake = FakeStability(httpserver)
    path = tmp_path / "story.comic"
    text = SCRIPT.format(url=base_url(httpserver))
    path.write_text(text, encoding="utf-8")
    planned_then_built(path, tmp_path, fake)
    edited = text.replace(
        "MAYA climbs the spiral stairs.\n", "MAYA climbs the spiral stairs.\nprompt: dutch angle\n"
    ).replace("seed: 7", "seed: 8")
    path.write_text(edited, encoding="utf-8")
    plan, made = planned_then_built(path, tmp_path, fake)
    assert made == 3
    reasons = {i.panel.id: i.reasons for i in plan.to_paint}
    assert reasons["p1.1"] == ("seed changed", "prompt: added `dutch angle`")
    assert reasons["p1.2"] == ("seed changed",)


def test_a_budget_below_the_plan_refuses_the_build(httpserver, tmp_path):
    fake = FakeStability(httpserver)
    path = tmp_path / "story.comic"
    text = SCRIPT.format(url=base_url(httpserver)).replace("dpi: 72", "dpi: 72\nbudget: 10")
    path.write_text(text, encoding="utf-8")
    result, sink = build_it(path, tmp_path)
    assert result is None and fake.seen == []
    (error,) = sink.errors
    assert error.code == "over-budget"
    assert error.span is not None and error.span.line == 5  # the `budget:` line
    assert "15 credits" in error.message and "5 credits more" in error.message
    # `--max-cost` wins over the script's budget
    result, sink = build_it(path, tmp_path, max_cost=15)
    assert result is not None and len(fake.seen) == 3
    fake.verify()


def test_the_paid_plan_is_shown_before_the_first_request(httpserver, tmp_path):
    fake = FakeStability(httpserver)
    path = tmp_path / "story.comic"
    path.write_text(SCRIPT.format(url=base_url(httpserver)), encoding="utf-8")
    seen: list[tuple[str, int]] = []

    def decline(plan: BookPlan) -> bool:
        seen.append((plan.one_line(), len(fake.seen)))
        return False

    result, sink = build_it(path, tmp_path, on_paid_plan=decline)
    assert result is None and fake.seen == []
    assert [d.code for d in sink.errors] == ["build-not-confirmed"]
    assert seen and seen[0][1] == 0
    assert seen[0][0].startswith("plan: stability: 3 to paint, 0 from cache, 15 credits")
