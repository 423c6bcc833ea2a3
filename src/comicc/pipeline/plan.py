"""The book plan: what a build will do, known before it sends a request.

For every image of the book (one variant of one panel) the book plan holds its
render plan (:class:`~comicc.paint.PanelPlan`: sizes, seed, mask, cache key,
made by :func:`~comicc.paint.plan_panel` with the capabilities of the
configured backend), whether the art cache already holds it, what painting it
costs, and -- for an image that will be painted -- why: what differs from the
request the lock file's last build made (its record is kept in the cache
entry's metadata, see :mod:`comicc.pipeline.reasons`). ``comicc plan`` prints the
totals per backend, ``comicc explain`` each image, ``comicc build`` the one
line and the budget check, and :class:`~comicc.pipeline.options.Repaint`
carries the reasons to ``comicc watch``.

Pure of network: nothing here sends a request or reads a key. The wiring that
lays out the book and configures the backends is :func:`comicc.pipeline.book.plan_book`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from comicc.backends import Capabilities, Price, is_paid, price_for
from comicc.diagnostics import Sink
from comicc.layout import BookGeom, PanelGeom
from comicc.model import ir
from comicc.paint import ArtCache, LockFile, PaintJob, PanelPlan, plan_panel
from comicc.pipeline.reasons import repaint_reasons


@dataclass(frozen=True)
class PlannedImage:
    """One image of the book (a variant of a panel) as the next build will make it."""

    panel: ir.Panel
    geom: PanelGeom
    plan: PanelPlan
    cached: bool  # the art cache holds it: no request
    picked: bool  # the variant the book shows (`pick:`)
    cost: float  # in ``unit``; 0 when cached or free
    unit: str | None
    reasons: tuple[str, ...] = ()  # why it will be painted (empty when cached)

    @property
    def variant(self) -> int:
        return self.plan.variant

    @property
    def job(self) -> PaintJob:
        """The paint job of this image, with its plan (not made again)."""
        return PaintJob(self.panel, self.geom, self.variant, self.plan)

    @property
    def name(self) -> str:
        """``p2.1-v2``: how a writer names this image (files of ``explain --images``)."""
        return f"{self.panel.id}-v{self.variant}"

    @property
    def state(self) -> str:
        """``cached`` or ``paint``."""
        return "cached" if self.cached else "paint"


@dataclass(frozen=True)
class BackendPlan:
    """One backend's share of a build: images to paint, images from the cache, cost."""

    backend: str
    paint: int
    cached: int
    cost: float  # in ``unit``
    unit: str | None  # None: free
    price: Price | None  # the money estimate's fact, where one is known

    @property
    def usd(self) -> float | None:
        """The money estimate in US dollars; None when no price is known."""
        return None if self.price is None else self.paint * self.price.usd_per_image

    def describe(self) -> str:
        """``stability: 3 to paint, 5 from cache, 15 credits (about 0.15 USD ...)``."""
        text = f"{self.backend}: {self.paint} to paint, {self.cached} from cache"
        if self.unit is None:
            return text + ", free"
        text += f", {_amount(self.cost)} {self.unit}"
        if self.price is not None and self.paint:
            text += (
                f" (about {self.usd:.2f} USD, an estimate: {self.price.source}, {self.price.as_of})"
            )
        return text


@dataclass(frozen=True)
class BookPlan:
    """Every image of a build, in reading order, and the totals per backend."""

    images: tuple[PlannedImage, ...]
    backends: tuple[BackendPlan, ...]
    # backend name -> the configured backend's capabilities (mask convention...)
    capabilities: Mapping[str, Capabilities]

    @property
    def paid(self) -> bool:
        """Whether the build would pay for anything."""
        return any(b.cost > 0 for b in self.backends)

    @property
    def to_paint(self) -> tuple[PlannedImage, ...]:
        return tuple(i for i in self.images if not i.cached)

    def one_line(self) -> str:
        """The plan in one line (what ``comicc build`` prints before paying)."""
        return "plan: " + "; ".join(b.describe() for b in self.backends)

    def over(self, budget: float) -> list[BackendPlan]:
        """The backends whose cost is above ``budget`` (each unit on its own)."""
        return [b for b in self.backends if b.cost > budget + 1e-9]

    def of_panel(self, panel_id: str) -> tuple[PlannedImage, ...]:
        return tuple(i for i in self.images if i.panel.id == panel_id)


def within_budget(plan: BookPlan, script: ir.Script, max_cost: float | None, sink: Sink) -> bool:
    """Whether the plan's cost is within ``max_cost`` (``--max-cost``) (else the script's
    ``budget:``); an error saying by how much when it is not."""
    limit = max_cost
    span = None
    if limit is None and script.budget is not None:
        limit, span = script.budget.amount, script.budget.span
    if limit is None:
        return True
    over = plan.over(limit)
    for b in over:
        given = "`--max-cost`" if span is None else "the script's `budget:`"
        unit = b.unit or ""
        sink.error(
            "over-budget",
            f"this build would cost {b.cost:g} {unit} on {b.backend}: "
            f"{b.cost - limit:g} {unit} more than {given} of {limit:g}",
            span,
            path=None if span is not None else script.path,
            hints=[
                plan.one_line(),
                "raise the budget, or paint fewer images (`comicc plan` shows which and why)",
            ],
        )
    return not over


def _amount(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.4g}"


def plan_images(
    script: ir.Script,
    book: BookGeom,
    capabilities: Mapping[str, Capabilities],
    cache: ArtCache,
    *,
    ext: str,
    lock: LockFile,
) -> BookPlan:
    """The book plan of ``script`` laid out as ``book``, painted by backends with
    ``capabilities`` (backend name -> the configured backend's), art cached in
    ``cache`` as ``ext``; ``lock`` is the last build's lock file."""
    geoms = {g.id: g for page in book.pages for g in page.panels}
    images = []
    for panel in script.panels:
        caps = capabilities[panel.settings.backend]
        geom = geoms[panel.id]
        for v in range(1, panel.settings.variants + 1):
            plan = plan_panel(panel, geom, caps, variant=v)
            hit = cache.lookup(plan.cache_key, ext, plan.box_size)
            cached = hit.art is not None
            reasons: tuple[str, ...] = ()
            if not cached:
                reasons = repaint_reasons(plan, panel, geom, caps, lock, cache)
                if hit.damage is not None:
                    reasons = (f"the cached art is damaged ({hit.damage})", *reasons)
            paid = is_paid(caps)
            images.append(
                PlannedImage(
                    panel,
                    geom,
                    plan,
                    cached,
                    v == panel.settings.pick,
                    caps.cost_per_image if paid and not cached else 0.0,
                    caps.cost_unit if paid else None,
                    reasons,
                )
            )
    return BookPlan(tuple(images), _tally(images, capabilities), dict(capabilities))


def _tally(
    images: Sequence[PlannedImage], capabilities: Mapping[str, Capabilities]
) -> tuple[BackendPlan, ...]:
    out = []
    for name in dict.fromkeys(i.plan.backend for i in images):
        mine = [i for i in images if i.plan.backend == name]
        caps = capabilities[name]
        paint = sum(1 for i in mine if not i.cached)
        paid = is_paid(caps)
        first = mine[0].plan
        model = dict(first.backend_settings).get("model") or first.model
        out.append(
            BackendPlan(
                name,
                paint,
                len(mine) - paint,
                sum(i.cost for i in mine),
                caps.cost_unit if paid else None,
                price_for(name, model) if paid else None,
            )
        )
    return tuple(out)
