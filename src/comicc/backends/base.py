"""What every image backend is: capabilities, requests, results, errors.

The internal mask convention
----------------------------
comicc has ONE mask convention, used everywhere before a backend's edge:

* a mask is a Pillow image in mode ``"L"`` with exactly the request's size;
* **255 = PAINT here** (the backend generates these pixels),
* **0 = KEEP** (these pixels are the init image's and must come back unchanged),
* grey values = partial: the composite blends ``value/255`` of the painted
  pixel with the rest of the init pixel (used for the feathered ring around
  the keep-margin of each balloon).

Each backend converts this at its edge with :func:`to_service_mask` (white:
unchanged, black: inverted, alpha: the init image gets an alpha channel where
transparent = paint). Nothing outside a backend module ever sees another
convention.

Backends never import the IR: a :class:`PaintRequest` carries plain values
(strings, ints, Pillow images, pixel coordinates).
"""

from __future__ import annotations

import io
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from comicc.backends.settings import (
    InvalidSetting,
    SettingProblem,
    SettingSpec,
    SettingValues,
    setting_problems,
    setting_values,
)

if TYPE_CHECKING:  # Pillow is loaded by whoever makes or reads an image, not by the records
    from PIL import Image

MASK_CONVENTIONS = ("white", "black", "alpha")
PAINT = 255
KEEP = 0


# --------------------------------------------------------------------- errors
class BackendError(Exception):
    """Base of every backend failure. ``hint`` is one line telling the user what to do."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        backend: str | None = None,
        setting: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.hint = hint
        # the dotted setting at fault ("url", "api"), so the build can point at
        # its line; None: the `backend:` setting itself
        self.setting = setting
        self.backend = backend

    def __reduce__(self) -> tuple[Any, ...]:
        """Picklable with every field (a local backend paints in a worker process)."""
        return (_rebuild_error, (type(self), self.args, dict(self.__dict__)))


def _rebuild_error(cls: type[BackendError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class Unavailable(BackendError):
    """The backend cannot run here: no key, not installed, server down."""


class RateLimited(BackendError):
    """The service asked us to slow down; ``retry_after`` seconds if it said."""

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        *,
        hint: str | None = None,
        backend: str | None = None,
        setting: str | None = None,
    ):
        super().__init__(message, hint=hint, backend=backend, setting=setting)
        self.retry_after = retry_after


class Rejected(BackendError):
    """The service refused this request (moderation, bad size); retrying won't help."""

    def __init__(
        self,
        message: str,
        reason: str = "rejected",
        *,
        hint: str | None = None,
        backend: str | None = None,
        setting: str | None = None,
    ):
        super().__init__(message, hint=hint, backend=backend, setting=setting)
        self.reason = reason


class Transient(BackendError):
    """A failure worth retrying later (5xx, timeout, dropped connection)."""


# --------------------------------------------------------------- capabilities
@dataclass(frozen=True)
class EdgeControl:
    """A service's own mask growth/blur parameter (e.g. Stability ``grow_mask``)."""

    param: str  # name of the request field
    default: float  # what the service uses when it is not sent
    minimum: float = 0.0  # the smallest value comicc sends explicitly
    maximum: float | None = None


