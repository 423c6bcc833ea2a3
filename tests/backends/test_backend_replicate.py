"""The Replicate backend against a fake Replicate API (real HTTP on 127.0.0.1).

:class:`FakeReplicate` implements the documented contract (predictions by
model or by version, ``Prefer: wait``, polling, cancel, ``/v1/files``
uploads, output URLs) and ASSERTS every request it gets: endpoint, bearer
token, ``Prefer: wait=N``, the input field names of the model family, a seed
always present, width/height, and the mask's polarity, checked by decoding
the data URL or the uploaded file and reading its pixels (known KEEP points
must be black, known PAINT points white). An assertion that fails inside the
handler is re-raised at teardown (``httpserver.check()``), so a test that
expects an error cannot pass by accident on the fake's own 500.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import time

import pytest
from PIL import Image, ImageChops, ImageDraw
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from comicc.backends import PaintRequest, RateLimited, Rejected, Transient, Unavailable
from comicc.backends.replicate import DATA_URL_LIMIT, ReplicateBackend
from comicc.backends.replicate_errors import retry_after_from_detail
from comicc.backends.replicate_inputs import FLUX_CAPS, SDXL_CAPS
from support.servers import FakeClock, allow_local_key_hosts

TOKEN = "r8_fake_token_for_tests_0123456789"
SDXL_FIELDS = {
    "image",
    "mask",
    "prompt",
    "negative_prompt",
    "width",
    "height",
    "num_outputs",
    "seed",
    "apply_watermark",
}
SDXL_OPTIONAL = {"num_inference_steps", "guidance_scale", "prompt_strength"}
FLUX_FIELDS = {"image", "mask", "prompt", "seed", "output_format"}
FLUX_OPTIONAL = {"steps", "guidance"}
PAINTED = (200, 40, 160)  # what the fake "inpaints" with


def png_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


class FakeReplicate:
    """A small Replicate: one handler for every path, state kept in the object."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        model: str = "stability-ai/sdxl",
        version: str | None = None,
        wait: int = 60,
        running_gets: int | None = None,
        final: str = "succeeded",
        error: str | None = None,
        output: str = "list",
        out_size: tuple[int, int] | None = None,
        keep_points=(),
        paint_points=(),
        create_errors: list[tuple[int, dict, dict]] | None = None,
        create_delay: float = 0.0,
        urls_host: str | None = None,
        output_server: HTTPServer | None = None,
    ):
        self.server = server
        self.model, self.version, self.wait = model, version, wait
        self.running_gets = running_gets  # None: answer at once (sync); n: n GETs still running
        self.final, self.error, self.output = final, error, output
        self.out_size = out_size
        self.keep_points, self.paint_points = keep_points, paint_points
        self.create_errors = list(create_errors or [])  # answered (in order) before any success
        self.create_delay = create_delay
        self.urls_host = urls_host  # advertise urls.get/cancel on another host
        self.output_server = output_server  # serve outputs from another host
        self.log: list[tuple[str, str]] = []
        self.inputs: list[dict] = []
        self.bodies: list[dict] = []
        self.files: dict[str, bytes] = {}
        self.uploads: list[tuple[str, str]] = []  # (filename, content type)
        self.images: list[tuple[Image.Image, Image.Image]] = []
        self.outputs: dict[str, bytes] = {}
        self.cancels: list[str] = []
        self.preds: dict[str, dict] = {}
        self.gets_left: dict[str, int] = {}
        server.expect_request(re.compile(r"^/.*")).respond_with_handler(self.handle)
        if output_server is not None:
            output_server.expect_request(re.compile(r"^/.*")).respond_with_handler(
                self.handle_output
            )

    # ---------------------------------------------------------- helpers
    def url(self, path: str) -> str:
        return self.server.url_for(path)

    @staticmethod
    def json(doc: dict, status: int = 200, headers: dict | None = None) -> Response:
        return Response(
            json.dumps(doc), status=status, headers=headers or {}, content_type="application/json"
        )

    def authed(self, req: Request) -> None:
        assert req.headers.get("Authorization") == f"Bearer {TOKEN}", "missing/wrong bearer token"

    def fetch_file(self, value: str) -> bytes:
        """The bytes of a file input: a data URL or a URL from /v1/files."""
        if value.startswith("data:"):
            head, _, payload = value.partition(",")
            assert head == "data:image/png;base64", head
            data = base64.b64decode(payload, validate=True)
            assert len(data) <= DATA_URL_LIMIT, "data URLs are only allowed up to 256 KB"
            return data
        m = re.fullmatch(re.escape(self.url("/v1/files/")) + r"(f\d+)", value)
        assert m, f"file input is neither a data URL nor an uploaded file: {value[:80]}"
        assert len(self.files[m.group(1)]) > 0
        return self.files[m.group(1)]

    def pred_json(self, pid: str) -> dict:
        p = self.preds[pid]
        base = self.urls_host or self.url("").rstrip("/")
        return {
            "id": pid,
            "model": self.model,
            "version": self.version or "v-latest",
            "status": p["status"],
            "input": {},
            "error": p.get("error"),
            "output": p.get("output"),
            "metrics": {"predict_time": 1.25},
            "urls": {
                "get": f"{base}/v1/predictions/{pid}",
                "cancel": f"{base}/v1/predictions/{pid}/cancel",
            },
        }

    # ---------------------------------------------------------- routes
    def handle(self, req: Request) -> Response:
        self.log.append((req.method, req.path))
        if req.method == "POST" and req.path == "/v1/files":
            return self.upload(req)
        if req.method == "POST" and (
            req.path == "/v1/predictions"
            or re.fullmatch(r"/v1/models/[^/]+/[^/]+/predictions", req.path)
        ):
            return self.create(req)
        m = re.fullmatch(r"/v1/predictions/(p\d+)(/cancel)?", req.path)
        if m and req.method == "GET" and not m.group(2):
            return self.get(req, m.group(1))
        if m and req.method == "POST" and m.group(2):
            self.authed(req)
            self.cancels.append(m.group(1))
            self.preds[m.group(1)]["status"] = "canceled"
            return self.json(self.pred_json(m.group(1)))
        if req.method == "GET" and req.path.startswith("/outputs/"):
            return self.handle_output(req, logged=True)
        raise AssertionError(f"unexpected request {req.method} {req.path}")

    def handle_output(self, req: Request, logged: bool = False) -> Response:
        if not logged:
            self.log.append(("GET-other-host", req.path))
            assert "Authorization" not in req.headers, "the token leaked to the output host"
        name = req.path.rsplit("/", 1)[1]
        return Response(self.outputs[name], content_type="image/png")

    def upload(self, req: Request) -> Response:
        self.authed(req)
        assert req.mimetype == "multipart/form-data"
        f = req.files.get("content")
        assert f is not None, "the multipart field must be called `content`"
        fid = f"f{len(self.files) + 1}"
        self.files[fid] = f.read()
        self.uploads.append((f.filename or "", f.mimetype))
        return self.json(
            {
                "id": fid,
                "name": f.filename,
                "content_type": f.mimetype,
                "size": len(self.files[fid]),
                "urls": {"get": self.url(f"/v1/files/{fid}")},
            },
            status=201,
        )

    def create(self, req: Request) -> Response:
        self.authed(req)
        assert req.headers.get("Prefer") == f"wait={self.wait}", req.headers.get("Prefer")
        assert req.mimetype == "application/json"
        body = json.loads(req.get_data())
        self.bodies.append(body)
        if self.version:
            assert req.path == "/v1/predictions" and body.get("version") == self.version
        else:
            assert req.path == f"/v1/models/{self.model}/predictions", req.path
            assert "version" not in body
        inp = body["input"]
        self.inputs.append(inp)
        flux = "flux-fill" in self.model
        required, optional = (FLUX_FIELDS, FLUX_OPTIONAL) if flux else (SDXL_FIELDS, SDXL_OPTIONAL)
        assert required <= set(inp) <= required | optional, sorted(inp)
        assert isinstance(inp["seed"], int) and 1 <= inp["seed"] <= 2**32 - 2
        assert isinstance(inp["prompt"], str) and inp["prompt"]
        image = Image.open(io.BytesIO(self.fetch_file(inp["image"])))
        mask = Image.open(io.BytesIO(self.fetch_file(inp["mask"])))
        image.load(), mask.load()
        assert image.size == mask.size
        assert mask.mode == "L", mask.mode
        if not flux:
            assert inp["num_outputs"] == 1 and inp["apply_watermark"] is False
            assert isinstance(inp["width"], int) and isinstance(inp["height"], int)
            assert inp["width"] % 8 == 0 and inp["height"] % 8 == 0
            assert (inp["width"], inp["height"]) == image.size
        # polarity: white = inpaint, black = keep
        for pt in self.keep_points:
            assert mask.getpixel(pt) == 0, f"KEEP point {pt} is not black"
        for pt in self.paint_points:
            assert mask.getpixel(pt) == 255, f"PAINT point {pt} is not white"
        self.images.append((image.convert("RGB"), mask))
        if self.create_delay:
            time.sleep(self.create_delay)
        if self.create_errors:
            status, doc, headers = self.create_errors.pop(0)
            return self.json(doc, status, headers)
        pid = f"p{len(self.preds) + 1}"
        self.preds[pid] = {"status": "processing"}
        self.gets_left[pid] = self.running_gets or 0
        if self.running_gets is None:
            self.settle(pid)
        return self.json(self.pred_json(pid), status=201)

    def get(self, req: Request, pid: str) -> Response:
        self.authed(req)
        if self.preds[pid]["status"] == "processing":
            if self.gets_left[pid] > 0:
                self.gets_left[pid] -= 1
            else:
                self.settle(pid)
        return self.json(self.pred_json(pid))

    def settle(self, pid: str) -> None:
        """Finish prediction ``pid``: paint PAINTED where the mask is white."""
        p = self.preds[pid]
        p["status"] = self.final
        if self.final == "failed":
            p["error"] = self.error
            return
        if self.final != "succeeded":
            return
        image, mask = self.images[-1]
        art = Image.composite(Image.new("RGB", image.size, PAINTED), image, mask)
        if self.out_size and self.out_size != art.size:
            art = art.resize(self.out_size, Image.Resampling.BICUBIC)
        name = f"{pid}.png"
        self.outputs[name] = png_bytes(art)
        host = self.output_server.url_for("/") if self.output_server else self.url("/")
        url = f"{host}outputs/{name}"
        p["output"] = {"list": [url], "str": url, "empty": [], "none": None}[self.output]

    def count(self, method: str, pattern: str) -> int:
        return sum(1 for m, p in self.log if m == method and re.fullmatch(pattern, p))


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "no-config"))  # no user keys.toml
    allow_local_key_hosts(monkeypatch)  # the fake listens on this machine


