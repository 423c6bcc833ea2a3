"""Stability AI: v2beta inpaint (default) and the legacy v1 masking API.

Switch it on in a script with ``backend: stability`` and export
``STABILITY_API_KEY`` (or put it in keys.toml, see :mod:`comicc.backends.http`).

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
import io
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from comicc.backends import http
from comicc.backends.base import (
    Backend,
    Capabilities,
    EdgeControl,
    PaintRequest,
    PaintResult,
    RateLimited,
    Rejected,
    SettingProblem,
    Transient,
    Unavailable,
    to_service_mask,
)

KEY_ENV = "STABILITY_API_KEY"
DEFAULT_URL = "https://api.stability.ai"
APIS = ("v2beta", "v1")
DEFAULT_ENGINE = "stable-diffusion-xl-1024-v1-0"
OUTPUT_FORMATS = ("png", "jpeg", "webp")
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
V1_DEFAULT_CFG = "7"
V1_DEFAULT_STEPS = "30"
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
    common = dict(
        mask_convention="white",
        edge_control=None,
        seed=True,
        negative_prompt=True,
        sync=True,
        deterministic=False,
        needs_network=True,
        needs_key=KEY_ENV,
        cost_unit="credits",
        cost_per_image=5.0,
    )  # v1 pricing varies by engine (unverified)
    if is_sdxl(engine):
        return Capabilities(multiple_of=64, allowed_sizes=SDXL_SIZES, **common)
    return Capabilities(multiple_of=64, min_side=320, max_side=1536, **common)


# ------------------------------------------------------------ value checks
def _number(value: str, *, integer: bool = False) -> float | None:
    try:
        v = int(value) if integer else float(value)
    except (TypeError, ValueError):
        return None
    return v if v == v and v not in (float("inf"), float("-inf")) else None


def check_url(value: str) -> str | None:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"`{value}` is not an http(s) address"
    return None


def _choice(key: str, value: str, choices: tuple[str, ...], backend: str) -> SettingProblem | None:
    if value in choices:
        return None
    import difflib

    close = difflib.get_close_matches(value, choices, n=1)
    hint = (
        f"did you mean `{backend}.{key}: {close[0]}`?" if close else "one of: " + ", ".join(choices)
    )
    return SettingProblem(
        key, f"`{backend}.{key}` must be one of {', '.join(choices)}, not `{value}`", hint
    )


def _range(
    key: str, value: str, lo: float, hi: float, backend: str, *, integer: bool = False
) -> SettingProblem | None:
    v = _number(value, integer=integer)
    kind = "a whole number" if integer else "a number"
    if v is None or not lo <= v <= hi:
        return SettingProblem(
            key, f"`{backend}.{key}` must be {kind} from {lo:g} to {hi:g}, not `{value}`"
        )
    return None


def value_problems(params: Mapping[str, str], *, api: str | None = None) -> list[SettingProblem]:
    """Problems with the VALUES of Stability settings (names are checked elsewhere)."""
    b = "stability"
    out: list[SettingProblem | None] = []
    api = api or params.get("api", "v2beta").strip()
    for key, raw in params.items():
        value = str(raw).strip()
        if key == "url":
            why = check_url(value)
            out.append(
                SettingProblem(key, f"`{b}.url`: {why}", f"e.g. `stability.url: {DEFAULT_URL}`")
                if why
                else None
            )
        elif key == "api":
            p = _choice(key, value, APIS, b)
            if p and value.lower() in ("v2", "2"):
                p = SettingProblem(key, p.message, "write `stability.api: v2beta` (the default)")
            out.append(p)
        elif key == "style_preset":
            out.append(_choice(key, value, STYLE_PRESETS, b))
        elif key == "output_format":
            out.append(_choice(key, value, OUTPUT_FORMATS, b))
        elif key == "grow_mask":
            out.append(
                _range(key, value, GROW_MASK.minimum, GROW_MASK.maximum or 100, b, integer=True)
            )
        elif key == "cfg_scale":
            out.append(_range(key, value, 0, 35, b))
        elif key == "steps":
            out.append(_range(key, value, 10, 50, b, integer=True))
        elif key == "timeout":
            out.append(_range(key, value, 0.001, 3600, b))
        elif key == "engine":
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
                out.append(
                    SettingProblem(
                        key,
                        f"`{b}.engine` is not an engine id: `{value}`",
                        f"e.g. `stability.engine: {DEFAULT_ENGINE}`",
                    )
                )
        if api in APIS:
            if api == "v2beta" and key in V1_ONLY:
                out.append(
                    SettingProblem(
                        key,
                        f"`{b}.{key}` is only used by the v1 API",
                        "add `stability.api: v1`, or remove this line",
                    )
                )
            elif api == "v1" and key in V2_ONLY:
                out.append(
                    SettingProblem(
                        key,
                        f"`{b}.{key}` is only used by the v2beta API, not with `stability.api: v1`",
                        "remove this line, or the `stability.api: v1` line",
                    )
                )
    return [p for p in out if p is not None]


def _settings_error(problems: list[SettingProblem]) -> Unavailable:
    p = problems[0]
    return Unavailable(p.message, hint=p.hint, backend="stability", setting=p.key)


# ------------------------------------------------------------------ backend
class StabilityBackend(Backend):
    name = "stability"
    capabilities = V2_CAPABILITIES
    settings = {
        "url": f"service address (default {DEFAULT_URL})",
        "api": "v2beta (default: stable-image/edit/inpaint) or v1 (legacy masking)",
        "style_preset": "a Stability style preset, e.g. comic-book, line-art, anime (default: none)",
        "grow_mask": "v2beta: px the service grows the mask by, 0-100 (comicc sends 0 unless set; "
        "the service's own default is 5)",
        "output_format": "v2beta: png (default), jpeg or webp",
        "engine": f"v1: engine id (default {DEFAULT_ENGINE})",
        "cfg_scale": f"v1: prompt strength 0-35 (default {V1_DEFAULT_CFG})",
        "steps": f"v1: diffusion steps 10-50 (default {V1_DEFAULT_STEPS})",
        "timeout": "seconds to wait for the answer (default 120)",
    }

    @classmethod
    def validate_settings(cls, params: Mapping[str, str]) -> list[SettingProblem]:
        problems = super().validate_settings(params)
        known = {k: v for k, v in params.items() if cls.settings is None or k in cls.settings}
        return problems + value_problems(known)

    @classmethod
    def capability_variants(cls) -> list[tuple[str, Capabilities]]:
        """Other configurations with other capabilities (for ``comicc backends``)."""
        return [
            ("stability.api: v1 (SDXL engine)", v1_capabilities(DEFAULT_ENGINE)),
            ("stability.api: v1 (other engines)", v1_capabilities("stable-diffusion-v1-6")),
        ]

    def __init__(self, **params: Any):
        self.params = {str(k): str(v).strip() for k, v in params.items()}
        problems = self.validate_settings(self.params)
        if problems:
            raise _settings_error(problems)
        self.url = self.params.get("url", DEFAULT_URL).rstrip("/")
        self.api = self.params.get("api", "v2beta")
        self.engine = self.params.get("engine", DEFAULT_ENGINE)
        self.timeout = http.parse_timeout(self.params.get("timeout"))
        self.capabilities = (
            V2_CAPABILITIES if self.api == "v2beta" else v1_capabilities(self.engine)
        )
        self._sessions = http.ThreadSessions()

    def __repr__(self) -> str:  # never shows a key (none is stored anyway)
        return f"StabilityBackend(api={self.api!r}, url={self.url!r})"

    # ------------------------------------------------------------ readiness
    def preflight(self) -> None:
        """The key must be there (no network call: a wrong key shows up as HTTP 401)."""
        http.require_key(KEY_ENV, self.name)

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
        opts = self._options(request)
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
        image_png, mask_png = _png(image.convert("RGB")), _png(mask)
        if self.api == "v1":
            fields, files = self._v1_fields(request, opts, image_png, mask_png)
            accept = "application/json"
        else:
            fields, files = self._v2_fields(request, opts, image_png, mask_png)
            accept = "image/*"
        endpoint = self.endpoint(opts.get("url"))
        prepared = requests.Request("POST", endpoint, data=fields, files=files).prepare()
        body = prepared.body if isinstance(prepared.body, bytes) else bytes(prepared.body or b"")
        if self.api == "v2beta" and len(body) > MAX_BODY_BYTES:
            raise Rejected(
                f"the request is {len(body) / 2**20:.1f} MiB; Stability takes at most 10 MiB",
                reason="too_large",
                backend=self.name,
                hint="lower the panel's `dpi:`; the init image and mask are sent as PNG",
            )
        headers = {
            "Authorization": f"Bearer {http.require_key(KEY_ENV, self.name)}",
            "Accept": accept,
            "Content-Type": prepared.headers["Content-Type"],
        }
        timeout = http.parse_timeout(opts["timeout"]) if opts.get("timeout") else self.timeout
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

    def _options(self, request: PaintRequest) -> dict[str, str]:
        """This panel's settings (a panel may override the header's), checked."""
        opts = {**self.params, **{str(k): str(v).strip() for k, v in request.params.items()}}
        problems = value_problems(opts, api=self.api)
        for key, mine in (("api", self.api), ("engine", self.engine if self.api == "v1" else None)):
            if mine is not None and opts.get(key, mine) != mine:
                # the API and engine fix the sizes the plan negotiated: one per build
                problems.insert(
                    0,
                    SettingProblem(
                        key,
                        f"`stability.{key}` differs between panels (`{opts[key]}` here, `{mine}` "
                        "where the backend was first used)",
                        f"set `stability.{key}` once, in the header",
                    ),
                )
        if problems:
            p = problems[0]
            raise Rejected(
                p.message, reason="setting", hint=p.hint, backend=self.name, setting=p.key
            )
        return opts

    def _v2_fields(
        self, request: PaintRequest, opts: Mapping[str, str], image_png: bytes, mask_png: bytes
    ) -> tuple[dict[str, str], dict[str, tuple]]:
        fields = {"prompt": request.prompt}
        if request.negative.strip():
            fields["negative_prompt"] = request.negative
        if request.seed is not None:
            fields["seed"] = str(int(request.seed))
        fields["grow_mask"] = str(int(float(opts.get("grow_mask", GROW_MASK.minimum))))
        if opts.get("style_preset"):
            fields["style_preset"] = opts["style_preset"]
        fields["output_format"] = opts.get("output_format", "png")
        files = {
            "image": ("image.png", image_png, "image/png"),
            "mask": ("mask.png", mask_png, "image/png"),
        }
        return fields, files

    def _v1_fields(
        self, request: PaintRequest, opts: Mapping[str, str], image_png: bytes, mask_png: bytes
    ) -> tuple[dict[str, str], dict[str, tuple]]:
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
        fields["cfg_scale"] = opts.get("cfg_scale", V1_DEFAULT_CFG)
        fields["steps"] = opts.get("steps", V1_DEFAULT_STEPS)
        fields["samples"] = "1"
        if opts.get("style_preset"):
            fields["style_preset"] = opts["style_preset"]
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
        code = resp.status_code
        name, why = _error_words(resp)
        said = f": {why}" if why else ""
        b = self.name
        if code == 429:
            raise RateLimited(
                f"rate limited (HTTP 429){said}",
                retry_after=http.retry_after(resp, RATE_LIMIT_PENALTY),
                backend=b,
            )
        if code == 401:
            raise Unavailable(
                f"the API key was refused (HTTP 401){said}",
                backend=b,
                hint=f"check `{KEY_ENV}` in your environment or keys.toml",
            )
        if code == 402:
            raise Unavailable(
                f"payment required (HTTP 402){said}",
                backend=b,
                hint="your Stability account is out of credits",
            )
        if code == 403:
            if (name or "").lower() == "content_moderation" or "moderation" in why.lower():
                raise Rejected(
                    f"flagged by Stability's content moderation (HTTP 403){said}",
                    reason="content_moderation",
                    backend=b,
                    hint="reword the panel's prompt (moderated requests are not charged)",
                )
            raise Rejected(f"refused (HTTP 403){said}", reason=name or "forbidden", backend=b)
        if code == 404:
            if self.api == "v1":
                raise Unavailable(
                    f"not found (HTTP 404){said}",
                    backend=b,
                    setting="engine",
                    hint="check `stability.engine`; Stability may have retired the v1 "
                    "API -- remove `stability.api: v1` to use v2beta",
                )
            raise Unavailable(
                f"not found (HTTP 404){said}",
                backend=b,
                setting="url",
                hint="check `stability.url`",
            )
        if code == 413:
            raise Rejected(
                f"request too large (HTTP 413){said}",
                reason="too_large",
                backend=b,
                hint="lower the panel's `dpi:`; Stability takes at most 10 MiB",
            )
        if code == 422:
            raise Rejected(
                f"{name or 'unprocessable'} (HTTP 422){said if why != name else ''}",
                reason=name or "unprocessable",
                backend=b,
            )
        if code == 400:
            raise Rejected(
                f"invalid request (HTTP 400){said}", reason=name or "invalid_parameters", backend=b
            )
        if code >= 500:
            raise Transient(f"server error (HTTP {code}){said}", backend=b)
        http.raise_for_status(resp, b, why or None)
        raise Transient(f"unexpected HTTP {code}{said}", backend=b)  # 3xx


# ------------------------------------------------------------------ helpers
def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()


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
