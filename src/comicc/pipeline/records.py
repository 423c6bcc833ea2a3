"""The request record kept in each cache entry's metadata (what painted it), so
a later plan can say why a panel repaints (:mod:`comicc.pipeline.reasons`):
written with the art when a build paints it (:func:`recorder`, handed to the
painter: one write per entry), added afterwards to entries an older comicc
cached (:func:`record_requests`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from comicc.backends import Backend

if TYPE_CHECKING:
    from comicc.paint import ArtCache, PaintJob, PaintOutcome, PanelPlan


def record_requests(
    outcomes: list[PaintOutcome], backends: dict[str, Backend], cache: ArtCache
) -> None:
    """Keep in each cache entry's metadata the request that made it (see
    :func:`comicc.pipeline.reasons.request_record`), so a later plan can say why a
    panel repaints: painted art has it (:func:`recorder`); entries cached by an
    older comicc get it here."""
    from comicc.pipeline.reasons import RECORD, request_record

    for o in outcomes:
        if o.plan is None or o.art is None or not o.from_cache:
            continue
        meta = cache.meta(o.plan.cache_key)
        if meta is None or RECORD in meta:
            continue
        caps = backends[o.job.panel.settings.backend].capabilities
        record = request_record(o.plan, o.job.panel, o.job.geom, caps)
        cache.add_meta(o.plan.cache_key, {RECORD: record})


def recorder(backends: dict[str, Backend]) -> Callable[[PaintJob, PanelPlan], dict[str, Any]]:
    """The request record (:func:`record_requests`) written with each painted entry."""
    from comicc.pipeline.reasons import RECORD, request_record

    def record(job: PaintJob, plan: PanelPlan) -> dict[str, Any]:
        caps = backends[job.panel.settings.backend].capabilities
        return {RECORD: request_record(plan, job.panel, job.geom, caps)}

    return record