@pytest.fixture
def fake(httpserver: HTTPServer, env):
    made: list[FakeReplicate] = []

    def make(**kw) -> FakeReplicate:
        f = FakeReplicate(httpserver, **kw)
        made.append(f)
        return f

    yield make
    httpserver.check()  # an assertion or error inside the fake fails the test here


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def backend(httpserver: HTTPServer, clock, env):
    def make(**backend_settings: str) -> ReplicateBackend:
        b = ReplicateBackend(
            url=httpserver.url_for("/").rstrip("/"),
            sleep=clock.sleep,
            clock=clock,
            session=None,
            **backend_settings,
        )
        b.preflight()
        return b

    return make


W, H = 256, 192
KEEP_BOX = (16, 16, 120, 88)  # a "balloon": KEEP (0)
KEEP_POINTS = ((40, 40), (100, 70))
PAINT_POINTS = ((200, 150), (250, 10))


def make_request(
    w: int = W,
    h: int = H,
    *,
    init: Image.Image | None = None,
    seed: int | None = 4242,
    negative: str = "blurry, text",
) -> PaintRequest:
    if init is None:
        init = Image.new("RGB", (w, h), (246, 242, 232))
        ImageDraw.Draw(init).ellipse(KEEP_BOX, fill="white", outline="black", width=2)
    mask = Image.new("L", (w, h), 255)
    ImageDraw.Draw(mask).rectangle(KEEP_BOX, fill=0)
    return PaintRequest(
        prompt="a hamster in a moonlit kitchen",
        negative=negative,
        seed=seed,
        width=w,
        height=h,
        init_image=init,
        mask=mask,
        panel_id="p1.1",
    )


