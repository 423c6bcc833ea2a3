"""Fake Stability AI and OpenAI Images servers for the backend contract tests.

Each fake implements the documented contract (docs: shared/reference/image-apis.md)
over real HTTP in a pytest-httpserver handler, parses the real multipart body
with werkzeug, and ASSERTS what comicc sent: endpoint, auth header, field
names, value ranges, image sizes and the mask polarity -- read from the
uploaded mask's pixels at points the test knows to be KEEP or PAINT.

A failed assertion does not raise inside the server thread (that would
surface as an anonymous HTTP 500 and be retried): the fake records it and
answers HTTP 599 with the assertion text, and ``fake.verify()`` re-raises it
in the test. The fake "paints" honestly by default (a flat colour through the
mask), so the composite's kept-area check passes; ``repaint_all`` mimics a
service that ignores the mask.

Not a conftest: imported by name (tests/ is on sys.path through pytest's ``pythonpath``).
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageChops
from werkzeug import Request, Response

from support.servers import base_url

KEY = "test-key-0123456789"  # never a real key
PAINT_COLOR = (200, 40, 160)  # what the fakes paint where asked to

STABILITY_V2_PATH = "/v2beta/stable-image/edit/inpaint"
OPENAI_PATH = "/v1/images/edits"
OPENAI_SIZES = ("1024x1024", "1536x1024", "1024x1536")
SDXL_SIZES = {
    (1024, 1024),
    (1152, 896),
    (1216, 832),
    (1344, 768),
    (1536, 640),
    (640, 1536),
    (768, 1344),
    (832, 1216),
    (896, 1152),
}


def v1_path(engine: str) -> str:
    return f"/v1/generation/{engine}/image-to-image/masking"


class ContractError(AssertionError):
    pass


def need(cond: bool, what: str) -> None:
    if not cond:
        raise ContractError(what)


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _open(storage, name: str) -> Image.Image:
    need(storage is not None, f"no `{name}` file part")
    data = storage.read()
    need(len(data) > 0, f"`{name}` is empty")
    need(data[:8] == b"\x89PNG\r\n\x1a\n", f"`{name}` is not a PNG")
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


@dataclass
class Reply:
    """A canned answer (for error paths): status, JSON body, headers, delay."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    sleep: float = 0.0


@dataclass
class Seen:
    """One request as the fake parsed it."""

    path: str
    headers: dict[str, str]
    fields: dict[str, str]
    files: dict[str, Image.Image]
    body_bytes: int
    references: list[Image.Image] = field(default_factory=list)  # OpenAI: image[] after the first


