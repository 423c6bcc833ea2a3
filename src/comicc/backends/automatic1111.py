"""Automatic1111 (stable-diffusion-webui with ``--api``): JSON inpainting at
``POST {url}/sdapi/v1/img2img``. See docs/backends.md, "Automatic1111".

* Mask: white = inpaint (comicc's mask unchanged); ``inpainting_mask_invert`` 0.
* Edge: ``mask_blur`` (service default 4) is sent explicitly, 0 unless the
  writer sets it: a blur would eat into the keep-margin around balloons.
* ``inpaint_full_res`` defaults to false (the service says true): with true
  the webui paints the mask's box at width x height and pastes it back, so
  the answer has the init size and the art another scale.
* The seed is always sent (never -1); ``info`` is a JSON *string* with the
  seed used. ``model:`` picks the checkpoint (``override_settings``).
* Basic auth: ``automatic1111.user`` + ``$AUTOMATIC1111_PASSWORD`` (never the
  script). Several servers: ``automatic1111.urls`` (round-robin).
* 404 unknown sampler/model and 422 -> Rejected; 404 "Not Found" (no
  ``--api``) -> Unavailable; 500 "Invalid encoded image" -> Rejected (the same
  bytes fail again); other 5xx and timeouts -> Transient.

:class:`Opt`, :class:`ServerPool` and :class:`ThreadSessions` are shared with
:mod:`comicc.backends.comfyui`.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import io
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import requests
from PIL import Image

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

NAME = "automatic1111"
PASSWORD_ENV = "AUTOMATIC1111_PASSWORD"
PREFLIGHT_TIMEOUT = (3.0, 10.0)
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


# ------------------------------------------------------------ shared helpers
@dataclass(frozen=True)
class Opt:
    """One dotted setting: its kind, default and limits."""

    kind: str  # "str" | "int" | "float" | "bool" | "url" | "urls"
    default: Any
    help: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[Any, ...] = ()


def parse_url(raw: str) -> str:
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        hint = f" (write `http://{url}`)" if "://" not in url and url else ""
        raise ValueError(f"`{raw.strip()}` is not an http:// or https:// address{hint}")
    return url


def parse_opt(key: str, opt: Opt, raw: str) -> Any:
    """The typed value of ``raw``; ValueError with a message for the writer."""
    text = str(raw).strip()
    if opt.kind == "str":
        value: Any = text
    elif opt.kind in ("url", "urls"):
        items = [u for u in (p.strip() for p in text.replace("\n", ",").split(",")) if u]
        if not items:
            raise ValueError(f"`{key}` lists no address")
        if opt.kind == "url" and len(items) > 1:
            raise ValueError(f"`{key}` is one address (`urls` takes several)")
        try:
            urls = tuple(parse_url(u) for u in items)
        except ValueError as e:
            raise ValueError(f"`{key}`: {e}") from None
        return urls if opt.kind == "urls" else urls[0]
    elif opt.kind == "bool":
        if text.lower() not in _TRUE + _FALSE:
            raise ValueError(f"`{key}` is true or false, not `{text}`")
        return text.lower() in _TRUE
    else:
        try:
            value = int(text) if opt.kind == "int" else float(text)
        except ValueError:
            what = "a whole number" if opt.kind == "int" else "a number"
            raise ValueError(f"`{key}` must be {what}, not `{text}`") from None
        if (opt.lo is not None and value < opt.lo) or (opt.hi is not None and value > opt.hi):
            span = f"at least {opt.lo:g}" if opt.hi is None else f"{opt.lo:g} to {opt.hi:g}"
            raise ValueError(f"`{key}` must be {span}, not {text}")
    if opt.choices and value not in opt.choices:
        raise ValueError(f"`{key}` must be one of {', '.join(map(str, opt.choices))}, not `{text}`")
    return value


def check_values(
    opts: Mapping[str, Opt], params: Mapping[str, str], backend: str
) -> list[SettingProblem]:
    out = []
    for key, raw in params.items():
        if key in opts:
            try:
                parse_opt(f"{backend}.{key}", opts[key], raw)
            except ValueError as e:
                out.append(SettingProblem(key, str(e)))
    return out


def resolve(
    opts: Mapping[str, Opt],
    params: Mapping[str, str],
    *,
    error: type = Rejected,
    backend: str = NAME,
) -> dict[str, Any]:
    """Every option's typed value (defaults filled in); a bad one raises ``error``."""
    out = {}
    for key, opt in opts.items():
        if key in params:
            try:
                out[key] = parse_opt(f"{backend}.{key}", opt, params[key])
            except ValueError as e:
                raise error(str(e), backend=backend, setting=key) from None
        else:
            out[key] = opt.default
    return out


ThreadSessions = http.ThreadSessions  # kept importable from here


class ServerPool:
    """A backend's base URLs, dealt round-robin under a lock (the scheduler paints
    in parallel): panels spread evenly; with the same model everywhere, which
    server paints a panel does not change the picture."""

    def __init__(self, urls: tuple[str, ...], setting: str):
        self.urls = urls
        self.setting = setting  # "url" or "urls": what a failure points at
        self._next = 0
        self._lock = threading.Lock()

    def pick(self) -> str:
        with self._lock:
            url = self.urls[self._next % len(self.urls)]
            self._next += 1
        return url