def noisy(w: int, h: int) -> Image.Image:
    return Image.frombytes("RGB", (w, h), hashlib.shake_256(b"noise").digest(w * h * 3))


def decoded(result) -> Image.Image:
    assert isinstance(result.image, bytes)
    im = Image.open(io.BytesIO(result.image))
    im.load()
    return im.convert("RGB")


# ------------------------------------------------------------------ success
def test_sync_success_sends_the_documented_request(fake, backend, clock):
    f = fake(keep_points=KEEP_POINTS, paint_points=PAINT_POINTS)
    result = backend().paint(make_request())
    inp = f.inputs[0]
    assert inp["prompt"] == "a hamster in a moonlit kitchen"
    assert inp["negative_prompt"] == "blurry, text"
    assert (inp["width"], inp["height"], inp["seed"]) == (W, H, 4242)
    assert inp["image"].startswith("data:image/png;base64,")
    assert inp["mask"].startswith("data:image/png;base64,")
    assert f.log == [
        ("POST", "/v1/models/stability-ai/sdxl/predictions"),
        ("GET", "/outputs/p1.png"),
    ]
    assert clock.sleeps == []  # `Prefer: wait` answered: no polling
    img = decoded(result)
    assert img.size == (W, H)
    assert img.getpixel(PAINT_POINTS[0]) == PAINTED and img.getpixel(KEEP_POINTS[0]) == (
        255,
        255,
        255,
    )
    assert result.seed_used == 4242
    assert (
        result.metadata["prediction_id"] == "p1" and result.metadata["model"] == "stability-ai/sdxl"
    )
    assert TOKEN not in repr(result) and TOKEN not in json.dumps(dict(result.metadata))


