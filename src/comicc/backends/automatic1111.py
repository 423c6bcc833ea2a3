"""Automatic1111 (stable-diffusion-webui with ``--api``): JSON inpainting at
``POST {url}/sdapi/v1/img2img``. See docs/backends.md, "Automatic1111".

* Mask: white = inpaint (comicc's mask unchanged); ``inpainting_mask_invert`` 0.
  The init image and the mask go as palette PNGs of exactly their colours
  (``png_bytes(indexed=True)``: the webui reads them as the very RGB and L pixels).
* Edge: ``mask_blur`` (service default 4) is sent explicitly, 0 unless the
  writer sets it: a blur would eat into the keep-margin around balloons.
* ``inpaint_full_res`` defaults to false (the service says true): with true
  the webui paints the mask's box at width x height and pastes it back, so
  the answer has the init size and the art another scale.
* The seed is always sent (never -1); ``info`` is a JSON *string* with the
  seed used. ``model:`` picks the checkpoint (``override_settings``).
* Basic auth: ``automatic1111.user`` + ``$AUTOMATIC1111_PASSWORD`` (never the
  script). Several servers: ``automatic1111.urls``; each is sent at most
  ``automatic1111.concurrency`` requests at once (default 2), the build's
  ``--jobs`` caps the total.
* Consistent characters: each LoRA of the panel's characters is appended to
  the prompt as ``<lora:name:weight>``; each reference image becomes one
  ControlNet unit (IP-Adapter by default) in ``alwayson_scripts.controlnet.args``
  (the sd-webui-controlnet extension; its default of 3 units is the limit).
* 404 unknown sampler/model and 422 -> Rejected; 404 "Not Found" (no
  ``--api``) -> Unavailable; 500 "Invalid encoded image" -> Rejected (the same
  bytes fail again); other 5xx and timeouts -> Transient.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import requests

from comicc.backends import http
from comicc.backends.base import (
    Backend,
    BackendError,
    Capabilities,
    EdgeControl,
    PaintRequest,
    PaintResult,
    Rejected,
    Transient,
    Unavailable,
    png_bytes,
    to_service_mask,
)
from comicc.backends.keys import api_key
from comicc.backends.references import reference_png
from comicc.backends.settings import SettingSpec, SettingValues, choice_hint

NAME = "automatic1111"
PASSWORD_ENV = "AUTOMATIC1111_PASSWORD"
PREFLIGHT_TIMEOUT = (3.0, 10.0)
DEFAULT_CONCURRENCY = 2  # per server: one painting, one uploaded and waiting


# ------------------------------------------------------------------ backend
SETTINGS: dict[str, SettingSpec] = {
    "url": SettingSpec("url", "the webui's address", "http://127.0.0.1:7860"),
    "urls": SettingSpec("urls", "several webui addresses, comma-separated (wins over url)"),
    "user": SettingSpec(
        "str", "HTTP Basic user; the password comes from $AUTOMATIC1111_PASSWORD", ""
    ),
    "timeout": SettingSpec("float", "seconds to wait for one image", 300.0, range=(0.1, None)),
    "concurrency": SettingSpec(
        "int",
        "requests each server is sent at once (one paints, the next waits uploaded)",
        DEFAULT_CONCURRENCY,
        range=(1, 64),
    ),
    "steps": SettingSpec("int", "sampling steps", 30, range=(1, 150)),
    "cfg_scale": SettingSpec("float", "prompt guidance", 7.0, range=(1, 30)),
    "sampler": SettingSpec("str", "sampler_name", "Euler a"),
    "scheduler": SettingSpec("str", "schedule type (webui 1.9+); empty: the sampler's default", ""),
    "denoising_strength": SettingSpec(
        "float", "how much of the init image is repainted", 0.75, range=(0, 1)
    ),
    "inpainting_fill": SettingSpec(
        "int", "0 fill, 1 original, 2 latent noise, 3 latent nothing", 1, choices=(0, 1, 2, 3)
    ),
    "inpaint_full_res": SettingSpec("bool", "paint only the mask's box, upscaled", False),
    "inpaint_full_res_padding": SettingSpec(
        "int", "px around the mask's box with inpaint_full_res", 32, range=(0, 256)
    ),
    "mask_blur": SettingSpec(
        "int", "the webui's mask blur in px (its own default: 4)", 0, range=(0, 64)
    ),
    "max_side": SettingSpec(
        "int", "longest side requested; larger panels are scaled", 2048, range=(64, 8192)
    ),
    "reference_module": SettingSpec(
        "str",
        "ControlNet preprocessor for reference images (GET /controlnet/module_list)",
        "ip-adapter_clip_sd15",
    ),
    "reference_model": SettingSpec(
        "str",
        "ControlNet model for reference images (GET /controlnet/model_list)",
        "ip-adapter_sd15",
    ),
    "reference_weight": SettingSpec(
        "float", "how strongly a reference image steers the painting", 0.8, range=(0, 2)
    ),
}
MAX_REFERENCES = 3  # sd-webui-controlnet's default number of units
MAX_LORAS = 16
REFERENCE_SIDE = 1024  # reference images are sent at most this many px a side
# the webui's answers that mean something particular (the rest: http.STATUS_RULES)
STATUS_RULES = {
    401: http.StatusRule(
        Unavailable,
        "the webui refused the login",
        f"check `{NAME}.user` and ${PASSWORD_ENV}",
        setting="user",
    ),
    404: http.StatusRule(
        Rejected,
        "not found",
        f"check `{NAME}.sampler` and `model:` against the webui's lists",
        reason="not-found",
    ),
    422: http.StatusRule(Rejected, "the webui refused the request", reason="invalid"),
}


class Automatic1111Backend(Backend):
    name = NAME
    capabilities = Capabilities(
        mask_convention="white",
        edge_control=EdgeControl("mask_blur", 4, 0, 64),
        seed=True,
        negative_prompt=True,
        multiple_of=8,
        min_side=64,
        max_side=2048,
        sync=True,
        deterministic=False,
        needs_network=True,
        needs_key=None,
        cost_unit=None,
        max_references=MAX_REFERENCES,
        max_loras=MAX_LORAS,
        concurrency=DEFAULT_CONCURRENCY,
        rate_limited=False,  # self-hosted: the webui queues, it never answers 429
    )
    SETTINGS = SETTINGS

    def __init__(self, **backend_settings: str):
        self.backend_settings = {k: str(v) for k, v in backend_settings.items()}
        self.values = values = self.setting_values(self.backend_settings, painting=False)
        self.pool = http.ServerPool.from_settings(values.text("url"), values.urls("urls"))
        self.user = values.text("user")
        self.capabilities = replace(
            type(self).capabilities,
            max_side=values.integer("max_side"),
            concurrency=values.integer("concurrency"),
        )
        self._sessions = http.ThreadSessions()

    # ---------------------------------------------------------- plumbing
    def _auth(self) -> tuple[str, str] | None:
        if not self.user:
            return None
        password = api_key(PASSWORD_ENV)
        if not password:
            raise Unavailable(
                f"`{NAME}.user` is set but ${PASSWORD_ENV} is not",
                backend=NAME,
                setting="user",
                hint=f"export {PASSWORD_ENV}=... (passwords never go in the script)",
            )
        return (self.user, password)

    def close(self) -> None:
        """Stop every request in flight (the build was stopped)."""
        self._sessions.close()

    def _call(
        self, method: str, url: str, timeout: tuple[float, float], **kw: Any
    ) -> requests.Response:
        return http.call(
            self._sessions.get(),
            method,
            url,
            backend=NAME,
            setting=self.pool.setting,
            timeout=timeout,
            auth=self._auth(),
            **kw,
        )

    # ---------------------------------------------------------- preflight
    def preflight(self) -> None:
        """Every server answers ``GET /sdapi/v1/options`` (the API is on, the
        login works); the first one knows the configured sampler."""
        auth = self._auth()
        hint = http.preflight_hint(
            "is the webui running (with --api) at that address?",
            NAME,
            self.backend_settings,
            SETTINGS["url"].default,
        )
        for base in self.pool.urls:
            try:
                resp = self._call("GET", base + "/sdapi/v1/options", PREFLIGHT_TIMEOUT)
            except (Unavailable, Transient) as e:
                raise http.unreachable(e, NAME, self.pool, base, hint) from None
            if resp.status_code == 401:
                raise Unavailable(
                    f"{http.host(base)} refused the login (HTTP 401)",
                    backend=NAME,
                    setting="user" if auth else self.pool.setting,
                    hint=f"set `{NAME}.user` and ${PASSWORD_ENV} to the webui's --api-auth login",
                )
            if resp.status_code >= 400:
                raise Unavailable(
                    f"{http.host(base)} answered HTTP {resp.status_code}",
                    backend=NAME,
                    setting=self.pool.setting,
                    hint="start the webui with --api" if resp.status_code == 404 else hint,
                )
        self._check_sampler(self.pool.urls[0])

    def _check_sampler(self, base: str) -> None:
        sampler = self.values.text("sampler")
        try:
            resp = self._call("GET", base + "/sdapi/v1/samplers", PREFLIGHT_TIMEOUT)
            names = (
                [
                    n
                    for s in resp.json()
                    for n in [s.get("name"), *(s.get("aliases") or [])]
                    if isinstance(n, str)
                ]
                if resp.status_code == 200
                else []
            )
        except (Unavailable, Transient, ValueError, AttributeError, TypeError):
            return  # best effort: an old webui without the list still paints
        if names and sampler not in names:
            raise Unavailable(
                f"{http.host(base)} has no sampler `{sampler}`",
                backend=NAME,
                setting="sampler",
                hint=choice_hint(sampler, [s["name"] for s in resp.json() if "name" in s]),
            )

    # ---------------------------------------------------------- painting
    def settings_for(self, request: PaintRequest) -> SettingValues:
        """Typed settings for ``request``: its panel's settings over the backend's."""
        return self.setting_values(
            {**self.backend_settings, **request.backend_settings}, painting=True
        )

    def payload(self, request: PaintRequest) -> dict[str, Any]:
        """The img2img JSON body for ``request``."""
        o = self.settings_for(request)
        image, mask = to_service_mask(request, "white")
        image = image if image.mode == "RGB" else image.convert("RGB")  # no copy of an RGB one
        blur = o.integer("mask_blur")
        body: dict[str, Any] = {
            "init_images": [base64.b64encode(png_bytes(image, indexed=True)).decode("ascii")],
            "mask": base64.b64encode(png_bytes(mask, indexed=True)).decode("ascii"),
            "mask_blur": blur,
            "mask_blur_x": blur,
            "mask_blur_y": blur,
            "inpainting_fill": o.integer("inpainting_fill"),
            "inpaint_full_res": o.flag("inpaint_full_res"),
            "inpaint_full_res_padding": o.integer("inpaint_full_res_padding"),
            "inpainting_mask_invert": 0,
            "resize_mode": 0,
            "denoising_strength": o.number("denoising_strength"),
            "width": request.width,
            "height": request.height,
            "steps": o.integer("steps"),
            "cfg_scale": o.number("cfg_scale"),
            "sampler_name": o.text("sampler"),
            "prompt": lora_prompt(request),
            "negative_prompt": request.negative,
            "batch_size": 1,
            "n_iter": 1,
            "send_images": True,
            "save_images": False,
        }
        if o.text("scheduler"):
            body["scheduler"] = o.text("scheduler")
        if request.seed is not None and request.seed >= 0:
            body["seed"] = int(request.seed)
        if request.model:
            body["override_settings"] = {"sd_model_checkpoint": request.model}
            body["override_settings_restore_afterwards"] = True
        if request.references:
            body["alwayson_scripts"] = {"controlnet": {"args": reference_units(request, o)}}
        return body

    def endpoints(self) -> tuple[str, ...]:
        return self.pool.urls

    def prepare(self, request: PaintRequest) -> PaintRequest:
        """The img2img body (PNGs in base64) made before a server slot is taken."""
        return replace(request, prepared=self.payload(request))

    def worker_settings(self) -> Mapping[str, str]:
        """Its settings (urls, sampler, ...; the password is read from the
        environment only when a request is made)."""
        return dict(self.backend_settings)

    def paint(self, request: PaintRequest) -> PaintResult:
        return self.paint_on(request, self.pool.pick())

    def paint_on(self, request: PaintRequest, endpoint: str) -> PaintResult:
        """One img2img call to the server ``endpoint`` (one of :attr:`pool`'s urls)."""
        self.check(request)
        body = request.prepared if isinstance(request.prepared, dict) else self.payload(request)
        read = self.settings_for(request).number("timeout")
        base = endpoint if endpoint in self.pool.urls else self.pool.pick()
        try:
            resp = self._call("POST", base + "/sdapi/v1/img2img", (10.0, read), json=body)
        except Unavailable as e:
            if len(self.pool.urls) > 1:  # another server may take the retry
                raise http.retry_elsewhere(e, NAME, self.pool) from None
            raise
        if resp.status_code >= 400:
            raise self._error(resp, base)
        try:
            doc = resp.json()
            data = doc["images"][0]
            if isinstance(data, str) and data.startswith("data:"):
                data = data.split(",", 1)[1]
            image = base64.b64decode(data, validate=False)
        except (ValueError, KeyError, IndexError, TypeError, binascii.Error):
            raise Transient(f"{http.host(base)} answered without an image", backend=NAME) from None
        info = _info(doc.get("info"))
        seed = info.get("seed")
        return PaintResult(
            image=image,
            seed_used=int(seed) if isinstance(seed, int) else request.seed,
            metadata={
                "backend": NAME,
                "server": http.host(base),
                **{k: info[k] for k in ("sd_model_name", "sampler_name") if k in info},
            },
        )

    def _error(self, resp: requests.Response, base: str) -> BackendError:
        try:
            doc = resp.json()
        except ValueError:
            doc = {}
        doc = doc if isinstance(doc, dict) else {}
        detail = _detail(doc.get("detail")) or str(doc.get("errors") or "") or resp.text[:200]
        code = resp.status_code
        if code == 404 and "error" not in doc and detail.strip() == "Not Found":
            return Unavailable(
                f"{http.host(base)} has no img2img API (HTTP 404)",
                backend=NAME,
                setting=self.pool.setting,
                hint="start the webui with --api",
            )
        text = f"{detail} {doc.get('errors') or ''}"
        if code == 500 and "invalid encoded image" in text.lower():
            return Rejected(
                f"the webui could not read the image (HTTP 500): {detail}",
                reason="invalid-image",
                backend=NAME,
                hint="the same image fails the same way; is the server a "
                "stable-diffusion-webui with --api?",
            )
        if code == 422 and "always on script" in text.lower():
            return Rejected(
                f"the webui has no ControlNet extension for the reference images: {detail}",
                reason="no-controlnet",
                backend=NAME,
                hint="install sd-webui-controlnet (and an IP-Adapter model) in the webui, "
                "or remove the characters' `ref:` lines",
            )
        if code >= 500 and "out of memory" in text.lower():
            return Transient(
                f"the webui ran out of memory (HTTP {code})",
                backend=NAME,
                hint=f"lower `{NAME}.max_side` to paint smaller images",
            )
        error = http.status_error(resp, NAME, why=detail[:300], rules=STATUS_RULES)
        return error or Transient(f"HTTP {code}", backend=NAME)


def lora_prompt(request: PaintRequest) -> str:
    """The prompt with each LoRA of the request as ``<lora:name:weight>``."""
    tags = " ".join(f"<lora:{lo.name}:{lo.weight:g}>" for lo in request.loras)
    return f"{request.prompt} {tags}" if tags else request.prompt


def reference_units(request: PaintRequest, o: SettingValues) -> list[dict[str, Any]]:
    """One sd-webui-controlnet unit per reference image (``image`` is base64 PNG)."""
    return [
        {
            "enabled": True,
            "image": base64.b64encode(reference_png(ref, REFERENCE_SIDE)).decode("ascii"),
            "module": o.text("reference_module"),
            "model": o.text("reference_model"),
            "weight": o.number("reference_weight"),
            "resize_mode": "Crop and Resize",
            "pixel_perfect": True,
            "control_mode": "Balanced",
        }
        for ref in request.references[:MAX_REFERENCES]
    ]


def _info(raw: Any) -> dict[str, Any]:
    """``info`` is a JSON string (a dict in a few forks)."""
    try:
        doc = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _detail(raw: Any) -> str:
    """FastAPI's ``detail``: a string, or a list of {loc, msg} for validation errors."""
    if not isinstance(raw, list):
        return "" if raw is None else str(raw)

    def one(d: Any) -> str:
        if not isinstance(d, dict):
            return str(d)
        where = ".".join(str(x) for x in d.get("loc", ()) if x != "body")
        return f"{where}: {d.get('msg', '')}".lstrip(": ")

    return "; ".join(one(d) for d in raw)
