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

One attempt per :meth:`paint`; typed errors; the key is read at the moment of
the call and never stored, logged or put in a message.
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
from PIL import Image

from comicc.backends import http
from comicc.backends.base import (
    Backend,
    Capabilities,
    PaintRequest,
    PaintResult,
    RateLimited,
    Rejected,
    SettingProblem,
    Transient,
    Unavailable,
    to_service_mask,
)

KEY_ENV = "OPENAI_API_KEY"
DEFAULT_URL = "https://api.openai.com"
DEFAULT_MODEL = "gpt-image-1"
SIZES = ((1024, 1024), (1536, 1024), (1024, 1536))
QUALITIES = ("auto", "low", "medium", "high", "standard")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
DEFAULT_TIMEOUT = (10.0, 180.0)  # GPT image edits can take a minute or two
MAX_MASK_BYTES = 4 * 1024 * 1024  # the mask must be a PNG under 4 MB
MAX_IMAGE_BYTES = 50 * 1024 * 1024
MODERATION_CODES = ("moderation_blocked", "content_policy_violation")

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
)


def _problems(params: Mapping[str, str]) -> list[SettingProblem]:
    import difflib

    b = "openai"
    out: list[SettingProblem] = []
    for key, raw in params.items():
        value = str(raw).strip()
        if key == "url":
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                out.append(
                    SettingProblem(
                        key,
                        f"`{b}.url`: `{value}` is not an http(s) address",
                        f"e.g. `openai.url: {DEFAULT_URL}`",
                    )
                )
        elif key in ("quality", "output_format"):
            choices = QUALITIES if key == "quality" else OUTPUT_FORMATS
            if value not in choices:
                close = difflib.get_close_matches(value, choices, n=1)
                out.append(
                    SettingProblem(
                        key,
                        f"`{b}.{key}` must be one of {', '.join(choices)}, not `{value}`",
                        f"did you mean `{b}.{key}: {close[0]}`?" if close else None,
                    )
                )
        elif key == "model":
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]*", value):
                out.append(
                    SettingProblem(
                        key,
                        f"`{b}.model` is not a model name: `{value}`",
                        f"e.g. `openai.model: {DEFAULT_MODEL}`",
                    )
                )
        elif key == "timeout":
            try:
                t = float(value)
            except ValueError:
                t = -1.0
            if not 0 < t <= 3600:
                out.append(
                    SettingProblem(key, f"`{b}.timeout` must be a number of seconds, not `{value}`")
                )
    return out


