"""ComfyUI through whole builds against the fake ComfyUI: where a workflow file
is read from, what of it is in the cache key, and the reference images and
LoRAs of the characters reaching the requests of the panels they are in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image
from test_backend_comfyui import DATA, FakeComfy

from comicc.diagnostics import Sink
from comicc.pipeline import BuildOptions, build, check
from support.servers import base_url

pytestmark = pytest.mark.slow

HAMMY, PIP = (250, 200, 40), (40, 90, 250)


def write_story(folder: Path, url: str, *settings: str, refs: bool = True) -> Path:
    """A 3-panel story: HAMMY alone, PIP alone, both together."""
    refs_dir = folder / "refs"
    refs_dir.mkdir(parents=True, exist_ok=True)
    if not (refs_dir / "hammy.png").exists():
        Image.new("RGB", (64, 64), HAMMY).save(refs_dir / "hammy.png")
        Image.new("RGB", (48, 64), PIP).save(refs_dir / "pip.png")
    hammy = "  ref: refs/hammy.png\n  lora: hammy-v2:0.8\n" if refs else ""
    pip = "  ref: refs/pip.png\n  lora: pip-style:0.5\n" if refs else ""
    text = (
        "title: Refs\nbackend: comfyui\n"
        f"comfyui.url: {url}\n"
        + "".join(s + "\n" for s in settings)
        + f"character HAMMY: a chubby golden hamster\n{hammy}"
        + f"character PIP: a small grey robot\n{pip}"
        + "\nPAGE 1\nlayout: 3\n\n"
        + "PANEL 1\nHAMMY peers over the counter.\n\n"
        + "PANEL 2\nPIP waters a flower.\n\n"
        + "PANEL 3\nHAMMY and PIP share a biscuit.\n"
    )
    path = folder / "story.comic"
    path.write_text(text, encoding="utf-8")
    return path


def build_story(path: Path, cache: Path):
    sink = Sink()
    checked = check(path, sink)
    assert checked is not None and checked.script is not None, [d.message for d in sink.errors]
    result = build(
        checked.script,
        checked.theme,
        sink,
        BuildOptions(
            output=str(path.with_suffix(".pdf")),
            cache_dir=str(cache),
            progress=False,
            write_lock=False,
            dpi=60,
        ),
    )
    assert result is not None, [(d.code, d.message) for d in sink.errors]
    return result, sink


def test_a_relative_workflow_path_is_read_from_the_scripts_folder(
    httpserver, tmp_path, monkeypatch
):
    comfy = FakeComfy(httpserver)
    story = tmp_path / "book"
    (story / "workflows").mkdir(parents=True)
    shutil.copy(DATA / "model-free.json", story / "workflows" / "wf.json")
    path = write_story(story, base_url(httpserver), "comfyui.workflow: workflows/wf.json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the script's folder
    result, _ = build_story(path, tmp_path / "cache")
    assert result.painted == 3 and len(comfy.queued) == 3
    assert all(
        {n["class_type"] for n in q["prompt"].values()} >= {"LoadImageMask", "EmptyImage"}
        for q in comfy.queued
    )


def test_editing_the_workflow_repaints_and_moving_it_does_not(httpserver, tmp_path):
    comfy = FakeComfy(httpserver)
    story = tmp_path / "book"
    story.mkdir()
    wf = story / "a.json"
    shutil.copy(DATA / "model-free.json", wf)
    url = base_url(httpserver)
    cache = tmp_path / "cache"
    first, _ = build_story(write_story(story, url, "comfyui.workflow: a.json"), cache)
    assert first.painted == 3 and len(comfy.queued) == 3
    # moved (and renamed): the same content, so the same keys
    (story / "flows").mkdir()
    wf.rename(story / "flows" / "b.json")
    moved, _ = build_story(write_story(story, url, "comfyui.workflow: flows/b.json"), cache)
    assert moved.cached == 3 and moved.painted == 0 and len(comfy.queued) == 3
    # edited: every panel painted with it is painted again
    graph = json.loads((story / "flows" / "b.json").read_text())
    graph["4"]["inputs"]["color"] = 255
    (story / "flows" / "b.json").write_text(json.dumps(graph))
    edited, _ = build_story(write_story(story, url, "comfyui.workflow: flows/b.json"), cache)
    assert edited.painted == 3 and len(comfy.queued) == 6
    assert all(q["prompt"]["4"]["inputs"]["color"] == 255 for q in comfy.queued[3:])


def refs_of(comfy: FakeComfy, body: dict) -> list[tuple[int, int, int]]:
    """The colours of the reference images a queued graph loads (nodes 40, 42)."""
    graph = body["prompt"]
    return [
        comfy.uploads[graph[nid]["inputs"]["image"]]["image"].convert("RGB").getpixel((1, 1))
        for nid in ("40", "42")
    ]


def loras_of(body: dict) -> list[tuple[str, float]]:
    graph = body["prompt"]
    return [
        (graph[f"5{i}0"]["inputs"]["value"], graph[f"5{i}2"]["inputs"]["value"]) for i in (1, 2)
    ]


def test_references_and_loras_reach_the_panels_their_characters_are_in(httpserver, tmp_path):
    comfy = FakeComfy(httpserver)
    story = tmp_path / "book"
    story.mkdir()
    shutil.copy(DATA / "model-free-characters.json", story / "wf.json")
    url = base_url(httpserver)
    cache = tmp_path / "cache"
    path = write_story(story, url, "comfyui.workflow: wf.json")
    result, sink = build_story(path, cache)
    assert result.painted == 3
    assert not [d for d in sink.diagnostics if "reference" in d.message]  # all of them taken
    by_prompt = {q["prompt"]["30"]["inputs"]["value"]: q for q in comfy.queued}
    one, two, three = (
        next(q for p, q in by_prompt.items() if words in p)
        for words in ("peers over", "waters", "biscuit")
    )
    # one character: its image fills both slots; its LoRA, then itself again at weight 0
    assert refs_of(comfy, one) == [HAMMY, HAMMY]
    assert loras_of(one) == [("hammy-v2", 0.8), ("hammy-v2", 0.0)]
    assert refs_of(comfy, two) == [PIP, PIP]
    assert loras_of(two) == [("pip-style", 0.5), ("pip-style", 0.0)]
    assert refs_of(comfy, three) == [HAMMY, PIP]  # in the order the characters are defined
    assert loras_of(three) == [("hammy-v2", 0.8), ("pip-style", 0.5)]
    # each picture is uploaded once, under its content hash
    ref_uploads = [k for k, u in comfy.uploads.items() if u["image"].size in ((64, 64), (48, 64))]
    assert len(ref_uploads) == 2 and all(k.startswith("comicc/") for k in ref_uploads)

    # a new picture of HAMMY repaints exactly the panels HAMMY is in
    Image.new("RGB", (64, 64), (10, 200, 10)).save(story / "refs" / "hammy.png")
    again, _ = build_story(path, cache)
    assert again.painted == 2 and again.cached == 1
    repainted = {q["prompt"]["30"]["inputs"]["value"] for q in comfy.queued[3:]}
    assert len(repainted) == 2 and not any("waters" in p for p in repainted)


def test_the_builtin_graph_chains_a_lora_loader_per_lora(httpserver, tmp_path):
    comfy = FakeComfy(httpserver)
    story = tmp_path / "book"
    story.mkdir()
    result, sink = build_story(write_story(story, base_url(httpserver)), tmp_path / "cache")
    assert result.painted == 3
    # the built-in graph takes no reference image: one warning for the build, not per panel
    warned = [d for d in sink.diagnostics if "reference images" in d.message]
    assert len(warned) == 1
    both = next(q for q in comfy.queued if "biscuit" in json.dumps(q["prompt"]))
    graph = both["prompt"]
    loaders = {nid: n["inputs"] for nid, n in graph.items() if n["class_type"] == "LoraLoader"}
    assert [(i["lora_name"], i["strength_model"]) for i in loaders.values()] == [
        ("hammy-v2", 0.8),
        ("pip-style", 0.5),
    ]
    # the chain: checkpoint -> lora1 -> lora2 -> the sampler and both text encoders
    assert loaders["lora1"]["model"] == ["1", 0] and loaders["lora2"]["model"] == ["lora1", 0]
    ks = next(n["inputs"] for n in graph.values() if n["class_type"] == "KSampler")
    assert ks["model"] == ["lora2", 0]
    texts = [n["inputs"]["clip"] for n in graph.values() if n["class_type"] == "CLIPTextEncode"]
    assert texts == [["lora2", 1], ["lora2", 1]]
    alone = next(q for q in comfy.queued if "waters" in json.dumps(q["prompt"]))
    names = [
        n["inputs"]["lora_name"] for n in alone["prompt"].values() if "lora_name" in n["inputs"]
    ]
    assert names == ["pip-style"]
