"""A backend's answer made into panel art, and the draft painted whole in a
worker process.

After a backend answered, its image is composited into the panel box (with
the init image and mask at the box size, drawn with the request) and encoded:
:func:`finish`. A local backend (the draft) is CPU work only, so the
scheduler may run a whole attempt, request to encoded art, in a worker
process: :func:`paint_locally`, in processes started with
:func:`ignore_interrupts`.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from comicc.backends import Backend, BackendError, PaintRequest, PaintResult
from comicc.images import PanelArt
from comicc.paint.cache import ArtCache
from comicc.paint.composite import CompositeReport, composite
from comicc.paint.plan import PanelPlan


@dataclass(frozen=True)
class Painted:
    """A backend's answer composited into the panel box and encoded."""

    art: PanelArt
    report: CompositeReport
    seed_used: int | None
    raw: bytes | None  # the service's own bytes (kept for network and paid backends)
    stored: bool = False  # True: already in the cache (a worker process put it there)


@dataclass(frozen=True)
class CacheWrite:
    """Where painted art goes: the cache, the art's file extension, the backend's
    name (recorded), whether the service's own bytes are kept too, and more
    metadata kept with the entry (the build's request record), written with it
    in one go."""

    cache: ArtCache
    ext: str
    backend: str
    keep_raw: bool
    extra: Mapping[str, Any] = field(default_factory=dict)
    # flushed to the disk before it counts as stored: art that was paid for
    durable: bool = True


def store(painted: Painted, plan: PanelPlan, to: CacheWrite) -> Painted:
    """Put ``painted`` into the cache (with its metadata); it, marked stored and
    without the service's bytes (they are on disk now)."""
    if to.keep_raw and painted.raw is not None:
        to.cache.put(plan.cache_key, "raw", painted.raw, durable=to.durable)
    to.cache.put_art(
        plan.cache_key,
        to.ext,
        painted.art.data,
        {
            "panel": plan.panel_id,
            "variant": plan.variant,
            "backend": to.backend,
            "model": plan.model,
            "seed": plan.seed,
            "seed_used": painted.seed_used,
            "box_size": list(plan.box_size),
            "request_size": list(plan.request_size),
            "returned_size": list(painted.report.returned_size),
            "changed_fraction": round(painted.report.changed_fraction, 4),
            **to.extra,
        },
        durable=to.durable,
    )
    return Painted(painted.art, painted.report, painted.seed_used, None, stored=True)


@dataclass(frozen=True)
class CompositeFailed:
    """Compositing refused the answer (undecodable, too large): not retried."""

    error: BackendError


def finish(
    result: PaintResult,
    plan: PanelPlan,
    box_images: tuple[Image.Image, Image.Image],
    image_format: str,
    quality: int,
) -> Painted:
    """Composite ``result`` into the box (``box_images``: init and mask at the box
    size, drawn with the request) and encode it."""
    init, mask = box_images
    done = composite(result, plan, init=init, mask=mask)
    art = PanelArt.from_image(done.image, image_format, quality)
    raw = result.image if isinstance(result.image, bytes) else None
    return Painted(art, done.report, result.seed_used, raw)


def box_images(
    plan: PanelPlan, request: PaintRequest | None = None
) -> tuple[Image.Image, Image.Image]:
    """Init image and mask at the box size: the request's own when the sizes agree,
    their top-left box of a padded request (drawn at the box's scale). Without
    ``request``, the same pixels drawn from the plan at the box size (in a worker
    process): a padded request's box is drawn at that very scale, and clipping
    the canvas to it changes no pixel inside it, so nothing is drawn past the
    box nor copied out of a larger canvas."""
    if request is None:
        return plan.images(plan.box_size)
    init, mask = request.init_image, request.mask
    if init.size == plan.box_size:
        return init, mask
    if plan.padded and init.size == plan.request_size:
        corner = (0, 0, *plan.box_size)
        return init.crop(corner), mask.crop(corner)
    return plan.images(plan.box_size)


def paint_locally(
    backend: Backend,
    plan: PanelPlan,
    image_format: str,
    quality: int,
    to: CacheWrite | None = None,
) -> Painted | CompositeFailed:
    """One attempt of a local backend, start to end (run in a worker process),
    stored in ``to`` when given."""
    request = plan.request()
    result = backend.paint(request)
    try:
        painted = finish(result, plan, box_images(plan, request), image_format, quality)
    except BackendError as e:
        return CompositeFailed(e)
    return painted if to is None else store(painted, plan, to)


def ignore_interrupts() -> None:
    """Worker processes leave Ctrl-C to the build (it cancels their work)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
