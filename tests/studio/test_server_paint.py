"""Paid painting in the studio, counted on a local fake Stability server: the
studio never paints paid art on its own (it shows the plan: pending images and
their cost); a confirmed paint sends exactly the plan's requests; "paint N
more" shows its plan, then writes `variants:` (one line) and sends exactly
that many; every second run sends nothing. Explore from the studio: its plan,
then exactly that many requests, then none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.fakes_stability_openai import KEY, FakeStability
from support.servers import allow_local_key_hosts, base_url
from support.studio import RunningStudio, studio_server

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

SCRIPT = """\
title: Paid Pages
backend: stability
stability.url: {url}
dpi: 72
seed: 7
snippet noir: film noir lighting, deep shadows

PAGE 1

PANEL 1
A lighthouse keeper climbs the spiral stairs.
1. KEEPER: The lamp is out again.

PANEL 2
The lamp room, glass everywhere.
prompt:
  - @noir
  - dutch angle
2. CAPTION: Midnight.
"""


@pytest.fixture
def fake(httpserver, monkeypatch, tmp_path) -> FakeStability:
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    monkeypatch.setenv("STABILITY_API_KEY", KEY)
    allow_local_key_hosts(monkeypatch)
    return FakeStability(httpserver)


@pytest.fixture
def running(fake, httpserver, tmp_path) -> Iterator[RunningStudio]:
    with studio_server(tmp_path, SCRIPT.format(url=base_url(httpserver))) as s:
        yield s


def test_paid_art_waits_for_a_confirmed_plan(running, fake):
    book = running.wait_version(1)
    pending = book["status"]["pending_paint"]
    assert pending["panels"] == ["1.1", "1.2"] and pending["images"] == 2
    assert (pending["cost"], pending["currency"]) == (10, "credits")
    assert fake.seen == []  # nothing sent without a click
    assert book["pages"], "the pages show (without art) while the plan waits"

    plan = running.post("api/paint", {"confirm": False}).json()["plan"]
    assert plan == pending and fake.seen == []

    r = running.post("api/paint", {"confirm": True})
    assert r.status_code == 200, r.text
    fake.verify()
    assert len(fake.seen) == pending["images"]
    book = running.wait_version(book["version"] + 1)
    assert book["status"]["pending_paint"] is None
    doc = running.get("/api/panel/1.1").json()
    assert doc["variants"][0]["cached"]

    # a second run sends nothing
    r = running.post("api/paint", {"confirm": True})
    assert r.status_code == 200 and len(fake.seen) == pending["images"]


def test_paint_more_sends_exactly_its_plan(running, fake):
    running.wait_version(1)
    running.post("api/paint", {"confirm": True})
    sent = len(fake.seen)
    assert sent == 2
    before = running.script.read_text(encoding="utf-8")

    r = running.post("api/variants", {"panel": "1.2", "count": 3, "confirm": False})
    plan = r.json()["plan"]
    assert plan == {"requests": 2, "cost": 10, "currency": "credits"}
    assert len(fake.seen) == sent and running.script.read_text(encoding="utf-8") == before

    r = running.post("api/variants", {"panel": "1.2", "count": 3, "confirm": True})
    assert r.status_code == 200, r.text
    fake.verify()
    assert len(fake.seen) == sent + plan["requests"]
    after = running.script.read_text(encoding="utf-8")
    new = [line for line in after.splitlines() if line not in before.splitlines()]
    assert new == ["variants: 3"] and len(after.splitlines()) == len(before.splitlines()) + 1
    book = running.wait_version(1)
    assert book["status"]["pending_paint"] is None
    doc = running.get("/api/panel/1.2").json()
    assert [v["cached"] for v in doc["variants"]] == [True, True, True]
    for v in doc["variants"]:
        assert running.get(v["image"]).status_code == 200

    # again: the plan is empty and nothing is sent
    again = running.post("api/variants", {"panel": "1.2", "count": 3, "confirm": False})
    assert again.json()["plan"]["requests"] == 0
    running.post("api/variants", {"panel": "1.2", "count": 3, "confirm": True})
    assert len(fake.seen) == sent + plan["requests"]


def test_explore_sends_exactly_its_plan(running, fake):
    running.wait_version(1)
    body = {"panel": "1.2", "toggles": ["@noir", "dutch angle"], "confirm": False}
    plan = running.post("api/explore", body).json()["plan"]
    assert len(plan["cells"]) == 4 and plan["requests"] == 4 and fake.seen == []

    done = running.post("api/explore", {**body, "confirm": True})
    assert done.status_code == 200, done.text
    fake.verify()
    assert len(fake.seen) == plan["requests"]
    cells = done.json()["cells"]
    assert len(cells) == 4
    for cell in cells:
        assert running.get(cell["image"]).content[:4] == b"\x89PNG"
    assert running.get(done.json()["sheet"]).status_code == 200

    again = running.post("api/explore", {**body, "confirm": True})
    assert again.status_code == 200 and len(fake.seen) == plan["requests"]
    assert running.post("api/explore", body).json()["plan"]["requests"] == 0

    # choosing a cell writes its states into the script: "dutch angle" off
    before = running.script.read_text(encoding="utf-8")
    states = {"@noir": True, "dutch angle": False}
    r = running.post("api/explore/apply", {"panel": "1.2", "states": states})
    assert r.status_code == 200, r.text
    after = running.script.read_text(encoding="utf-8")
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert changed == [("  - dutch angle", "  # - dutch angle")] or (
        len(changed) == 1 and changed[0][1].lstrip().startswith("#")
    )


def test_a_paint_past_the_budget_sends_nothing(fake, httpserver, tmp_path):
    script = SCRIPT.format(url=base_url(httpserver)).replace("seed: 7\n", "seed: 7\nbudget: 5\n")
    with studio_server(tmp_path, script) as s:
        book = s.wait_version(1)
        assert book["status"]["pending_paint"]["cost"] == 10
        s.post("api/paint", {"confirm": True})
        book = s.wait_version(book["version"] + 1)
        assert fake.seen == []
        (error,) = [d for d in book["diagnostics"] if d["code"] == "over-budget"]
        assert error["line"] == 6 and "budget" in error["message"]
        # one panel at a time fits: "paint more" on 1.1 paints its one image
        r = s.post("api/variants", {"panel": "1.1", "count": 1, "confirm": True})
        assert r.status_code == 200 and len(fake.seen) == 1


def test_a_plan_that_changed_since_it_was_shown_is_not_painted(running, fake):
    book = running.wait_version(1)
    shown = book["status"]["pending_paint"]["cost"]
    r = running.post("api/paint", {"confirm": True, "cost": shown + 5})
    assert r.status_code == 409 and "changed" in r.json()["error"]
    r = running.post("api/variants", {"panel": "1.2", "count": 2, "confirm": True, "cost": 99})
    assert r.status_code == 409 and fake.seen == []
    assert "variants: 2" not in running.script.read_text(encoding="utf-8")
    assert running.post("api/paint", {"confirm": True, "cost": shown}).status_code == 200
    assert len(fake.seen) == 2
