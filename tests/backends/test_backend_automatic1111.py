"""Automatic1111 backend against a fake webui over real HTTP (pytest-httpserver).

The fake implements the documented contract (docs: shared/reference/image-apis.md)
and records every request; the tests decode what was sent (JSON field names,
the PNG mask's pixels, the Basic auth header) and check the answers' mapping
to comicc's typed errors.
"""

from __future__ import annotations

import base64
import io
import json
import time

import pytest
from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from comicc.backends import Rejected, Transient, Unavailable
from comicc.backends.automatic1111 import Automatic1111Backend
from comicc.paint import ArtCache, Painter, PaintJob, plan_panel
from comicc.paint.composite import composite  # the package's name is the module once loaded
from support.panels import make_panel, two_speaker_geom
from support.servers import base_url, closed_port, keep_point, plan_for, running_server

SAMPLERS = [
    {"name": "Euler a", "aliases": ["k_euler_a"], "options": {}},
    {"name": "DPM++ 2M", "aliases": ["k_dpmpp_2m"], "options": {}},
]


def b64png(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def unb64(data: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data)))


class FakeWebui:
    """stable-diffusion-webui --api, as far as comicc uses it."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        scale: float = 1.0,
        info_seed: int | None = None,
        login: tuple[str, str] | None = None,
    ):
        self.server, self.scale, self.info_seed, self.login = server, scale, info_seed, login
        self.calls: list[dict] = []  # decoded img2img requests
        self.fail: list[tuple[int, dict]] = []  # answers to give first (status, body)
        server.expect_request("/sdapi/v1/img2img", method="POST").respond_with_handler(self.img2img)
        server.expect_request("/sdapi/v1/options", method="GET").respond_with_handler(self.options)
        server.expect_request("/sdapi/v1/samplers", method="GET").respond_with_json(SAMPLERS)

    def _authorized(self, request: Request) -> bool:
        if not self.login:
            return True
        want = "Basic " + base64.b64encode(":".join(self.login).encode()).decode()
        return request.headers.get("Authorization") == want

    def options(self, request: Request) -> Response:
        if not self._authorized(request):
            return Response(
                json.dumps({"detail": "Incorrect username or password"}),
                401,
                content_type="application/json",
            )
        return Response(
            json.dumps({"sd_model_checkpoint": "comic.safetensors"}),
            content_type="application/json",
        )

    def img2img(self, request: Request) -> Response:
        if not self._authorized(request):
            return Response(
                json.dumps({"detail": "Incorrect username or password"}),
                401,
                content_type="application/json",
            )
        body = request.get_json()
        self.calls.append(
            {
                "body": body,
                "headers": dict(request.headers),
                "init": unb64(body["init_images"][0]),
                "mask": unb64(body["mask"]),
            }
        )
        if self.fail:
            status, answer = self.fail.pop(0)
            return Response(json.dumps(answer), status, content_type="application/json")
        w, h = body["width"], body["height"]
        if w % 8 or h % 8:  # what pydantic would not catch, but the webui refuses
            return Response(
                json.dumps(
                    {"error": "ValueError", "detail": "size not x8", "body": "", "errors": ""}
                ),
                422,
                content_type="application/json",
            )
        if body["sampler_name"] not in [s["name"] for s in SAMPLERS]:
            return Response(
                json.dumps(
                    {
                        "error": "HTTPException",
                        "detail": "Sampler not found",
                        "body": "",
                        "errors": "",
                    }
                ),
                404,
                content_type="application/json",
            )
        # paint: solid red where the (white = inpaint) mask says so, at the scaled size
        init = self.calls[-1]["init"].convert("RGB")
        mask = self.calls[-1]["mask"].convert("L")
        out = Image.composite(Image.new("RGB", init.size, (200, 30, 60)), init, mask)
        if self.scale != 1.0:
            out = out.resize((round(w * self.scale), round(h * self.scale)))
        seed = self.info_seed if self.info_seed is not None else body.get("seed", -1)
        info = json.dumps({"seed": seed, "all_seeds": [seed], "sampler_name": body["sampler_name"]})
        return Response(
            json.dumps({"images": [b64png(out)], "parameters": {}, "info": info}),
            content_type="application/json",
        )


@pytest.fixture
def webui(httpserver):
    return FakeWebui(httpserver)


@pytest.fixture
def second_server():
    with running_server() as server:
        yield server


def backend_for(server: HTTPServer, **backend_settings: str) -> Automatic1111Backend:
    return Automatic1111Backend(url=base_url(server), **backend_settings)


# ------------------------------------------------------------------ contract
def test_request_fields_mask_polarity_seed_and_size(webui, httpserver):
    b = backend_for(httpserver, steps="20", sampler="DPM++ 2M")
    plan = plan_for(b, steps="20", sampler="DPM++ 2M")
    req = plan.request()
    res = b.paint(req)
    httpserver.check()
    (call,) = webui.calls
    body = call["body"]
    assert set(body) >= {
        "init_images",
        "mask",
        "mask_blur",
        "inpainting_fill",
        "inpaint_full_res",
        "inpaint_full_res_padding",
        "inpainting_mask_invert",
        "denoising_strength",
        "seed",
        "width",
        "height",
        "steps",
        "cfg_scale",
        "sampler_name",
        "prompt",
        "negative_prompt",
    }
    assert body["mask_blur"] == 0  # sent explicitly
    assert plan.request().backend_settings["mask_blur"] == "0"
    assert body["inpainting_fill"] == 1 and body["inpaint_full_res"] is False
    assert body["inpainting_mask_invert"] == 0 and body["denoising_strength"] == 0.75
    assert body["seed"] == plan.seed != -1
    assert (body["width"], body["height"]) == plan.request_size
    assert body["width"] % 8 == 0 and body["height"] % 8 == 0
    assert body["steps"] == 20 and body["sampler_name"] == "DPM++ 2M" and body["cfg_scale"] == 7.0
    assert body["prompt"] == req.prompt and body["negative_prompt"] == "blurry"
    assert len(body["init_images"]) == 1 and call["init"].size == plan.request_size
    mask = call["mask"].convert("L")
    assert mask.size == plan.request_size
    x, y = keep_point(req.mask)
    assert mask.getpixel((x, y)) == 0  # KEEP is black
    assert mask.getpixel((2, 2)) == 255  # PAINT is white (a corner of sky)
    assert mask.tobytes() == req.mask.tobytes()
    assert "Authorization" not in call["headers"]
    assert res.seed_used == plan.seed and res.metadata["server"].startswith("127.0.0.1")
    out, report = composite(res, plan)
    assert report.changed_fraction < 0.01 and not report.mask_ignored()


def test_other_output_size_is_composited_back_exactly(httpserver):
    webui = FakeWebui(httpserver, scale=1.5)
    b = backend_for(httpserver)
    plan = plan_for(b)
    assert plan.request_size != plan.box_size  # 400x300 pt at 72 dpi -> x8 rounding
    res = b.paint(plan.request())
    out, report = composite(res, plan)
    assert report.resized and out.size == plan.box_size
    assert report.returned_size == tuple(round(v * 1.5) for v in plan.request_size)
    init, mask = plan.init_image(plan.box_size), plan.mask(plan.box_size)
    keep = mask.point(lambda v: 255 if v == 0 else 0)
    blank = Image.new("RGB", out.size)
    assert (
        Image.composite(out, blank, keep).tobytes()
        == Image.composite(init.convert("RGB"), blank, keep).tobytes()
    )
    assert out.getpixel((2, 2)) == (200, 30, 60)
    assert len(webui.calls) == 1


def test_seed_is_read_back_from_the_info_json_string(httpserver):
    FakeWebui(httpserver, info_seed=424242)
    b = backend_for(httpserver)
    assert b.paint(plan_for(b).request()).seed_used == 424242


def test_writer_settings_override_the_defaults(webui, httpserver):
    b = backend_for(httpserver)
    plan = plan_for(
        b, mask_blur="3", inpainting_fill="2", inpaint_full_res="true", denoising_strength="0.5"
    )
    b.paint(plan.request())
    body = webui.calls[0]["body"]
    assert (
        body["mask_blur"],
        body["inpainting_fill"],
        body["inpaint_full_res"],
        body["denoising_strength"],
    ) == (3, 2, True, 0.5)


def test_model_selects_the_checkpoint(webui, httpserver):
    b = backend_for(httpserver)
    panel = make_panel(backend="automatic1111", dpi=72, model="comic.safetensors")
    b.paint(plan_panel(panel, two_speaker_geom(), b.capabilities).request())
    body = webui.calls[0]["body"]
    assert body["override_settings"] == {"sd_model_checkpoint": "comic.safetensors"}


def test_basic_auth_header_from_the_environment(httpserver, monkeypatch):
    monkeypatch.setenv("AUTOMATIC1111_PASSWORD", "s3cret")
    webui = FakeWebui(httpserver, login=("writer", "s3cret"))
    b = backend_for(httpserver, user="writer")
    b.preflight()
    b.paint(plan_for(b).request())
    assert (
        webui.calls[0]["headers"]["Authorization"]
        == "Basic " + base64.b64encode(b"writer:s3cret").decode()
    )


def test_wrong_password_is_unavailable_and_never_shown(httpserver, monkeypatch):
    monkeypatch.setenv("AUTOMATIC1111_PASSWORD", "wrong-pw")
    FakeWebui(httpserver, login=("writer", "s3cret"))
    b = backend_for(httpserver, user="writer")
    with pytest.raises(Unavailable) as e:
        b.preflight()
    assert e.value.setting == "user" and "wrong-pw" not in f"{e.value} {e.value.hint}"
    with pytest.raises(Unavailable) as e:
        b.paint(plan_for(b).request())
    assert "wrong-pw" not in f"{e.value} {e.value.hint}"


def test_user_without_password_fails_preflight(httpserver, monkeypatch):
    monkeypatch.delenv("AUTOMATIC1111_PASSWORD", raising=False)
    monkeypatch.setenv("COMICC_CONFIG", "/nonexistent-comicc-config")
    FakeWebui(httpserver)
    with pytest.raises(Unavailable) as e:
        backend_for(httpserver, user="writer").preflight()
    assert e.value.setting == "user" and "AUTOMATIC1111_PASSWORD" in (e.value.hint or "")


# ------------------------------------------------------------------ errors
def test_422_is_rejected_with_the_detail(webui, httpserver):
    webui.fail.append(
        (
            422,
            {
                "error": "RequestValidationError",
                "body": "",
                "errors": "",
                "detail": [
                    {
                        "loc": ["body", "steps"],
                        "msg": "value is not a valid integer",
                        "type": "type_error.integer",
                    }
                ],
            },
        )
    )
    b = backend_for(httpserver)
    with pytest.raises(Rejected) as e:
        b.paint(plan_for(b).request())
    assert "steps: value is not a valid integer" in str(e.value)


def test_unknown_sampler_404_is_rejected(webui, httpserver):
    b = backend_for(httpserver, sampler="Eular a")
    with pytest.raises(Rejected) as e:
        b.paint(plan_for(b, sampler="Eular a").request())
    assert "Sampler not found" in str(e.value) and e.value.reason == "not-found"


def test_unknown_sampler_is_caught_in_preflight(webui, httpserver):
    with pytest.raises(Unavailable) as e:
        backend_for(httpserver, sampler="Eular a").preflight()
    assert e.value.setting == "sampler" and "Euler a" in (e.value.hint or "")


def test_api_not_enabled_404_is_unavailable(httpserver):
    httpserver.expect_request("/sdapi/v1/img2img").respond_with_json(
        {"detail": "Not Found"}, status=404
    )
    b = backend_for(httpserver)
    with pytest.raises(Unavailable) as e:
        b.paint(plan_for(b).request())
    assert "--api" in (e.value.hint or "")


def test_invalid_encoded_image_500_is_rejected(webui, httpserver):
    webui.fail.append(
        (
            500,
            {"error": "HTTPException", "detail": "Invalid encoded image", "body": "", "errors": ""},
        )
    )
    b = backend_for(httpserver)
    with pytest.raises(Rejected) as e:
        b.paint(plan_for(b).request())
    assert e.value.reason == "invalid-image"


def test_other_500_is_transient(webui, httpserver):
    webui.fail.append(
        (500, {"error": "RuntimeError", "detail": "", "body": "", "errors": "something broke"})
    )
    b = backend_for(httpserver)
    with pytest.raises(Transient):
        b.paint(plan_for(b).request())


def test_read_timeout_is_transient(httpserver):
    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/sdapi/v1/img2img").respond_with_handler(slow)
    b = backend_for(httpserver, timeout="0.3")
    started = time.monotonic()
    with pytest.raises(Transient):
        b.paint(plan_for(b, timeout="0.3").request())
    assert time.monotonic() - started < 0.9


def test_unreachable_url_fails_preflight_naming_url():
    port = closed_port()
    b = Automatic1111Backend(url=f"http://127.0.0.1:{port}")
    with pytest.raises(Unavailable) as e:
        b.preflight()
    assert e.value.setting == "url"
    assert f"cannot reach 127.0.0.1:{port}" in str(e.value) and "automatic1111.url" in str(e.value)


def test_bad_settings_are_setting_problems():
    problems = Automatic1111Backend.validate_settings(
        {
            "url": "gpu1:7860",
            "steps": "many",
            "inpainting_fill": "7",
            "inpaint_full_res": "maybe",
            "mask_blurr": "2",
        }
    )
    assert {p.key for p in problems} == {
        "url",
        "steps",
        "inpainting_fill",
        "inpaint_full_res",
        "mask_blurr",
    }
    assert any("mask_blur" in (p.hint or "") for p in problems)
    assert Automatic1111Backend.validate_settings({"urls": "http://a:1, http://b:2"}) == []


# ------------------------------------------------------------------ several servers
def test_urls_spread_requests_and_preflight_checks_every_one(httpserver, second_server):
    one, two = FakeWebui(httpserver), FakeWebui(second_server)
    urls = f"{base_url(httpserver)}, {base_url(second_server)}"
    b = Automatic1111Backend(url="http://127.0.0.1:9", urls=urls)  # urls wins
    b.preflight()
    assert len(httpserver.log) >= 1 and len(second_server.log) >= 1
    req = plan_for(b).request()
    for _ in range(4):
        b.paint(req)
    assert len(one.calls) == 2 and len(two.calls) == 2
    second_server.stop()
    with pytest.raises(Unavailable) as e:
        b.preflight()
    assert e.value.setting == "urls"


def test_a_dead_server_among_several_is_transient(httpserver):
    live = FakeWebui(httpserver)
    urls = f"http://127.0.0.1:{closed_port()}, {base_url(httpserver)}"
    b = Automatic1111Backend(urls=urls)
    req = plan_for(b).request()
    with pytest.raises(Transient):
        b.paint(req)  # the dead one: the scheduler's retry goes to the next
    result = b.paint(req)
    assert result.metadata["server"] == f"127.0.0.1:{httpserver.port}" and len(live.calls) == 1
    assert isinstance(result.image, bytes)
    assert Image.open(io.BytesIO(result.image)).size == (req.width, req.height)


# ------------------------------------------------------------------ scheduler
def test_scheduler_retries_a_500_then_succeeds(webui, httpserver, tmp_path):
    webui.fail.append(
        (500, {"error": "RuntimeError", "detail": "CUDA hiccup", "body": "", "errors": ""})
    )
    b = backend_for(httpserver)
    panel = make_panel(backend="automatic1111", dpi=72)
    painter = Painter(
        {"automatic1111": b}, ArtCache(tmp_path / "cache"), sleep=lambda s: None, progress=False
    )
    (outcome,) = painter.paint([PaintJob(panel, two_speaker_geom(), 1)])
    assert outcome.ok and outcome.attempts == 2 and not outcome.diagnostics
    assert len(webui.calls) == 2
    assert webui.calls[0]["body"]["seed"] == webui.calls[1]["body"]["seed"]


def test_scheduler_spreads_parallel_paints_over_urls(httpserver, second_server, tmp_path):
    one, two = FakeWebui(httpserver), FakeWebui(second_server)
    b = Automatic1111Backend(urls=f"{base_url(httpserver)}, {base_url(second_server)}")
    painter = Painter(
        {"automatic1111": b}, ArtCache(tmp_path / "cache"), sleep=lambda s: None, progress=False
    )
    assert painter.workers == 4
    jobs = [
        PaintJob(make_panel(backend="automatic1111", dpi=72, number=n), two_speaker_geom(), 1)
        for n in range(1, 5)
    ]
    outcomes = painter.paint(jobs)
    assert all(o.ok for o in outcomes)
    assert len(one.calls) == 2 and len(two.calls) == 2
    assert len({c["body"]["seed"] for c in one.calls + two.calls}) == 4
