"""Stability AI: v2beta inpaint (default) and the legacy v1 masking API.

Switch it on in a script with ``backend: stability`` and export
``STABILITY_API_KEY`` (or put it in keys.toml, see :mod:`comicc.backends.keys`).

v2beta -- ``POST {url}/v2beta/stable-image/edit/inpaint``
    multipart ``image`` (PNG), ``mask`` (PNG, white = inpaint, black = keep,
    grey = partial: comicc's own convention, sent unchanged), ``prompt``,
    ``negative_prompt``, ``seed``, ``grow_mask`` (the plan sends the minimum, 0,
    unless the writer set ``stability.grow_mask``), ``style_preset``,
    ``output_format``. ``accept: image/*``: the answer is the raw image with
    ``finish-reason`` and ``seed`` headers (the JSON form
    ``{image, seed, finish_reason}`` is understood too). The service returns
    about 4 MP whatever was sent; compositing scales it back to the panel box.

v1 -- ``POST {url}/v1/generation/{engine}/image-to-image/masking``
    (``stability.api: v1``; may be retired by Stability) multipart
    ``init_image``, ``mask_source=MASK_IMAGE_WHITE``, ``mask_image``,
    ``text_prompts[0][text]``/``[weight]=1``, the negative prompt as
    ``text_prompts[1]`` with weight -1, ``seed``, ``cfg_scale``, ``steps``,
    ``samples=1``, ``style_preset``; JSON answer
    ``{artifacts: [{base64, finishReason, seed}]}``.

One attempt per :meth:`paint`; failures are typed (see :mod:`comicc.backends.base`)
and the build scheduler retries. The API key is read from the environment at
the moment of the call and never stored, logged or put in an error message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import requests

from comicc.backends import http
from comicc.backends.base import (
    Backend,
    Capabilities,
    EdgeControl,
    PaintRequest,
    PaintResult,
    Rejected,
    Transient,
    Unavailable,
    png_bytes,
    setting_error,
    to_service_mask,
)
from comicc.backends.keys import require_key
from comicc.backends.settings import SettingProblem, SettingSpec, SettingValues

KEY_ENV = "STABILITY_API_KEY"
DEFAULT_URL = "https://api.stability.ai"
APIS = ("v2beta", "v1")
DEFAULT_ENGINE = "stable-diffusion-xl-1024-v1-0"
ANSWER_FORMATS = ("png", "jpeg", "webp")  # the image format of the answer (v2beta)
# the style presets Stability documents (v1 and v2beta share them)
STYLE_PRESETS = (
    "3d-model",
    "analog-film",
    "anime",
    "cinematic",
    "comic-book",
    "digital-art",
    "enhance",
    "fantasy-art",
    "isometric",
    "line-art",
    "low-poly",
    "modeling-compound",
    "neon-punk",
    "origami",
    "photographic",
    "pixel-art",
    "tile-texture",
)
MAX_PROMPT_CHARS = 10_000
MAX_BODY_BYTES = 10 * 1024 * 1024  # v2beta: 413 above 10 MiB
RATE_LIMIT_PENALTY = 60.0  # Stability: a 60 s timeout after a 429
SDXL_SIZES = (
    (1024, 1024),
    (1152, 896),
    (1216, 832),
    (1344, 768),
    (1536, 640),
    (640, 1536),
    (768, 1344),
    (832, 1216),
    (896, 1152),
)
V1_DEFAULT_CFG = 7.0
V1_DEFAULT_STEPS = 30
V1_ONLY = ("engine", "cfg_scale", "steps")
V2_ONLY = ("grow_mask", "output_format")

GROW_MASK = EdgeControl("grow_mask", default=5, minimum=0, maximum=100)

V2_CAPABILITIES = Capabilities(
    mask_convention="white",
    edge_control=GROW_MASK,
    seed=True,
    negative_prompt=True,
    multiple_of=1,
    min_side=64,
    min_pixels=4_096,
    max_pixels=9_437_184,
    max_request_bytes=MAX_BODY_BYTES,
    sync=True,
    deterministic=False,
    needs_network=True,
    needs_key=KEY_ENV,
    cost_unit="credits",
    cost_per_image=5.0,
)


def is_sdxl(engine: str) -> bool:
    return "xl" in engine.lower()


def v1_capabilities(engine: str = DEFAULT_ENGINE) -> Capabilities:
    """v1 masking: SDXL engines take only their nine sizes; the others any
    multiple of 64 (320-1536 px a side for SD 1.6 -- unverified, kept safe)."""
    common = Capabilities(
        mask_convention="white",
        edge_control=None,
        seed=True,
        negative_prompt=True,
        multiple_of=64,
        sync=True,
        deterministic=False,
        needs_network=True,
        needs_key=KEY_ENV,
        cost_unit="credits",
        cost_per_image=5.0,
    )  # v1 pricing varies by engine (unverified)
    if is_sdxl(engine):
        return replace(common, allowed_sizes=SDXL_SIZES)
    return replace(common, min_side=320, max_side=1536)


# ---------------------------------------------------------------- settings
SETTINGS: dict[str, SettingSpec] = {
    "url": SettingSpec(
        "url",
        f"service address (default {DEFAULT_URL})",
        DEFAULT_URL,
        example=f"e.g. `stability.url: {DEFAULT_URL}`",
    ),
    "api": SettingSpec(
        "str",
        "v2beta (default: stable-image/edit/inpaint) or v1 (legacy masking)",
        "v2beta",
        choices=APIS,
        example="write `stability.api: v2beta` (the default) or `stability.api: v1`",
    ),
    "style_preset": SettingSpec(
        "str",
        "a Stability style preset, e.g. comic-book, line-art, anime (default: none)",
        choices=STYLE_PRESETS,
    ),
    "grow_mask": SettingSpec(
        "int",
        "v2beta: px the service grows the mask by, 0-100 (comicc sends 0 unless set; "
        "the service's own default is 5)",
        int(GROW_MASK.minimum),
        range=(GROW_MASK.minimum, GROW_MASK.maximum),
    ),
    "output_format": SettingSpec(
        "str", "v2beta: png (default), jpeg or webp", "png", choices=ANSWER_FORMATS
    ),
    "engine": SettingSpec(
        "str",
        f"v1: engine id (default {DEFAULT_ENGINE})",
        DEFAULT_ENGINE,
        pattern=(r"[A-Za-z0-9][A-Za-z0-9._-]*", "an engine id"),
        example=f"e.g. `stability.engine: {DEFAULT_ENGINE}`",
    ),
    "cfg_scale": SettingSpec(
        "float", f"v1: prompt strength 0-35 (default {V1_DEFAULT_CFG:g})", V1_DEFAULT_CFG, (0, 35)
    ),
    "steps": SettingSpec(
        "int", f"v1: diffusion steps 10-50 (default {V1_DEFAULT_STEPS})", V1_DEFAULT_STEPS, (10, 50)
    ),
    "timeout": SettingSpec(
        "float", "seconds to wait for the answer (default 120)", range=(0.001, 3600)
    ),
}


def api_problems(settings: Mapping[str, str], api: str) -> list[SettingProblem]:
    """Settings that the other API uses only (``api`` is v2beta or v1)."""
    out = []
    for key in settings:
        if api == "v2beta" and key in V1_ONLY:
            out.append(
                SettingProblem(
                    key,
                    f"`stability.{key}` is only used by the v1 API",
                    "add `stability.api: v1`, or remove this line",
                )
            )
        elif api == "v1" and key in V2_ONLY:
            out.append(
                SettingProblem(
                    key,
                    f"`stability.{key}` is only used by the v2beta API, "
                    "not with `stability.api: v1`",
                    "remove this line, or the `stability.api: v1` line",
                )
            )
    return out


# ------------------------------------------------------------------ backend
class StabilityBackend(Backend):
    name = "stability"
    capabilities = V2_CAPABILITIES
    SETTINGS = SETTINGS

    @classmethod
    def validate_settings(cls, settings: Mapping[str, str]) -> list[SettingProblem]:
        problems = super().validate_settings(settings)
        api = settings.get("api", "v2beta").strip()
        if api in APIS:
            problems += api_problems({k: v for k, v in settings.items() if k in SETTINGS}, api)
        return problems

    @classmethod
    def capability_variants(cls) -> list[tuple[str, Capabilities]]:
        """Other configurations with other capabilities (for ``comicc backends``)."""
        return [
            ("stability.api: v1 (SDXL engine)", v1_capabilities(DEFAULT_ENGINE)),
            ("stability.api: v1 (other engines)", v1_capabilities("stable-diffusion-v1-6")),
        ]

    def __init__(self, **backend_settings: str):
        self.backend_settings = {str(k): str(v).strip() for k, v in backend_settings.items()}
        problems = self.validate_settings(self.backend_settings)
        if problems:
            raise setting_error(problems[0], self.name, painting=False)
        values = self.setting_values(self.backend_settings, painting=False)
        self.url = values.text("url")
        self.api = values.text("api")
        self.engine = values.text("engine")
        self.timeout = http.parse_timeout(values.optional_number("timeout"))
        self.capabilities = (
            V2_CAPABILITIES if self.api == "v2beta" else v1_capabilities(self.engine)
        )
        self._sessions = http.ThreadSessions()

    def __repr__(self) -> str:  # never shows a key (none is stored anyway)
        return f"StabilityBackend(api={self.api!r}, url={self.url!r})"

    # ------------------------------------------------------------ readiness
    def preflight(self) -> None:
        """The key must be there (no network call: a wrong key shows up as HTTP 401)."""
        require_key(KEY_ENV, self.name)

    def _session(self) -> requests.Session:
        return self._sessions.get()

    def endpoint(self, url: str | None = None) -> str:
        url = (url or self.url).rstrip("/")
        if self.api == "v1":
            return f"{url}/v1/generation/{self.engine}/image-to-image/masking"
        return f"{url}/v2beta/stable-image/edit/inpaint"

    # --------------------------------------------------------------- paint
    def paint(self, request: PaintRequest) -> PaintResult:
        self.check(request)
        opts = self._settings_for(request)
        if len(request.prompt) > MAX_PROMPT_CHARS:
            raise Rejected(
                f"the prompt is {len(request.prompt)} characters; Stability takes at "
                f"most {MAX_PROMPT_CHARS}",
                reason="prompt_too_long",
                backend=self.name,
            )
        if not request.prompt.strip():
            raise Rejected(
                "the prompt is empty; Stability needs one", reason="empty_prompt", backend=self.name
            )
        image, mask = to_service_mask(request, self.capabilities.mask_convention)
        image_png, mask_png = png_bytes(image.convert("RGB")), png_bytes(mask)
        if self.api == "v1":
            fields, files = self._v1_fields(request, opts, image_png, mask_png)
            accept = "application/json"
        else:
            fields, files = self._v2_fields(request, opts, image_png, mask_png)
            accept = "image/*"
        endpoint = self.endpoint(opts.text("url"))
        prepared = requests.Request("POST", endpoint, data=fields, files=files).prepare()
        raw = prepared.body or b""
        body = raw if isinstance(raw, bytes) else raw.encode()
        if self.api == "v2beta" and len(body) > MAX_BODY_BYTES:
            raise Rejected(
                f"the request is {len(body) / 2**20:.1f} MiB; Stability takes at most 10 MiB",
                reason="too_large",
                backend=self.name,
                hint="lower the panel's `dpi:`; the init image and mask are sent as PNG",
            )
        headers = {
            "Authorization": f"Bearer {require_key(KEY_ENV, self.name)}",
            "Accept": accept,
            "Content-Type": prepared.headers["Content-Type"],
        }
        timeout = http.parse_timeout(opts.optional_number("timeout"))
        resp = http.call(
            self._session(),
            "POST",
            endpoint,
            backend=self.name,
            timeout=timeout,
            data=body,
            headers=headers,
        )
        if resp.status_code >= 300:
            self._raise_for(resp)
        if self.api == "v1":
            return self._v1_result(resp, request)
        return self._v2_result(resp, request)

    def _settings_for(self, request: PaintRequest) -> SettingValues:
        """This panel's settings (a panel may override the header's), checked."""
        merged = {**self.backend_settings, **request.backend_settings}
        problems = api_problems(merged, self.api)
        for key, mine in (("api", self.api), ("engine", self.engine if self.api == "v1" else None)):
            if mine is not None and merged.get(key, mine).strip() != mine:
                # the API and engine fix the sizes the plan negotiated: one per build
                problems.insert(
                    0,
                    SettingProblem(
                        key,
                        f"`stability.{key}` differs between panels (`{merged[key]}` here, "
                        f"`{mine}` where the backend was first used)",
                        f"set `stability.{key}` once, in the header",
                    ),
                )
        if problems:
            raise setting_error(problems[0], self.name, painting=True)
        return self.setting_values(merged, painting=True)

    def _v2_fields(
        self, request: PaintRequest, opts: SettingValues, image_png: bytes, mask_png: bytes
    ) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
        fields = {"prompt": request.prompt}
        if request.negative.strip():
            fields["negative_prompt"] = request.negative
        if request.seed is not None:
            fields["seed"] = str(int(request.seed))
        fields["grow_mask"] = str(opts.integer("grow_mask"))
        if opts.text("style_preset"):
            fields["style_preset"] = opts.text("style_preset")
        fields["output_format"] = opts.text("output_format")
        files = {
            "image": ("image.png", image_png, "image/png"),
            "mask": ("mask.png", mask_png, "image/png"),
        }
        return fields, files

    def _v1_fields(
        self, request: PaintRequest, opts: SettingValues, image_png: bytes, mask_png: bytes
    ) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
        fields = {
            "mask_source": "MASK_IMAGE_WHITE",
            "text_prompts[0][text]": request.prompt,
            "text_prompts[0][weight]": "1",
        }
        if request.negative.strip():
            fields["text_prompts[1][text]"] = request.negative
            fields["text_prompts[1][weight]"] = "-1"
        if request.seed is not None:
            fields["seed"] = str(int(request.seed))
        fields["cfg_scale"] = f"{opts.number('cfg_scale'):g}"
        fields["steps"] = str(opts.integer("steps"))
        fields["samples"] = "1"
        if opts.text("style_preset"):
            fields["style_preset"] = opts.text("style_preset")
        files = {
            "init_image": ("init_image.png", image_png, "image/png"),
            "mask_image": ("mask_image.png", mask_png, "image/png"),
        }
        return fields, files

    # ------------------------------------------------------------- answers
    def _filtered(self) -> Rejected:
        return Rejected(
            "Stability's content filter blurred the image (finish reason CONTENT_FILTERED)",
            reason="content_filtered",
            backend=self.name,
            hint="reword the panel's prompt; the result was not used",
        )

    def _v2_result(self, resp: requests.Response, request: PaintRequest) -> PaintResult:
        ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            doc = _json(resp)
            if not isinstance(doc, dict) or not isinstance(doc.get("image"), str):
                raise Transient("Stability answered JSON without an image", backend=self.name)
            data = _b64(doc["image"], self.name)
            finish = str(doc.get("finish_reason") or doc.get("finishReason") or "SUCCESS")
            seed = doc.get("seed")
        else:
            data = resp.content
            finish = resp.headers.get("finish-reason", "SUCCESS")
            seed = resp.headers.get("seed")
        if finish.upper() == "CONTENT_FILTERED":
            raise self._filtered()
        if not data:
            raise Transient("Stability answered without image data", backend=self.name)
        return PaintResult(
            image=data,
            seed_used=_seed(seed, request.seed),
            metadata={
                "backend": self.name,
                "api": self.api,
                "finish_reason": finish,
                "request_id": resp.headers.get("x-request-id"),
            },
        )

    def _v1_result(self, resp: requests.Response, request: PaintRequest) -> PaintResult:
        doc = _json(resp)
        arts = doc.get("artifacts") if isinstance(doc, dict) else None
        if not arts or not isinstance(arts, list) or not isinstance(arts[0], dict):
            raise Transient("Stability answered without artifacts", backend=self.name)
        art = arts[0]
        finish = str(art.get("finishReason") or "SUCCESS")
        if finish.upper() == "CONTENT_FILTERED":
            raise self._filtered()
        if finish.upper() == "ERROR":
            raise Transient("Stability reported an error generating the image", backend=self.name)
        if not isinstance(art.get("base64"), str):
            raise Transient("Stability's artifact has no image", backend=self.name)
        return PaintResult(
            image=_b64(art["base64"], self.name),
            seed_used=_seed(art.get("seed"), request.seed),
            metadata={
                "backend": self.name,
                "api": "v1",
                "engine": self.engine,
                "finish_reason": finish,
                "request_id": resp.headers.get("x-request-id"),
            },
        )

    def _raise_for(self, resp: requests.Response) -> None:
        """Stability's error body ``{id, name, errors}`` (v2) / ``{id, name, message}`` (v1)
        as a typed error carrying the service's own words."""
        name, why = _error_words(resp)
        if resp.status_code == 403 and (
            (name or "").lower() == "content_moderation" or "moderation" in why.lower()
        ):
            raise Rejected(
                f"flagged by Stability's content moderation (HTTP 403): {why}",
                reason="content_moderation",
                backend=self.name,
                hint="reword the panel's prompt (moderated requests are not charged)",
            )
        rules = {
            **STATUS_RULES,
            404: NOT_FOUND_V1 if self.api == "v1" else NOT_FOUND_V2,
            422: http.StatusRule(Rejected, name or "unprocessable"),
        }
        http.raise_for_status(
            resp, self.name, why=why, reason=name, rules=rules, retry_default=RATE_LIMIT_PENALTY
        )


