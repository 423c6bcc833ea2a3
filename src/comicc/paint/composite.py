"""Put a backend's picture into the exact panel box, balloons pixel-exact.

1. decode the result safely (size checked BEFORE the pixels are decoded; a
   decompression bomb or an undecodable body is a backend error);
2. crop the answer to a padded request (:mod:`comicc.paint.plan`) to its box;
   resize it to the panel's exact pixel box if the service returned another
   size (Stability v2 returns ~4 MP, SDXL on Replicate resizes, ...), in one
   resize: a JPEG twice the box or more is decoded at a reduced scale
   (``Image.draft``), a downscale by 2 or more first reduces by whole pixel
   blocks (``reducing_gap``, the same look as a plain LANCZOS), and a resize by
   less (the request rounded to a multiple of 8) is BICUBIC: at that scale it
   looks the same as LANCZOS at two thirds of the cost;
3. measure how much of the KEEP region the service changed (``changed_fraction``:
   the share of fully kept pixels whose colour moved by more than
   ``tolerance`` in any channel, measured on copies reduced by whole pixel
   blocks to at most 512 px long so resampling noise does not count) -- a
   high value means the service ignored or blurred the mask;
4. paste the init image back: ``Image.composite(art, init, mask)``, so where
   the mask is 0 the output IS the init image, bit for bit, and the feathered
   ring blends.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

from PIL import Image, ImageChops, ImageStat, UnidentifiedImageError

from comicc.backends import PaintResult, Rejected, Transient
from comicc.images import flatten_alpha
from comicc.paint.plan import PanelPlan

DEFAULT_MAX_PIXELS = 64_000_000  # far above any service's output; bombs are refused
MEASURE_LONG_SIDE = 512
REDUCING_GAP = 3.0  # Pillow: from 3 on, "indistinguishable from fair resampling"
_KEEP = [255] + [0] * 255  # a mask's fully kept pixels (0) as 255, the rest 0


@dataclass(frozen=True)
class CompositeReport:
    returned_size: tuple[int, int]
    box_size: tuple[int, int]
    resized: bool
    kept_pixels: int  # fully-kept pixels in the measuring copy
    changed_fraction: float  # 0..1 of those the backend changed before paste-back
    mean_change: float  # mean max-channel difference over them (0..255)

    def mask_ignored(self, threshold: float = 0.25) -> bool:
        """True when the backend visibly repainted the kept region."""
        return self.kept_pixels > 0 and self.changed_fraction > threshold


class Composited(NamedTuple):
    image: Image.Image
    report: CompositeReport


def decode(
    data: bytes | Image.Image | PaintResult,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    target: tuple[int, int] | None = None,
) -> Image.Image:
    """An RGB image from encoded bytes / an image / a result, refusing bombs.

    ``target``: the size the image will be resized to; a JPEG at least twice
    as large is decoded at a reduced scale still at least twice the target."""
    return _decode(data, max_pixels, target)[0]


def _decode(
    data: bytes | Image.Image | PaintResult, max_pixels: int, target: tuple[int, int] | None
) -> tuple[Image.Image, tuple[int, int]]:
    """:func:`decode`, and the size the backend returned (before a reduced decode)."""
    if isinstance(data, PaintResult):
        data = data.image
    if isinstance(data, Image.Image):
        im = data
        returned = im.size
        if im.width * im.height > max_pixels:
            raise Rejected(
                f"backend returned {im.width}x{im.height} px, over the limit", reason="too-large"
            )
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                im = Image.open(io.BytesIO(data))
                if im.width * im.height > max_pixels:
                    raise Rejected(
                        f"backend returned {im.width}x{im.height} px, over the limit",
                        reason="too-large",
                    )
                returned = im.size
                if target is not None and im.format == "JPEG":
                    im.draft("RGB", (2 * target[0], 2 * target[1]))
                im.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Rejected(
                f"backend returned an oversized image: {exc}", reason="too-large"
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise Transient(f"backend returned an image that cannot be decoded: {exc}") from None
    flat = flatten_alpha(im)
    return (flat if flat.mode == "RGB" else flat.convert("RGB")), returned


def fit(art: Image.Image, plan: PanelPlan) -> Image.Image:
    """``art`` (the answer to ``plan``'s request) at the box size, in one resize
    (see the module doc); a padded request's answer at the request size is
    cropped to its top-left box, at another size that part of it is resized."""
    box = plan.box_size
    if art.size == box:
        return art
    region = (0.0, 0.0, float(art.width), float(art.height))
    if plan.padded:
        if art.size == plan.request_size:
            return art.crop((0, 0, *box))
        kx, ky = art.width / plan.request_size[0], art.height / plan.request_size[1]
        region = (0.0, 0.0, box[0] * kx, box[1] * ky)
    if region[2] >= 2 * box[0] and region[3] >= 2 * box[1]:
        return art.resize(box, Image.Resampling.LANCZOS, box=region, reducing_gap=REDUCING_GAP)
    return art.resize(box, Image.Resampling.BICUBIC, box=region)


def kept_changes(
    art: Image.Image, init: Image.Image, mask: Image.Image, tolerance: int
) -> tuple[int, float, float]:
    """How the area ``mask`` asked to keep came back in ``art`` against ``init``:
    how many pixels it has (measured at most :data:`MEASURE_LONG_SIDE` on the
    long side), the fraction that moved by more than ``tolerance``, and the
    mean difference there."""
    factor = math.ceil(max(art.size) / MEASURE_LONG_SIDE)
    if factor > 1:  # block means: what moved only by resampling noise averages out
        art, init, mask = art.reduce(factor), init.reduce(factor), mask.reduce(factor)
    keep = mask.point(_KEEP)
    r, g, b = ImageChops.difference(art, init).split()
    diff = ImageChops.lighter(ImageChops.lighter(r, g), b)
    # the kept pixels' differences in one histogram: their count, how many moved
    # by more than ``tolerance``, and their mean, with no image made for each
    moved = diff.histogram(keep)
    kept = sum(moved)
    if kept == 0:
        return 0, 0.0, 0.0
    over = sum(moved[max(tolerance + 1, 0) :])
    return kept, over / kept, ImageStat.Stat(moved).mean[0]


def composite(
    result: bytes | Image.Image | PaintResult,
    plan: PanelPlan,
    *,
    tolerance: int = 32,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    init: Image.Image | None = None,
    mask: Image.Image | None = None,
) -> Composited:
    """The panel art at ``plan.box_size`` with the kept pixels restored exactly.

    ``init``/``mask`` default to the plan's, rasterized at the box size.
    """
    box = plan.box_size
    art, returned = _decode(result, max_pixels, box)
    art = fit(art, plan)
    if init is None and mask is None:
        init, mask = plan.images(box)
    init = init if init is not None else plan.init_image(box)
    mask = mask if mask is not None else plan.mask(box)
    if init.size != box or mask.size != box or mask.mode != "L":
        raise ValueError("init/mask must be box-sized; mask mode 'L'")
    init = init if init.mode == "RGB" else init.convert("RGB")
    kept, frac, mean = kept_changes(art, init, mask, tolerance)
    out = Image.composite(art, init, mask)
    report = CompositeReport(
        returned_size=returned,
        box_size=box,
        resized=returned != box,
        kept_pixels=kept,
        changed_fraction=frac,
        mean_change=mean,
    )
    return Composited(out, report)
