"""A paint job (one variant of one panel), what painting it gave, and the
diagnostics a failed job says: where it happened, and what the backend
answered after the retries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from comicc.backends import Backend, BackendError, RateLimited, Rejected, Transient, Unavailable
from comicc.diagnostics import Diagnostic, Severity
from comicc.images import PanelArt
from comicc.layout import PanelGeom
from comicc.model import ir
from comicc.paint.cache import ArtCache
from comicc.paint.plan import PanelPlan

if TYPE_CHECKING:
    from comicc.paint.composite import CompositeReport


@dataclass(frozen=True)
class PaintJob:
    """One variant of one panel to paint; ``plan``, when the build planned it
    already (its book plan), is not made again."""

    panel: ir.Panel
    geom: PanelGeom
    variant: int  # 1-based
    plan: PanelPlan | None = field(default=None, compare=False, repr=False)


@dataclass
class PaintOutcome:
    """What painting a job gave: the art (None on failure) and its diagnostics."""

    job: PaintJob
    plan: PanelPlan | None = None
    art: PanelArt | None = None
    from_cache: bool = False
    attempts: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.art is not None

    def take_cached(self, cache: ArtCache, ext: str) -> bool:
        """Take the art from ``cache`` if it holds good art for this outcome's
        plan; a damaged entry is removed (and said so): it will be painted again."""
        assert self.plan is not None
        plan, panel = self.plan, self.job.panel
        hit = cache.lookup(plan.cache_key, ext, plan.box_size)
        if hit.damage is not None:
            cache.remove(plan.cache_key, ext)
            v = f", variant {self.job.variant}" if panel.settings.variants > 1 else ""
            self.diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    "cache-damaged",
                    f"cache entry for page {panel.page} panel {panel.number}{v} was damaged "
                    f"({hit.damage}): painting it again",
                    panel.span,
                )
            )
        if hit.art is None:
            return False
        self.art = hit.art
        self.from_cache = True
        return True


def limitations(plan: PanelPlan, where: str, panel: ir.Panel) -> list[Diagnostic]:
    """A warning for each thing ``plan``'s backend cannot do that was asked of it."""
    return [
        Diagnostic(Severity.WARNING, "backend-limitation", f"{where}: {note}", panel.span)
        for note in plan.notes
    ]


def mask_ignored(backend: str, where: str, report: CompositeReport, panel: ir.Panel) -> Diagnostic:
    """The warning for an answer that repainted the area it was asked to keep
    (its pixels there were pasted back)."""
    return Diagnostic(
        Severity.WARNING,
        "mask-ignored",
        f"{where}: `{backend}` repainted {report.changed_fraction:.0%} "
        "of the area it was asked to keep; the original pixels were pasted back",
        panel.span,
        hints=(
            "check the backend's mask settings; the balloons are safe, but the art may show seams",
        ),
    )


def where_painting(panel: ir.Panel, variant: int, variants: int) -> str:
    """Where a diagnostic about painting ``panel`` happened."""
    v = f", variant {variant}" if variants > 1 else ""
    return f"while painting page {panel.page}, panel {panel.number}{v}"


def failure(
    e: BackendError,
    backend: Backend,
    where: str,
    attempts: int,
    seconds: float,
    panel: ir.Panel,
) -> Diagnostic:
    """The error a job that failed for good gives: what the backend said, and
    how often and how long it was retried."""
    if isinstance(e, RateLimited):
        msg = (
            f"{where}: rate limited by {backend.name}, "
            f"retried {attempts - 1} times over {seconds:.0f} s"
        )
        code = "backend-rate-limited"
    elif isinstance(e, Transient):
        msg = (
            f"{where}: {backend.name} failed ({e}), "
            f"retried {attempts - 1} times over {seconds:.0f} s"
        )
        code = "backend-failed"
    elif isinstance(e, Rejected):
        msg = f"{where}: {backend.name} rejected the panel: {e}"
        code = "backend-rejected"
    elif isinstance(e, Unavailable):
        msg = f"{where}: {backend.name} is unavailable: {e}"
        code = "backend-unavailable"
    else:
        msg = f"{where}: {backend.name}: {e}"
        code = "backend-failed"
    hints = (e.hint,) if e.hint else ()
    return Diagnostic(Severity.ERROR, code, msg, panel.span, hints=hints)
