"""Reference images at a backend's edge: decoded, bounded, re-encoded.

A :class:`~comicc.backends.base.Reference` carries the file's bytes as the
script's check read them (a PNG, JPEG or WebP image that decodes). A service
is sent a PNG of it, transparency flattened onto white and scaled down to at
most ``max_side`` pixels a side (identity adapters look at a few hundred
pixels; a 6000 px photo would only make the request heavy).
"""

from __future__ import annotations

import io

from PIL import Image

from comicc.backends.base import Reference, Rejected, png_bytes
from comicc.images import flatten_alpha

DEFAULT_MAX_SIDE = 1024


def reference_image(ref: Reference, max_side: int = DEFAULT_MAX_SIDE) -> Image.Image:
    """``ref`` decoded as an RGB image of at most ``max_side`` pixels a side.
    Raises :class:`Rejected` when the bytes do not decode (they did when the
    script was checked: the file changed under the build)."""
    try:
        with Image.open(io.BytesIO(ref.data)) as im:
            im.load()
            image = flatten_alpha(im).convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise Rejected(
            f"the reference image of `{ref.character}` ({ref.path}) cannot be decoded: {e}",
            reason="reference",
            hint="check the image file; it decoded when the script was checked",
        ) from None
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return image


def reference_png(ref: Reference, max_side: int = DEFAULT_MAX_SIDE) -> bytes:
    """``ref`` as the PNG a service is sent (see :func:`reference_image`)."""
    return png_bytes(reference_image(ref, max_side))
