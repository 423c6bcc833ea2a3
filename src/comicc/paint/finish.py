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
from dataclasses import dataclass

from PIL import Image

from comicc.backends import Backend, BackendError, PaintRequest, PaintResult
from comicc.images import PanelArt
from comicc.paint.composite import CompositeReport, composite
from comicc.paint.plan import PanelPlan


@dataclass(frozen=True)
class Painted:
    """A backend's answer composited into the panel box and encoded."""

    art: PanelArt
    report: CompositeReport
    seed_used: int | None
    raw: bytes | None  # the service's own bytes (kept for network and paid backends)


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


def box_images(plan: PanelPlan, request: PaintRequest) -> tuple[Image.Image, Image.Image]:
    """Init image and mask at the box size: the request's own when the sizes agree,
    their top-left box of a padded request (drawn at the box's scale)."""
    if request.init_image.size == plan.box_size:
        return request.init_image, request.mask
    if plan.padded and request.init_image.size == plan.request_size:
        corner = (0, 0, *plan.box_size)
        return request.init_image.crop(corner), request.mask.crop(corner)
    return plan.images(plan.box_size)


def paint_locally(
    backend: Backend, plan: PanelPlan, image_format: str, quality: int
) -> Painted | CompositeFailed:
    """One attempt of a local backend, start to end (run in a worker process)."""
    request = plan.request()
    result = backend.paint(request)
    try:
        return finish(result, plan, box_images(plan, request), image_format, quality)
    except BackendError as e:
        return CompositeFailed(e)


def ignore_interrupts() -> None:
    """Worker processes leave Ctrl-C to the build (it cancels their work)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def warm_up() -> None:
    """Nothing: submitted once per worker process so that it starts at once."""
    return None
