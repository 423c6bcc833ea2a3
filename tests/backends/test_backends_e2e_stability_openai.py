"""End to end: examples/heist.comic built with the Stability and OpenAI
backends against fake servers on 127.0.0.1, checked with pypdf; and bad
configuration caught with a diagnostic at the right line BEFORE any request."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest

from comicc.diagnostics import Sink
from comicc.pipeline import BuildOptions, build, check
from support import ROOT
from support.fakes_stability_openai import KEY, FakeOpenAI, FakeStability
from support.servers import allow_local_key_hosts, base_url

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

HEIST = ROOT / "examples" / "heist.comic"
LETTERING = ("MIDNIGHT", "FORTYPOUNDSOFAGEDGOUDA", "TONIGHT", "FREEZE", "CLICK")


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch, tmp_path):
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    monkeypatch.delenv("STABILITY_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    allow_local_key_hosts(monkeypatch)  # the fakes listen on 127.0.0.1


def script(tmp_path: Path, backend: str, *extra: str) -> tuple[Path, list[str]]:
    """heist.comic with `backend: draft` switched to ``backend`` plus ``extra`` header lines."""
    lines = HEIST.read_text(encoding="utf-8").splitlines()
    i = lines.index("backend: draft")
    lines[i : i + 1] = [f"backend: {backend}", *extra]
    path = tmp_path / "heist.comic"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, lines


def run(path: Path, tmp_path: Path):
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None and not sink.has_errors(), [
        (d.code, d.message) for d in sink.errors
    ]
    out = tmp_path / "heist.pdf"
    result = build(
        res.script,
        res.theme,
        sink,
        BuildOptions(output=str(out), cache_dir=str(tmp_path / "cache"), progress=False, dpi=100),
    )
    return result, sink, out


def pdf_text(out: Path) -> tuple[int, str]:
    reader = pypdf.PdfReader(out)
    text = "".join(p.extract_text() for p in reader.pages)
    return len(reader.pages), re.sub(r"\s+", "", text).upper()


def line_of(lines: list[str], text: str) -> int:
    return lines.index(text) + 1


# ------------------------------------------------------------------ builds
def test_heist_with_stability(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("STABILITY_API_KEY", KEY)
    fake = FakeStability(httpserver, out_size=(1024, 1024))
    path, _ = script(
        tmp_path,
        "stability",
        f"stability.url: {base_url(httpserver)}",
        "stability.style_preset: comic-book",
    )
    result, sink, out = run(path, tmp_path)
    fake.verify()
    assert result is not None, [(d.code, d.message) for d in sink.errors]
    assert result.panels == 3 and result.painted == 3 and len(fake.seen) == 3
    assert not [d for d in sink.diagnostics if d.code == "mask-ignored"]
    for seen in fake.seen:
        f = seen.fields
        assert f["grow_mask"] == "0" and f["style_preset"] == "comic-book"
        assert "watermark" in f["negative_prompt"] and "gouda" not in f["prompt"].lower()
    assert len({s.fields["seed"] for s in fake.seen}) == 3
    pages, text = pdf_text(out)
    assert pages == result.pages == 1
    for words in LETTERING:
        assert words in text, words
    # rebuilding is free: every panel comes from the cache
    result2, _, _ = run(path, tmp_path)
    assert result2.cached == 3 and len(fake.seen) == 3
    lock = tmp_path / "heist.comic.lock"
    assert lock.exists() and KEY not in lock.read_text()


def test_heist_with_openai(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    fake = FakeOpenAI(httpserver)
    path, _ = script(
        tmp_path, "openai", f"openai.url: {base_url(httpserver)}", "openai.quality: low"
    )
    result, sink, out = run(path, tmp_path)
    fake.verify()
    assert result is not None, [(d.code, d.message) for d in sink.errors]
    assert result.painted == 3 and len(fake.seen) == 3
    assert {s.fields["size"] for s in fake.seen} <= {"1024x1024", "1536x1024", "1024x1536"}
    assert all(
        s.fields["quality"] == "low" and s.fields["model"] == "gpt-image-1" for s in fake.seen
    )
    # the negative prompt was dropped with a warning, not silently
    assert any(d.code == "backend-limitation" and "negative" in d.message for d in sink.warnings)
    pages, text = pdf_text(out)
    assert pages == 1 and all(w in text for w in LETTERING)
    for cached in (tmp_path / "cache").rglob("*"):
        if cached.is_file():
            assert KEY.encode() not in cached.read_bytes()


# ----------------------------------------------------- configuration errors
def test_unknown_setting_points_at_its_line_before_any_request(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("STABILITY_API_KEY", KEY)
    fake = FakeStability(httpserver)
    path, lines = script(
        tmp_path,
        "stability",
        f"stability.url: {base_url(httpserver)}",
        "stability.style_presets: comic-book",
    )
    result, sink, _ = run(path, tmp_path)
    assert result is None
    [d] = [d for d in sink.errors if d.code == "backend-setting"]
    assert d.span.line == line_of(lines, "stability.style_presets: comic-book")
    assert any("stability.style_preset" in h for h in d.hints)
    assert httpserver.log == [] and fake.seen == []


def test_bad_value_points_at_its_line(httpserver, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    path, lines = script(
        tmp_path, "openai", f"openai.url: {base_url(httpserver)}", "openai.quality: best"
    )
    result, sink, _ = run(path, tmp_path)
    assert result is None
    [d] = [d for d in sink.errors if d.code == "backend-setting"]
    assert d.span.line == line_of(lines, "openai.quality: best")
    assert httpserver.log == []


@pytest.mark.parametrize(
    "backend, env", [("stability", "STABILITY_API_KEY"), ("openai", "OPENAI_API_KEY")]
)
def test_missing_key_points_at_the_backend_line(httpserver, tmp_path, backend, env):
    path, lines = script(tmp_path, backend, f"{backend}.url: {base_url(httpserver)}")
    result, sink, _ = run(path, tmp_path)
    assert result is None
    [d] = [d for d in sink.errors if d.code == "backend-unavailable"]
    assert env in d.message
    assert d.span.line == line_of(lines, f"backend: {backend}")
    assert httpserver.log == []


# ------------------------------------------------------------ comicc backends
def _backends_output(capsys, *argv: str) -> str:
    import argparse

    from comicc.commands import backends as cli_backends

    parser = argparse.ArgumentParser()
    cli_backends.register(parser.add_subparsers(dest="command"), lambda p, **kw: None)
    assert cli_backends.cmd_backends(parser.parse_args(["backends", *argv])) == 0
    return capsys.readouterr().out


def test_backends_command_lists_every_backend_and_never_the_key(capsys, monkeypatch):
    import json

    from comicc.backends import registry

    monkeypatch.setenv("STABILITY_API_KEY", KEY)
    monkeypatch.setitem(
        registry.BUILTIN,
        "ghost",
        registry.BuiltinBackend("comicc.backends.ghost_missing:Ghost", None),
    )
    table = _backends_output(capsys)
    assert KEY not in table
    rows = {
        line.split()[0]: line for line in table.splitlines() if line and not line.startswith(" ")
    }
    for name in registry.names():
        assert name in rows, name
    assert "STABILITY_API_KEY (set)" in rows["stability"] and "grow_mask 0-100" in rows["stability"]
    assert "OPENAI_API_KEY (NOT set)" in rows["openai"] and "1536x1024" in rows["openai"]
    assert "not available" in rows["ghost"] and "ghost: the `ghost` backend is not built" in table
    doc = json.loads(_backends_output(capsys, "--json"))
    assert KEY not in json.dumps(doc)
    by = {e["name"]: e for e in doc["backends"]}
    assert set(by) == set(registry.names())
    st, oa = by["stability"], by["openai"]
    assert st["key"] == {"env": "STABILITY_API_KEY", "set": True, "from": "environment"}
    assert st["mask_convention"] == "white" and st["edge_control"]["param"] == "grow_mask"
    assert st["sizes"]["max_pixels"] == 9_437_184 and st["cost_unit"] == "credits"
    assert any(v["sizes"]["allowed"] for v in st["variants"])  # v1 SDXL sizes
    assert (
        oa["seed"] is False and oa["negative_prompt"] is False and oa["mask_convention"] == "alpha"
    )
    assert oa["sizes"]["allowed"] == [[1024, 1024], [1536, 1024], [1024, 1536]]
    assert by["ghost"]["available"] is False and by["ghost"]["hint"]
