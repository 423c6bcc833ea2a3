"""What Replicate is sent: the ``replicate.*`` settings and the prediction input.

Holds the settings table (:data:`SETTINGS`) and the checks of their values
(:func:`setting_problems`), and for each model family (SDXL, FLUX Fill; see
:func:`is_flux`) its :class:`~comicc.backends.base.Capabilities`
(:func:`capabilities_for`) and the prediction's ``input``
(:func:`prediction_input`). The conversation with the service is
:mod:`comicc.backends.replicate`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from comicc.backends.base import Capabilities, PaintRequest, SettingProblem

NAME = "replicate"
TOKEN_ENV = "REPLICATE_API_TOKEN"
DEFAULT_URL = "https://api.replicate.com"
DEFAULT_MODEL = "stability-ai/sdxl"
FLUX_MODELS = ("black-forest-labs/flux-fill-pro", "black-forest-labs/flux-fill-dev")
MAX_WAIT = 60  # `Prefer: wait=N` allows N <= 60
DEFAULT_WAIT = 60
DEFAULT_TIMEOUT = 600.0  # overall deadline of one paint, seconds

SETTINGS: dict[str, str] = {
    "url": f"API base URL (default {DEFAULT_URL})",
    "model": f"model `owner/name` (default {DEFAULT_MODEL}; also " + ", ".join(FLUX_MODELS) + ")",
    "version": "a model version id (64 hex digits): pins the exact version; "
    "the input schema still follows `model`",
    "wait": f"seconds the create call waits for the result (`Prefer: wait=N`), "
    f"1-{MAX_WAIT} (default {DEFAULT_WAIT}); longer predictions are polled",
    "timeout": f"overall deadline of one panel in seconds (default {DEFAULT_TIMEOUT:g}); "
    "past it the prediction is canceled",
    "num_inference_steps": "SDXL: denoising steps, 1-500 (Replicate's default 50)",
    "guidance_scale": "SDXL: classifier-free guidance, 1-50 (Replicate's default 7.5)",
    "prompt_strength": "SDXL: how far the painted area departs from the init image, "
    "0-1 (Replicate's default 0.8)",
    "steps": "FLUX Fill: diffusion steps, 1-50",
    "guidance": "FLUX Fill: guidance, 1.5-100",
    "output_format": "FLUX Fill: png (default), jpg or webp",
    "apply_watermark": "SDXL: true/false (default false: comicc sends false)",
}
SDXL_ONLY = ("num_inference_steps", "guidance_scale", "prompt_strength", "apply_watermark")
FLUX_ONLY = ("steps", "guidance", "output_format")
BOOLS = {
    "true": True,
    "yes": True,
    "on": True,
    "1": True,
    "false": False,
    "no": False,
    "off": False,
    "0": False,
}

# SDXL is trained at ~1 megapixel and Replicate resizes image and mask to the
# width/height it is sent; FLUX Fill keeps the image's size (mask = image
# size). The pixel caps keep requests near what the models are made for; the
# art is scaled back to the panel box afterwards. Prices: unverified.
SDXL_CAPS = Capabilities(
    mask_convention="white",
    edge_control=None,
    seed=True,
    negative_prompt=True,
    multiple_of=8,
    min_side=64,
    max_pixels=1024 * 1024,
    sync=False,
    deterministic=False,
    needs_network=True,
    needs_key=TOKEN_ENV,
    cost_unit="USD/prediction",  # unverified
    cost_per_image=0.005,
)  # unverified
FLUX_CAPS = Capabilities(
    mask_convention="white",
    edge_control=None,
    seed=True,
    negative_prompt=False,
    multiple_of=16,
    min_side=64,
    max_pixels=2 * 1024 * 1024,
    sync=False,
    deterministic=False,
    needs_network=True,
    needs_key=TOKEN_ENV,
    cost_unit="USD/prediction",  # unverified
    cost_per_image=0.05,
)  # unverified


def is_flux(model: str) -> bool:
    return "flux-fill" in model.split(":", 1)[0].lower()


def capabilities_for(model: str | None) -> Capabilities:
    return FLUX_CAPS if is_flux(model or DEFAULT_MODEL) else SDXL_CAPS


def _number(value: str, kind: type, lo: float | None, hi: float | None) -> str | None:
    """None if ``value`` is a ``kind`` within [lo, hi], else what is wrong."""
    try:
        v = kind(value)
    except (TypeError, ValueError):
        return f"must be {'a whole number' if kind is int else 'a number'}, not `{value}`"
    if v != v or (lo is not None and v < lo) or (hi is not None and v > hi):
        rng = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        return f"must be {rng}, not `{value}`"
    return None


def setting_problems(params: Mapping[str, str]) -> list[SettingProblem]:
    """Value checks (the names were checked by the base class)."""
    out: list[SettingProblem] = []

    def bad(key: str, message: str, hint: str | None = None) -> None:
        out.append(SettingProblem(key, f"`{NAME}.{key}` {message}", hint))

    url = params.get("url")
    if url is not None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            bad("url", f"must be an http(s) URL, not `{url}`", f"e.g. `{NAME}.url: {DEFAULT_URL}`")
    model = params.get("model", DEFAULT_MODEL).strip()
    if "model" in params and not re.fullmatch(r"[\w.-]+/[\w.-]+", model):
        bad(
            "model",
            f"must be `owner/name`, not `{params['model']}`",
            f"e.g. `{NAME}.model: {DEFAULT_MODEL}`; pin a version with `{NAME}.version`",
        )
    version = params.get("version")
    if version is not None and not re.fullmatch(r"[0-9a-zA-Z]{8,128}", version.strip()):
        bad(
            "version",
            f"must be a version id (64 hex digits), not `{version}`",
            "copy it from the model's Versions tab on replicate.com",
        )
    checks: dict[str, tuple[type, float | None, float | None]] = {
        "wait": (int, 1, MAX_WAIT),
        "timeout": (float, 1, None),
        "num_inference_steps": (int, 1, 500),
        "guidance_scale": (float, 1, 50),
        "prompt_strength": (float, 0, 1),
        "steps": (int, 1, 50),
        "guidance": (float, 0, 100),
    }
    for key, (kind, lo, hi) in checks.items():
        if key in params:
            why = _number(params[key].strip(), kind, lo, hi)
            if why:
                bad(key, why, SETTINGS[key])
    fmt = params.get("output_format")
    if fmt is not None and fmt.strip().lower() not in ("png", "jpg", "webp"):
        bad("output_format", f"must be png, jpg or webp, not `{fmt}`")
    wm = params.get("apply_watermark")
    if wm is not None and wm.strip().lower() not in BOOLS:
        bad("apply_watermark", f"must be true or false, not `{wm}`")
    flux = is_flux(model)
    family = "FLUX Fill" if flux else "SDXL"
    for key in SDXL_ONLY if flux else FLUX_ONLY:
        if key in params:
            other = {
                "num_inference_steps": "steps",
                "guidance_scale": "guidance",
                "steps": "num_inference_steps",
                "guidance": "guidance_scale",
            }.get(key)
            bad(
                key,
                f"is not an input of {family} (`{model}`)",
                f"use `{NAME}.{other}` with this model"
                if other
                else f"remove it, or choose a model that takes `{key}`",
            )
    return out


def prediction_input(
    model: str, params: Mapping[str, str], request: PaintRequest, seed: int, image: str, mask: str
) -> dict[str, Any]:
    """The prediction's ``input`` for ``model``'s family; ``params`` are the
    (validated, stripped) ``replicate.*`` settings."""
    p = params
    if is_flux(model):
        inp: dict[str, Any] = {
            "image": image,
            "mask": mask,
            "prompt": request.prompt,
            "seed": seed,
            "output_format": p.get("output_format", "png").lower(),
        }
        if "steps" in p:
            inp["steps"] = int(p["steps"])
        if "guidance" in p:
            inp["guidance"] = float(p["guidance"])
        return inp
    inp = {
        "image": image,
        "mask": mask,
        "prompt": request.prompt,
        "negative_prompt": request.negative,
        "width": request.width,
        "height": request.height,
        "num_outputs": 1,
        "seed": seed,
        "apply_watermark": BOOLS[p.get("apply_watermark", "false").lower()],
    }
    if "num_inference_steps" in p:
        inp["num_inference_steps"] = int(p["num_inference_steps"])
    if "guidance_scale" in p:
        inp["guidance_scale"] = float(p["guidance_scale"])
    if "prompt_strength" in p:
        inp["prompt_strength"] = float(p["prompt_strength"])
    return inp