class _Fake:
    path: str = ""

    def __init__(
        self,
        server,
        *,
        key: str = KEY,
        keep_points=(),
        paint_points=(),
        out_size: tuple[int, int] | None = None,
        repaint_all: bool = False,
        replies: list[Reply] | None = None,
    ):
        self.server = server
        self.key = key
        self.keep_points = list(keep_points)  # request pixels that must be KEEP
        self.paint_points = list(paint_points)  # request pixels that must be PAINT
        self.out_size = out_size  # answer at another size (None: as sent)
        self.repaint_all = repaint_all
        self.replies = list(replies or [])  # canned answers, used first, in order
        self.seen: list[Seen] = []
        self.failures: list[str] = []
        server.expect_request(self.path, method="POST").respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return base_url(self.server)

    def verify(self) -> None:
        if self.failures:
            raise ContractError("fake server saw a bad request: " + " | ".join(self.failures))

    def handle(self, request: Request) -> Response:
        try:
            seen = self.check(request)
        except ContractError as e:
            self.failures.append(str(e))
            return Response(
                json.dumps(
                    {
                        "name": "contract",
                        "errors": [f"CONTRACT: {e}"],
                        "error": {"message": f"CONTRACT: {e}"},
                    }
                ),
                status=599,
                content_type="application/json",
            )
        self.seen.append(seen)
        if self.replies:
            r = self.replies.pop(0)
            if r.sleep:
                time.sleep(r.sleep)
            if r.status < 300 and r.body is None:
                return self.success(request, seen)
            return Response(
                json.dumps(r.body) if r.body is not None else b"",
                status=r.status,
                headers=r.headers,
                content_type="application/json",
            )
        return self.success(request, seen)

    # ----------------------------------------------------------- checking
    def _common(self, request: Request) -> None:
        need(request.method == "POST", f"method {request.method}")
        need(request.path == self.path, f"path {request.path}")
        need(
            request.headers.get("Authorization") == f"Bearer {self.key}",
            "missing or wrong `Authorization: Bearer <key>` header",
        )
        need(
            request.mimetype == "multipart/form-data",
            f"content-type {request.mimetype}, not multipart/form-data",
        )

    def check_polarity(
        self,
        mask: Image.Image,
        paint_value: Callable[[Image.Image, tuple], bool],
        keep_value: Callable[[Image.Image, tuple], bool],
    ) -> None:
        for p in self.keep_points:
            need(keep_value(mask, p), f"mask pixel {p} should be KEEP, is {mask.getpixel(p)}")
        for p in self.paint_points:
            need(paint_value(mask, p), f"mask pixel {p} should be PAINT, is {mask.getpixel(p)}")

    def check(self, request: Request) -> Seen:  # pragma: no cover - overridden
        raise NotImplementedError

    def success(self, request: Request, seen: Seen) -> Response:  # pragma: no cover
        raise NotImplementedError

    def painted(self, image: Image.Image, paint: Image.Image) -> Image.Image:
        """The fake's art: PAINT_COLOR where ``paint`` (L, 255 = paint) says so."""
        rgb = image.convert("RGB")
        solid = Image.new("RGB", rgb.size, PAINT_COLOR)
        if self.repaint_all:
            out = solid
        else:
            out = Image.composite(solid, rgb, paint)
        if self.out_size and self.out_size != out.size:
            out = out.resize(self.out_size, Image.Resampling.BILINEAR)
        return out


# ================================================================ Stability
class FakeStability(_Fake):
    """v2beta inpaint; answers raw image bytes (accept image/*) or JSON."""

    path = STABILITY_V2_PATH
    ALLOWED = {
        "image",
        "mask",
        "prompt",
        "negative_prompt",
        "seed",
        "grow_mask",
        "style_preset",
        "output_format",
    }

    def __init__(self, server, *, filtered: bool = False, answer_json: bool = False, **kw):
        self.filtered = filtered
        self.answer_json = answer_json  # answer the JSON form whatever was accepted
        super().__init__(server, **kw)

    def check(self, request: Request) -> Seen:
        self._common(request)
        length = request.content_length or 0
        if length > 10 * 1024 * 1024:
            raise ContractError("body over 10 MiB: the real service answers 413")
        accept = request.headers.get("Accept", "")
        need(accept in ("image/*", "application/json"), f"accept `{accept}`")
        form = request.form.to_dict()
        names = set(form) | set(request.files)
        need(names <= self.ALLOWED, f"unknown fields {sorted(names - self.ALLOWED)}")
        need(form.get("prompt", "").strip() != "", "`prompt` is required")
        need(len(form["prompt"]) <= 10_000, "`prompt` over 10,000 characters")
        image = _open(request.files.get("image"), "image")
        mask = _open(request.files.get("mask"), "mask")
        w, h = image.size
        need(min(w, h) >= 64, f"image side under 64 px: {image.size}")
        need(4_096 <= w * h <= 9_437_184, f"image has {w * h} px, outside 4,096-9,437,184")
        need(mask.size == image.size, f"mask {mask.size} != image {image.size}")
        need(mask.mode in ("L", "1"), f"mask mode {mask.mode}: a grey mask is expected")
        if "seed" in form:
            need(
                form["seed"].isdigit() and 0 <= int(form["seed"]) <= 4_294_967_294,
                f"seed `{form['seed']}`",
            )
        if "grow_mask" in form:
            need(
                form["grow_mask"].isdigit() and 0 <= int(form["grow_mask"]) <= 100,
                f"grow_mask `{form['grow_mask']}`",
            )
        need(form.get("output_format", "png") in ("png", "jpeg", "webp"), "output_format")
        # white = inpaint, black = keep
        mask_l = mask.convert("L")
        self.check_polarity(
            mask_l, lambda m, p: m.getpixel(p) == 255, lambda m, p: m.getpixel(p) == 0
        )
        return Seen(
            request.path, dict(request.headers), form, {"image": image, "mask": mask_l}, length
        )

    def success(self, request: Request, seen: Seen) -> Response:
        out = self.painted(seen.files["image"], seen.files["mask"])
        fmt = seen.fields.get("output_format", "png")
        buf = io.BytesIO()
        out.save(buf, {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt])
        seed = seen.fields.get("seed", "0")
        finish = "CONTENT_FILTERED" if self.filtered else "SUCCESS"
        if self.answer_json or request.headers.get("Accept") == "application/json":
            return Response(
                json.dumps(
                    {
                        "image": base64.b64encode(buf.getvalue()).decode(),
                        "seed": int(seed),
                        "finish_reason": finish,
                    }
                ),
                content_type="application/json",
            )
        return Response(
            buf.getvalue(),
            content_type=f"image/{fmt}",
            headers={"finish-reason": finish, "seed": seed, "x-request-id": "req-123"},
        )