# Stability's wording for the statuses that mean something particular there
STATUS_RULES = {
    401: http.StatusRule(
        Unavailable,
        "the API key was refused",
        f"check `{KEY_ENV}` in your environment or keys.toml",
    ),
    402: http.StatusRule(
        Unavailable, "payment required", "your Stability account is out of credits"
    ),
    413: http.StatusRule(
        Rejected,
        "request too large",
        "lower the panel's `dpi:`; Stability takes at most 10 MiB",
        reason="too_large",
    ),
}
NOT_FOUND_V1 = http.StatusRule(
    Unavailable,
    "not found",
    "check `stability.engine`; Stability may have retired the v1 API -- remove "
    "`stability.api: v1` to use v2beta",
    setting="engine",
)
NOT_FOUND_V2 = http.StatusRule(Unavailable, "not found", "check `stability.url`", setting="url")


# ------------------------------------------------------------------ helpers
def _json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        raise Transient(
            "Stability answered with a body that is not JSON", backend="stability"
        ) from None


def _b64(text: str, backend: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        raise Transient("the service's base64 image cannot be decoded", backend=backend) from None


def _seed(value: Any, fallback: int | None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return fallback


def _error_words(resp: requests.Response) -> tuple[str | None, str]:
    """(error name, the service's reason) from an error body."""
    try:
        doc = resp.json()
    except ValueError:
        return None, resp.text[:200].strip()
    if not isinstance(doc, dict):
        return None, str(doc)[:200]
    name = doc.get("name") if isinstance(doc.get("name"), str) else None
    errors = doc.get("errors")
    if isinstance(errors, list) and errors:
        why = "; ".join(str(e) for e in errors)
    elif isinstance(doc.get("message"), str) and doc["message"]:
        why = doc["message"]
    else:
        why = name or ""
    return name, why[:400]