def test_optional_sdxl_settings_are_sent_typed(fake, backend):
    f = fake()
    b = backend(num_inference_steps="30", guidance_scale="6.5", prompt_strength="0.9")
    b.paint(make_request())
    inp = f.inputs[0]
    assert inp["num_inference_steps"] == 30 and inp["guidance_scale"] == 6.5
    assert inp["prompt_strength"] == 0.9 and inp["apply_watermark"] is False
    # apply_watermark is off unless asked for
    assert (
        backend(apply_watermark="true").build_input(make_request(), 1, "i", "m")["apply_watermark"]
        is True
    )


def test_prefer_wait_header_follows_the_setting(fake, backend):
    f = fake(wait=12)
    backend(wait="12").paint(make_request())
    assert len(f.inputs) == 1


def test_async_prediction_is_polled_with_backoff(fake, backend, clock):
    f = fake(running_gets=2, keep_points=KEEP_POINTS, paint_points=PAINT_POINTS)
    result = backend().paint(make_request())
    assert f.count("GET", r"/v1/predictions/p1") == 3  # processing, processing, succeeded
    assert clock.sleeps == [0.5, 1.0, 2.0]
    assert f.cancels == []
    assert decoded(result).getpixel(PAINT_POINTS[1]) == PAINTED


def test_a_seed_is_always_sent(fake, backend):
    f = fake()
    result = backend().paint(make_request(seed=None))
    assert isinstance(f.inputs[0]["seed"], int)
    assert result.seed_used == f.inputs[0]["seed"]  # reported, so the lock can record it


def test_version_uses_the_versioned_endpoint(fake, backend):
    version = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b"
    f = fake(version=version)
    backend(version=version).paint(make_request())
    assert f.log[0] == ("POST", "/v1/predictions")
    assert f.bodies[0]["version"] == version and set(f.bodies[0]) == {"version", "input"}


