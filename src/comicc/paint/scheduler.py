"""Painting every panel variant: cache first, bounded concurrency, retries,
progress, cancellation.

Retries, rate limiting and caching live here, not in the backends: a backend
raises a typed error (``RateLimited`` with ``retry_after``, ``Transient``,
``Rejected``, ``Unavailable``) and the scheduler decides. tenacity does the
retrying (waiting what the service asked for on 429s, exponential backoff
with jitter otherwise); tqdm draws the progress bar on a terminal.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import tenacity
from filelock import FileLock
from filelock import Timeout as FileLockTimeout
from tqdm import tqdm

from comicc.backends import (
    Backend,
    BackendError,
    PaintResult,
    RateLimited,
    Rejected,
    Transient,
    Unavailable,
    max_retry_wait,
)
from comicc.diagnostics import Diagnostic, Severity
from comicc.images import PanelArt
from comicc.layout import PanelGeom
from comicc.model import ir
from comicc.paint.cache import ArtCache
from comicc.paint.composite import composite
from comicc.paint.plan import PanelPlan, plan_panel
from comicc.paint.ratelimit import BackendStopped, RateGate, asks_too_long, stopped_message

MAX_ATTEMPTS = 5
MAX_RETRY_SECONDS = 300.0
LOCK_POLL_SECONDS = 0.2  # how often a build waiting for another's panel checks for Ctrl-C


@runtime_checkable
class Closable(Protocol):
    """A backend holding work in flight (a paid prediction being polled) that
    it can cancel when the build stops."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class PaintJob:
    """One variant of one panel to paint."""

    panel: ir.Panel
    geom: PanelGeom
    variant: int  # 1-based


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


def _where(panel: ir.Panel, variant: int, variants: int) -> str:
    v = f", variant {variant}" if variants > 1 else ""
    return f"while painting page {panel.page}, panel {panel.number}{v}"


def _wait(retry_state: tenacity.RetryCallState) -> float:
    """What the service asked for on a 429 (exactly: a longer wait than the
    user's maximum is never retried, see :func:`asks_too_long`), else
    exponential backoff with jitter."""
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    if isinstance(exc, RateLimited) and exc.retry_after:
        return float(exc.retry_after)
    return tenacity.wait_exponential_jitter(initial=1, max=30)(retry_state)


