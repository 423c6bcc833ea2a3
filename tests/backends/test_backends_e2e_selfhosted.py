"""End to end: examples/heist.comic built with the self-hosted backends
(Automatic1111, ComfyUI) against fake servers on 127.0.0.1, and bad
configuration reported at the setting's line before any request is sent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pypdf
import pytest
from test_backend_automatic1111 import FakeWebui
from test_backend_comfyui import FakeComfy

from comicc.diagnostics import Sink
from comicc.pipeline import BuildOptions
from comicc.pipeline import book as pipeline
from comicc.pipeline import compile as compiler
from support import ROOT
from support.servers import base_url, closed_port

pytestmark = pytest.mark.slow

HEIST = ROOT / "examples" / "heist.comic"
LETTERING = ("MIDNIGHT. THE KOWALSKI RESIDENCE.", "FORTY POUNDS OF AGED GOUDA.", "FREEZE!", "CLICK")


def script_with(tmp_path: Path, *header: str) -> tuple[Path, dict[str, int]]:
    """heist.comic with ``backend: draft`` replaced by ``header``; the 1-based
    line of each header line, by its key."""
    text = HEIST.read_text(encoding="utf-8")
    assert "backend: draft\n" in text
    text = text.replace("backend: draft\n", "".join(h + "\n" for h in header))
    path = tmp_path / "heist.comic"
    path.write_text(text, encoding="utf-8")
    lines = {ln.split(":", 1)[0]: i for i, ln in enumerate(text.splitlines(), 1) if ":" in ln}
    return path, lines


def build(path: Path, tmp_path: Path):
    sink = Sink()
    checked = compiler.check(path, sink)
    assert checked is not None and not sink.errors, [d.message for d in sink.errors]
    assert checked.script is not None
    result = pipeline.build(
        checked.script,
        checked.theme,
        sink,
        BuildOptions(
            output=str(tmp_path / "heist.pdf"),
            cache_dir=str(tmp_path / "cache"),
            progress=False,
            dpi=100,
        ),
    )
    return result, sink


def check_pdf(path: Path) -> None:
    reader = pypdf.PdfReader(path)
    assert len(reader.pages) == 1
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for words in LETTERING:
        assert words in text, words


def test_heist_builds_with_automatic1111(httpserver, tmp_path):
    webui = FakeWebui(httpserver)
    path, _ = script_with(
        tmp_path, "backend: automatic1111", f"automatic1111.url: {base_url(httpserver)}"
    )
    result, sink = build(path, tmp_path)
    assert result is not None, [d.message for d in sink.errors]
    assert result.panels == 3 and result.painted == 3
    assert len(webui.calls) == 3
    assert all(c["body"]["mask_blur"] == 0 and c["body"]["width"] % 8 == 0 for c in webui.calls)
    assert len({c["body"]["seed"] for c in webui.calls}) == 3
    check_pdf(result.output)
    again, _ = build(path, tmp_path)  # from the cache: no new request
    assert again.cached == 3 and len(webui.calls) == 3


def test_heist_builds_with_comfyui_and_a_user_workflow(httpserver, tmp_path):
    comfy = FakeComfy(httpserver, pending=1)
    example = ROOT / "examples" / "backends" / "comfyui-inpaint-workflow.json"
    (tmp_path / "workflows").mkdir()
    shutil.copy(example, tmp_path / "workflows" / "inpaint.json")
    path, _ = script_with(
        tmp_path,
        "backend: comfyui",
        f"comfyui.url: {base_url(httpserver)}",
        "comfyui.workflow: workflows/inpaint.json",  # read from the script's folder
    )
    result, sink = build(path, tmp_path)
    assert result is not None, [d.message for d in sink.errors]
    assert result.painted == 3 and len(comfy.queued) == 3
    assert all("{{" not in json.dumps(q["prompt"]) for q in comfy.queued)
    assert len(comfy.uploads) == 6  # image + mask per panel
    check_pdf(result.output)


def test_a_workflow_outside_the_script_folder_needs_allow_path(httpserver, tmp_path):
    comfy = FakeComfy(httpserver, pending=1)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(
        ROOT / "examples" / "backends" / "comfyui-inpaint-workflow.json", outside / "w.json"
    )
    (tmp_path / "book").mkdir()
    path, lines = script_with(
        tmp_path / "book",
        "backend: comfyui",
        f"comfyui.url: {base_url(httpserver)}",
        "comfyui.workflow: ../elsewhere/w.json",
    )
    sink = Sink()
    checked = compiler.check(path, sink)
    assert checked is not None and checked.script is not None
    opts = BuildOptions(
        output=str(tmp_path / "book.pdf"), cache_dir=str(tmp_path / "cache"), progress=False
    )
    assert pipeline.build(checked.script, checked.theme, sink, opts) is None
    [error] = sink.errors
    assert error.code == "path-not-allowed" and error.span is not None
    assert error.span.line == lines["comfyui.workflow"]
    assert "--allow-path" in error.hints[0] and str(outside) in error.hints[0]
    assert not comfy.queued and not comfy.uploads  # refused before any request
    allowed = Sink()
    opts.allow_paths = (str(outside),)
    result = pipeline.build(checked.script, checked.theme, allowed, opts)
    assert result is not None and result.painted == 3, [d.message for d in allowed.errors]


def test_heist_builds_with_comfyui_builtin_graph(httpserver, tmp_path):
    comfy = FakeComfy(httpserver)
    path, _ = script_with(tmp_path, "backend: comfyui", f"comfyui.url: {base_url(httpserver)}")
    result, sink = build(path, tmp_path)
    assert result is not None, [d.message for d in sink.errors]
    assert len(comfy.queued) == 3
    check_pdf(result.output)


# ------------------------------------------------------------------ bad configuration


def test_unreachable_automatic1111_url_is_reported_at_its_line(tmp_path):
    port = closed_port()
    path, lines = script_with(
        tmp_path, "backend: automatic1111", f"automatic1111.url: http://127.0.0.1:{port}"
    )
    result, sink = build(path, tmp_path)
    assert result is None
    (err,) = sink.errors
    assert err.code == "backend-unavailable" and err.span.line == lines["automatic1111.url"]
    assert f"127.0.0.1:{port}" in err.message and "automatic1111.url" in err.message


def test_bad_comfyui_workflow_is_reported_at_its_line_before_any_request(httpserver, tmp_path):
    comfy = FakeComfy(httpserver)
    bad = tmp_path / "ui-workflow.json"
    bad.write_text(json.dumps({"last_node_id": 3, "nodes": [], "links": []}))
    path, lines = script_with(
        tmp_path,
        "backend: comfyui",
        f"comfyui.url: {base_url(httpserver)}",
        f"comfyui.workflow: {bad}",
    )
    result, sink = build(path, tmp_path)
    assert result is None
    (err,) = sink.errors
    assert err.code == "backend-setting" and err.span.line == lines["comfyui.workflow"]
    assert "UI workflow" in err.message and "Export (API)" in err.hints[0]
    assert len(httpserver.log) == 0 and not comfy.queued and not comfy.uploads


def test_bad_automatic1111_value_is_reported_before_any_request(httpserver, tmp_path):
    webui = FakeWebui(httpserver)
    path, lines = script_with(
        tmp_path,
        "backend: automatic1111",
        f"automatic1111.url: {base_url(httpserver)}",
        "automatic1111.steps: lots",
    )
    result, sink = build(path, tmp_path)
    assert result is None
    (err,) = sink.errors
    assert err.code == "backend-setting" and err.span.line == lines["automatic1111.steps"]
    assert len(httpserver.log) == 0 and not webui.calls


@pytest.mark.parametrize("name", ["automatic1111", "comfyui"])
def test_examples_switch_each_backend_on_and_check_strict(name):
    path = ROOT / "examples" / "backends" / f"{name}.comic"
    sink = Sink()
    assert compiler.check(path, sink) is not None
    assert not sink.diagnostics, [d.message for d in sink.diagnostics]
    text = path.read_text(encoding="utf-8")
    assert "backend: draft" in text and f"# backend: {name}" in text
