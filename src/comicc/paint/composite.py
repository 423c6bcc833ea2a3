"""Put a backend's picture into the exact panel box, balloons pixel-exact.

1. decode the result safely (size checked BEFORE the pixels are decoded; a
   decompression bomb or an undecodable body is a backend error);
2. resize it to the panel's exact pixel box if the service returned another
   size (Stability v2 returns ~4 MP, SDXL on Replicate resizes, ...);
3. measure how much of the KEEP region the service changed (``changed_fraction``:
   the share of fully kept pixels whose colour moved by more than
   ``tolerance`` in any channel, measured on a copy at most 512 px long so
   resampling noise does not count) -- a high value means the service ignored
   or blurred the mask;
4. paste the init image back: ``Image.composite(art, init, mask)``, so where
   the mask is 0 the output IS the init image, bit for bit, and the feathered
   ring blends.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import NamedTuple

from PIL import Image, ImageChops, ImageStat, UnidentifiedImageError

from comicc.backends import PaintResult, Rejected, Transient
from comicc.images import flatten_alpha
from comicc.paint.plan import PanelPlan

DEFAULT_MAX_PIXELS = 64_000_000  # far above any service's output; bombs are refused
MEASURE_LONG_SIDE = 512


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
    data: bytes | Image.Image | PaintResult, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Image.Image:
    """An RGB image from encoded bytes / an image / a result, refusing bombs."""
    if isinstance(data, PaintResult):
        data = data.image
    if isinstance(data, Image.Image):
        im = data
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
                im.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Rejected(
                f"backend returned an oversized image: {exc}", reason="too-large"
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise Transient(f"backend returned an image that cannot be decoded: {exc}") from None
    flat = flatten_alpha(im)
    return flat if flat.mode == "RGB" else flat.convert("RGB")


def _changed(
    art: Image.Image, init: Image.Image, mask: Image.Image, tolerance: int
) -> tuple[int, float, float]:
    w, h = art.size
    k = min(1.0, MEASURE_LONG_SIDE / max(w, h))
    size = (max(1, round(w * k)), max(1, round(h * k)))
    if size != (w, h):
        box = Image.Resampling.BOX
        art, init, mask = art.resize(size, box), init.resize(size, box), mask.resize(size, box)
    keep = mask.point(lambda v: 255 if v == 0 else 0)
    kept = keep.histogram()[255]
    if kept == 0:
        return 0, 0.0, 0.0
    r, g, b = ImageChops.difference(art, init).split()
    diff = ImageChops.lighter(ImageChops.lighter(r, g), b)
    over = ImageChops.multiply(diff.point(lambda v: 255 if v > tolerance else 0), keep)
    mean = ImageStat.Stat(diff, mask=keep).mean[0]
    return kept, over.histogram()[255] / kept, mean


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
    art = decode(result, max_pixels=max_pixels)
    returned = art.size
    box = plan.box_size
    if art.size != box:
        art = art.resize(box, Image.Resampling.LANCZOS)
    init = init if init is not None else plan.init_image(box)
    mask = mask if mask is not None else plan.mask(box)
    if init.size != box or mask.size != box or mask.mode != "L":
        raise ValueError("init/mask must be box-sized; mask mode 'L'")
    kept, frac, mean = _changed(art, init.convert("RGB"), mask, tolerance)
    out = Image.composite(art, init.convert("RGB"), mask)
    report = CompositeReport(
        returned_size=returned,
        box_size=box,
        resized=returned != box,
        kept_pixels=kept,
        changed_fraction=frac,
        mean_change=mean,
    )
    return Composited(out, report)
