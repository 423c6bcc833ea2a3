"""The ``comicc explain --json`` document of panels, and the book plan as JSON
(``comicc plan --json``): plain data for tools and for the studio (keys:
docs/cli.md, "explain"). Holds no key: a plan never reads one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from comicc.model import ir
from comicc.pipeline.plan import BookPlan, PlannedImage

JSON_VERSION = 1


def _span_json(span: Any) -> dict[str, int] | None:
    return None if span is None else {"line": span.line, "column": span.col}


def image_json(image: PlannedImage) -> dict[str, Any]:
    """One image (variant) of a panel: seed, cache key, state, cost and why it repaints."""
    return {
        "variant": image.variant,
        "name": image.name,
        "seed": image.plan.seed,
        "cache_key": image.plan.cache_key,
        "state": image.state,
        "picked": image.picked,
        "cost": image.cost,
        "unit": image.unit,
        "reasons": list(image.reasons),
    }


def explain_json(script: ir.Script, plan: BookPlan, ids: Sequence[str]) -> dict[str, Any]:
    """The ``--json`` document (keys: docs/cli.md, "explain")."""
    panels = []
    for pid in ids:
        images = plan.of_panel(pid)
        first = images[0]
        panel, p = first.panel, first.plan
        caps = plan.capabilities[p.backend]
        panels.append(
            {
                "id": pid,
                "page": panel.page,
                "number": panel.number,
                "line": panel.span.line if panel.span is not None else None,
                "backend": p.backend,
                "model": p.model or dict(p.backend_settings).get("model"),
                "dpi": p.dpi,
                "size": {"box": list(p.box_size), "request": list(p.request_size)},
                "prompt": p.prompt,
                "parts": [
                    {
                        "kind": s.kind,
                        "source": s.source,
                        "text": s.text,
                        "name": s.name,
                        "within": s.within,
                        "at": _span_json(s.span),
                    }
                    for s in panel.prompt.sources
                ],
                "negative": p.negative,
                "mask": {
                    "mode": p.mask_mode,
                    "keep_margin_px": round(p.keep_margin, 2),
                    "feather_px": round(p.feather, 2),
                    "convention": caps.mask_convention,
                },
                "notes": list(p.notes),
                "variants": [image_json(i) for i in images],
            }
        )
    return {
        "version": JSON_VERSION,
        "script": script.path,
        "panels": panels,
        "plan": plan_json(plan),
    }


def plan_json(plan: BookPlan) -> dict[str, Any]:
    """The per-backend totals as JSON (also ``comicc plan --json``)."""
    return {
        "paid": plan.paid,
        "backends": [
            {
                "backend": b.backend,
                "paint": b.paint,
                "cached": b.cached,
                "cost": b.cost,
                "unit": b.unit,
                "estimate": None
                if b.price is None
                else {
                    "usd": round(b.usd or 0.0, 4),
                    "basis": b.price.basis,
                    "source": b.price.source,
                    "as_of": b.price.as_of,
                },
            }
            for b in plan.backends
        ],
        "images": [{"panel": i.panel.id, **image_json(i)} for i in plan.images if not i.cached],
    }
