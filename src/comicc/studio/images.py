"""The studio's pictures of one panel: each variant lettered (its cached art
with the panel's border and balloons drawn over it, by the renderer of PNG
output), the mask and the init image its request sends, and any cached art
file shown as PNG.

Every function takes what the book already holds (a :class:`Preview`, a
variant number, a path the history listed) -- never a path built from a URL.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from PIL import Image

from comicc.images import PanelArt
from comicc.layout import PageGeom, PanelGeom
from comicc.output import render_page
from comicc.studio.render import ART_EXT, SCREEN_DPI, Preview, png_bytes

MAX_SIDE = 2048  # the largest side of a history image the studio sends
_MEMO_SIZE = 64  # lettered variants kept in memory

_memo: dict[tuple[str, str], bytes] = {}
_memo_lock = threading.Lock()


def _panel_and_page(made: Preview, panel_id: str) -> tuple[PanelGeom, PageGeom] | None:
    for page in made.book.pages:
        for panel in page.panels:
            if panel.id == panel_id:
                return panel, page
    return None


def lettered_variant(made: Preview, panel_id: str, variant: int) -> bytes | None:
    """Variant ``variant`` of the panel, lettered, as PNG at screen resolution;
    None when the panel has no such variant or its art is not cached yet."""
    image = next((i for i in made.plan.of_panel(panel_id) if i.variant == variant), None)
    found = _panel_and_page(made, panel_id)
    if image is None or found is None:
        return None
    panel, page = found
    memo_key = (image.plan.cache_key, repr(panel))
    with _memo_lock:
        if memo_key in _memo:
            return _memo[memo_key]
    data = made.cache.get(image.plan.cache_key, ART_EXT)
    if data is None:
        return None
    alone = replace(page, panels=(panel,), extra=())
    drawn = render_page(
        alone,
        {panel_id: PanelArt.from_bytes(data)},
        dpi=SCREEN_DPI,
        page_color=made.theme.page_color,
    )
    k = SCREEN_DPI / 72.0
    r = panel.rect
    box = (
        max(0, round(r.x * k)),
        max(0, round(r.y * k)),
        min(drawn.width, round(r.x2 * k)),
        min(drawn.height, round(r.y2 * k)),
    )
    out = png_bytes(drawn.crop(box))
    with _memo_lock:
        if len(_memo) >= _MEMO_SIZE:
            _memo.pop(next(iter(_memo)))
        _memo[memo_key] = out
    return out


def request_image(made: Preview, panel_id: str, what: str) -> bytes | None:
    """The picked variant's ``mask`` (white = paint) or ``init`` image, at the
    panel's box size, as PNG; None for a panel the book does not have."""
    image = next((i for i in made.plan.of_panel(panel_id) if i.picked), None)
    if image is None:
        return None
    init, mask = image.plan.images(image.plan.box_size)
    return png_bytes(mask if what == "mask" else init)


def file_png(path: Path) -> bytes | None:
    """An art file (JPEG or PNG) as PNG, at most :data:`MAX_SIDE` pixels a
    side; None when it cannot be read."""
    try:
        with Image.open(path) as im:
            im.thumbnail((MAX_SIDE, MAX_SIDE))
            return png_bytes(im.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
