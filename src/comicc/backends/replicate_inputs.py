"""What Replicate is sent: the ``replicate.*`` settings and the prediction input.

Holds the settings table (:data:`SETTINGS`) and the rules between settings
(:func:`family_problems`), and for each model family (SDXL, FLUX Fill, and the
multi-image edit models such as ``google/nano-banana``, which take the
characters' reference images; see :func:`family`) its :class:`~comicc.backends.base.Capabilities`
(:func:`capabilities_for`) and the prediction's ``input``
(:func:`prediction_input`). The conversation with the service is
:mod:`comicc.backends.replicate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from comicc.backends.base import Capabilities, PaintRequest
from comicc.backends.settings import SettingProblem, SettingSpec, SettingValues

NAME = "replicate"
TOKEN_ENV = "REPLICATE_API_TOKEN"
DEFAULT_URL = "https://api.replicate.com"
DEFAULT_MODEL = "stability-ai/sdxl"
FLUX_MODELS = ("black-forest-labs/flux-fill-pro", "black-forest-labs/flux-fill-dev")
# multi-image edit models: `image_input` is a list (the init image, then the
# characters' reference images); no mask, no seed, no negative prompt
EDIT_MODELS = ("google/nano-banana",)
EDIT_MAX_REFERENCES = 3  # besides the init image; Gemini 2.5 Flash Image: up to 3 (unverified)
MAX_WAIT = 60  # `Prefer: wait=N` allows N <= 60
DEFAULT_WAIT = 60
DEFAULT_TIMEOUT = 600.0  # overall deadline of one paint, seconds

SETTINGS: dict[str, SettingSpec] = {
    "url": SettingSpec(
        "url",
        f"API base URL (default {DEFAULT_URL})",
        DEFAULT_URL,
        example=f"e.g. `{NAME}.url: {DEFAULT_URL}`",
    ),
    "model": SettingSpec(
        "str",
        f"model `owner/name` (default {DEFAULT_MODEL}; also " + ", ".join(FLUX_MODELS) + ")",
        DEFAULT_MODEL,
        pattern=(r"[\w.-]+/[\w.-]+", "a model `owner/name`"),
        example=f"e.g. `{NAME}.model: {DEFAULT_MODEL}`; pin a version with `{NAME}.version`",
    ),
    "version": SettingSpec(
        "str",
        "a model version id (64 hex digits): pins the exact version; "
        "the input schema still follows `model`",
        pattern=(r"[0-9a-zA-Z]{8,128}", "a version id (64 hex digits)"),
        example="copy it from the model's Versions tab on replicate.com",
    ),
    "wait": SettingSpec(
        "int",
        f"seconds the create call waits for the result (`Prefer: wait=N`), "
        f"1-{MAX_WAIT} (default {DEFAULT_WAIT}); longer predictions are polled",
        DEFAULT_WAIT,
        range=(1, MAX_WAIT),
    ),
    "timeout": SettingSpec(
        "float",
        f"overall deadline of one panel in seconds (default {DEFAULT_TIMEOUT:g}); "
        "past it the prediction is canceled",
        DEFAULT_TIMEOUT,
        range=(1, None),
    ),
    "num_inference_steps": SettingSpec(
        "int", "SDXL: denoising steps, 1-500 (Replicate's default 50)", range=(1, 500)
    ),
    "guidance_scale": SettingSpec(
        "float", "SDXL: classifier-free guidance, 1-50 (Replicate's default 7.5)", range=(1, 50)
    ),
    "prompt_strength": SettingSpec(
        "float",
        "SDXL: how far the painted area departs from the init image, 0-1 (Replicate's default 0.8)",
        range=(0, 1),
    ),
    "steps": SettingSpec("int", "FLUX Fill: diffusion steps, 1-50", range=(1, 50)),
    "guidance": SettingSpec("float", "FLUX Fill: guidance, 1.5-100", range=(0, 100)),
    "output_format": SettingSpec(
        "str",
        "FLUX Fill: png (default), jpg or webp; multi-image edit models: png or jpg",
        "png",
        choices=("png", "jpg", "webp"),
    ),
    "apply_watermark": SettingSpec(
        "bool", "SDXL: true/false (default false: comicc sends false)", False
    ),
}
SDXL_ONLY = ("num_inference_steps", "guidance_scale", "prompt_strength", "apply_watermark")
FLUX_ONLY = ("steps", "guidance", "output_format")
# the other family's name for the same input
COUNTERPART = {
    "num_inference_steps": "steps",
    "guidance_scale": "guidance",
    "steps": "num_inference_steps",
    "guidance": "guidance_scale",
}

# SDXL is trained at ~1 megapixel and Replicate resizes image and mask to the
# width/height it is sent; FLUX Fill keeps the image's size (mask = image
# size). The pixel caps keep requests near what the models are made for; the
# art is scaled back to the panel box afterwards. Prices: unverified.
# what every model family is on Replicate; each family says how it differs
REPLICATE_MODELS = Capabilities(
    mask_convention="white",
    edge_control=None,
    sync=False,
    deterministic=False,
    needs_network=True,
    needs_key=TOKEN_ENV,
    cost_unit="USD/prediction",  # unverified
)
SDXL_CAPS = replace(
    REPLICATE_MODELS,
    seed=True,
    negative_prompt=True,
    multiple_of=8,
    min_side=64,
    max_pixels=1024 * 1024,
    cost_per_image=0.005,  # unverified
)
FLUX_CAPS = replace(
    REPLICATE_MODELS,
    seed=True,
    negative_prompt=False,
    multiple_of=16,
    min_side=64,
    max_pixels=2 * 1024 * 1024,
    cost_per_image=0.05,  # unverified
)


# google/nano-banana (Gemini 2.5 Flash Image): an edit of the init image guided
# by the prompt and the reference images; the mask is not an input, so it is
# guidance only (compositing pastes the kept pixels back). Price: unverified.
EDIT_CAPS = replace(
    REPLICATE_MODELS,
    seed=False,
    negative_prompt=False,
    multiple_of=8,
    min_side=64,
    max_pixels=1024 * 1024,
    cost_per_image=0.039,
    mask_guidance_only=True,
    max_references=EDIT_MAX_REFERENCES,
)


def is_flux(model: str) -> bool:
    return "flux-fill" in model.split(":", 1)[0].lower()


def is_multi_image(model: str) -> bool:
    """Whether ``model`` is a multi-image edit model (``image_input`` list)."""
    return model.split(":", 1)[0].lower() in EDIT_MODELS


def family(model: str | None) -> str:
    """The family of ``model``: "sdxl", "flux" (FLUX Fill) or "edit" (multi-image edit)."""
    name = model or DEFAULT_MODEL
    return "edit" if is_multi_image(name) else "flux" if is_flux(name) else "sdxl"


def capabilities_for(model: str | None) -> Capabilities:
    return {"edit": EDIT_CAPS, "flux": FLUX_CAPS, "sdxl": SDXL_CAPS}[family(model)]


def family_problems(settings: Mapping[str, str]) -> list[SettingProblem]:
    """Settings the configured model's family has no input for (the names and
    values were checked against :data:`SETTINGS` already)."""
    model = settings.get("model", DEFAULT_MODEL).strip()
    kind = family(model)
    label = {"edit": "a multi-image edit model", "flux": "FLUX Fill", "sdxl": "SDXL"}[kind]
    out = []
    foreign = {
        "flux": SDXL_ONLY,
        "sdxl": FLUX_ONLY,
        "edit": SDXL_ONLY + ("steps", "guidance"),
    }[kind]
    for key in foreign:
        if key in settings:
            other = COUNTERPART.get(key) if kind != "edit" else None
            out.append(
                SettingProblem(
                    key,
                    f"`{NAME}.{key}` is not an input of {label} (`{model}`)",
                    f"use `{NAME}.{other}` with this model"
                    if other
                    else f"remove it, or choose a model that takes `{key}`",
                )
            )
    if kind == "edit" and settings.get("output_format", "png").strip() == "webp":
        out.append(
            SettingProblem(
                "output_format",
                f"`{NAME}.output_format: webp` is not an output of `{model}`",
                "use png or jpg with this model",
            )
        )
    return out


def prediction_input(
    model: str,
    values: SettingValues,
    request: PaintRequest,
    seed: int,
    image: str,
    mask: str,
    references: Sequence[str] = (),
) -> dict[str, Any]:
    """The prediction's ``input`` for ``model``'s family; ``values`` are the typed
    ``replicate.*`` settings (an optional input is sent only when it is set).
    ``references``: the reference images' URLs, for a multi-image edit model."""
    if is_multi_image(model):
        return {
            "prompt": request.prompt,
            "image_input": [image, *references[:EDIT_MAX_REFERENCES]],
            "aspect_ratio": "match_input_image",
            "output_format": values.text("output_format"),
        }
    if is_flux(model):
        inp: dict[str, Any] = {
            "image": image,
            "mask": mask,
            "prompt": request.prompt,
            "seed": seed,
            "output_format": values.text("output_format"),
        }
        if values["steps"] is not None:
            inp["steps"] = values.integer("steps")
        if values["guidance"] is not None:
            inp["guidance"] = values.number("guidance")
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
        "apply_watermark": values.flag("apply_watermark"),
    }
    if values["num_inference_steps"] is not None:
        inp["num_inference_steps"] = values.integer("num_inference_steps")
    if values["guidance_scale"] is not None:
        inp["guidance_scale"] = values.number("guidance_scale")
    if values["prompt_strength"] is not None:
        inp["prompt_strength"] = values.number("prompt_strength")
    return inp
