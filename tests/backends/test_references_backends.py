"""Consistent characters through each backend: a script with two characters
who have reference images and LoRAs, built against each backend's local fake.

The fakes check the services' real field names (Automatic1111's
``alwayson_scripts.controlnet.args`` units and ``<lora:name:weight>`` prompt
syntax, OpenAI's repeated ``image[]`` parts, Replicate's ``image_input`` list
for google/nano-banana); the tests read back, from the pixels each request
carried, whose reference image reached which panel's request, and count the
requests a changed reference image causes.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from pytest_httpserver import HTTPServer
from test_backend_automatic1111 import FakeWebui
from test_backend_replicate import TOKEN, FakeReplicate
from werkzeug import Request, Response

from comicc.backends import Capabilities
from comicc.backends.automatic1111 import Automatic1111Backend
from comicc.backends.openai import OpenAIBackend
from comicc.backends.replicate import ReplicateBackend
from comicc.backends.stability import StabilityBackend
from comicc.commands.backends import describe, render_table
from comicc.diagnostics import Sink
from comicc.paint import character_inputs, plan_panel, reference_warnings
from comicc.pipeline import BuildOptions, build, check
from support.build import book_of, checked
from support.characters import (
    HAMMY_COLOR,
    SHOWS,
    panel_of,
    two_characters,
    whose,
    write_reference,
)
from support.fakes_stability_openai import KEY, FakeOpenAI, FakeStability
from support.servers import allow_local_key_hosts, base_url

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning")]

LORAS = {"HAMMY": "<lora:hammy-v2:0.8>", "OFFICER BRUIN": "<lora:bruin-xl:0.6>"}
# sd-webui-controlnet's ControlNetUnit (its API's `alwayson_scripts.controlnet.args`)
CONTROLNET_UNIT_FIELDS = {
    "enabled",
    "module",
    "model",
    "weight",
    "image",
    "resize_mode",
    "low_vram",
    "processor_res",
    "threshold_a",
    "threshold_b",
    "guidance_start",
    "guidance_end",
    "pixel_perfect",
    "control_mode",
}
RESIZE_MODES = ("Just Resize", "Crop and Resize", "Resize and Fill", 0, 1, 2)
CONTROL_MODES = ("Balanced", "My prompt is more important", "ControlNet is more important", 0, 1, 2)


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch, tmp_path):
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))
    for env in ("STABILITY_API_KEY", "OPENAI_API_KEY", "REPLICATE_API_TOKEN"):
        monkeypatch.delenv(env, raising=False)
    allow_local_key_hosts(monkeypatch)  # the fakes listen on 127.0.0.1


def run(path: Path, tmp_path: Path):
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None, [d.message for d in sink.errors]
    result = build(
        res.script,
        res.theme,
        sink,
        BuildOptions(
            output=str(tmp_path / "out.pdf"),
            cache_dir=str(tmp_path / "cache"),
            progress=False,
            dpi=72,
            write_lock=False,
        ),
    )
    assert result is not None, [(d.code, d.message) for d in sink.errors]
    return result, sink


def line_of(path: Path, start: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, ln in enumerate(lines, 1) if ln.startswith(start))


def repainted(result) -> set[str]:
    return {r.panel_id for r in result.repainted}


def recolor_hammy(folder: Path) -> None:
    write_reference(folder / "refs" / "hammy.png", (250, 200, 60))


def move_bruin(path: Path) -> None:
    """The same image under another name: the content, not the path, is keyed."""
    folder = path.parent
    (folder / "art").mkdir()
    shutil.move(folder / "refs" / "bruin.png", folder / "art" / "bear.png")
    path.write_text(
        path.read_text(encoding="utf-8").replace("refs/bruin.png", "art/bear.png"),
        encoding="utf-8",
    )


def unb64(data: str) -> Image.Image:
    im = Image.open(io.BytesIO(base64.b64decode(data)))
    im.load()
    return im


# ------------------------------------------------------------------ planning
def _plans(tmp_path: Path, caps: Capabilities):
    res, _ = checked(two_characters(tmp_path))
    geoms = {g.id: g for page in book_of(res).pages for g in page.panels}
    return res.script, {p.id: plan_panel(p, geoms[p.id], caps) for p in res.script.panels}, geoms


def test_a_backend_that_takes_none_gets_none_and_keeps_its_keys(tmp_path):
    script, plans, geoms = _plans(tmp_path, Capabilities())
    assert all(p.references == () and p.loras == () for p in plans.values())
    # the key of a panel is the key it had before characters had references
    for panel in script.panels:
        bare = replace(panel, characters=(), references=(), loras=())
        assert plan_panel(bare, geoms[panel.id], Capabilities()).cache_key == (
            plans[panel.id].cache_key
        )


def test_the_key_holds_the_image_content_not_its_path(tmp_path):
    caps = Capabilities(max_references=4, max_loras=4)
    script, plans, geoms = _plans(tmp_path, caps)
    panel = next(p for p in script.panels if p.id == "p1.3")
    moved = replace(
        panel, references=tuple(replace(r, path="/elsewhere") for r in panel.references)
    )
    assert plan_panel(moved, geoms["p1.3"], caps).cache_key == plans["p1.3"].cache_key
    edited = replace(
        panel, references=(replace(panel.references[0], sha256="0" * 64), panel.references[1])
    )
    assert plan_panel(edited, geoms["p1.3"], caps).cache_key != plans["p1.3"].cache_key
    weighed = replace(panel, loras=(replace(panel.loras[0], weight=0.7), panel.loras[1]))
    assert plan_panel(weighed, geoms["p1.3"], caps).cache_key != plans["p1.3"].cache_key
    empty = plans["p1.4"]
    assert empty.references == () and empty.loras == ()


def test_character_inputs_respect_the_declared_limits(tmp_path):
    res, _ = checked(two_characters(tmp_path))
    both = next(p for p in res.script.panels if p.id == "p1.3")
    refs, loras = character_inputs(both, Capabilities(max_references=1, max_loras=0))
    assert [r.character for r in refs] == ["HAMMY"] and loras == ()
    doubled = replace(both, references=both.references + both.references[:1])
    refs, _ = character_inputs(doubled, Capabilities(max_references=8))
    assert [r.character for r in refs] == ["HAMMY", "OFFICER BRUIN"]  # each image once


def test_comicc_backends_lists_references_and_loras():
    table = render_table([describe(n) for n in ("automatic1111", "openai", "stability", "draft")])
    header, _, *rows = table.splitlines()
    assert header.rstrip().endswith("references  LoRAs")
    cells = {r.split()[0]: r for r in rows[:4]}
    assert cells["automatic1111"].rstrip().endswith("up to 3     up to 16")
    assert re.search(r"up to 15\s+no$", cells["openai"].rstrip())
    assert re.search(r"no\s+no$", cells["stability"].rstrip())
    entry = describe("replicate")
    assert entry["max_references"] == 0
    edit = [v for v in entry["variants"] if "nano-banana" in v["when"]]
    assert edit and edit[0]["max_references"] == 3 and edit[0]["max_loras"] == 0


def test_capabilities_declare_what_each_backend_takes():
    assert (
        Automatic1111Backend.capabilities.max_references,
        Automatic1111Backend.capabilities.max_loras,
    ) == (3, 16)
    assert (OpenAIBackend.capabilities.max_references, OpenAIBackend.capabilities.max_loras) == (
        15,
        0,
    )
    assert StabilityBackend.capabilities.max_references == 0
    nano = ReplicateBackend(model="google/nano-banana")
    assert nano.capabilities.max_references == 3 and nano.capabilities.mask_guidance_only


# ------------------------------------------------------------ Automatic1111
def _check_units(body: dict) -> list[Image.Image]:
    """The reference images of one img2img body, checking the ControlNet contract."""
    scripts = body.get("alwayson_scripts")
    if scripts is None:
        return []
    assert set(scripts) == {"controlnet"}
    units = scripts["controlnet"]["args"]
    assert 1 <= len(units) <= 3  # the extension's default number of units
    images = []
    for unit in units:
        assert set(unit) <= CONTROLNET_UNIT_FIELDS, sorted(set(unit) - CONTROLNET_UNIT_FIELDS)
        assert unit["enabled"] is True
        assert unit["module"] == "ip-adapter_clip_sd15" and unit["model"] == "ip-adapter_sd15"
        assert 0 <= unit["weight"] <= 2
        assert unit["resize_mode"] in RESIZE_MODES and unit["control_mode"] in CONTROL_MODES
        images.append(unb64(unit["image"]))
    return images


def test_automatic1111_gets_loras_in_the_prompt_and_references_as_controlnet_units(
    httpserver: HTTPServer, tmp_path
):
    webui = FakeWebui(httpserver)
    path = two_characters(tmp_path, "automatic1111", f"automatic1111.url: {base_url(httpserver)}")
    result, sink = run(path, tmp_path)
    assert result.painted == 4 and len(webui.calls) == 4
    assert not [d for d in sink.warnings if d.code == "references-ignored"]
    for call in webui.calls:
        body = call["body"]
        pid = panel_of(body["prompt"])
        assert tuple(whose(im) for im in _check_units(body)) == SHOWS[pid]
        tags = re.findall(r"<lora:[^>]*>", body["prompt"])
        assert tags == [LORAS[n] for n in SHOWS[pid]]
        assert "<lora:" not in body["negative_prompt"]
    # a new HAMMY image repaints exactly HAMMY's panels; a moved BRUIN image nothing
    recolor_hammy(tmp_path)
    move_bruin(path)
    again, _ = run(path, tmp_path)
    assert repainted(again) == {"p1.1", "p1.3"} and len(webui.calls) == 6
    new = [c["body"] for c in webui.calls[4:]]
    assert all(
        _check_units(b)[0].getpixel((5, 5)) == (250, 200, 60) for b in new
    )  # the new image went out


def test_automatic1111_without_controlnet_says_what_to_install(httpserver: HTTPServer, tmp_path):
    webui = FakeWebui(httpserver)
    webui.fail = [
        (422, {"error": "HTTPException", "detail": "always on script controlnet not found"})
    ] * 4
    path = two_characters(tmp_path, "automatic1111", f"automatic1111.url: {base_url(httpserver)}")
    sink = Sink()
    res = check(path, sink)
    assert res is not None and res.script is not None
    out = build(
        res.script,
        res.theme,
        sink,
        BuildOptions(
            output=str(tmp_path / "o.pdf"), cache_dir=str(tmp_path / "c"), progress=False, dpi=72
        ),
    )
    assert out is None
    errors = [d for d in sink.errors if d.code == "backend-rejected"]
    assert errors and all("ControlNet" in d.message for d in errors)
    assert any("sd-webui-controlnet" in h for d in errors for h in d.hints)


# ------------------------------------------------------------------- OpenAI
def test_openai_gets_the_init_image_first_then_the_references(
    httpserver: HTTPServer, tmp_path, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    fake = FakeOpenAI(httpserver)
    path = two_characters(
        tmp_path, "openai", f"openai.url: {base_url(httpserver)}", "openai.input_fidelity: high"
    )
    result, sink = run(path, tmp_path)
    fake.verify()
    assert result.painted == 4 and len(fake.seen) == 4
    for seen in fake.seen:
        pid = panel_of(seen.fields["prompt"])
        assert tuple(whose(im) for im in seen.references) == SHOWS[pid]
        assert seen.fields["input_fidelity"] == "high"
        assert "<lora:" not in seen.fields["prompt"]
    # LoRAs are what OpenAI cannot take: said once, at the first `lora:` line
    ignored = [d for d in sink.warnings if d.code == "references-ignored"]
    assert len(ignored) == 1 and ignored[0].span is not None
    assert ignored[0].span.line == line_of(path, "  lora: hammy-v2")
    assert "LoRAs" in ignored[0].message and "`hammy-v2`" in ignored[0].message
    assert [lab.span.line for lab in ignored[0].labels] == [line_of(path, "backend:")]
    recolor_hammy(tmp_path)
    again, _ = run(path, tmp_path)
    assert repainted(again) == {"p1.1", "p1.3"} and len(fake.seen) == 6


# ---------------------------------------------------------------- Replicate
EDIT_FIELDS = {"prompt", "image_input"}
EDIT_OPTIONAL = {"aspect_ratio", "output_format"}


class FakeNanoBanana(FakeReplicate):
    """Replicate serving google/nano-banana: ``image_input`` is a list of image
    files (the init image, then the references); no mask, no seed."""

    def __init__(self, server: HTTPServer, **kw):
        super().__init__(server, model="google/nano-banana", **kw)
        self.references: list[tuple[str, list[Image.Image]]] = []  # (prompt, images)

    def create(self, req: Request) -> Response:
        self.authed(req)
        assert req.path == "/v1/models/google/nano-banana/predictions", req.path
        body = json.loads(req.get_data())
        inp = body["input"]
        self.inputs.append(inp)
        assert EDIT_FIELDS <= set(inp) <= EDIT_FIELDS | EDIT_OPTIONAL, sorted(inp)
        assert inp.get("aspect_ratio", "match_input_image") == "match_input_image"
        assert inp.get("output_format", "jpg") in ("jpg", "png")
        images = []
        for value in inp["image_input"]:
            im = Image.open(io.BytesIO(self.fetch_file(value)))
            im.load()
            images.append(im.convert("RGB"))
        assert images, "image_input is empty"
        self.references.append((inp["prompt"], images[1:]))
        self.images.append((images[0], Image.new("L", images[0].size, 255)))
        pid = f"p{len(self.preds) + 1}"
        self.preds[pid] = {"status": "processing"}
        self.gets_left[pid] = 0
        self.settle(pid)
        return self.json(self.pred_json(pid), status=201)


def test_replicate_nano_banana_gets_the_references_in_image_input(
    httpserver: HTTPServer, tmp_path, monkeypatch
):
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    fake = FakeNanoBanana(httpserver)
    path = two_characters(
        tmp_path,
        "replicate",
        f"replicate.url: {base_url(httpserver)}",
        "replicate.model: google/nano-banana",
    )
    result, sink = run(path, tmp_path)
    httpserver.check()
    assert result.painted == 4 and len(fake.references) == 4
    for prompt, refs in fake.references:
        assert tuple(whose(im) for im in refs) == SHOWS[panel_of(prompt)]
    ignored = [d for d in sink.warnings if d.code == "references-ignored"]
    assert len(ignored) == 1 and "LoRAs" in ignored[0].message
    recolor_hammy(tmp_path)
    again, _ = run(path, tmp_path)
    assert repainted(again) == {"p1.1", "p1.3"} and len(fake.references) == 6


def test_replicate_sdxl_takes_no_references_and_says_so_once(
    httpserver: HTTPServer, tmp_path, monkeypatch
):
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    fake = FakeReplicate(httpserver)
    path = two_characters(tmp_path, "replicate", f"replicate.url: {base_url(httpserver)}")
    result, sink = run(path, tmp_path)
    httpserver.check()
    assert result.painted == 4 and len(fake.inputs) == 4  # the fake refuses unknown inputs
    ignored = [d for d in sink.warnings if d.code == "references-ignored"]
    assert len(ignored) == 1 and ignored[0].span is not None
    assert ignored[0].span.line == line_of(path, "  ref: refs/hammy.png")


# ---------------------------------------------------------------- Stability
def test_stability_ignores_them_with_one_warning_and_never_repaints_for_them(
    httpserver: HTTPServer, tmp_path, monkeypatch
):
    monkeypatch.setenv("STABILITY_API_KEY", KEY)
    fake = FakeStability(httpserver, out_size=(1024, 1024))
    path = two_characters(tmp_path, "stability", f"stability.url: {base_url(httpserver)}")
    result, sink = run(path, tmp_path)
    fake.verify()  # only the documented fields: nothing about references went out
    assert result.painted == 4 and len(fake.seen) == 4
    ignored = [d for d in sink.diagnostics if d.code == "references-ignored"]
    assert len(ignored) == 1  # once for the build, not once per panel
    (warning,) = ignored
    assert warning.span is not None  # at the first `ref:` line
    assert warning.span.line == line_of(path, "  ref: refs/hammy.png")
    assert "reference images or LoRAs" in warning.message
    assert "`HAMMY`, `OFFICER BRUIN`" in warning.message
    assert "`hammy-v2`, `bruin-xl`" in warning.message
    recolor_hammy(tmp_path)
    again, sink = run(path, tmp_path)
    assert again.painted == 0 and len(fake.seen) == 4  # what it cannot use is not in its key


def test_the_draft_backend_warns_once_too(tmp_path):
    path = two_characters(tmp_path)
    result, sink = run(path, tmp_path)
    assert result.painted == 4
    ignored = [d for d in sink.warnings if d.code == "references-ignored"]
    assert len(ignored) == 1 and "`draft` backend" in ignored[0].message
    write_reference(tmp_path / "refs" / "hammy.png", HAMMY_COLOR[::-1])
    again, _ = run(path, tmp_path)
    assert again.painted == 0


# ------------------------------------------------------------------ edges
def test_more_references_than_a_backend_takes_is_said_once(tmp_path):
    res, _ = checked(two_characters(tmp_path, "automatic1111"))
    backend = Automatic1111Backend()
    backend.capabilities = replace(backend.capabilities, max_references=1)
    (warning,) = reference_warnings(res.script, {"automatic1111": backend})
    assert warning.code == "references-ignored"
    assert "at most 1 reference images a panel: page 1, panel 3 has 2" in warning.message
    assert warning.span is not None and warning.span.line == 8  # BRUIN's `ref:`, left out
    assert reference_warnings(res.script, {"automatic1111": Automatic1111Backend()}) == []


def test_without_characters_the_requests_are_as_before(httpserver: HTTPServer, tmp_path):
    webui = FakeWebui(httpserver)
    backend = Automatic1111Backend(url=base_url(httpserver))
    res, _ = checked(two_characters(tmp_path, "automatic1111"))
    geoms = {g.id: g for page in book_of(res).pages for g in page.panels}
    empty = next(p for p in res.script.panels if p.id == "p1.4")
    backend.paint(plan_panel(empty, geoms["p1.4"], backend.capabilities).request())
    (call,) = webui.calls
    assert "alwayson_scripts" not in call["body"] and "<lora:" not in call["body"]["prompt"]


def test_nano_banana_refuses_the_other_families_settings():
    problems = ReplicateBackend.validate_settings(
        {"model": "google/nano-banana", "num_inference_steps": "20", "output_format": "webp"}
    )
    assert {p.key for p in problems} == {"num_inference_steps", "output_format"}


def test_openai_dall_e_gets_no_references(httpserver: HTTPServer, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    fake = FakeOpenAI(httpserver)
    backend = OpenAIBackend(url=base_url(httpserver), model="dall-e-2")
    res, _ = checked(two_characters(tmp_path, "openai"))
    geoms = {g.id: g for page in book_of(res).pages for g in page.panels}
    both = next(p for p in res.script.panels if p.id == "p1.3")
    plan = plan_panel(both, geoms["p1.3"], backend.capabilities)
    assert len(plan.references) == 2
    backend.paint(plan.request())
    fake.verify()
    (seen,) = fake.seen
    assert seen.references == []
