"""End to end through Replicate: `examples/heist.comic` built against a fake
Replicate API (real HTTP on 127.0.0.1), then rebuilt from the cache with zero
requests; bad configuration is reported at its line before any request."""

from __future__ import annotations

import re
from pathlib import Path

import pypdf
import pytest
from pytest_httpserver import HTTPServer
from test_backend_replicate import TOKEN, FakeReplicate

from comicc.diagnostics import Sink
from comicc.pipeline import book as pipeline
from comicc.pipeline import compile as compiler
from support import ROOT
from support.servers import allow_local_key_hosts

HEIST = ROOT / "examples" / "heist.comic"

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def script_for(tmp_path: Path, url: str, *extra: str) -> Path:
    """heist.comic with `backend: replicate` and `replicate.url` (+ ``extra`` lines)
    in the header."""
    lines = HEIST.read_text().splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith("backend:"))
    lines[i : i + 1] = ["backend: replicate", f"replicate.url: {url}", *extra]
    path = tmp_path / "heist.comic"
    path.write_text("\n".join(lines) + "\n")
    return path


def line_of(path: Path, prefix: str) -> int:
    return next(
        n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(prefix)
    )


def build(path: Path, tmp_path: Path, out: Path):
    sink = Sink()
    checked = compiler.check(path, sink)
    assert checked is not None and checked.script is not None, sink.diagnostics
    assert not sink.has_errors(), sink.diagnostics
    result = pipeline.build(
        checked.script,
        checked.theme,
        sink,
        pipeline.BuildOptions(output=str(out), cache_dir=str(tmp_path / "cache"), progress=False),
    )
    return result, sink, checked


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    allow_local_key_hosts(monkeypatch)  # the fake listens on this machine


def test_heist_builds_through_replicate_and_rebuilds_for_free(
    httpserver: HTTPServer, env, tmp_path
):
    fake = FakeReplicate(httpserver)
    path = script_for(tmp_path, httpserver.url_for("/").rstrip("/"))
    out = tmp_path / "heist.pdf"
    result, sink, checked = build(path, tmp_path, out)
    httpserver.check()  # every request matched the documented contract
    assert result is not None, [d.message for d in sink.diagnostics]
    panels = len(checked.script.panels)
    assert result.painted == panels and result.cached == 0
    assert len(fake.inputs) == panels
    assert fake.count("POST", r"/v1/models/stability-ai/sdxl/predictions") == panels
    seeds = {inp["seed"] for inp in fake.inputs}
    assert len(seeds) == panels  # one derived seed per panel, always sent
    assert len(fake.images) == panels
    for inp, (image, mask) in zip(fake.inputs, fake.images, strict=True):
        assert image.size == mask.size
        assert "text, letters, watermark" in inp["negative_prompt"]
        assert mask.getextrema() == (0, 255)  # balloons kept (black), art painted (white)
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == result.pages == 1
    text = _norm(reader.pages[0].extract_text())
    for words in ("FORTY POUNDS OF AGED GOUDA", "FREEZE!", "CLICK"):
        assert _norm(words) in text
    assert TOKEN.encode() not in out.read_bytes()
    cache_files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert cache_files and not any(TOKEN.encode() in p.read_bytes() for p in cache_files)
    lock = path.with_name("heist.comic.lock")
    assert lock.exists() and TOKEN not in lock.read_text()

    # the second build paints nothing: not one request reaches Replicate
    before = len(httpserver.log)
    result2, sink2, _ = build(path, tmp_path, tmp_path / "again.pdf")
    assert result2 is not None and result2.painted == 0 and result2.cached == panels
    assert len(httpserver.log) == before
    assert len(pypdf.PdfReader(tmp_path / "again.pdf").pages) == 1


def test_a_misspelt_setting_is_reported_at_its_line_before_any_request(
    httpserver: HTTPServer, env, tmp_path
):
    path = script_for(tmp_path, httpserver.url_for("/").rstrip("/"), "replicate.wiat: 30")
    result, sink, _ = build_unchecked(path, tmp_path)
    assert result is None
    [err] = [d for d in sink.errors if d.code == "backend-setting"]
    assert err.span.line == line_of(path, "replicate.wiat:")
    assert "wiat" in err.message and any("replicate.wait" in h for h in err.hints)
    assert httpserver.log == []


def test_a_bad_value_is_reported_at_its_line(httpserver: HTTPServer, env, tmp_path):
    path = script_for(tmp_path, httpserver.url_for("/").rstrip("/"), "replicate.wait: 90")
    result, sink, _ = build_unchecked(path, tmp_path)
    assert result is None
    [err] = [d for d in sink.errors if d.code == "backend-setting"]
    assert err.span.line == line_of(path, "replicate.wait:") and "60" in err.message
    assert httpserver.log == []


def test_a_missing_token_is_reported_at_the_backend_line(
    httpserver: HTTPServer, monkeypatch, tmp_path
):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    allow_local_key_hosts(monkeypatch)
    path = script_for(tmp_path, httpserver.url_for("/").rstrip("/"))
    result, sink, _ = build_unchecked(path, tmp_path)
    assert result is None
    [err] = sink.errors
    assert err.code == "backend-unavailable" and "REPLICATE_API_TOKEN" in err.message
    assert err.span.line == line_of(path, "backend: replicate")
    assert httpserver.log == []


def build_unchecked(path: Path, tmp_path: Path):
    """Check + build, returning whatever the build reports (errors expected)."""
    sink = Sink()
    checked = compiler.check(path, sink)
    assert checked is not None and checked.script is not None and not sink.has_errors(), (
        sink.diagnostics
    )
    result = pipeline.build(
        checked.script,
        checked.theme,
        sink,
        pipeline.BuildOptions(
            output=str(tmp_path / "out.pdf"), cache_dir=str(tmp_path / "cache"), progress=False
        ),
    )
    return result, sink, checked
