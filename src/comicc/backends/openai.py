"""OpenAI Images: ``POST {url}/v1/images/edits`` (GPT image models).

Switch it on with ``backend: openai`` and export ``OPENAI_API_KEY``.

Multipart ``image`` (the init image, opaque PNG), ``mask`` (PNG of the same
size whose FULLY TRANSPARENT pixels are the ones to edit: comicc's PAINT area,
built with :func:`~comicc.backends.base.to_service_mask` ``"alpha"``),
``prompt``, ``model`` (``openai.model``, default ``gpt-image-1``), ``n=1``,
``size`` (one of the model's fixed sizes: the plan negotiates the closest
aspect), and ``quality`` / ``output_format`` when the script sets them. The
answer is ``{data: [{b64_json}], usage}``.

Quirks the capabilities declare:

* no seed and no negative prompt: the plan drops the negative with a note,
  and a panel is reproducible only through comicc's cache;
* the mask is guidance only -- a GPT image model may re-render the whole
  picture; compositing pastes the kept pixels back, so the balloons stay
  exact (the build may warn that the service repainted the kept area).

Consistent characters: the reference images of the panel's characters go as
further images of the same edit, the multipart ``image[]`` list with the init
image first (the mask applies to the first image), up to 16 images in all for
GPT image models (:data:`MAX_REFERENCES` references); ``openai.input_fidelity:
high`` asks the model to keep their features. LoRAs: not supported.

One attempt per :meth:`paint`; typed errors; the key is read at the moment of
the call and never stored, logged or put in a message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

import requests
from PIL import Image

from comicc.backends import http
from comicc.backends.base import (
    Backend,
    Capabilities,
    PaintRequest,
    PaintResult,
    Reference,
    Rejected,
    Transient,
    Unavailable,
    png_bytes,
    to_service_mask,
)
from comicc.backends.keys import key_for, require_key, settings_key_problems
from comicc.backends.references import reference_png
from comicc.backends.settings import SettingProblem, SettingSpec

KEY_ENV = "OPENAI_API_KEY"
DEFAULT_URL = "https://api.openai.com"
DEFAULT_MODEL = "gpt-image-1"
SIZES = ((1024, 1024), (1536, 1024), (1024, 1536))
QUALITIES = ("auto", "low", "medium", "high", "standard")
ANSWER_FORMATS = ("png", "jpeg", "webp")  # the image format of the answer
DEFAULT_TIMEOUT = (10.0, 180.0)  # GPT image edits can take a minute or two
MAX_MASK_BYTES = 4 * 1024 * 1024  # the mask must be a PNG under 4 MB
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MODERATION_CODES = ("moderation_blocked", "content_policy_violation")
MAX_REFERENCES = 15  # GPT image models take up to 16 images: the init image and 15 more
REFERENCE_SIDE = 1536  # reference images are sent at most this many px a side
FIDELITIES = ("high", "low")

CAPABILITIES = Capabilities(
    mask_convention="alpha",
    edge_control=None,
    seed=False,
    negative_prompt=False,
    allowed_sizes=SIZES,
    max_request_bytes=MAX_IMAGE_BYTES,
    sync=True,
    deterministic=False,
    needs_network=True,
    needs_key=KEY_ENV,
    # token-priced; about 0.04-0.06 USD for a medium-quality edit at these sizes (an estimate)
    cost_unit="USD",
    cost_per_image=0.06,
    # GPT image models may re-render the whole picture: the mask is guidance only
    mask_guidance_only=True,
    max_references=MAX_REFERENCES,
)


SETTINGS: dict[str, SettingSpec] = {
    "url": SettingSpec(
        "url",
        f"service address (default {DEFAULT_URL})",
        DEFAULT_URL,
        example=f"e.g. `openai.url: {DEFAULT_URL}`",
    ),
    "model": SettingSpec(
        "str",
        f"image model (default {DEFAULT_MODEL}); the script's `model:` is used when this is "
        "not set",
        pattern=(r"[A-Za-z0-9][A-Za-z0-9._:-]*", "a model name"),
        example=f"e.g. `openai.model: {DEFAULT_MODEL}`",
    ),
    "quality": SettingSpec(
        "str", "auto, low, medium or high (default: the service's, auto)", choices=QUALITIES
    ),
    "output_format": SettingSpec(
        "str", "png, jpeg or webp (default: the service's, png)", choices=ANSWER_FORMATS
    ),
    "timeout": SettingSpec(
        "float",
        f"seconds to wait for the answer (default {DEFAULT_TIMEOUT[1]:g})",
        range=(0.001, 3600),
    ),
    "input_fidelity": SettingSpec(
        "str",
        "high or low: how closely the model keeps the features (faces) of the input and "
        "reference images (default: the service's, low)",
        choices=FIDELITIES,
    ),
}
# OpenAI's wording for the statuses that mean something particular there
STATUS_RULES = {
    401: http.key_refused(KEY_ENV),
    403: http.StatusRule(
        Unavailable,
        "access denied",
        "the account may not have access to this model "
        "(GPT image models need a verified organization)",
        setting="model",
    ),
    404: http.StatusRule(
        Unavailable, "not found", "check `openai.model` and `openai.url`", setting="model"
    ),
    415: http.StatusRule(Rejected, "invalid request"),
    422: http.StatusRule(Rejected, "invalid request"),
}


class OpenAIBackend(Backend):
    name = "openai"
    capabilities = CAPABILITIES
    SETTINGS = SETTINGS
    KEY_HOSTS = ("api.openai.com",)

    @classmethod
    def validate_settings(cls, settings: Mapping[str, str]) -> list[SettingProblem]:
        problems = super().validate_settings(settings)
        problems += settings_key_problems(
            cls.name, KEY_ENV, settings, DEFAULT_URL, cls.KEY_HOSTS, problems
        )
        return problems

    def __init__(self, **backend_settings: str):
        self.backend_settings, values = http.checked_settings(type(self), backend_settings)
        self.url = values.text("url")
        self.timeout = http.parse_timeout(values.optional_number("timeout"), DEFAULT_TIMEOUT)
        self._sessions = http.ThreadSessions()

    def __repr__(self) -> str:
        return f"OpenAIBackend(url={self.url!r})"

    def preflight(self) -> None:
        require_key(KEY_ENV, self.name)

    def _session(self) -> requests.Session:
        return self._sessions.get()

    def close(self) -> None:
        """Stop every request in flight (the build was stopped)."""
        self._sessions.close()

    def endpoint(self, url: str | None = None) -> str:
        return f"{(url or self.url).rstrip('/')}/v1/images/edits"

    def paint(self, request: PaintRequest) -> PaintResult:
        self.check(request)
        opts = self.setting_values(
            {**self.backend_settings, **request.backend_settings}, painting=True
        )
        # the build passes the script's `model:` here
        model = opts.text("model") or DEFAULT_MODEL
        _, rgba = to_service_mask(request, "alpha")
        image_png = png_bytes(request.init_image.convert("RGB"))
        mask_png = png_bytes(rgba)
        if len(mask_png) > MAX_MASK_BYTES:  # paper and flat balloons compress well; a rare case
            flat = Image.new("RGBA", rgba.size, (0, 0, 0, 0))
            flat.putalpha(rgba.getchannel("A"))
            mask_png = png_bytes(flat)
        if len(image_png) > MAX_IMAGE_BYTES or len(mask_png) > MAX_MASK_BYTES:
            raise Rejected(
                "the image or mask is too large for OpenAI", reason="too_large", backend=self.name
            )
        fields = {
            "prompt": request.prompt,
            "model": model,
            "n": "1",
            "size": f"{request.width}x{request.height}",
        }
        if opts.text("quality"):
            fields["quality"] = opts.text("quality")
        if opts.text("output_format"):
            fields["output_format"] = opts.text("output_format")
        if opts.text("input_fidelity"):
            fields["input_fidelity"] = opts.text("input_fidelity")
        if model.startswith("dall-e"):
            fields["response_format"] = "b64_json"
        # dall-e models edit one image only
        refs = () if model.startswith("dall-e") else request.references
        files = edit_files(image_png, mask_png, refs)
        endpoint = self.endpoint(opts.text("url"))
        headers = {
            "Authorization": f"Bearer {key_for(KEY_ENV, self.name, endpoint, self.KEY_HOSTS)}",
            "Accept": "application/json",
        }
        timeout = http.parse_timeout(opts.optional_number("timeout"), DEFAULT_TIMEOUT)
        limit = self.capabilities.max_response_bytes
        resp = http.call(
            self._session(),
            "POST",
            endpoint,
            backend=self.name,
            timeout=timeout,
            max_bytes=limit,
            data=fields,
            files=files,
            headers=headers,
        )
        if resp.status_code >= 300:
            self._raise_for(resp)
        try:
            doc = resp.json()
        except ValueError:
            raise Transient(
                "OpenAI answered with a body that is not JSON", backend=self.name
            ) from None
        items = doc.get("data") if isinstance(doc, dict) else None
        if not items or not isinstance(items, list) or not isinstance(items[0], dict):
            raise Transient("OpenAI answered without an image", backend=self.name)
        item = items[0]
        if isinstance(item.get("b64_json"), str):
            try:
                data = base64.b64decode(item["b64_json"])
            except (binascii.Error, ValueError):
                raise Transient(
                    "OpenAI's base64 image cannot be decoded", backend=self.name
                ) from None
        elif isinstance(item.get("url"), str):  # dall-e style answer: one download
            got = http.call(
                self._session(),
                "GET",
                item["url"],
                backend=self.name,
                timeout=timeout,
                max_bytes=limit,
            )
            if got.status_code >= 300:
                raise Transient(
                    f"downloading the image failed (HTTP {got.status_code})", backend=self.name
                )
            data = got.content
        else:
            raise Transient("OpenAI answered without an image", backend=self.name)
        meta: dict[str, Any] = {
            "backend": self.name,
            "model": model,
            "size": fields["size"],
            "request_id": resp.headers.get("x-request-id"),
        }
        if isinstance(doc.get("usage"), dict):
            meta["usage"] = doc["usage"]
        if isinstance(item.get("revised_prompt"), str):
            meta["revised_prompt"] = item["revised_prompt"]
        return PaintResult(image=data, seed_used=None, metadata=meta)

    def _raise_for(self, resp: requests.Response) -> None:
        """OpenAI's ``{error: {message, type, code}}`` as a typed error."""
        code = resp.status_code
        message, etype, ecode = _error_words(resp)
        said = f": {message}" if message else ""
        b = self.name
        if ecode in MODERATION_CODES or etype in MODERATION_CODES:
            raise Rejected(
                f"refused by OpenAI's safety system (HTTP {code}){said}",
                reason=ecode or etype or "moderation",
                backend=b,
                hint="reword the panel's prompt",
            )
        if code == 429 and "insufficient_quota" in (ecode, etype):
            raise Unavailable(
                f"out of quota (HTTP 429){said}",
                backend=b,
                hint="check the plan and billing of your OpenAI account",
            )
        http.raise_for_status(resp, b, why=message, reason=ecode or etype, rules=STATUS_RULES)


def edit_files(
    image_png: bytes, mask_png: bytes, refs: Sequence[Reference]
) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The multipart files of an edit: ``image`` and ``mask``; with reference
    images, ``image[]`` repeated (the init image first, then each reference)."""
    mask = ("mask", ("mask.png", mask_png, "image/png"))
    if not refs:
        return [("image", ("image.png", image_png, "image/png")), mask]
    out = [("image[]", ("image.png", image_png, "image/png"))]
    for i, ref in enumerate(refs[:MAX_REFERENCES], 1):
        png = reference_png(ref, REFERENCE_SIDE)
        out.append(("image[]", (f"reference-{i}.png", png, "image/png")))
    return [*out, mask]


def _error_words(resp: requests.Response) -> tuple[str, str | None, str | None]:
    """(message, type, code) from OpenAI's error body."""
    try:
        doc = resp.json()
    except ValueError:
        return resp.text[:200].strip(), None, None
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict):
        msg, etype, code = err.get("message"), err.get("type"), err.get("code")
        return (
            msg[:400] if isinstance(msg, str) else "",
            etype if isinstance(etype, str) else None,
            code if isinstance(code, str) else None,
        )
    if isinstance(err, str):
        return err[:400], None, None
    return str(doc)[:200], None, None