def test_flux_fill_inputs_and_capabilities(fake, backend):
    from comicc.paint.plan import plan_panel
    from support.panels import make_panel, two_speaker_geom

    model = "black-forest-labs/flux-fill-pro"
    f = fake(model=model, keep_points=KEEP_POINTS, paint_points=PAINT_POINTS)
    b = backend(model=model, steps="28", guidance="30")
    assert b.capabilities is FLUX_CAPS and not b.capabilities.negative_prompt
    assert ReplicateBackend.capabilities is SDXL_CAPS and backend().capabilities.negative_prompt
    b.paint(make_request(w=256, h=192))
    inp = f.inputs[0]
    assert set(inp) == FLUX_FIELDS | FLUX_OPTIONAL  # no negative_prompt, no width/height
    assert inp["steps"] == 28 and inp["guidance"] == 30.0 and inp["output_format"] == "png"
    # the plan reads the instance's capabilities: the negative prompt is dropped, with a note
    plan = plan_panel(
        make_panel(backend="replicate", dpi=72, backend_settings=(("replicate.model", model),)),
        two_speaker_geom(),
        b.capabilities,
    )
    assert plan.negative == "" and any("negative prompt" in n for n in plan.notes)
    assert plan.request_size[0] % 16 == 0 and plan.request_size[1] % 16 == 0


def test_capabilities_match_the_matrix():
    caps = SDXL_CAPS
    assert caps.mask_convention == "white" and caps.edge_control is None
    assert caps.seed and caps.negative_prompt and not caps.sync and caps.needs_network
    assert caps.needs_key == "REPLICATE_API_TOKEN" and caps.cost_unit == "USD/prediction"
    assert caps.multiple_of == 8
    w, h = caps.negotiate_size(2000, 3000)
    assert w % 8 == 0 and h % 8 == 0 and w * h <= 1024 * 1024


