"""`comicc plan` and the budget through the command line: per backend what a
build paints and costs (with the money estimate, its source and date), no
request sent; `budget:` checked like every setting; `build` prints the plan
before paying and refuses a plan over `--max-cost` / `budget:`."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from comicc import cli
from comicc.commands.plan import paid_plan_prompt
from comicc.diagnostics import Sink
from comicc.pipeline import BuildOptions, check, plan_book
from support.fakes_stability_openai import KEY, FakeStability
from support.servers import allow_local_key_hosts, base_url, closed_port

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SCRIPT = """\
title: Planned
backend: stability
stability.url: {url}
dpi: 72
{budget}
PAGE 1

PANEL 1
A lighthouse in the storm.
1. CAPTION: Night.

PANEL 2
The lamp room.
2. CAPTION: Later.
"""


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch, tmp_path):
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    monkeypatch.delenv("STABILITY_API_KEY", raising=False)
    allow_local_key_hosts(monkeypatch)


def write(tmp_path: Path, url: str, budget: str = "") -> Path:
    path = tmp_path / "story.comic"
    path.write_text(SCRIPT.format(url=url, budget=budget), encoding="utf-8")
    return path


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_needs_no_network_and_no_key(capsys, tmp_path):
    path = write(tmp_path, f"http://127.0.0.1:{closed_port()}")
    code, out, err = run(capsys, "plan", path)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "stability: 2 to paint, 0 from cache: 10 credits"
    assert lines[1].startswith("  about 0.10 USD, an estimate (5 credits per inpaint call")
    assert "platform.stability.ai/pricing" in lines[1] and "2026-06" in lines[1]
    assert lines[2:] == [
        "  p1.1: not painted yet (no lock file)",
        "  p1.2: not painted yet (no lock file)",
    ]


def test_plan_json(capsys, tmp_path):
    path = write(tmp_path, f"http://127.0.0.1:{closed_port()}", "budget: 25")
    code, out, err = run(capsys, "plan", path, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["version"] == 1 and doc["paid"] is True
    assert doc["budget"] == {"amount": 25.0, "line": 5}
    (backend,) = doc["backends"]
    assert {k: backend[k] for k in ("backend", "paint", "cached", "cost", "unit")} == {
        "backend": "stability",
        "paint": 2,
        "cached": 0,
        "cost": 10.0,
        "unit": "credits",
    }
    assert backend["estimate"]["usd"] == 0.1 and backend["estimate"]["as_of"] == "2026-06"
    assert [(i["panel"], i["variant"], i["state"]) for i in doc["images"]] == [
        ("p1.1", 1, "paint"),
        ("p1.2", 1, "paint"),
    ]


def test_the_budget_line_in_the_plan(capsys, tmp_path):
    path = write(tmp_path, f"http://127.0.0.1:{closed_port()}", "budget: 6")
    code, out, _ = run(capsys, "plan", path)
    assert code == 0
    assert out.splitlines()[-1] == (
        "budget 6 (line 5): stability is 4 credits over it; `comicc build` will refuse to start"
    )


@pytest.mark.parametrize("value", ["lots", "-3", "2000000", "1e3"])
def test_a_bad_budget_is_an_error_at_its_line(capsys, tmp_path, value):
    path = write(tmp_path, "http://127.0.0.1:9", f"budget: {value}")
    code, _, err = run(capsys, "check", path, "--diagnostics", "short")
    assert code == 1
    assert "story.comic:5:9: error[bad-value]: `budget` is the most a build may cost" in err


@pytest.mark.parametrize("value", ["-1", "nan", "abc", "2e6"])
def test_max_cost_is_checked_like_the_setting(capsys, tmp_path, value):
    path = write(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(SystemExit) as e:
        cli.main(["build", str(path), "--max-cost", value])
    assert e.value.code == 2
    assert "--max-cost" in capsys.readouterr().err


def test_build_prints_the_plan_then_refuses_or_pays(capsys, httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("STABILITY_API_KEY", KEY)
    fake = FakeStability(httpserver)
    path = write(tmp_path, base_url(httpserver), "budget: 6")
    cache = tmp_path / "cache"
    code, _, err = run(capsys, "build", path, "--no-progress", "--cache-dir", cache)
    assert code == 1 and fake.seen == []
    assert "error[over-budget]: this build would cost 10 credits on stability: " in err
    assert "4 credits more than the script's `budget:` of 6" in err
    assert "story.comic:5:9" in err
    # --max-cost wins; not a terminal: the plan is printed and the build goes on
    code, _, err = run(
        capsys, "build", path, "--no-progress", "--cache-dir", cache, "--max-cost", "10"
    )
    assert code == 0, err
    assert "comicc: plan: stability: 2 to paint, 0 from cache, 10 credits" in err
    assert len(fake.seen) == 2
    fake.verify()
    # nothing to pay: nothing printed, nothing asked
    code, _, err = run(capsys, "build", path, "--no-progress", "--cache-dir", cache)
    assert code == 0 and "plan:" not in err and len(fake.seen) == 2


class Terminal(io.StringIO):
    """A terminal as the question sees it: isatty() is True."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("command", "answer", "yes", "goes_on", "asked"),
    [
        ("build", "y\n", False, True, True),
        ("build", "\n", False, False, True),  # the default is No
        ("build", "", False, False, True),  # end of input: No
        ("build", "", True, True, False),  # --yes: never asked
        ("watch", "", False, True, False),  # watch never asks
    ],
)
def test_a_terminal_is_asked_once(monkeypatch, tmp_path, command, answer, yes, goes_on, asked):
    path = write(tmp_path, f"http://127.0.0.1:{closed_port()}")
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None
    planned = plan_book(res.script, res.theme, sink, BuildOptions())
    assert planned is not None
    err = Terminal()
    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    monkeypatch.setattr(sys, "stderr", err)
    confirm = paid_plan_prompt(argparse.Namespace(command=command, yes=yes))
    assert confirm(planned[1]) is goes_on
    assert err.getvalue().startswith("comicc: plan: stability: 2 to paint")
    assert ("paint these images? [y/N]" in err.getvalue()) is asked