def server_pool(values: Mapping[str, Any]) -> ServerPool:
    if values.get("urls"):
        return ServerPool(tuple(values["urls"]), "urls")
    return ServerPool((values["url"],), "url")


def host(url: str) -> str:
    return urlsplit(url).netloc or url


def unreachable(
    exc: Unavailable | Transient, backend: str, pool: ServerPool, url: str, hint: str
) -> Unavailable:
    """A preflight failure to connect, pointing at the url setting."""
    why = "cannot reach" if isinstance(exc, Unavailable) else "no answer in time from"
    return Unavailable(
        f"{why} {host(url)}; check `{backend}.{pool.setting}`",
        backend=backend,
        setting=pool.setting,
        hint=hint,
    )


def did_you_mean(value: str, known: list[str]) -> str:
    if close := difflib.get_close_matches(value, known, n=1, cutoff=0.5):
        return f"did you mean `{close[0]}`?"
    return "available: " + ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


# ------------------------------------------------------------------ backend
OPTIONS: dict[str, Opt] = {
    "url": Opt("url", "http://127.0.0.1:7860", "the webui's address"),
    "urls": Opt("urls", None, "several webui addresses, comma-separated (wins over url)"),
    "user": Opt("str", "", "HTTP Basic user; the password comes from $AUTOMATIC1111_PASSWORD"),
    "timeout": Opt("float", 300.0, "seconds to wait for one image", lo=0.1),
    "steps": Opt("int", 30, "sampling steps", lo=1, hi=150),
    "cfg_scale": Opt("float", 7.0, "prompt guidance", lo=1, hi=30),
    "sampler": Opt("str", "Euler a", "sampler_name"),
    "scheduler": Opt("str", "", "schedule type (webui 1.9+); empty: the sampler's default"),
    "denoising_strength": Opt("float", 0.75, "how much of the init image is repainted", lo=0, hi=1),
    "inpainting_fill": Opt(
        "int", 1, "0 fill, 1 original, 2 latent noise, 3 latent nothing", choices=(0, 1, 2, 3)
    ),
    "inpaint_full_res": Opt("bool", False, "paint only the mask's box, upscaled"),
    "inpaint_full_res_padding": Opt(
        "int", 32, "px around the mask's box with inpaint_full_res", lo=0, hi=256
    ),
    "mask_blur": Opt("int", 0, "the webui's mask blur in px (its own default: 4)", lo=0, hi=64),
    "max_side": Opt(
        "int", 2048, "longest side requested; larger panels are scaled", lo=64, hi=8192
    ),
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
    )
    settings = {k: o.help for k, o in OPTIONS.items()}

    @classmethod
    def validate_settings(cls, params: Mapping[str, str]) -> list[SettingProblem]:
        return super().validate_settings(params) + check_values(OPTIONS, params, NAME)

    def __init__(self, **params: str):
        self.params = {k: str(v) for k, v in params.items()}
        self.values = values = resolve(
            OPTIONS, {k: v for k, v in self.params.items() if k in OPTIONS}, error=Unavailable
        )
        self.pool = server_pool(values)
        self.user = values["user"]
        self.capabilities = replace(type(self).capabilities, max_side=values["max_side"])
        self._sessions = ThreadSessions()

    # ---------------------------------------------------------- plumbing
    def _auth(self) -> tuple[str, str] | None:
        if not self.user:
            return None
        password = http.api_key(PASSWORD_ENV)
        if not password:
            raise Unavailable(
                f"`{NAME}.user` is set but ${PASSWORD_ENV} is not",
                backend=NAME,
                setting="user",
                hint=f"export {PASSWORD_ENV}=... (passwords never go in the script)",
            )
        return (self.user, password)

    def _call(self, method: str, url: str, timeout: tuple[float, float], **kw: Any):
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
        hint = "is the webui running (with --api) at that address?" + (
            ""
            if "url" in self.params or "urls" in self.params
            else f" `{NAME}.url` defaults to {OPTIONS['url'].default}"
        )
        for base in self.pool.urls:
            try:
                resp = self._call("GET", base + "/sdapi/v1/options", PREFLIGHT_TIMEOUT)
            except (Unavailable, Transient) as e:
                raise unreachable(e, NAME, self.pool, base, hint) from None
            if resp.status_code == 401:
                raise Unavailable(
                    f"{host(base)} refused the login (HTTP 401)",
                    backend=NAME,
                    setting="user" if auth else self.pool.setting,
                    hint=f"set `{NAME}.user` and ${PASSWORD_ENV} to the webui's --api-auth login",
                )
            if resp.status_code >= 400:
                raise Unavailable(
                    f"{host(base)} answered HTTP {resp.status_code}",
                    backend=NAME,
                    setting=self.pool.setting,
                    hint="start the webui with --api" if resp.status_code == 404 else hint,
                )
        self._check_sampler(self.pool.urls[0])

    def _check_sampler(self, base: str) -> None:
        sampler = self.values["sampler"]
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
                f"{host(base)} has no sampler `{sampler}`",
                backend=NAME,
                setting="sampler",
                hint=did_you_mean(sampler, [s.get("name") for s in resp.json()]),
            )

    # ---------------------------------------------------------- painting
    def options_for(self, request: PaintRequest) -> dict[str, Any]:
        """Typed settings for ``request``: its panel's settings over the backend's."""
        return resolve(
            OPTIONS, {**self.params, **{k: v for k, v in request.params.items() if k in OPTIONS}}
        )

    def payload(self, request: PaintRequest) -> dict[str, Any]:
        """The img2img JSON body for ``request``."""
        o = self.options_for(request)
        image, mask = to_service_mask(request, "white")
        blur = o["mask_blur"]
        body: dict[str, Any] = {
            "init_images": [base64.b64encode(png_bytes(image.convert("RGB"))).decode("ascii")],
            "mask": base64.b64encode(png_bytes(mask)).decode("ascii"),
            "mask_blur": blur,
            "mask_blur_x": blur,
            "mask_blur_y": blur,
            "inpainting_fill": o["inpainting_fill"],
            "inpaint_full_res": o["inpaint_full_res"],
            "inpaint_full_res_padding": o["inpaint_full_res_padding"],
            "inpainting_mask_invert": 0,
            "resize_mode": 0,
            "denoising_strength": o["denoising_strength"],
            "width": request.width,
            "height": request.height,
            "steps": o["steps"],
            "cfg_scale": o["cfg_scale"],
            "sampler_name": o["sampler"],
            "prompt": request.prompt,
            "negative_prompt": request.negative,
            "batch_size": 1,
            "n_iter": 1,
            "send_images": True,
            "save_images": False,
        }
        if o["scheduler"]:
            body["scheduler"] = o["scheduler"]
        if request.seed is not None and request.seed >= 0:
            body["seed"] = int(request.seed)
        if request.model:
            body["override_settings"] = {"sd_model_checkpoint": request.model}
            body["override_settings_restore_afterwards"] = True
        return body

    def paint(self, request: PaintRequest) -> PaintResult:
        self.check(request)
        body = self.payload(request)
        read = self.options_for(request)["timeout"]
        base = self.pool.pick()
        try:
            resp = self._call("POST", base + "/sdapi/v1/img2img", (10.0, read), json=body)
        except Unavailable as e:
            if len(self.pool.urls) > 1:  # another server may take the retry
                raise Transient(
                    f"{e}; another server will take the retry",
                    backend=NAME,
                    setting=self.pool.setting,
                ) from None
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
            raise Transient(f"{host(base)} answered without an image", backend=NAME) from None
        info = _info(doc.get("info"))
        seed = info.get("seed")
        return PaintResult(
            image=image,
            seed_used=int(seed) if isinstance(seed, int) else request.seed,
            metadata={
                "backend": NAME,
                "server": host(base),
                **{k: info[k] for k in ("sd_model_name", "sampler_name") if k in info},
            },
        )

    def _error(self, resp: requests.Response, base: str) -> Exception:
        try:
            doc = resp.json()
        except ValueError:
            doc = {}
        doc = doc if isinstance(doc, dict) else {}
        detail = _detail(doc.get("detail")) or str(doc.get("errors") or "") or resp.text[:200]
        code = resp.status_code
        if code == 401:
            return Unavailable(
                f"{host(base)} refused the login (HTTP 401)",
                backend=NAME,
                setting="user",
                hint=f"check `{NAME}.user` and ${PASSWORD_ENV}",
            )
        if code == 404 and "error" not in doc and detail.strip() == "Not Found":
            return Unavailable(
                f"{host(base)} has no img2img API (HTTP 404)",
                backend=NAME,
                setting=self.pool.setting,
                hint="start the webui with --api",
            )
        if code == 404:
            return Rejected(
                f"HTTP 404: {detail}",
                reason="not-found",
                backend=NAME,
                hint=f"check `{NAME}.sampler` and `model:` against the webui's lists",
            )
        if code == 422:
            return Rejected(
                f"the webui refused the request (HTTP 422): {detail}",
                reason="invalid",
                backend=NAME,
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
        if code >= 500 and "out of memory" in text.lower():
            return Transient(
                f"the webui ran out of memory (HTTP {code})",
                backend=NAME,
                hint=f"lower `{NAME}.max_side` to paint smaller images",
            )
        try:
            http.raise_for_status(resp, NAME, reason=detail[:300] or None)
        except (Unavailable, Rejected, Transient, RateLimited) as e:  # its typed choice
            return e
        return Transient(f"HTTP {code}", backend=NAME)


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
    return "; ".join(
        (
            f"{'.'.join(str(x) for x in d.get('loc', ()) if x != 'body')}: {d.get('msg', '')}".lstrip(
                ": "
            )
        )
        if isinstance(d, dict)
        else str(d)
        for d in raw
    )