# ------------------------------------------------ output size / composite
def test_a_different_output_size_is_composited_back_exactly(fake, backend):
    from comicc.paint.composite import composite
    from comicc.paint.plan import plan_panel
    from support.panels import make_panel, two_speaker_geom

    b = backend()
    geom = two_speaker_geom()
    plan = plan_panel(make_panel(backend="replicate", dpi=100), geom, b.capabilities)
    rw, rh = plan.request_size
    assert rw % 8 == 0 and rh % 8 == 0
    # balloon centres (panel points) -> request pixels: they must be black in the mask
    sx, sy = rw / plan.box_pt[0], rh / plan.box_pt[1]
    centres = [
        (
            round((bl.rect.x + bl.rect.w / 2 - geom.rect.x) * sx),
            round((bl.rect.y + bl.rect.h / 2 - geom.rect.y) * sy),
        )
        for bl in geom.balloons
    ]
    served = fake(out_size=(1024, 1024), keep_points=centres, paint_points=[(rw // 2, rh - 5)])
    req = plan.request()
    result = b.paint(req)
    assert len(served.inputs) == 1  # its keep/paint points were checked on the mask sent
    assert decoded(result).size == (1024, 1024)  # SDXL answered another size
    done = composite(result, plan)
    assert done.image.size == plan.box_size and done.report.resized
    init, mask = plan.init_image(plan.box_size), plan.mask(plan.box_size)
    keep = mask.point(lambda v: 255 if v == 0 else 0)
    diff = (
        ImageChops.difference(done.image, init.convert("RGB"))
        .convert("L")
        .point(lambda v: 255 if v else 0)
    )
    assert ImageChops.multiply(diff, keep).getbbox() is None  # kept pixels: bit for bit
    # and the painted area is the service's colour
    px = done.image.getpixel((plan.box_size[0] // 2, plan.box_size[1] - 3))
    assert isinstance(px, tuple)
    assert max(abs(a - b) for a, b in zip(px, PAINTED, strict=True)) < 24


# ------------------------------------------------------------- file inputs
def test_large_files_are_uploaded(fake, backend):
    f = fake(keep_points=KEEP_POINTS, paint_points=PAINT_POINTS)
    init = noisy(W * 2, H * 2)  # noise does not compress: the PNG is far over 256 KB
    req = make_request(W * 2, H * 2, init=init)
    backend().paint(req)
    inp = f.inputs[0]
    assert inp["image"] == f.url("/v1/files/f1")  # uploaded...
    assert inp["mask"].startswith("data:image/png;")  # ...the small mask stays inline
    assert f.uploads == [("image.png", "image/png")]
    assert f.log[0] == ("POST", "/v1/files")
    uploaded = Image.open(io.BytesIO(f.files["f1"])).convert("RGB")
    assert ImageChops.difference(uploaded, init).getbbox() is None  # the exact pixels


def test_lowered_threshold_uploads_the_mask_too(fake, backend):
    f = fake(keep_points=KEEP_POINTS, paint_points=PAINT_POINTS)  # polarity read from the upload
    b = backend()
    b.data_url_limit = 0
    b.paint(make_request())
    assert f.inputs[0]["image"] == f.url("/v1/files/f1")
    assert f.inputs[0]["mask"] == f.url("/v1/files/f2")
    mask = Image.open(io.BytesIO(f.files["f2"]))
    assert mask.getpixel(KEEP_POINTS[0]) == 0 and mask.getpixel(PAINT_POINTS[0]) == 255


# ------------------------------------------------------------------- errors
THROTTLED = {"detail": "Request was throttled. Your rate limit resets in ~30s.", "status": 429}


def test_429_reads_the_wait_from_the_detail(fake, backend):
    fake(create_errors=[(429, THROTTLED, {})])
    with pytest.raises(RateLimited) as e:
        backend().paint(make_request())
    assert e.value.retry_after == 30 and "throttled" in str(e.value)


def test_429_header_wins_over_the_detail(fake, backend):
    fake(create_errors=[(429, THROTTLED, {"Retry-After": "7"})])
    with pytest.raises(RateLimited) as e:
        backend().paint(make_request())
    assert e.value.retry_after == 7


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("Request was throttled. Your rate limit resets in ~30s.", 30),
        ("Request was throttled. Your rate limit resets in ~1.5s.", 1.5),
        ("Your rate limit resets in 2 minutes", 120),
        ("throttled", None),
    ],
)
def test_retry_after_from_detail(text, seconds):
    assert retry_after_from_detail(text) == seconds


def test_401_is_unavailable_and_never_shows_the_token(fake, backend):
    fake(
        create_errors=[
            (
                401,
                {
                    "title": "Unauthenticated",
                    "detail": "You did not pass a valid authentication token",
                    "status": 401,
                },
                {},
            )
        ]
    )
    with pytest.raises(Unavailable) as e:
        backend().paint(make_request())
    assert "401" in str(e.value) and "REPLICATE_API_TOKEN" in (e.value.hint or "")
    assert TOKEN not in str(e.value) and TOKEN not in (e.value.hint or "")


def test_422_is_rejected_with_the_detail(fake, backend):
    fake(
        create_errors=[
            (
                422,
                {
                    "detail": "- input.width: Must be less than or equal to 2048",
                    "status": 422,
                    "title": "Input validation failed",
                    "invalid_fields": [
                        {
                            "type": "less_than_equal",
                            "field": "input.width",
                            "description": "Must be <= 2048",
                        }
                    ],
                },
                {},
            )
        ]
    )
    with pytest.raises(Rejected) as e:
        backend().paint(make_request())
    assert "Must be less than or equal to 2048" in str(e.value) and "input.width" in str(e.value)


def test_500_is_transient(fake, backend):
    fake(create_errors=[(500, {"detail": "Internal server error"}, {})])
    with pytest.raises(Transient):
        backend().paint(make_request())


def test_404_points_at_the_model_setting(fake, backend):
    fake(model="someone/nope", create_errors=[(404, {"detail": "Not found."}, {})])
    with pytest.raises(Unavailable) as e:
        backend(model="someone/nope").paint(make_request())
    assert e.value.setting == "model"


@pytest.mark.parametrize(
    "error, kind",
    [
        ("Invalid mask: the mask must be the same size as the image", Rejected),
        ("NSFW content detected. Try running it again, or try a different prompt.", Rejected),
        ("CUDA out of memory. Tried to allocate 2.00 GiB", Transient),
        ("Prediction interrupted; please retry (code: PA)", Transient),
    ],
)
def test_failed_prediction(fake, backend, error, kind):
    fake(final="failed", error=error, running_gets=1)
    with pytest.raises(kind) as e:
        backend().paint(make_request())
    assert error in str(e.value)


def test_canceled_prediction_is_transient(fake, backend):
    fake(final="canceled")
    with pytest.raises(Transient):
        backend().paint(make_request())


@pytest.mark.parametrize("output", ["empty", "none"])
def test_empty_output_is_the_silent_nsfw_drop(fake, backend, output):
    f = fake(output=output)
    with pytest.raises(Rejected) as e:
        backend().paint(make_request())
    assert str(e.value) == "no image returned (Replicate drops NSFW outputs silently)"
    assert not any(p.startswith("/outputs/") for _, p in f.log)


def test_output_as_a_single_url(fake, backend):
    fake(output="str")
    assert decoded(backend().paint(make_request())).size == (W, H)


def test_deadline_cancels_the_prediction(fake, backend, clock):
    f = fake(running_gets=10_000, wait=30)  # `Prefer: wait` never exceeds the deadline
    with pytest.raises(Transient) as e:
        backend(timeout="30").paint(make_request())
    assert f.cancels == ["p1"]
    assert f.log[-1] == ("POST", "/v1/predictions/p1/cancel")
    assert clock.sleeps == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0, 2.5]  # doubling, capped at 5 s
    assert "30 s" in str(e.value) and e.value.setting == "timeout"


def test_ctrl_c_while_polling_cancels_and_reraises(fake, httpserver, env):
    f = fake(running_gets=10_000)
    calls = []

    def interrupted(s: float) -> None:
        calls.append(s)
        if len(calls) == 2:
            raise KeyboardInterrupt

    b = ReplicateBackend(url=httpserver.url_for("/").rstrip("/"), sleep=interrupted)
    b.preflight()
    with pytest.raises(KeyboardInterrupt):
        b.paint(make_request())
    assert f.cancels == ["p1"]


def test_close_stops_polling_and_cancels(fake, backend, clock):
    f = fake(running_gets=10_000)
    b = backend()
    real_sleep = clock.sleep

    def sleep_then_stop(seconds: float) -> None:  # the build is stopped mid-poll
        real_sleep(seconds)
        b.close()

    b._sleep = sleep_then_stop
    with pytest.raises(Transient):
        b.paint(make_request())
    assert f.cancels == ["p1"]  # the cancel still goes out, on a session of its own


def test_close_before_painting_sends_nothing(fake, backend):
    f = fake()
    b = backend()
    b.close()
    with pytest.raises(Transient) as e:
        b.paint(make_request())
    assert "stopped" in str(e.value) and f.log == []


def test_read_timeout_on_a_slow_server_is_transient(fake, httpserver, env):
    f = fake(create_delay=1.5, wait=1)
    b = ReplicateBackend(url=httpserver.url_for("/").rstrip("/"), timeout="1", wait="1")
    b.preflight()
    started = time.monotonic()
    with pytest.raises(Transient) as e:
        b.paint(make_request())
    assert 0.9 < time.monotonic() - started < 1.45  # the 1 s deadline bounds the read
    assert "did not answer" in str(e.value) and len(f.inputs) == 1


def test_token_goes_to_the_api_host_only(fake, backend, clock):
    other = HTTPServer(host="127.0.0.1", port=0)
    other.start()
    try:
        # urls.get/cancel advertised on a foreign host are not followed, and the
        # output host never sees the token (the fake asserts it)
        f = fake(running_gets=1, urls_host="http://127.0.0.1:9", output_server=other)
        backend().paint(make_request())
        assert f.count("GET", r"/v1/predictions/p1") == 2
        assert ("GET-other-host", "/outputs/p1.png") in f.log
        other.check()
    finally:
        other.clear()
        other.stop()


# -------------------------------------------------------------- configuration
def test_missing_token_fails_preflight(monkeypatch, tmp_path, httpserver):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path))
    allow_local_key_hosts(monkeypatch)
    b = ReplicateBackend(url=httpserver.url_for("/").rstrip("/"))
    with pytest.raises(Unavailable) as e:
        b.preflight()
    assert "REPLICATE_API_TOKEN" in str(e.value) and e.value.setting is None
    assert httpserver.log == []


