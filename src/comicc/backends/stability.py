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
What is sent (settings, capabilities, form fields) is
:mod:`comicc.backends.stability_inputs`; this module holds the conversation.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import requests

from comicc.backends import http
from comicc.backends.base import (
    Backend,
    Capabilities,
    PaintRequest,
    PaintResult,
    Rejected,
    Transient,
    Unavailable,
    png_bytes,
    setting_error,
    to_service_mask,
)
from comicc.backends.keys import key_for, require_key, settings_key_problems
from comicc.backends.settings import SettingProblem, SettingValues
from comicc.backends.stability_inputs import (
    APIS,
    DEFAULT_ENGINE,
    DEFAULT_URL,
    KEY_ENV,
    MAX_BODY_BYTES,
    MAX_PROMPT_CHARS,
    SETTINGS,
    V2_CAPABILITIES,
    api_problems,
    v1_capabilities,
    v1_fields,
    v2_fields,
)

RATE_LIMIT_PENALTY = 60.0  # Stability: a 60 s timeout after a 429


# ------------------------------------------------------------------ backend
class StabilityBackend(Backend):
    name = "stability"
    capabilities = V2_CAPABILITIES
    SETTINGS = SETTINGS
    KEY_HOSTS = ("api.stability.ai",)

    @classmethod
    def validate_settings(cls, settings: Mapping[str, str]) -> list[SettingProblem]:
        problems = super().validate_settings(settings)
        api = settings.get("api", "v2beta").strip()
        if api in APIS:
            problems += api_problems({k: v for k, v in settings.items() if k in SETTINGS}, api)
        problems += settings_key_problems(
            cls.name, KEY_ENV, settings, DEFAULT_URL, cls.KEY_HOSTS, problems
        )
        return problems

    @classmethod
    def capability_variants(cls) -> list[tuple[str, Capabilities]]:
        """Other configurations with other capabilities (for ``comicc backends``)."""
        return [
            ("stability.api: v1 (SDXL engine)", v1_capabilities(DEFAULT_ENGINE)),
            ("stability.api: v1 (other engines)", v1_capabilities("stable-diffusion-v1-6")),
        ]

    def __init__(self, **backend_settings: str):
        self.backend_settings, values = http.checked_settings(type(self), backend_settings)
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

    def close(self) -> None:
        """Stop every request in flight (the build was stopped)."""
        self._sessions.close()

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
            fields, files = v1_fields(request, opts, image_png, mask_png)
            accept = "application/json"
        else:
            fields, files = v2_fields(request, opts, image_png, mask_png)
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
        key = key_for(KEY_ENV, self.name, endpoint, self.KEY_HOSTS)
        headers = {
            "Authorization": f"Bearer {key}",
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
            max_bytes=self.capabilities.max_response_bytes,
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
    401: http.key_refused(KEY_ENV),
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