@dataclass(frozen=True)
class Capabilities:
    mask_convention: str = "white"  # "white" | "black" | "alpha"
    edge_control: EdgeControl | None = None  # None: the service does not grow/blur masks
    seed: bool = True  # honours a seed
    negative_prompt: bool = True
    multiple_of: int = 1  # width and height must be multiples of this
    allowed_sizes: tuple[tuple[int, int], ...] | None = None  # fixed list, or None = any
    min_side: int = 1
    max_side: int | None = None
    min_pixels: int = 1
    max_pixels: int | None = None
    max_request_bytes: int | None = None  # upload body limit
    max_response_bytes: int = 64 * 2**20  # the largest answer read (an image, raw or base64)
    sync: bool = True  # False: queue + poll
    deterministic: bool = False  # same request -> same bytes
    needs_network: bool = True
    needs_key: str | None = None  # environment variable holding the key
    cost_unit: str | None = None  # "credits", "usd", None = free
    cost_per_image: float = 0.0
    # consistent characters: how many reference images / LoRAs one request may
    # carry (0: the service cannot use them; the build warns once)
    max_references: int = 0
    max_loras: int = 0
    # the service may repaint the kept area on purpose (OpenAI edits): compositing
    # still pastes it back, but a changed kept area is expected, not a warning
    mask_guidance_only: bool = False
    # settings that say HOW to reach the service, not WHAT to paint: they stay
    # out of the cache key, so moving to another server or timeout repaints nothing
    neutral_settings: frozenset[str] = frozenset(
        {"url", "urls", "timeout", "wait", "user", "concurrency"}
    )
    # requests one endpoint (server, account) is sent at once; None: only the
    # build's `--jobs` limits them. A GPU server paints one image at a time, so a
    # self-hosted backend says 1-2 (the second is uploaded while the first paints)
    concurrency: int | None = None
    # the service may answer 429 (a hosted API): until it has answered once, its
    # first request goes alone (the scheduler's rate gate). False: a self-hosted
    # server that queues every request instead, so the others need not wait
    rate_limited: bool = True

    def __post_init__(self) -> None:
        if self.mask_convention not in MASK_CONVENTIONS:
            raise ValueError(f"mask_convention must be one of {MASK_CONVENTIONS}")
        if self.multiple_of < 1:
            raise ValueError("multiple_of must be >= 1")

    def accepts_size(self, w: int, h: int) -> bool:
        if self.allowed_sizes is not None:
            return (w, h) in self.allowed_sizes
        m = self.multiple_of
        return (
            w % m == 0
            and h % m == 0
            and min(w, h) >= self.min_side
            and (self.max_side is None or max(w, h) <= self.max_side)
            and w * h >= self.min_pixels
            and (self.max_pixels is None or w * h <= self.max_pixels)
        )

    def negotiate_size(self, w: float, h: float) -> tuple[int, int]:
        """The accepted size nearest to ``w`` x ``h`` with (nearly) the same aspect.

        Fixed lists: the entry with the closest aspect ratio, then the closest
        area. Otherwise the box is scaled (up or down) into the side and pixel
        limits, then each side is rounded to ``multiple_of``; among the nearby
        multiples the one with the smallest aspect error, then area error, wins.
        The art is scaled back to the exact panel box after painting, so a
        small aspect error only stretches it by a fraction of a percent.
        """
        if w <= 0 or h <= 0:
            raise ValueError(f"size must be positive, got {w}x{h}")
        aspect = math.log(w / h)
        if self.allowed_sizes is not None:
            if not self.allowed_sizes:
                raise Rejected("the backend lists no allowed sizes", reason="size")
            return min(
                self.allowed_sizes,
                key=lambda s: (
                    round(abs(math.log(s[0] / s[1]) - aspect), 9),
                    abs(s[0] * s[1] - w * h),
                ),
            )
        scale = 1.0
        if self.max_pixels is not None and w * h > self.max_pixels:
            scale = math.sqrt(self.max_pixels / (w * h))
        if self.max_side is not None and max(w, h) * scale > self.max_side:
            scale = self.max_side / max(w, h)
        if w * h * scale * scale < self.min_pixels:
            scale = math.sqrt(self.min_pixels / (w * h))
        if min(w, h) * scale < self.min_side:
            scale = self.min_side / min(w, h)
        tw, th = w * scale, h * scale
        m = self.multiple_of

        def around(v: float) -> list[int]:
            base = math.floor(v / m) * m
            return [c for c in (base - m, base, base + m, base + 2 * m) if c >= m]

        best: tuple[tuple[float, float], tuple[int, int]] | None = None
        for cw in around(tw):
            for ch in around(th):
                if not self.accepts_size(cw, ch):
                    continue
                score = (round(abs(math.log(cw / ch) - aspect), 9), abs(cw * ch - tw * th))
                if best is None or score < best[0]:
                    best = (score, (cw, ch))
        if best is None:
            raise Rejected(
                f"no size accepted by the backend is near {w:.0f}x{h:.0f} px", reason="size"
            )
        return best[1]