class Painter:
    """Paints jobs with the given backends into the cache."""

    def __init__(
        self,
        backends: Mapping[str, Backend],
        cache: ArtCache,
        *,
        image_format: str = "jpeg",
        quality: int = 90,
        workers: int | None = None,
        progress: bool | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.backends = backends
        self.cache = cache
        self.image_format = image_format
        self.ext = "jpg" if image_format == "jpeg" else "png"
        self.quality = quality
        self.workers = workers or self._default_workers()
        self.progress = sys.stderr.isatty() if progress is None else progress
        # set on Ctrl-C: no new attempt starts and back-off waits end at once, so the
        # worker threads (which the interpreter joins at exit) stop promptly
        self.cancelled = threading.Event()
        self.sleep = sleep or self._sleep_unless_cancelled
        # the longest Retry-After waited out (the user's setting, never the script's)
        self.gate = RateGate(self.cancelled, max_retry_wait())

    def _sleep_unless_cancelled(self, seconds: float) -> None:
        self.cancelled.wait(seconds)

    def _default_workers(self) -> int:
        local = all(not b.capabilities.needs_network for b in self.backends.values())
        return max(1, min(4, os.cpu_count() or 1)) if local else 4

    # ------------------------------------------------------------ one job
    def _paint_one(self, job: PaintJob) -> PaintOutcome:
        panel = job.panel
        out = PaintOutcome(job)
        if self.cancelled.is_set():
            return out
        backend = self.backends[panel.settings.backend]
        plan = plan_panel(panel, job.geom, backend.capabilities, variant=job.variant)
        out.plan = plan
        where = _where(panel, job.variant, panel.settings.variants)
        for note in plan.notes:
            out.diagnostics.append(
                Diagnostic(Severity.WARNING, "backend-limitation", f"{where}: {note}", panel.span)
            )
        if self._from_cache(out, plan):
            return out
        # another build may be painting this panel right now: wait for it, then
        # look again, so the panel is paid for once
        lock = self.cache.lock(plan.cache_key)
        if not self._acquire(lock):
            return out  # cancelled while waiting
        try:
            if self._from_cache(out, plan):
                return out
            self._paint_uncached(out, backend, plan, where)
        finally:
            lock.release()
        return out

    def _acquire(self, lock: FileLock) -> bool:
        """Take ``lock``, waiting in short steps so Ctrl-C stops the wait; False
        when the build was cancelled first."""
        while not self.cancelled.is_set():
            try:
                lock.acquire(timeout=LOCK_POLL_SECONDS)
            except FileLockTimeout:
                continue
            return True
        return False

    def _from_cache(self, out: PaintOutcome, plan: PanelPlan) -> bool:
        """Fill ``out`` from the cache if it holds good art for ``plan``; a
        damaged entry is removed (and said so): it will be painted again."""
        hit = self.cache.lookup(plan.cache_key, self.ext, plan.box_size)
        if hit.damage is not None:
            self.cache.remove(plan.cache_key, self.ext)
            panel = out.job.panel
            v = f", variant {out.job.variant}" if panel.settings.variants > 1 else ""
            out.diagnostics.append(
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
        out.art = hit.art
        out.from_cache = True
        return True

    def _paint_uncached(
        self, out: PaintOutcome, backend: Backend, plan: PanelPlan, where: str
    ) -> None:
        job, panel = out.job, out.job.panel
        started = time.monotonic()
        request = plan.request()
        attempts = 0

        gated = backend.capabilities.needs_network
        limit = self.gate.limit

        def attempt() -> PaintResult:
            nonlocal attempts
            if gated:
                self.gate.enter(backend.name)
            attempts += 1
            try:
                result = backend.paint(request)
            except BaseException as e:
                if gated:
                    self.gate.answered(backend.name, e, job)
                raise
            if gated:
                self.gate.answered(backend.name, None, job)
            return result

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(
                lambda e: isinstance(e, (RateLimited, Transient)) and not asks_too_long(e, limit)
            ),
            wait=_wait,
            sleep=self.sleep,
            reraise=True,
            stop=(
                tenacity.stop_after_attempt(MAX_ATTEMPTS)
                | tenacity.stop_after_delay(MAX_RETRY_SECONDS)
                | tenacity.stop_when_event_set(self.cancelled)
            ),
        )
        try:
            result = retrying(attempt)
        except BackendStopped:  # said once for the whole backend, by paint()
            out.attempts = attempts
            return
        except BackendError as e:
            out.attempts = attempts
            if asks_too_long(e, limit):
                return  # said once for the whole backend, by paint()
            out.diagnostics.append(
                self._failure(e, backend, where, attempts, time.monotonic() - started, panel)
            )
            return
        finally:
            if gated:
                self.gate.leave(backend.name)
        out.attempts = attempts
        try:
            done = composite(
                result,
                plan,
                init=request.init_image if request.init_image.size == plan.box_size else None,
                mask=request.mask if request.mask.size == plan.box_size else None,
            )
        except BackendError as e:
            out.diagnostics.append(
                self._failure(e, backend, where, attempts, time.monotonic() - started, panel)
            )
            return
        if done.report.mask_ignored() and not backend.capabilities.mask_guidance_only:
            out.diagnostics.append(
                Diagnostic(
                    Severity.WARNING,
                    "mask-ignored",
                    f"{where}: `{backend.name}` repainted {done.report.changed_fraction:.0%} "
                    "of the area it was asked to keep; the original pixels were pasted back",
                    panel.span,
                    hints=(
                        "check the backend's mask settings; the balloons are safe, "
                        "but the art may show seams",
                    ),
                )
            )
        art = PanelArt.from_image(done.image, self.image_format, self.quality)
        if backend.capabilities.needs_network or (backend.capabilities.cost_per_image or 0) > 0:
            raw = result.image if isinstance(result.image, bytes) else None
            if raw is not None:
                self.cache.put(plan.cache_key, "raw", raw)
        self.cache.put_art(
            plan.cache_key,
            self.ext,
            art.data,
            {
                "panel": panel.id,
                "variant": job.variant,
                "backend": backend.name,
                "model": plan.model,
                "seed": plan.seed,
                "seed_used": result.seed_used,
                "box_size": list(plan.box_size),
                "request_size": list(plan.request_size),
                "returned_size": list(done.report.returned_size),
                "changed_fraction": round(done.report.changed_fraction, 4),
            },
        )
        out.art = art

    @staticmethod
    def _failure(
        e: BackendError,
        backend: Backend,
        where: str,
        attempts: int,
        seconds: float,
        panel: ir.Panel,
    ) -> Diagnostic:
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

    # ------------------------------------------------------------ all jobs
    def paint(self, jobs: list[PaintJob]) -> list[PaintOutcome]:
        """Paint every job (cache first); outcomes in the jobs' order. On Ctrl-C no
        new attempt starts, closable backends cancel their work, and it re-raises."""
        results: list[PaintOutcome | None] = [None] * len(jobs)
        bar = tqdm(
            total=len(jobs),
            desc="painting",
            unit="panel",
            disable=not self.progress,
            file=sys.stderr,
            leave=False,
        )
        pool = cf.ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="comicc-paint")
        try:
            futures = {pool.submit(self._paint_one, job): i for i, job in enumerate(jobs)}
            for fut in cf.as_completed(futures):
                results[futures[fut]] = fut.result()
                bar.update(1)
        except BaseException:
            self.cancelled.set()
            pool.shutdown(wait=False, cancel_futures=True)
            # Ctrl-C only interrupts this thread: let backends cancel work in flight
            # (e.g. a paid prediction being polled) instead of running to its deadline
            for backend in self.backends.values():
                if isinstance(backend, Closable):
                    with contextlib.suppress(Exception):  # best effort while stopping
                        backend.close()
            raise
        finally:
            bar.close()
        pool.shutdown(wait=True)
        outcomes = [r for r in results if r is not None]
        self._say_stopped(outcomes)
        return outcomes

    def _say_stopped(self, outcomes: list[PaintOutcome]) -> None:
        """One error per backend that asked to wait too long, on the job that
        heard it: how long, and how much of the book is cached for the rerun."""
        for name, (error, job) in self.gate.stopped.items():
            mine = [o for o in outcomes if o.job.panel.settings.backend == name]
            cached = sum(1 for o in mine if o.ok)
            message, hint = stopped_message(name, error, cached, len(mine), self.gate.limit)
            target = next((o for o in mine if o.job is job), mine[0] if mine else None)
            if target is not None:
                target.diagnostics.append(
                    Diagnostic(
                        Severity.ERROR,
                        "backend-rate-limited",
                        message,
                        job.panel.span,
                        hints=(hint,),
                    )
                )
