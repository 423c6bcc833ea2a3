"""What painting costs in money: one table of price facts, every one an ESTIMATE.

A backend's :class:`~comicc.backends.base.Capabilities` says what one image
costs in the service's own unit (``cost_unit``, ``cost_per_image``: Stability
bills credits, OpenAI and Replicate dollars). This table adds, where a price is
published, what one image costs in US dollars, with where the fact comes from
and when it was read. Services change their prices: ``comicc plan`` prints the
source and date beside every money figure, and nothing here is ever a bill.
"""

from __future__ import annotations

from dataclasses import dataclass

from comicc.backends.base import Capabilities


@dataclass(frozen=True)
class Price:
    """A published price for one image of a backend (optionally one model family)."""

    backend: str
    usd_per_image: float  # the estimate, in US dollars
    basis: str  # how the figure is made, in words
    source: str  # where the fact was read (a URL or a document)
    as_of: str  # when (YYYY-MM)
    model_contains: str | None = None  # only for models whose name contains this


# Most specific first: the first entry whose backend and model match is used.
PRICES: tuple[Price, ...] = (
    Price(
        "stability",
        0.05,
        "5 credits per inpaint call (failed calls are free) x 0.01 USD per credit "
        "(1,000 credits for 10 USD)",
        "platform.stability.ai/pricing; shared/reference/image-apis.md",
        "2026-06",
    ),
    Price(
        "openai",
        0.06,
        "token-priced; about 0.04-0.06 USD for one medium-quality gpt-image-1 edit "
        "at 1024x1536 (the upper figure is used)",
        "openai.com/api/pricing (unverified)",
        "2026-06",
    ),
    Price(
        "replicate",
        0.05,
        "FLUX Fill [pro]: a flat price per output image",
        "replicate.com/black-forest-labs/flux-fill-pro (unverified)",
        "2026-06",
        model_contains="flux-fill",
    ),
    Price(
        "replicate",
        0.005,
        "SDXL inpainting: billed by GPU time, roughly this per prediction",
        "replicate.com/stability-ai/sdxl (unverified)",
        "2026-06",
    ),
)


def price_for(backend: str, model: str | None = None) -> Price | None:
    """The price fact for ``backend`` painting with ``model``; None when none is known
    (a local backend, or a service whose price is not in the table)."""
    for price in PRICES:
        if price.backend != backend:
            continue
        if price.model_contains is not None and price.model_contains not in (model or ""):
            continue
        return price
    return None


def is_paid(caps: Capabilities) -> bool:
    """Whether painting with ``caps`` costs something (a unit and a price above 0)."""
    return caps.cost_unit is not None and caps.cost_per_image > 0