# ------------------------------------------------------------ request/result
@dataclass(frozen=True)
class Reference:
    """A character's reference image, sent with the panels the character is in.

    ``data`` is the file's bytes as read when the script was checked; the
    cache key uses ``sha256`` (the content), never ``path``."""

    character: str
    path: str  # for messages only
    data: bytes = field(repr=False)
    sha256: str = ""


@dataclass(frozen=True)
class Lora:
    """A character's LoRA: the service's name for it and its weight."""

    character: str
    name: str
    weight: float = 1.0


@dataclass(frozen=True)
class PaintRequest:
    """One inpainting call, in comicc's internal mask convention (see module doc)."""

    prompt: str
    negative: str
    seed: int | None  # None: the backend has no seed support
    width: int  # pixels to request (already negotiated)
    height: int
    init_image: Image.Image = field(compare=False, repr=False)  # RGB, width x height
    mask: Image.Image = field(compare=False, repr=False)  # L: 255 paint, 0 keep
    backend_settings: Mapping[str, str] = field(default_factory=dict)  # prefix removed
    model: str | None = None
    panel_id: str = ""
    variant: int = 1
    cast: tuple[tuple[str, tuple[float, float]], ...] = ()  # speaker -> (x, y) px
    keep_margin: float = 0.0  # px, already applied to the mask
    feather: float = 0.0  # px, already applied to the mask
    # the characters in this panel: their reference images and LoRAs
    references: tuple[Reference, ...] = ()
    loras: tuple[Lora, ...] = ()
    # what :meth:`Backend.prepare` made of this request ahead of its slot (an
    # encoded body); None: not prepared. Never part of what is painted.
    prepared: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.init_image.size != (self.width, self.height):
            raise ValueError(
                f"init image is {self.init_image.size}, request is {(self.width, self.height)}"
            )
        if self.mask.mode != "L" or self.mask.size != (self.width, self.height):
            raise ValueError("mask must be an 'L' image of the request's size")


@dataclass(frozen=True)
class PaintResult:
    image: bytes | Image.Image = field(repr=False)  # encoded bytes or a decoded image
    seed_used: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)  # provider ids, finish reason


# -------------------------------------------------------------------- backend
class Backend(ABC):
    """An image service. Subclasses set ``name`` and ``capabilities``.

    ``paint`` does one call and raises the typed errors above; retries, rate
    limiting, concurrency and caching belong to the build scheduler.
    """

    name: str = ""
    capabilities: Capabilities = Capabilities()
    #: the service's own hosts, the only ones its API key goes to unasked
    #: (:mod:`comicc.backends.keys`); empty for a backend without a key
    KEY_HOSTS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **backend_settings: str) -> None:
        """A backend is constructed with its backend settings (prefix removed)."""
        return None

    @abstractmethod
    def paint(self, request: PaintRequest) -> PaintResult:
        """Paint ``request.mask``'s PAINT area; return the whole image."""

    def endpoints(self) -> tuple[str, ...]:
        """Where requests can go (server addresses); each takes
        ``capabilities.concurrency`` at once. One unnamed endpoint by default."""
        return ("",)

    def paint_on(self, request: PaintRequest, endpoint: str) -> PaintResult:
        """:meth:`paint` on ``endpoint`` (one of :meth:`endpoints`): the scheduler
        picks a server with a free slot; by default the backend chooses."""
        return self.paint(request)

    def prepare(self, request: PaintRequest) -> PaintRequest:
        """The request with its CPU work done (encoding the images), before the
        scheduler takes a slot for it: a slot never waits on comicc's own work.
        By default nothing is prepared."""
        return request

    def worker_settings(self) -> Mapping[str, str] | None:
        """The settings a worker process rebuilds this backend from
        (``type(self)(**settings)``) to run :meth:`prepare` there, off the build's
        threads; None (the default): it runs in the build's own threads. Only a
        backend whose ``prepare`` is CPU work on the request and these settings
        returns them, and they never hold a key."""
        return None

    # --- configuration, checked by the build BEFORE any paint request -----
    #: the backend settings this backend understands (``stability.style_preset``
    #: is "style_preset" here); None means "accept anything"
    SETTINGS: ClassVar[Mapping[str, SettingSpec] | None] = None

    @classmethod
    def validate_settings(cls, settings: Mapping[str, str]) -> list[SettingProblem]:
        """Problems with the writer's backend settings (no I/O): names not in
        ``SETTINGS`` (with a did-you-mean) and bad values. Backends with rules
        between settings extend this."""
        if cls.SETTINGS is None:
            return []
        return setting_problems(cls.name, cls.SETTINGS, settings)

    @classmethod
    def setting_values(cls, settings: Mapping[str, str], *, painting: bool) -> SettingValues:
        """The typed ``SETTINGS`` (defaults filled in, unknown names ignored); a bad
        value raises :func:`setting_error`."""
        try:
            return setting_values(cls.name, cls.SETTINGS or {}, settings)
        except InvalidSetting as e:
            raise setting_error(e.problem, cls.name, painting=painting) from None

    @classmethod
    def capability_variants(cls) -> list[tuple[str, Capabilities]]:
        """Other configurations with other capabilities, each with the setting that
        selects it (for ``comicc backends``); none by default."""
        return []

    def preflight(self) -> None:
        """Cheap readiness check before painting (key present, server reachable).
        Raise :class:`Unavailable` with ``setting=`` naming the culprit."""
        return None

    def check(self, request: PaintRequest) -> None:
        """Raise :class:`Rejected` if the request breaks a declared capability."""
        if not self.capabilities.accepts_size(request.width, request.height):
            raise Rejected(
                f"{self.name} does not accept {request.width}x{request.height} px",
                reason="size",
                backend=self.name,
            )