class FakeStabilityV1(_Fake):
    """v1 masking (legacy): JSON artifacts; SDXL engines take nine sizes."""

    ALLOWED = {
        "init_image",
        "mask_source",
        "mask_image",
        "text_prompts[0][text]",
        "text_prompts[0][weight]",
        "text_prompts[1][text]",
        "text_prompts[1][weight]",
        "seed",
        "cfg_scale",
        "steps",
        "samples",
        "style_preset",
    }

    def __init__(self, server, *, engine: str = "stable-diffusion-xl-1024-v1-0", **kw):
        self.engine = engine
        self.path = v1_path(engine)
        super().__init__(server, **kw)

    def check(self, request: Request) -> Seen:
        self._common(request)
        need(request.headers.get("Accept") == "application/json", "v1 answers JSON: accept it")
        form = request.form.to_dict()
        names = set(form) | set(request.files)
        need(names <= self.ALLOWED, f"unknown fields {sorted(names - self.ALLOWED)}")
        need(
            form.get("mask_source") == "MASK_IMAGE_WHITE", f"mask_source {form.get('mask_source')}"
        )
        need(form.get("text_prompts[0][text]", "").strip() != "", "text_prompts[0][text] required")
        need(float(form.get("text_prompts[0][weight]", "1")) > 0, "positive prompt weight")
        if "text_prompts[1][text]" in form:
            need(
                float(form.get("text_prompts[1][weight]", "0")) < 0,
                "negative prompt needs weight < 0",
            )
        need(form.get("samples") == "1", "samples must be 1")
        need(0 <= float(form.get("cfg_scale", "7")) <= 35, "cfg_scale 0-35")
        image = _open(request.files.get("init_image"), "init_image")
        mask = _open(request.files.get("mask_image"), "mask_image")
        need(mask.size == image.size, "mask_image must be the init image's size")
        w, h = image.size
        need(w % 64 == 0 and h % 64 == 0, f"{image.size} is not multiples of 64")
        if "xl" in self.engine:
            need((w, h) in SDXL_SIZES, f"{image.size} is not an SDXL size")
        mask_l = mask.convert("L")
        self.check_polarity(
            mask_l, lambda m, p: m.getpixel(p) == 255, lambda m, p: m.getpixel(p) == 0
        )
        return Seen(
            request.path,
            dict(request.headers),
            form,
            {"image": image, "mask": mask_l},
            request.content_length or 0,
        )

    def success(self, request: Request, seen: Seen) -> Response:
        out = self.painted(seen.files["image"], seen.files["mask"])
        seed = int(seen.fields.get("seed", "0")) or 42
        return Response(
            json.dumps(
                {
                    "artifacts": [
                        {
                            "base64": base64.b64encode(_png(out)).decode(),
                            "finishReason": "SUCCESS",
                            "seed": seed,
                        }
                    ]
                }
            ),
            content_type="application/json",
        )