def test_token_from_keys_toml(monkeypatch, tmp_path):
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path))
    (tmp_path / "keys.toml").write_text(f'REPLICATE_API_TOKEN = "{TOKEN}"\n')
    b = ReplicateBackend()
    b.preflight()
    assert TOKEN not in repr(b)


@pytest.mark.parametrize(
    "settings, key, words",
    [
        ({"wiat": "30"}, "wiat", "did you mean `replicate.wait`"),
        ({"wait": "90"}, "wait", "from 1 to 60"),
        ({"timeout": "soon"}, "timeout", "a number"),
        ({"model": "sdxl"}, "model", "owner/name"),
        ({"url": "api.replicate.com"}, "url", "http(s) address"),
        ({"steps": "20"}, "steps", "replicate.num_inference_steps"),
        (
            {"model": "black-forest-labs/flux-fill-dev", "guidance_scale": "7"},
            "guidance_scale",
            "replicate.guidance",
        ),
        ({"prompt_strength": "1.5"}, "prompt_strength", "from 0 to 1"),
        (
            {"output_format": "gif", "model": "black-forest-labs/flux-fill-pro"},
            "output_format",
            "png",
        ),
        ({"apply_watermark": "maybe"}, "apply_watermark", "true or false"),
    ],
)
def test_bad_settings(settings, key, words):
    problems = ReplicateBackend.validate_settings(settings)
    assert [p.key for p in problems] == [key]
    assert words in problems[0].message + " " + (problems[0].hint or "")
    with pytest.raises(Unavailable) as e:
        ReplicateBackend(**settings)
    assert e.value.setting == key


