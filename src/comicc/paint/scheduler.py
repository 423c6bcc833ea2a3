"""Painting every panel variant: cache first, bounded concurrency, retries,
progress, cancellation.

Retries, rate limiting and caching live here, not in the backends: a backend
raises a typed error (``RateLimited`` with ``retry_after``, ``Transient``,
``Rejected``, ``Unavailable``) and the scheduler decides. tenacity does the
retrying (waiting what the service asked for on 429s, exponential backoff
with jitter otherwise); tqdm draws the progress bar on a terminal.

Where the work runs:

* ``--jobs`` (``workers``) caps the requests in flight; each network backend's
  endpoints (servers) take at most ``capabilities.concurrency`` of them each
  (:class:`EndpointSlots`), the least busy endpoint first.
* A slot is held only while the backend is asked: the request (mask, init
  image, their PNGs, and the box-size pair for compositing: the top-left part
  of a padded request, drawn again only for a scaled one) is made before it,
  by one of the extra threads that run ahead of the slots (``PREPARE_AHEAD``),
  and compositing and encoding happen after it. Encoding, decoding, resizing
  and compositing run in Pillow's C code, which lets other threads run.
* A local backend (the draft) is CPU work only: with two or more cores and
  enough panels, each panel is painted, composited and encoded in a worker
  process (``--jobs`` processes, at most one per core); threads keep the cache,
  the per-panel file locks, the retries and the progress, as before. The
  processes are started at the first panel not in the cache; until they are
  up (about a second) the threads paint in this process, so a small book pays
  nothing for them. Either way a panel's bytes are the same.

What a job and its outcome are, and what a failed job says, live in
:mod:`comicc.paint.jobs`; compositing a backend's answer and the worker
process's whole attempt in :mod:`comicc.paint.finish`.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
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
    Transient,
    max_retry_wait,
)
from comicc.diagnostics import Diagnostic, Severity
from comicc.paint.cache import ArtCache
from comicc.paint.finish import (
    CompositeFailed,
    Painted,
    box_images,
    finish,
    ignore_interrupts,
    paint_locally,
    warm_up,
)
from comicc.paint.jobs import PaintJob, PaintOutcome, failure, where_painting
from comicc.paint.plan import PanelPlan, plan_panel
from comicc.paint.ratelimit import (
    BackendStopped,
    EndpointSlots,
    RateGate,
    asks_too_long,
    stopped_message,
)

MAX_ATTEMPTS = 5
MAX_RETRY_SECONDS = 300.0
LOCK_POLL_SECONDS = 0.2  # how often a build waiting for another's panel checks for Ctrl-C
PREPARE_AHEAD = 2  # threads drawing the next requests while the slots are busy
PROCESS_POOL_MIN_JOBS = 24  # fewer: starting the worker processes (~1 s) costs more than it gives
DEFAULT_NETWORK_JOBS = 4  # in flight for a backend that states no concurrency of its own


@runtime_checkable
class Closable(Protocol):
    """A backend holding work in flight (a paid prediction being polled) that
    it can cancel when the build stops."""

    def close(self) -> None: ...


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
        # the requests in flight: per endpoint (the backend's concurrency) and in all
        self.slots = EndpointSlots(self.cancelled, self.workers)
        self._processes: cf.ProcessPoolExecutor | None = None
        self._processes_lock = threading.Lock()
        self.painted_in_processes = 0  # attempts a worker process ran (for tests, bench)
        # True: a local panel waits for the worker processes to be up instead of
        # painting in its thread meanwhile (tests that count the processes' work)
        self.wait_for_processes = False
        self._local_jobs = 0  # jobs of local backends in this paint()
        self._warming: list[cf.Future[None]] = []  # one no-op per worker process

    def _sleep_unless_cancelled(self, seconds: float) -> None:
        self.cancelled.wait(seconds)

    def _default_workers(self) -> int:
        """Local backends: one job per core (at most 4). Network backends: what their
        endpoints take together (``concurrency`` x servers; 4 for a backend that
        states no concurrency)."""
        local = all(not b.capabilities.needs_network for b in self.backends.values())
        if local:
            return max(1, min(4, os.cpu_count() or 1))
        total = 0
        for b in self.backends.values():
            if not b.capabilities.needs_network:
                continue
            limit = b.capabilities.concurrency
            total += DEFAULT_NETWORK_JOBS if limit is None else limit * len(b.endpoints())
        return max(1, total)

    def _process_pool(self) -> cf.ProcessPoolExecutor | None:
        """The worker processes for local backends, started at the first panel
        that needs painting; None when they would not pay: one core, one job at
        a time, or a short book."""
        cores = os.cpu_count() or 1
        if cores < 2 or self.workers < 2 or self._local_jobs < PROCESS_POOL_MIN_JOBS:
            return None
        with self._processes_lock:
            if self._processes is None and not self.cancelled.is_set():
                # forkserver: the build has threads running, which fork() must not copy
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["comicc.paint.scheduler"])
                size = min(self.workers, cores)
                self._processes = cf.ProcessPoolExecutor(
                    max_workers=size, mp_context=context, initializer=ignore_interrupts
                )
                # every worker starts now, not when the threads are done with theirs
                self._warming = [self._processes.submit(warm_up) for _ in range(size)]
            return self._processes

    def _in_process(self, backend: Backend) -> bool:
        """A built-in local backend paints in a worker process once they are up
        (a plugin's class may not be importable there, so it paints in its thread)."""
        if backend.capabilities.needs_network or not type(backend).__module__.startswith("comicc."):
            return False
        if self._process_pool() is None:
            return False
        if self.wait_for_processes:
            cf.wait(self._warming)
        return all(f.done() for f in self._warming)

    # ------------------------------------------------------------ one job
    def _paint_one(self, job: PaintJob) -> PaintOutcome:
        panel = job.panel
        out = PaintOutcome(job)
        if self.cancelled.is_set():
            return out
        backend = self.backends[panel.settings.backend]
        plan = plan_panel(panel, job.geom, backend.capabilities, variant=job.variant)
        out.plan = plan
        where = where_painting(panel, job.variant, panel.settings.variants)
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
        attempts = 0
        in_process = self._in_process(backend)
        # drawn here, before any slot is taken: a slot never waits on comicc's drawing
        request = None if in_process else plan.request()
        if request is not None and backend.capabilities.needs_network:
            # a bad setting or image fails the same way in the attempt, said as before
            with contextlib.suppress(BackendError):
                request = backend.prepare(request)
        at_box = None if request is None else box_images(plan, request)

        gated = backend.capabilities.needs_network
        limit = self.gate.limit
        endpoints = backend.endpoints()
        concurrency = backend.capabilities.concurrency

        def attempt() -> PaintResult | Painted | CompositeFailed:
            nonlocal attempts
            if in_process:
                attempts += 1
                return self._paint_in_process(backend, plan)
            assert request is not None
            if not gated:
                attempts += 1
                return backend.paint(request)
            self.gate.enter(backend.name)
            endpoint = self.slots.acquire(backend.name, endpoints, concurrency)
            attempts += 1
            try:
                result = backend.paint_on(request, endpoint)
            except BaseException as e:
                self.gate.answered(backend.name, e, job)
                raise
            finally:
                self.slots.release(backend.name, endpoint)
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
            answer = retrying(attempt)
        except BackendStopped:  # said once for the whole backend, by paint()
            out.attempts = attempts
            return
        except BackendError as e:
            out.attempts = attempts
            if asks_too_long(e, limit):
                return  # said once for the whole backend, by paint()
            out.diagnostics.append(
                failure(e, backend, where, attempts, time.monotonic() - started, panel)
            )
            return
        finally:
            if gated:
                self.gate.leave(backend.name)
        out.attempts = attempts
        if isinstance(answer, PaintResult):
            assert at_box is not None
            try:
                answer = finish(answer, plan, at_box, self.image_format, self.quality)
            except BackendError as e:
                answer = CompositeFailed(e)
        if isinstance(answer, CompositeFailed):
            out.diagnostics.append(
                failure(answer.error, backend, where, attempts, time.monotonic() - started, panel)
            )
            return
        done = answer
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
        art = done.art
        if backend.capabilities.needs_network or (backend.capabilities.cost_per_image or 0) > 0:
            if done.raw is not None:
                self.cache.put(plan.cache_key, "raw", done.raw)
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
                "seed_used": done.seed_used,
                "box_size": list(plan.box_size),
                "request_size": list(plan.request_size),
                "returned_size": list(done.report.returned_size),
                "changed_fraction": round(done.report.changed_fraction, 4),
            },
        )
        out.art = art

    def _paint_in_process(self, backend: Backend, plan: PanelPlan) -> Painted | CompositeFailed:
        """:func:`paint_locally` in a worker process (in this thread if the pool broke)."""
        pool = self._processes
        if pool is not None:
            try:
                painted = pool.submit(
                    paint_locally, backend, plan, self.image_format, self.quality
                ).result()
                with self._processes_lock:
                    self.painted_in_processes += 1
                return painted
            except (BrokenProcessPool, RuntimeError):
                if self.cancelled.is_set():
                    raise BackendStopped(backend.name) from None
        return paint_locally(backend, plan, self.image_format, self.quality)

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
        network = any(b.capabilities.needs_network for b in self.backends.values())
        local = [
            j
            for j in jobs
            if not self.backends[j.panel.settings.backend].capabilities.needs_network
        ]
        self._local_jobs = len(local)
        threads = self.workers + (PREPARE_AHEAD if network else 0)
        pool = cf.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="comicc-paint")
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
            if self._processes is not None:
                self._processes.shutdown(wait=not self.cancelled.is_set(), cancel_futures=True)
                self._processes = None
                self._warming = []
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