class OpenAIBackend(Backend):
    name = "openai"
    capabilities = CAPABILITIES
    settings = {
        "url": f"service address (default {DEFAULT_URL})",
        "model": f"image model (default {DEFAULT_MODEL}); the script's `model:` is used when this is not set",
        "quality": "auto, low, medium or high (default: the service's, auto)",
        "output_format": "png, jpeg or webp (default: the service's, png)",
        "timeout": f"seconds to wait for the answer (default {DEFAULT_TIMEOUT[1]:g})",
    }

    @classmethod
    def validate_settings(cls, params: Mapping[str, str]) -> list[SettingProblem]:
        problems = super().validate_settings(params)
        return problems + _problems({k: v for k, v in params.items() if k in (cls.settings or {})})

    def __init__(self, **params: Any):
        self.params = {str(k): str(v).strip() for k, v in params.items()}
        problems = self.validate_settings(self.params)
        if problems:
            p = problems[0]
            raise Unavailable(p.message, hint=p.hint, backend=self.name, setting=p.key)
        self.url = self.params.get("url", DEFAULT_URL).rstrip("/")
        self.timeout = http.parse_timeout(self.params.get("timeout"), DEFAULT_TIMEOUT)
        self._sessions = http.ThreadSessions()

    def __repr__(self) -> str:
        return f"OpenAIBackend(url={self.url!r})"

    def preflight(self) -> None:
        http.require_key(KEY_ENV, self.name)

    def _session(self) -> requests.Session:
        return self._sessions.get()

    def endpoint(self, url: str | None = None) -> str:
        return f"{(url or self.url).rstrip('/')}/v1/images/edits"

    def paint(self, request: PaintRequest) -> PaintResult:
        self.check(request)
        opts = {**self.params, **{str(k): str(v).strip() for k, v in request.params.items()}}
        problems = _problems(opts)
        if problems:
            p = problems[0]
            raise Rejected(
                p.message, reason="setting", hint=p.hint, backend=self.name, setting=p.key
            )
        model = opts.get("model") or DEFAULT_MODEL  # the build passes the script's `model:` here
        _, rgba = to_service_mask(request, "alpha")
        image_png = _png(request.init_image.convert("RGB"))
        mask_png = _png(rgba)
        if len(mask_png) > MAX_MASK_BYTES:  # paper and flat balloons compress well; a rare case
            flat = Image.new("RGBA", rgba.size, (0, 0, 0, 0))
            flat.putalpha(rgba.getchannel("A"))
            mask_png = _png(flat)
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
        if opts.get("quality"):
            fields["quality"] = opts["quality"]
        if opts.get("output_format"):
            fields["output_format"] = opts["output_format"]
        if model.startswith("dall-e"):
            fields["response_format"] = "b64_json"
        files = {
            "image": ("image.png", image_png, "image/png"),
            "mask": ("mask.png", mask_png, "image/png"),
        }
        headers = {
            "Authorization": f"Bearer {http.require_key(KEY_ENV, self.name)}",
            "Accept": "application/json",
        }
        timeout = (
            http.parse_timeout(opts["timeout"], DEFAULT_TIMEOUT)
            if opts.get("timeout")
            else self.timeout
        )
        resp = http.call(
            self._session(),
            "POST",
            self.endpoint(opts.get("url")),
            backend=self.name,
            timeout=timeout,
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
            got = http.call(self._session(), "GET", item["url"], backend=self.name, timeout=timeout)
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
        if code == 429:
            if ecode == "insufficient_quota" or etype == "insufficient_quota":
                raise Unavailable(
                    f"out of quota (HTTP 429){said}",
                    backend=b,
                    hint="check the plan and billing of your OpenAI account",
                )
            raise RateLimited(
                f"rate limited (HTTP 429){said}", retry_after=http.retry_after(resp), backend=b
            )
        if code == 401:
            raise Unavailable(
                f"the API key was refused (HTTP 401){said}",
                backend=b,
                hint=f"check `{KEY_ENV}` in your environment or keys.toml",
            )
        if code == 403:
            raise Unavailable(
                f"access denied (HTTP 403){said}",
                backend=b,
                setting="model",
                hint="the account may not have access to this model "
                "(GPT image models need a verified organization)",
            )
        if code == 404:
            raise Unavailable(
                f"not found (HTTP 404){said}",
                backend=b,
                setting="model",
                hint="check `openai.model` and `openai.url`",
            )
        if code in (400, 413, 415, 422):
            raise Rejected(
                f"invalid request (HTTP {code}){said}",
                reason=ecode or etype or f"http-{code}",
                backend=b,
            )
        if code >= 500:
            raise Transient(f"server error (HTTP {code}){said}", backend=b)
        http.raise_for_status(resp, b, message or None)
        raise Transient(f"unexpected HTTP {code}{said}", backend=b)


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def _error_words(resp: requests.Response) -> tuple[str, str | None, str | None]:
    """(message, type, code) from OpenAI's error body."""
    try:
        doc = resp.json()
    except ValueError:
        return resp.text[:200].strip(), None, None
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict):
        msg = err.get("message") if isinstance(err.get("message"), str) else ""
        etype = err.get("type") if isinstance(err.get("type"), str) else None
        code = err.get("code") if isinstance(err.get("code"), str) else None
        return msg[:400], etype, code
    if isinstance(err, str):
        return err[:400], None, None
    return str(doc)[:200], None, None
