"""Per-panel render planning: pixel sizes, seed, mask geometry, cache key.

Pure: no I/O, no network, no clock. :func:`plan_panel` reads the IR panel
(prompt, settings, cast) and the layout's :class:`PanelGeom` (box, reserved
balloon shapes) and returns a :class:`PanelPlan`. Rasterizing the init image
and mask happens only when :meth:`PanelPlan.request` is called, so a build
can look the cache key up first and skip the work on a hit.

Sizes: the exact panel box in pixels is ``round(points x dpi / 72)`` per side
(``box_size``). When the backend takes any multiple of ``multiple_of`` and the
box, grown right and down to the next multiples, is a size it accepts, that is
``request_size`` (``padded``): the request is drawn at the box's own scale,
the strip past the box is paper and PAINT, and the answer is cropped back to
the box -- no resampling at all. Otherwise ``request_size`` is the nearest
size the backend accepts with the same aspect
(:meth:`Capabilities.negotiate_size`) and the painted art is scaled back to
``box_size`` by :func:`comicc.paint.composite.composite`.

Seeds: see :func:`derive_seed`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from PIL import Image

from comicc.backends import Capabilities, Lora, PaintRequest, Reference
from comicc.layout import PanelGeom, PathCmd, VectorPath
from comicc.model import ir
from comicc.paint.cachekey import cache_key, key_document, mask_geometry
from comicc.paint.mask import MODES, build_init, build_mask, panel_images

SEED_MAX = 2**32 - 2  # Stability's upper bound; 0 means "random" there, so never 0

Line = tuple[str, float, float, float]  # text, x, baseline, font size (panel points)


def derive_seed(script_seed: int, page: int, panel: int, variant: int) -> int:
    """The seed sent for one variant of one panel.

    ``1 + int(sha256("comicc-seed-v1|{script_seed}|{page}|{panel}|{variant}")[:8]) % (2**32 - 2)``

    i.e. the first 8 bytes of the SHA-256 as a big-endian integer, folded into
    1 .. 4,294,967,294: valid for every service (Stability's maximum), never 0
    (Stability/Replicate read 0 as "random") and never -1 (Automatic1111's
    "random"). Stable across machines and Python versions; changing the
    script's ``seed:`` reshuffles every panel, changing one panel's seed only
    that panel.
    """
    text = f"comicc-seed-v1|{int(script_seed)}|{int(page)}|{int(panel)}|{int(variant)}"
    h = int.from_bytes(hashlib.sha256(text.encode("ascii")).digest()[:8], "big")
    return 1 + h % SEED_MAX


@dataclass(frozen=True)
class PanelPlan:
    panel_id: str
    page: int
    number: int
    variant: int
    backend: str
    model: str | None
    prompt: str
    negative: str  # "" when the backend has no negative prompt
    seed: int | None  # None when the backend has no seed
    backend_settings: tuple[tuple[str, str], ...]  # sorted, prefix removed
    dpi: int
    box_pt: tuple[float, float]  # panel box in points
    box_size: tuple[int, int]  # exact panel box in pixels
    request_size: tuple[int, int]  # what the backend is asked for
    mask_mode: str  # blank | lettered | none
    keep_margin: float  # px at box scale
    feather: float  # px at box scale
    reserve: tuple[VectorPath, ...]  # reserved shapes, panel-relative points
    lines: tuple[Line, ...]  # lettering, panel-relative (used by `lettered`)
    cast: tuple[tuple[str, tuple[float, float]], ...]  # speaker -> request pixels
    cache_key: str
    notes: tuple[str, ...] = field(default=())  # things dropped for this backend (warn)
    # True: the request is the box at its own scale, grown right and down to the
    # backend's multiple (see the module doc); the answer is cropped, not scaled
    padded: bool = False
    # the reference images and LoRAs of the characters in the panel, as many as
    # the backend takes (none when it takes none; the build warns once)
    references: tuple[Reference, ...] = field(default=(), repr=False)
    loras: tuple[Lora, ...] = ()

    def _scaled_as(self, size: tuple[int, int]) -> tuple[int, int]:
        """The size whose scale a raster of ``size`` has: a padded request is
        drawn at the box's scale."""
        return self.box_size if self.padded and size == self.request_size else size

    def scale(self, size: tuple[int, int]) -> tuple[float, float]:
        """Pixels per point along x and y for a raster of ``size``."""
        at = self._scaled_as(size)
        return (at[0] / self.box_pt[0], at[1] / self.box_pt[1])

    def _px(self, value_at_box: float, size: tuple[int, int]) -> float:
        at = self._scaled_as(size)
        return value_at_box * (at[0] / self.box_size[0] + at[1] / self.box_size[1]) / 2

    def mask(self, size: tuple[int, int] | None = None) -> Image.Image:
        """The mask (255 paint, 0 keep) at ``size`` (default: the request size)."""
        size = size or self.request_size
        sx, sy = self.scale(size)
        return build_mask(
            self.reserve,
            size,
            sx,
            sy,
            mode=self.mask_mode,
            margin=self._px(self.keep_margin, size),
            feather=self._px(self.feather, size),
        )

    def init_image(self, size: tuple[int, int] | None = None) -> Image.Image:
        size = size or self.request_size
        sx, sy = self.scale(size)
        return build_init(self.reserve, size, sx, sy, mode=self.mask_mode, lines=self.lines)

    def images(self, size: tuple[int, int] | None = None) -> tuple[Image.Image, Image.Image]:
        """``(init image, mask)`` at ``size`` (default: the request size), drawn
        together (the curves flattened once)."""
        size = size or self.request_size
        sx, sy = self.scale(size)
        return panel_images(
            self.reserve,
            size,
            sx,
            sy,
            mode=self.mask_mode,
            margin=self._px(self.keep_margin, size),
            feather=self._px(self.feather, size),
            lines=self.lines,
        )

    def request(self, images: tuple[Image.Image, Image.Image] | None = None) -> PaintRequest:
        """The paint request; ``images``: its ``(init image, mask)`` when they are
        already drawn (default: drawn now)."""
        w, h = self.request_size
        init, mask = images or self.images()
        return PaintRequest(
            prompt=self.prompt,
            negative=self.negative,
            seed=self.seed,
            width=w,
            height=h,
            init_image=init,
            mask=mask,
            backend_settings=dict(self.backend_settings),
            model=self.model,
            panel_id=self.panel_id,
            variant=self.variant,
            cast=self.cast,
            keep_margin=self._px(self.keep_margin, self.request_size),
            feather=self._px(self.feather, self.request_size),
            references=self.references,
            loras=self.loras,
        )


def _shift(path: VectorPath, dx: float, dy: float) -> VectorPath:
    return VectorPath(
        tuple(
            PathCmd(c.op, tuple(v + (dx if i % 2 == 0 else dy) for i, v in enumerate(c.pts)))
            for c in path.cmds
        )
    )


def plan_panel(
    panel: ir.Panel, geom: PanelGeom, caps: Capabilities, *, variant: int = 1
) -> PanelPlan:
    """Plan one variant (1-based) of ``panel`` for a backend with ``caps``."""
    st = panel.settings
    dpi = st.dpi
    rect = geom.rect
    if rect.w <= 0 or rect.h <= 0:
        raise ValueError(f"panel {panel.id} has an empty box {rect}")
    box = (max(1, round(rect.w * dpi / 72)), max(1, round(rect.h * dpi / 72)))
    req, padded = request_size(caps, box)
    notes: list[str] = []

    settings = dict(st.settings_for(st.backend))
    if caps.edge_control is not None and caps.edge_control.param not in settings:
        settings[caps.edge_control.param] = f"{caps.edge_control.minimum:g}"
    negative = panel.prompt.negative
    if negative and not caps.negative_prompt:
        notes.append(f"the `{st.backend}` backend has no negative prompt; it was left out")
        negative = ""
    seed = derive_seed(st.seed, panel.page, panel.number, variant) if caps.seed else None

    reserve = tuple(
        _shift(p, -rect.x, -rect.y) for balloon in geom.balloons for p in balloon.reserve
    )
    lines: tuple[Line, ...] = tuple(
        (run.text, run.x - rect.x, run.baseline - rect.y, run.font.size)
        for balloon in geom.balloons
        for ln in balloon.lines
        for run in ln.runs
        if run.text
    )

    # cast: the layout's points (page coords) win over the IR's fractions
    sx, sy = (box if padded else req)[0] / rect.w, (box if padded else req)[1] / rect.h
    where = {c.name: (c.x * rect.w, c.y * rect.h) for c in panel.cast}
    where.update({n: (x - rect.x, y - rect.y) for n, (x, y) in geom.cast})
    cast = tuple((n, (round(x * sx, 2), round(y * sy, 2))) for n, (x, y) in where.items())

    mask_spec = st.mask
    keep_margin = mask_spec.keep_margin.to_px(dpi)
    feather = mask_spec.feather.to_px(dpi)
    mode = mask_spec.balloons
    if mode not in MODES:
        raise ValueError(f"mask.balloons must be one of {MODES}, not {mode!r}")
    references, loras = character_inputs(panel, caps)
    backend_settings = tuple(sorted((str(k), str(v)) for k, v in settings.items()))
    key_settings = tuple((k, v) for k, v in backend_settings if k not in caps.neutral_settings)
    document = key_document(
        backend=st.backend,
        model=st.model,
        backend_settings=key_settings,
        prompt=panel.prompt.text,
        negative=negative,
        seed=seed,
        request_size=req,
        box_size=box,
        variant=variant,
        cast=cast,
        mask=mask_geometry(
            reserve, mode=mode, keep_margin=keep_margin, feather=feather, lines=lines
        ),
        references=[(r.character, r.sha256) for r in references],
        loras=[(lo.character, lo.name, lo.weight) for lo in loras],
    )
    key = cache_key(document)
    return PanelPlan(
        panel_id=panel.id,
        page=panel.page,
        number=panel.number,
        variant=variant,
        backend=st.backend,
        model=st.model,
        prompt=panel.prompt.text,
        negative=negative,
        seed=seed,
        backend_settings=backend_settings,
        dpi=dpi,
        box_pt=(rect.w, rect.h),
        box_size=box,
        request_size=req,
        mask_mode=mode,
        keep_margin=keep_margin,
        feather=feather,
        reserve=reserve,
        lines=lines,
        cast=cast,
        cache_key=key,
        notes=tuple(notes),
        references=references,
        loras=loras,
        padded=padded,
    )


def request_size(caps: Capabilities, box: tuple[int, int]) -> tuple[tuple[int, int], bool]:
    """The size to ask ``caps``'s backend for a panel of ``box`` pixels, and whether
    it is the box padded right and down to the backend's multiple."""
    m = caps.multiple_of
    if caps.allowed_sizes is None and m > 1:
        grown = (-(-box[0] // m) * m, -(-box[1] // m) * m)
        if grown != box and caps.accepts_size(*grown):
            return grown, True
    return caps.negotiate_size(*box), False


def character_inputs(
    panel: ir.Panel, caps: Capabilities
) -> tuple[tuple[Reference, ...], tuple[Lora, ...]]:
    """The reference images and LoRAs a backend with ``caps`` is sent for
    ``panel``: those of the characters in it, in definition order, each image
    and LoRA name once, at most ``caps.max_references`` / ``caps.max_loras``
    (0: none)."""
    refs: dict[str, Reference] = {}
    for r in panel.references:
        if len(refs) < caps.max_references and r.sha256 not in refs:
            refs[r.sha256] = Reference(r.character, r.path, r.data, r.sha256)
    loras: dict[str, Lora] = {}
    for lo in panel.loras:
        if len(loras) < caps.max_loras and lo.name not in loras:
            loras[lo.name] = Lora(lo.character, lo.name, lo.weight)
    return tuple(refs.values()), tuple(loras.values())