def setting_error(problem: SettingProblem, backend: str, *, painting: bool) -> BackendError:
    """A bad backend setting as a typed error naming it: :class:`Unavailable` while the
    backend is being set up, :class:`Rejected` for one paint request."""
    if painting:
        return Rejected(
            problem.message,
            reason="setting",
            hint=problem.hint,
            backend=backend,
            setting=problem.key,
        )
    return Unavailable(problem.message, hint=problem.hint, backend=backend, setting=problem.key)


#: zlib level of the PNGs a service is sent. PNG is lossless at every level and
#: every service decodes any level; comicc's init images and masks are flat
#: (paper, white shapes), so level 1 makes them a few KiB larger (still far
#: under every upload limit) in about half the time of level 6.
REQUEST_PNG_LEVEL = 1


def png_bytes(image: Image.Image, *, indexed: bool = False) -> bytes:
    """``image`` as the PNG a service is sent (:data:`REQUEST_PNG_LEVEL`). Opaque
    images are flattened like :func:`comicc.images.encode_image` does; an RGBA
    image keeps its alpha (the alpha mask conventions need it).

    ``indexed``: an opaque image of few colours (an init image is paper and
    white shapes, a mask a few feather levels) is written as a palette PNG of
    exactly those colours (:func:`comicc.images.indexed_png`): the same pixels
    once read as RGB or L, at 1-4 bits a pixel instead of 24 or 8, so several
    times faster to write and to read. Only for a service that reads any PNG
    mode and converts it (the webui: init images to RGB, masks to L); the others
    are sent the image's own mode."""
    from comicc.images import flatten_alpha, indexed_png

    if image.mode != "RGBA":
        image = flatten_alpha(image)
        small = indexed_png(image, REQUEST_PNG_LEVEL) if indexed else None
        if small is not None:
            return small
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=REQUEST_PNG_LEVEL)
    return buf.getvalue()


def to_service_mask(request: PaintRequest, convention: str) -> tuple[Image.Image, Image.Image]:
    """(image, mask) to send to a service with ``convention``.

    white: mask unchanged; black: mask inverted; alpha: the init image as RGBA
    with alpha = 255 - mask (transparent = paint) and that same RGBA as "mask".
    """
    if convention == "white":
        return request.init_image, request.mask
    if convention == "black":
        return request.init_image, request.mask.point(lambda v: 255 - v)
    if convention == "alpha":
        rgba = request.init_image.convert("RGBA")
        rgba.putalpha(request.mask.point(lambda v: 255 - v))
        return rgba, rgba
    raise ValueError(f"unknown mask convention {convention!r}")