# =================================================================== OpenAI
class FakeOpenAI(_Fake):
    """POST /v1/images/edits: fixed sizes, alpha mask (transparent = edit), b64_json."""

    path = OPENAI_PATH
    ALLOWED = {
        "image",
        "mask",
        "prompt",
        "model",
        "n",
        "size",
        "quality",
        "output_format",
        "background",
        "input_fidelity",
        "response_format",
        "user",
        "image[]",  # several images (GPT image models, up to 16): the mask is the first's
    }

    def check(self, request: Request) -> Seen:
        self._common(request)
        form = request.form.to_dict()
        names = set(form) | set(request.files)
        need(names <= self.ALLOWED, f"unknown fields {sorted(names - self.ALLOWED)}")
        need(
            "seed" not in form and "negative_prompt" not in form, "OpenAI takes no seed / negative"
        )
        need(form.get("prompt", "").strip() != "", "`prompt` is required")
        need(form.get("model", "") != "", "`model` should be sent explicitly")
        need(form.get("n") == "1", f"n `{form.get('n')}`")
        need(
            form.get("size") in OPENAI_SIZES,
            f"size `{form.get('size')}` is not one of {OPENAI_SIZES}",
        )
        if "quality" in form:
            need(form["quality"] in ("auto", "low", "medium", "high", "standard"), "quality")
        if "output_format" in form:
            need(form["output_format"] in ("png", "jpeg", "webp"), "output_format")
        many = request.files.getlist("image[]")
        need(not (many and "image" in request.files), "both `image` and `image[]` sent")
        need(len(many) <= 16, f"{len(many)} images: GPT image models take up to 16")
        if "input_fidelity" in form:
            need(form["input_fidelity"] in ("high", "low"), "input_fidelity")
        image = _open(many[0] if many else request.files.get("image"), "image")
        references = [_open(f, "image[]") for f in many[1:]]
        mask = _open(request.files.get("mask"), "mask")
        w, h = (int(v) for v in form["size"].split("x"))
        need(image.size == (w, h), f"image {image.size} is not the requested size {form['size']}")
        need(mask.size == image.size, f"mask {mask.size} != image {image.size}")
        need(mask.mode == "RGBA", f"mask mode {mask.mode}: it needs an alpha channel")
        alpha = mask.getchannel("A")
        # fully transparent = edit; the kept area must be opaque
        self.check_polarity(
            alpha, lambda m, p: m.getpixel(p) == 0, lambda m, p: m.getpixel(p) == 255
        )
        return Seen(
            request.path,
            dict(request.headers),
            form,
            {"image": image, "mask": mask, "alpha": alpha},
            request.content_length or 0,
            references,
        )

    def success(self, request: Request, seen: Seen) -> Response:
        paint = seen.files["alpha"].point(lambda v: 255 if v == 0 else 0)
        out = self.painted(seen.files["image"], paint)
        return Response(
            json.dumps(
                {
                    "created": 1700000000,
                    "data": [{"b64_json": base64.b64encode(_png(out)).decode()}],
                    "usage": {"total_tokens": 100, "input_tokens": 60, "output_tokens": 40},
                }
            ),
            content_type="application/json",
        )


def kept_intact(art: Image.Image, init: Image.Image, keep: Image.Image) -> bool:
    """Every pixel where ``keep`` (L) is 255 is identical in ``art`` and ``init``."""
    diff = ImageChops.difference(art.convert("RGB"), init.convert("RGB")).convert("L")
    return ImageChops.multiply(diff.point(lambda v: 255 if v else 0), keep).getbbox() is None
