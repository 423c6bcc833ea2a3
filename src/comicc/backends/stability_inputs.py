"""What Stability is sent: the ``stability.*`` settings, capabilities and form fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from comicc.backends.base import Capabilities, EdgeControl, PaintRequest
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

# what both APIs are: the sizes, the mask's edge and the request limit differ
BOTH_APIS = Capabilities(
    mask_convention="white",
    seed=True,
    negative_prompt=True,
    sync=True,
    deterministic=False,
    needs_network=True,
    needs_key=KEY_ENV,
    cost_unit="credits",
    cost_per_image=5.0,
)
V2_CAPABILITIES = replace(
    BOTH_APIS,
    edge_control=GROW_MASK,
    multiple_of=1,
    min_side=64,
    min_pixels=4_096,
    max_pixels=9_437_184,
    max_request_bytes=MAX_BODY_BYTES,
)


def is_sdxl(engine: str) -> bool:
    return "xl" in engine.lower()


def v1_capabilities(engine: str = DEFAULT_ENGINE) -> Capabilities:
    """v1 masking: SDXL engines take only their nine sizes; the others any
    multiple of 64 (320-1536 px a side for SD 1.6 -- unverified, kept safe)."""
    common = replace(BOTH_APIS, edge_control=None, multiple_of=64)
    # v1 pricing varies by engine (unverified)
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


# --------------------------------------------------------------- form fields
def v2_fields(
    request: PaintRequest, opts: SettingValues, image_png: bytes, mask_png: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """The v2beta inpaint form: (fields, files)."""
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


def v1_fields(
    request: PaintRequest, opts: SettingValues, image_png: bytes, mask_png: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """The v1 masking form: (fields, files)."""
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
