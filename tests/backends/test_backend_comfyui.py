"""ComfyUI backend against a fake ComfyUI over real HTTP (pytest-httpserver).

The fake implements upload -> queue -> history polling -> view as documented
(shared/reference/image-apis.md) and as ComfyUI 0.3.64 behaves
(shared/reference/real-comfyui.md): it takes the client's ``prompt_id``, may
answer HTTP 200 with ``node_errors``, lists unfinished jobs in ``GET /queue``
(running, or waiting: ``waiting``), deletes only waiting ones, stops one by
``POST /interrupt {prompt_id}``, and has no ``/ws`` (so comicc polls; the
websocket is tested in test_comfyui_websocket.py and test_real_comfyui.py).
It "executes" a graph by painting red where LoadImage's MASK (1 - alpha) is
set, and records everything; the tests decode the uploads' pixels and read
the queued graphs.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from comicc.backends import Rejected, Transient, Unavailable
from comicc.backends import comfyui_workflow as wf
from comicc.backends.comfyui import DEFAULT_CHECKPOINT, ComfyUIBackend
from comicc.paint import ArtCache, Painter, PaintJob, plan_panel
from comicc.paint.composite import composite  # the package's name is the module once loaded
from support import ROOT
from support.panels import make_panel, two_speaker_geom
from support.servers import (
    FakeClock,
    base_url,
    closed_port,
    keep_point,
    plan_for,
    running_server,
)

EXAMPLE_WORKFLOW = ROOT / "examples/backends/comfyui-inpaint-workflow.json"
DATA = ROOT / "tests/data/comfyui"
MODEL_FREE = json.loads((DATA / "model-free.json").read_text())
CHECKPOINTS = [DEFAULT_CHECKPOINT, "comic-inpainting.safetensors"]
RED = (200, 30, 60)


def jresp(doc, status: int = 200) -> Response:
    return Response(json.dumps(doc), status, content_type="application/json")


class FakeComfy:
    def __init__(self, server: HTTPServer, *, pending: int = 0, scale: float = 1.0):
        self.pending, self.scale = pending, scale
        self.uploads: dict[str, dict] = {}  # "subfolder/name" -> {image, form}
        self.queued: list[dict] = []  # POST /prompt bodies
        self.jobs: dict[str, dict] = {}
        self.outputs: dict[str, bytes] = {}
        self.history_calls = 0
        self.deleted: list[str] = []
        self.fail: list[tuple[int, dict]] = []  # answers to /prompt to give first
        self.error: dict | None = None  # an execution error to report
        self.interrupted: dict | None = None  # report every job as interrupted (this data)
        self.partial: dict = {}  # node_errors answered with HTTP 200 (the job still runs)
        self.waiting = False  # unfinished jobs are listed as pending, not running
        self.interrupts: list[str] = []  # POST /interrupt prompt_ids
        self.lora_names: list[str] = ["hammy-v2.safetensors", "style.safetensors"]
        server.expect_request("/system_stats").respond_with_json({"system": {"os": "posix"}})
        self.checkpoints = list(CHECKPOINTS)
        server.expect_request("/object_info/CheckpointLoaderSimple").respond_with_handler(
            lambda r: jresp(
                {
                    "CheckpointLoaderSimple": {
                        "input": {"required": {"ckpt_name": [self.checkpoints, {}]}}
                    }
                }
            )
        )
        server.expect_request("/upload/image", method="POST").respond_with_handler(self.upload)
        server.expect_request("/prompt", method="POST").respond_with_handler(self.prompt)
        server.expect_request(re.compile(r"^/history/.+$")).respond_with_handler(self.history)
        server.expect_request("/view").respond_with_handler(self.view)
        server.expect_request("/queue", method="POST").respond_with_handler(self.queue)
        server.expect_request("/queue", method="GET").respond_with_handler(self.queue_state)
        server.expect_request("/interrupt", method="POST").respond_with_handler(self.interrupt)
        server.expect_request("/object_info/LoraLoader").respond_with_handler(
            lambda r: jresp(
                {"LoraLoader": {"input": {"required": {"lora_name": [self.lora_names]}}}}
            )
        )
        # no websocket here (as behind a proxy that drops upgrades): comicc polls
        server.expect_request("/ws").respond_with_data("no websocket", 404)

    def upload(self, request: Request) -> Response:
        f = request.files["image"]
        sub = request.form.get("subfolder", "")
        img = Image.open(io.BytesIO(f.read()))
        img.load()
        key = f"{sub}/{f.filename}" if sub else f.filename or ""
        self.uploads[key] = {"image": img, "form": dict(request.form)}
        return jresp({"name": f.filename, "subfolder": sub, "type": request.form.get("type")})

    def prompt(self, request: Request) -> Response:
        body = request.get_json()
        self.queued.append(body)
        if self.fail:
            return jresp(*reversed(self.fail.pop(0)))
        graph = body["prompt"]
        errors = {}
        for nid, node in graph.items():
            ins = node["inputs"]
            if (
                node["class_type"] == "CheckpointLoaderSimple"
                and ins["ckpt_name"] not in self.checkpoints
            ):
                errors[nid] = {
                    "class_type": node["class_type"],
                    "dependent_outputs": [],
                    "errors": [
                        {
                            "type": "value_not_in_list",
                            "message": "Value not in list",
                            "details": f"ckpt_name: '{ins['ckpt_name']}' not in list",
                        }
                    ],
                }
            if (
                node["class_type"] in ("LoadImage", "LoadImageMask")
                and ins["image"] not in self.uploads
            ):
                errors[nid] = {
                    "class_type": node["class_type"],
                    "errors": [
                        {
                            "type": "custom_validation_failed",
                            "message": "Invalid image file",
                            "details": f"image - {ins['image']}",
                        }
                    ],
                }
        if errors:
            return jresp(
                {
                    "error": {
                        "type": "prompt_outputs_failed_validation",
                        "message": "Prompt outputs failed validation",
                        "details": "",
                    },
                    "node_errors": errors,
                },
                400,
            )
        pid = body.get("prompt_id") or f"job-{len(self.queued)}"  # the client's id, if given
        self.jobs[pid] = {"graph": graph, "polls": self.pending}
        return jresp({"prompt_id": pid, "number": len(self.queued), "node_errors": self.partial})

    def history(self, request: Request) -> Response:
        self.history_calls += 1
        pid = request.path.rsplit("/", 1)[1]
        job = self.jobs.get(pid)
        if job is None or job["polls"] > 0:
            if job:
                job["polls"] -= 1
            return jresp({})
        if self.interrupted is not None:
            messages = [["execution_start", {"prompt_id": pid}]]
            messages.append(["execution_interrupted", {"prompt_id": pid, **self.interrupted}])
            return jresp(
                {
                    pid: {
                        "outputs": {},
                        "status": {"status_str": "error", "completed": False, "messages": messages},
                    }
                }
            )
        if self.error:
            return jresp(
                {
                    pid: {
                        "outputs": {},
                        "status": {
                            "status_str": "error",
                            "completed": False,
                            "messages": [["execution_error", self.error]],
                        },
                    }
                }
            )
        load = next(n for n in job["graph"].values() if n["class_type"] == "LoadImage")
        rgba = self.uploads[load["inputs"]["image"]]["image"].convert("RGBA")
        paint = rgba.getchannel("A").point(lambda a: 255 - a)  # MASK = 1 - alpha
        out = Image.composite(Image.new("RGB", rgba.size, RED), rgba.convert("RGB"), paint)
        if self.scale != 1.0:
            out = out.resize((round(out.width * self.scale), round(out.height * self.scale)))
        name = f"comicc_{len(self.outputs) + 1:05}_.png"
        buf = io.BytesIO()
        out.save(buf, format="PNG")
        self.outputs[name] = buf.getvalue()
        return jresp(
            {
                pid: {
                    "prompt": [],
                    "outputs": {
                        "9": {
                            "images": [{"filename": "preview.png", "subfolder": "", "type": "temp"}]
                        },
                        "8": {"images": [{"filename": name, "subfolder": "", "type": "output"}]},
                    },
                    "status": {"status_str": "success", "completed": True, "messages": []},
                }
            }
        )

    def view(self, request: Request) -> Response:
        a = request.args
        if a.get("type") != "output" or a.get("filename") not in self.outputs:
            return Response("not found", 404)
        return Response(self.outputs[a["filename"]], content_type="image/png")

    def queue(self, request: Request) -> Response:
        for pid in request.get_json().get("delete", []):
            self.deleted.append(pid)
            if self.waiting:  # only a waiting job can be deleted
                self.jobs.pop(pid, None)
        return jresp({})

    def unfinished(self) -> list[list]:
        return [[i, pid, {}, {}, []] for i, (pid, j) in enumerate(self.jobs.items()) if j["polls"]]

    def queue_state(self, request: Request) -> Response:
        jobs = self.unfinished()
        return jresp(
            {
                "queue_running": [] if self.waiting else jobs,
                "queue_pending": jobs if self.waiting else [],
            }
        )

    def interrupt(self, request: Request) -> Response:
        pid = (request.get_json(silent=True) or {}).get("prompt_id", "")
        self.interrupts.append(pid)
        self.jobs.pop(pid, None)
        return jresp({})


@pytest.fixture
def comfy(httpserver):
    return FakeComfy(httpserver)


@pytest.fixture
def second_server():
    with running_server() as server:
        yield server


def backend_for(server, clock: FakeClock | None = None, **backend_settings: str) -> ComfyUIBackend:
    clock = clock or FakeClock()
    return ComfyUIBackend(url=base_url(server), sleep=clock.sleep, clock=clock, **backend_settings)


# ------------------------------------------------------------------ built-in graph
def test_builtin_inpaint_graph_upload_polarity_and_result(comfy, httpserver):
    b = backend_for(httpserver)
    b.preflight()
    plan = plan_for(b)
    req = plan.request()
    res = b.paint(req)
    httpserver.check()
    ((key, up),) = comfy.uploads.items()
    assert up["form"] == {"type": "input", "overwrite": "true", "subfolder": "comicc"}
    img = up["image"]
    assert img.mode == "RGBA" and img.size == plan.request_size
    assert img.width % 8 == 0 and img.height % 8 == 0
    x, y = keep_point(req.mask)
    assert img.getpixel((x, y))[3] == 255  # KEEP: opaque
    assert img.getpixel((2, 2))[3] == 0  # PAINT: transparent (MASK = 1 - alpha)
    (body,) = comfy.queued
    assert body["client_id"] == b.client_id
    graph = body["prompt"]
    assert "{{" not in json.dumps(graph)
    by = {n["class_type"]: n["inputs"] for n in graph.values()}
    assert set(by) == {
        "CheckpointLoaderSimple",
        "CLIPTextEncode",
        "LoadImage",
        "VAEEncodeForInpaint",
        "KSampler",
        "VAEDecode",
        "SaveImage",
    }
    assert by["CheckpointLoaderSimple"]["ckpt_name"] == DEFAULT_CHECKPOINT
    texts = sorted(
        n["inputs"]["text"] for n in graph.values() if n["class_type"] == "CLIPTextEncode"
    )
    assert texts == sorted([req.prompt, "blurry"])
    assert by["LoadImage"]["image"] == key
    assert by["VAEEncodeForInpaint"]["grow_mask_by"] == 0  # sent explicitly, an int
    ks = by["KSampler"]
    assert ks["seed"] == plan.seed and isinstance(ks["seed"], int)
    assert (ks["steps"], ks["cfg"], ks["sampler_name"], ks["scheduler"], ks["denoise"]) == (
        25,
        7.0,
        "euler",
        "normal",
        1.0,
    )
    # comicc chooses the prompt_id (so a job whose answer was lost can be cancelled)
    assert res.seed_used == plan.seed and res.metadata["prompt_id"] == body["prompt_id"]
    assert set(comfy.jobs) == {body["prompt_id"]} and not comfy.deleted and not comfy.interrupts
    out, report = composite(res, plan)
    assert out.size == plan.box_size and not report.mask_ignored()
    assert out.getpixel((2, 2)) == RED


def test_other_output_size_is_composited_back_exactly(httpserver):
    FakeComfy(httpserver, scale=1.5)
    b = backend_for(httpserver)
    plan = plan_for(b)
    out, report = composite(b.paint(plan.request()), plan)
    assert report.resized and out.size == plan.box_size
    assert report.returned_size == tuple(round(v * 1.5) for v in plan.request_size)
    init, mask = plan.init_image(plan.box_size), plan.mask(plan.box_size)
    keep = mask.point(lambda v: 255 if v == 0 else 0)
    blank = Image.new("RGB", out.size)
    assert (
        Image.composite(out, blank, keep).tobytes()
        == Image.composite(init.convert("RGB"), blank, keep).tobytes()
    )


def test_settings_and_model_reach_the_graph(comfy, httpserver):
    b = backend_for(httpserver, steps="12", sampler="dpmpp_2m", scheduler="karras", cfg="5.5")
    panel = make_panel(
        backend="comfyui",
        dpi=72,
        model="comic-inpainting.safetensors",
        backend_settings=(
            ("comfyui.grow_mask_by", "4"),
            ("comfyui.steps", "12"),
            ("comfyui.sampler", "dpmpp_2m"),
            ("comfyui.scheduler", "karras"),
            ("comfyui.cfg", "5.5"),
        ),
    )
    b.paint(plan_panel(panel, two_speaker_geom(), b.capabilities).request())
    by = {n["class_type"]: n["inputs"] for n in comfy.queued[0]["prompt"].values()}
    assert by["CheckpointLoaderSimple"]["ckpt_name"] == "comic-inpainting.safetensors"
    assert by["VAEEncodeForInpaint"]["grow_mask_by"] == 4
    ks = by["KSampler"]
    assert (ks["steps"], ks["sampler_name"], ks["scheduler"], ks["cfg"]) == (
        12,
        "dpmpp_2m",
        "karras",
        5.5,
    )


# ------------------------------------------------------------------ queue and polling
def test_polls_history_until_done(httpserver):
    comfy = FakeComfy(httpserver, pending=2)
    clock = FakeClock()
    b = backend_for(httpserver, clock)
    req = plan_for(b).request()
    result = b.paint(req)
    assert comfy.history_calls == 3 and clock.sleeps == [0.25, 0.375]  # growing by 1.5
    assert isinstance(result.image, bytes) and result.image == comfy.outputs["comicc_00001_.png"]
    assert Image.open(io.BytesIO(result.image)).size == (req.width, req.height)


@pytest.mark.parametrize("waiting", [False, True])
def test_deadline_is_transient_and_the_job_is_cancelled(httpserver, waiting):
    comfy = FakeComfy(httpserver, pending=10_000)
    comfy.waiting = waiting
    clock = FakeClock()
    b = backend_for(httpserver, clock, timeout="5")
    with pytest.raises(Transient) as e:
        b.paint(plan_for(b, timeout="5").request())
    assert e.value.setting == "timeout" and "5 s" in str(e.value)
    (pid,) = [q["prompt_id"] for q in comfy.queued]
    assert 4.9 <= clock.now <= 5.1 and comfy.deleted == [pid]
    # a running job is interrupted by id; a waiting one only deleted (no /interrupt,
    # which an older ComfyUI would take as "stop whatever runs")
    assert comfy.interrupts == ([] if waiting else [pid])
    assert not comfy.unfinished()


def test_a_retry_never_leaves_a_copy_running(comfy, httpserver, tmp_path):
    comfy.pending = 10_000
    clock = FakeClock()
    b = backend_for(httpserver, clock, timeout="3")
    panel = make_panel(backend="comfyui", dpi=72, backend_settings=(("comfyui.timeout", "3"),))
    painter = Painter(
        {"comfyui": b}, ArtCache(tmp_path / "cache"), sleep=lambda s: None, progress=False
    )
    (outcome,) = painter.paint([PaintJob(panel, two_speaker_geom(), 1)])
    assert not outcome.ok and outcome.attempts > 1
    pids = [q["prompt_id"] for q in comfy.queued]
    assert len(pids) == outcome.attempts and len(set(pids)) == len(pids)
    assert comfy.interrupts == pids and not comfy.unfinished()


def test_close_cancels_the_jobs_in_flight(comfy, httpserver):
    comfy.pending = 10_000
    b = ComfyUIBackend(url=base_url(httpserver), timeout="60")
    req = plan_for(b, timeout="60").request()
    errors: list[BaseException] = []

    def paint() -> None:
        try:
            b.paint(req)
        except BaseException as e:  # noqa: BLE001 - the test reads it
            errors.append(e)

    t = threading.Thread(target=paint)
    t.start()
    while not comfy.queued:
        time.sleep(0.01)
    b.close()  # what Ctrl-C does
    t.join(10)
    (pid,) = [q["prompt_id"] for q in comfy.queued]
    assert pid in comfy.interrupts and not comfy.unfinished()
    assert len(errors) == 1 and isinstance(errors[0], Transient)


def test_node_errors_with_http_200_cancel_the_job_and_reject(comfy, httpserver):
    comfy.partial = {
        "12": {
            "class_type": "LoadImage",
            "dependent_outputs": ["13"],
            "errors": [
                {
                    "type": "custom_validation_failed",
                    "message": "Invalid image file",
                    "details": "image - nope.png",
                }
            ],
        }
    }
    comfy.pending = 5
    b = backend_for(httpserver)
    with pytest.raises(Rejected) as e:
        b.paint(plan_for(b).request())
    msg = str(e.value)
    assert "node 12 (LoadImage): Invalid image file: image - nope.png" in msg
    assert "cancelled" in msg and e.value.reason == "invalid-workflow"
    (pid,) = [q["prompt_id"] for q in comfy.queued]
    assert comfy.deleted == [pid] and comfy.interrupts == [pid] and not comfy.unfinished()


def test_interrupted_job_is_transient_with_a_clear_message(comfy, httpserver):
    comfy.interrupted = {"node_id": "6", "node_type": "KSampler", "executed": ["1"]}
    b = backend_for(httpserver)
    with pytest.raises(Transient) as e:
        b.paint(plan_for(b).request())
    assert "interrupted the job at node 6 (KSampler)" in str(e.value)
    assert "retried" in str(e.value)


def test_out_of_memory_is_transient(comfy, httpserver):
    comfy.error = {
        "node_id": "6",
        "node_type": "KSampler",
        "exception_type": "torch.OutOfMemoryError",
        "exception_message": "CUDA out of memory. Tried to allocate 2.00 GiB\nTIPS: ...",
    }
    b = backend_for(httpserver)
    with pytest.raises(Transient, match=r"ran out of memory \(KSampler: CUDA out of memory"):
        b.paint(plan_for(b).request())


def test_invalid_prompt_keeps_the_error_details(comfy, httpserver):
    comfy.fail.append(
        (
            400,
            {
                "error": {
                    "type": "invalid_prompt",
                    "message": "Cannot execute because a node is missing the class_type property.",
                    "details": "Node ID '#7'",
                    "extra_info": {},
                },
                "node_errors": {},
            },
        )
    )
    b = backend_for(httpserver)
    with pytest.raises(Rejected) as e:
        b.paint(plan_for(b).request())
    assert "missing the class_type property. (Node ID '#7')" in str(e.value)
    assert not comfy.deleted and not comfy.interrupts  # a 400 queued nothing


def test_node_errors_400_is_rejected_with_the_node(comfy, httpserver):
    b = backend_for(httpserver, checkpoint="missing.safetensors")
    with pytest.raises(Rejected) as e:
        b.paint(plan_for(b, checkpoint="missing.safetensors").request())
    msg = str(e.value)
    assert "node 1 (CheckpointLoaderSimple)" in msg and "missing.safetensors" in msg
    assert e.value.reason == "invalid-workflow"


def test_execution_error_is_rejected(comfy, httpserver):
    comfy.error = {
        "node_id": "6",
        "node_type": "KSampler",
        "exception_type": "RuntimeError",
        "exception_message": "mat1 and mat2 shapes cannot be multiplied",
    }
    b = backend_for(httpserver)
    with pytest.raises(Rejected, match="KSampler: mat1"):
        b.paint(plan_for(b).request())


def test_read_timeout_is_transient(httpserver):
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return jresp({})

    httpserver.expect_request("/upload/image").respond_with_handler(slow)
    b = ComfyUIBackend(url=base_url(httpserver), timeout="0.3")
    started = time.monotonic()
    with pytest.raises(Transient):
        b.paint(plan_for(b, timeout="0.3").request())
    assert time.monotonic() - started < 0.9


# ------------------------------------------------------------------ preflight
def test_unreachable_url_fails_preflight_naming_url():
    port = closed_port()
    with pytest.raises(Unavailable) as e:
        ComfyUIBackend(url=f"http://127.0.0.1:{port}").preflight()
    assert e.value.setting == "url"
    assert f"cannot reach 127.0.0.1:{port}" in str(e.value) and "comfyui.url" in str(e.value)


def test_unknown_checkpoint_fails_preflight(comfy, httpserver):
    with pytest.raises(Unavailable) as e:
        backend_for(httpserver, checkpoint="comic-inpainting.safetensor").preflight()
    assert e.value.setting == "checkpoint"
    assert "comic-inpainting.safetensors" in (e.value.hint or "")


def test_no_checkpoint_at_all_fails_preflight_before_any_upload(comfy, httpserver):
    comfy.checkpoints = []  # ComfyUI lists ckpt_name as [[], {...}]
    b = backend_for(httpserver)
    with pytest.raises(Unavailable) as e:
        b.preflight()
    assert e.value.setting is None  # the `backend:` line: no comfyui.checkpoint was written
    assert "has no checkpoint at all" in str(e.value) and DEFAULT_CHECKPOINT in str(e.value)
    assert "models/checkpoints" in (e.value.hint or "")
    with pytest.raises(Unavailable) as e:
        backend_for(httpserver, checkpoint="mine.safetensors").preflight()
    assert e.value.setting == "checkpoint"
    assert not comfy.uploads and not comfy.queued


def test_a_workflow_without_a_checkpoint_loader_is_not_asked_about_checkpoints(
    comfy, httpserver, tmp_path
):
    comfy.checkpoints = []
    path = write(tmp_path, MODEL_FREE)
    backend_for(httpserver, workflow=path).preflight()  # no error
    assert not any("object_info" in req.path for req, _ in httpserver.log)


def test_a_hard_coded_checkpoint_in_a_workflow_is_checked_at_the_workflow_line(
    comfy, httpserver, tmp_path
):
    graph = json.loads(EXAMPLE_WORKFLOW.read_text())
    graph["1"]["inputs"]["ckpt_name"] = "other.safetensors"
    path = write(tmp_path, graph)
    with pytest.raises(Unavailable) as e:
        backend_for(httpserver, workflow=path).preflight()
    assert e.value.setting == "workflow" and "other.safetensors" in str(e.value)


# ------------------------------------------------------------------ user workflows
def write(tmp_path: Path, doc, name: str = "wf.json") -> str:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return str(p)


def test_user_workflow_placeholders_are_substituted(comfy, httpserver):
    path = str(EXAMPLE_WORKFLOW)
    assert ComfyUIBackend.validate_settings({"workflow": path}) == []
    b = backend_for(httpserver, workflow=path)
    plan = plan_for(b, workflow=path)
    req = plan.request()
    res = b.paint(req)
    graph = comfy.queued[0]["prompt"]
    assert "{{" not in json.dumps(graph)
    template = json.loads(EXAMPLE_WORKFLOW.read_text())
    for nid, node in template.items():  # every placeholder got its typed value
        for field, value in node["inputs"].items():
            got = graph[nid]["inputs"][field]
            if not isinstance(value, str):
                assert got == value
                continue
            expected = {
                "{{prompt}}": req.prompt,
                "{{negative}}": req.negative,
                "{{seed}}": plan.seed,
                "{{width}}": req.width,
                "{{height}}": req.height,
                "{{grow_mask_by}}": 0,
            }.get(value, got)
            assert got == expected and type(got) is type(expected), (nid, field)
    by = {n["class_type"]: n["inputs"] for n in graph.values()}
    image_key, mask_key = by["LoadImage"]["image"], by["LoadImageMask"]["image"]
    assert image_key != mask_key and {image_key, mask_key} == set(comfy.uploads)
    mask = comfy.uploads[mask_key]["image"].convert("RGBA")
    x, y = keep_point(req.mask)
    assert mask.getpixel((x, y)) == (0, 0, 0, 255)  # KEEP: black and opaque
    assert mask.getpixel((2, 2)) == (255, 255, 255, 0)  # PAINT: white and transparent
    assert comfy.uploads[image_key]["image"].getpixel((x, y))[3] == 255
    assert res.seed_used == plan.seed


def test_relative_workflow_paths_are_read_from_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path, wf.BUILTIN)
    monkeypatch.chdir(tmp_path)
    assert ComfyUIBackend.validate_settings({"workflow": "wf.json"}) == []


@pytest.mark.parametrize(
    "content, words",
    [
        (None, "does not exist"),
        ("{ not json", "not JSON"),
        (
            {"last_node_id": 9, "nodes": [{"id": 1, "type": "LoadImage"}], "links": []},
            "UI workflow",
        ),
        ({"1": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{prompt}}"}}}, "{{image}}"),
        ({"1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}}}, "{{prompt}}"),
        (
            {
                "1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
                "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{promt}}"}},
            },
            "unknown placeholder",
        ),
        (
            {
                "1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
                "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "art, {{prompt}}"}},
            },
            "whole value",
        ),
        ([1, 2, 3], "API-format"),
    ],
)
def test_bad_workflow_files_are_setting_problems(tmp_path, content, words):
    path = str(tmp_path / "missing.json") if content is None else write(tmp_path, content)
    problems = ComfyUIBackend.validate_settings({"workflow": path})
    assert problems and {p.key for p in problems} == {"workflow"}
    assert any(words in p.message for p in problems), [p.message for p in problems]
    with pytest.raises(Unavailable) as e:
        ComfyUIBackend(workflow=path)
    assert e.value.setting == "workflow"


def test_ui_format_hint_says_how_to_export(tmp_path):
    path = write(tmp_path, {"nodes": [], "links": []})
    (p,) = ComfyUIBackend.validate_settings({"workflow": path})
    assert "Export (API)" in (p.hint or "")


# ------------------------------------------------------------------ several servers
def test_urls_spread_requests_over_every_server(httpserver, second_server):
    one, two = FakeComfy(httpserver), FakeComfy(second_server)
    clock = FakeClock()
    b = ComfyUIBackend(
        urls=f"{base_url(httpserver)},{base_url(second_server)}", sleep=clock.sleep, clock=clock
    )
    b.preflight()
    req = plan_for(b).request()
    for _ in range(4):
        b.paint(req)
    assert len(one.queued) == 2 and len(two.queued) == 2
    assert len(one.uploads) == 1 and len(two.uploads) == 1  # same file name, overwritten


# ------------------------------------------------------------------ scheduler
def test_scheduler_retries_a_500_then_succeeds(comfy, httpserver, tmp_path):
    comfy.fail.append((500, {"error": "internal"}))
    b = backend_for(httpserver)
    panel = make_panel(backend="comfyui", dpi=72)
    painter = Painter(
        {"comfyui": b}, ArtCache(tmp_path / "cache"), sleep=lambda s: None, progress=False
    )
    (outcome,) = painter.paint([PaintJob(panel, two_speaker_geom(), 1)])
    assert outcome.ok and outcome.attempts == 2 and not outcome.diagnostics
    assert len(comfy.queued) == 2


# ------------------------------------------------------------------ slots
@given(
    n_refs=st.integers(0, wf.MAX_SLOTS),
    n_loras=st.integers(0, wf.MAX_SLOTS),
    refs=st.lists(st.sampled_from(["a.png", "b.png", "c.png"]), min_size=1, max_size=4),
    loras=st.lists(
        st.tuples(st.sampled_from(["x", "y", "z"]), st.floats(-2, 2, allow_nan=False)),
        max_size=4,
    ),
)
def test_every_slot_is_filled_and_extra_loras_weigh_nothing(n_refs, n_loras, refs, loras):
    graph = {
        "1": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{prompt}}"}},
        **{
            f"r{i}": {"class_type": "LoadImage", "inputs": {"image": f"{{{{reference_{i}}}}}"}}
            for i in range(1, n_refs + 1)
        },
        **{
            f"l{i}": {
                "class_type": "LoraLoader",
                "inputs": {
                    "lora_name": f"{{{{lora_{i}}}}}",
                    "strength_model": f"{{{{lora_{i}_weight}}}}",
                },
            }
            for i in range(1, n_loras + 1)
        },
    }
    assert wf.check_graph(graph) == [] and wf.slots(graph) == (n_refs, n_loras)
    values = wf.slot_values(graph, refs, loras, "first.safetensors")
    filled = wf.substitute(graph, {"image": "i.png", "prompt": "p", **values})
    assert "{{" not in json.dumps(filled)
    used = [filled[f"r{i}"]["inputs"]["image"] for i in range(1, n_refs + 1)]
    assert used == [refs[i % len(refs)] for i in range(n_refs)]
    for i in range(1, n_loras + 1):
        ins = filled[f"l{i}"]["inputs"]
        if i <= len(loras):
            assert (ins["lora_name"], ins["strength_model"]) == (loras[i - 1][0], loras[i - 1][1])
        else:
            assert ins["strength_model"] == 0.0
            assert ins["lora_name"] in ({n for n, _ in loras} or {"first.safetensors"})