def test_good_settings():
    params = {
        "url": "https://api.replicate.com",
        "model": "stability-ai/sdxl",
        "wait": "30",
        "timeout": "300",
        "num_inference_steps": "40",
        "guidance_scale": "7",
        "prompt_strength": "0.8",
        "apply_watermark": "false",
        "version": "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b",
    }
    assert ReplicateBackend.validate_settings(params) == []
    flux = {
        "model": "black-forest-labs/flux-fill-dev",
        "steps": "28",
        "guidance": "30",
        "output_format": "webp",
    }
    assert ReplicateBackend.validate_settings(flux) == []
    assert set(ReplicateBackend.SETTINGS) == {
        "url",
        "model",
        "version",
        "wait",
        "timeout",
        "num_inference_steps",
        "guidance_scale",
        "prompt_strength",
        "steps",
        "guidance",
        "output_format",
        "apply_watermark",
    }


def test_registry_loads_it():
    from comicc.backends import registry

    assert registry.load("replicate") is ReplicateBackend


# ------------------------------------------------------------------ scheduler
def test_scheduler_retries_a_429_then_succeeds(fake, backend, tmp_path):
    from comicc.paint.cache import ArtCache
    from comicc.paint.jobs import PaintJob
    from comicc.paint.scheduler import Painter
    from support.panels import make_panel, two_speaker_geom

    f = fake(create_errors=[(429, THROTTLED, {})])
    waits: list[float] = []
    painter = Painter(
        {"replicate": backend()},
        ArtCache(tmp_path / "cache"),
        workers=1,
        progress=False,
        sleep=waits.append,
    )
    [out] = painter.paint(
        [PaintJob(make_panel(backend="replicate", dpi=72), two_speaker_geom(), 1)]
    )
    assert out.ok and out.attempts == 2 and not out.diagnostics
    assert waits == [30.0]  # the wait Replicate asked for
    assert f.count("POST", r"/v1/models/stability-ai/sdxl/predictions") == 2
