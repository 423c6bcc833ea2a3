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
  image, PNGs, body) is made before it, by the threads that run ahead of the
  slots: one per slot (at least ``PREPARE_AHEAD``, more while worker processes
  draw; one job more than processes being drawn at once, :class:`DrawGate`),
  so answers coming back together find a request ready for every slot.
* With two or more cores, ``--jobs`` 2 or more and enough panels
  (``PROCESS_POOL_MIN_JOBS``), that CPU work runs in worker processes
  (:mod:`comicc.paint.workers`, at most one per core): a local backend's
  (the draft's) whole attempt, and a network backend's request and its
  answer's compositing, while the HTTP call stays in the thread and its slot.
  A build forks them before painting (:meth:`Painter.warm_up`): up at once.
  Otherwise they start at the first panel not in the cache, and until they
  are up the threads do the work. Either way a panel's bytes are the same.

What a job and its outcome are, and what a failed job says, live in
:mod:`comicc.paint.jobs`; compositing a backend's answer and the worker
process's whole attempt in :mod:`comicc.paint.finish`.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from comicc.backends import (
    Backend,
    BackendError,
    PaintRequest,
    PaintResult,
    RateLimited,
    Transient,
    max_retry_wait,
)
from comicc.paint.cache import ArtCache
from comicc.paint.finish import (
    CacheWrite,
    CompositeFailed,
    Painted,
    box_images,
    finish,
    paint_locally,
    store,
)
from comicc.paint.jobs import (
    PaintJob,
    PaintOutcome,
    failure,
    limitations,
    mask_ignored,
    where_painting,
)
from comicc.paint.memory import keep_freed_memory
from comicc.paint.plan import PanelPlan, plan_panel
from comicc.paint.progress import Bar, NoBar, progress_bar
from comicc.paint.ratelimit import (
    BackendStopped,
    Closable,
    DrawGate,
    EndpointSlots,
    Place,
    RateGate,
    asks_too_long,
    retry_wait,
    say_stopped,
)
from comicc.paint.workers import (
    WorkerPool,
    WorkersGone,
    body_request,
    built_in,
    finish_answer,
    prepare_body,
    prepare_here,
    warm_forkserver,
)

if TYPE_CHECKING:  # loaded by the functions using them: a build from the cache needs none
    from filelock import FileLock

MAX_ATTEMPTS = 5
MAX_RETRY_SECONDS = 300.0
LOCK_POLL_SECONDS = 0.2  # how often a build waiting for another's panel checks for Ctrl-C
PREPARE_AHEAD = 2  # at least this many threads draw the next requests while the slots are busy
AHEAD_PER_PROCESS = 2  # more threads per worker process, so none of them waits for work
PROCESS_POOL_MIN_JOBS = 24  # fewer: starting the worker processes (~1 s) costs more than it gives
DEFAULT_NETWORK_JOBS = 4  # in flight for a backend that states no concurrency of its own


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
        record: Callable[[PaintJob, PanelPlan], Mapping[str, Any]] | None = None,
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
        # more metadata for the entry of each job painted (the build's request
        # record), written with the art instead of rewriting it after
        self.record = record
        # the longest Retry-After waited out (the user's setting, never the script's)
        self.gate = RateGate(self.cancelled, max_retry_wait())
        # the requests in flight: per endpoint (the backend's concurrency) and in all
        self.slots = EndpointSlots(self.cancelled, self.workers)
        self._processes: WorkerPool | None = None  # this paint()'s, if it pays
        self._early: WorkerPool | None = None  # forked by warm_up() for the next paint()
        self._draw_gate: DrawGate | None = None  # this paint()'s, when worker processes draw
        # calls worker processes ran: draft attempts, requests drawn, answers
        # finished (for tests and the benches)
        self.painted_in_processes = 0
        # True: a panel waits for the worker processes to be up instead of doing
        # their work in its thread meanwhile (tests that count the processes' work)
        self.wait_for_processes = False

    def cancel(self) -> None:
        """Stop painting, from another thread than paint()'s (the build's, on
        Ctrl-C): no new attempt starts, the worker processes drop what is queued
        for them, and paint() returns once the attempts begun are done."""
        self.cancelled.set()
        for pool in (self._processes, self._early):
            if pool is not None:
                pool.shutdown()

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

    def pool_size(self, backends: Sequence[str]) -> int:
        """How many worker processes paint() gets for jobs of these ``backends``
        (one name per job): 0 when they would not pay (one core, one job at a
        time, a short book)."""
        cores = os.cpu_count() or 1
        offloaded = sum(1 for name in backends if self._offloads(self.backends[name]))
        if cores < 2 or self.workers < 2 or offloaded < PROCESS_POOL_MIN_JOBS:
            return 0
        return min(self.workers, cores)

    def warm_up(self, expect: Sequence[str]) -> None:
        """Before :meth:`paint` of jobs of these backends (one name per job): its
        worker processes forked now, when this process may fork (then they are up
        at once, with nothing to import, and this process may no longer fork);
        else what they are forked from started, with no thread."""
        size = self.pool_size(expect)
        if not size:
            return  # painted in this process
        # what the first jobs load: here, not while the layout holds the interpreter
        import filelock  # noqa: F401
        import tenacity  # noqa: F401

        pool = WorkerPool(size)
        if pool.fork_now():
            self._early = pool
        else:
            warm_forkserver()

    @staticmethod
    def _offloads(backend: Backend) -> bool:
        """Whether ``backend``'s CPU work can run in a worker process: a network
        one's answers (and its requests, if it says how, see :meth:`_request`),
        a built-in local one's whole attempt (a plugin's class may not be
        importable there, so it paints in its thread)."""
        if backend.capabilities.needs_network:
            return True
        return built_in(backend)

    def _workers_up(self, backend: Backend) -> WorkerPool | None:
        """The worker processes once they are up, if ``backend`` uses them; the
        first call starts them (in the background)."""
        pool = self._processes
        if pool is None or not self._offloads(backend):
            return None
        pool.start()
        if self.wait_for_processes:
            pool.wait_until_up()
        return pool if pool.ready() else None

    # ------------------------------------------------------------ one job
    def _paint_one(self, job: PaintJob) -> PaintOutcome:
        panel = job.panel
        out = PaintOutcome(job)
        if self.cancelled.is_set():
            return out
        backend = self.backends[panel.settings.backend]
        gate = self._draw_gate if backend.capabilities.needs_network else None
        place = gate.take() if gate is not None else Place(None)
        if place is None:
            return out  # cancelled while waiting
        try:
            return self._paint_placed(out, backend, place)
        finally:
            place.release()

    def _paint_placed(self, out: PaintOutcome, backend: Backend, place: Place) -> PaintOutcome:
        job, panel = out.job, out.job.panel
        plan = job.plan or plan_panel(panel, job.geom, backend.capabilities, variant=job.variant)
        out.plan = plan
        where = where_painting(panel, job.variant, panel.settings.variants)
        out.diagnostics.extend(limitations(plan, where, panel))
        if out.take_cached(self.cache, self.ext):
            return out
        # another build may be painting this panel right now: wait for it, then
        # look again, so the panel is paid for once
        lock = self.cache.lock(plan.cache_key)
        if not self._acquire(lock):
            return out  # cancelled while waiting
        try:
            if out.take_cached(self.cache, self.ext):
                return out
            self._paint_uncached(out, backend, plan, where, place)
        finally:
            lock.release()
        return out

    def _acquire(self, lock: FileLock) -> bool:
        """Take ``lock``, waiting in short steps so Ctrl-C stops the wait; False
        when the build was cancelled first."""
        from filelock import Timeout as FileLockTimeout

        while not self.cancelled.is_set():
            try:
                lock.acquire(timeout=LOCK_POLL_SECONDS)
            except FileLockTimeout:
                continue
            return True
        return False

    def _paint_uncached(
        self, out: PaintOutcome, backend: Backend, plan: PanelPlan, where: str, place: Place
    ) -> None:
        job, panel = out.job, out.job.panel
        keep_freed_memory()  # before the first panel painted here (cached art needs none)
        started = time.monotonic()
        attempts = 0
        workers = self._workers_up(backend)
        in_process = workers is not None and not backend.capabilities.needs_network
        # drawn before any slot is taken: a slot never waits on comicc's drawing
        request, drawn, at = (
            (None, False, None) if in_process else self._request(backend, plan, workers)
        )
        place.release()  # drawn: the next job may start
        to = self._cache_write(backend, job, plan)

        gated = backend.capabilities.needs_network
        limit = self.gate.limit
        endpoints = backend.endpoints()
        concurrency = backend.capabilities.concurrency

        def attempt() -> PaintResult | Painted | CompositeFailed:
            nonlocal attempts
            if in_process:
                attempts += 1
                return self._paint_in_process(backend, plan, to)
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

        import tenacity

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(
                lambda e: isinstance(e, (RateLimited, Transient)) and not asks_too_long(e, limit)
            ),
            wait=retry_wait,
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
            assert request is not None
            at_box = request if drawn else None
            answer = self._finish(backend, answer, plan, at_box, to, at)
        if isinstance(answer, CompositeFailed):
            out.diagnostics.append(
                failure(answer.error, backend, where, attempts, time.monotonic() - started, panel)
            )
            return
        done = answer
        if done.report.mask_ignored() and not backend.capabilities.mask_guidance_only:
            out.diagnostics.append(mask_ignored(backend.name, where, done.report, panel))
        if not done.stored:
            store(done, plan, to)
        out.art = done.art

    def _cache_write(self, backend: Backend, job: PaintJob, plan: PanelPlan) -> CacheWrite:
        """Where ``backend``'s art for ``job`` goes (its own bytes too for a network
        or paid one; the record, if the build keeps one)."""
        caps = backend.capabilities
        paid = (caps.cost_per_image or 0) > 0
        extra = dict(self.record(job, plan)) if self.record is not None else {}
        return CacheWrite(
            self.cache, self.ext, backend.name, caps.needs_network or paid, extra, durable=paid
        )

    def _request(
        self, backend: Backend, plan: PanelPlan, workers: WorkerPool | None
    ) -> tuple[PaintRequest, bool, int | None]:
        """``plan``'s request, prepared by a network backend (in a worker process
        when they are up, else here), whether its images were drawn here
        (False: they are the pixel-less stand-ins of :func:`body_request`), and the
        worker that drew them (its answer is finished there, with them)."""
        if not backend.capabilities.needs_network:
            return plan.request(), True, None
        settings = backend.worker_settings()
        if workers is not None and settings is not None and built_in(backend):
            try:
                body, at = workers.call(prepare_body, type(backend), settings, plan)
                return body_request(plan, body), False, at
            except (WorkersGone, BackendError):
                pass  # drawn here instead: a bad setting fails in the attempt, as always
        return prepare_here(backend, plan), True, None

    def _finish(
        self,
        backend: Backend,
        answer: PaintResult,
        plan: PanelPlan,
        request: PaintRequest | None,
        to: CacheWrite,
        at: int | None = None,
    ) -> Painted | CompositeFailed:
        """``answer`` composited, encoded and stored in a worker process when they
        are up and it is encoded bytes (worker ``at``, which drew the request,
        if it is still there); else composited and encoded here (with
        ``request``'s images when they were drawn here, else drawn anew from the
        plan)."""
        workers = self._workers_up(backend)
        raw = answer.image
        if workers is not None and isinstance(raw, bytes):
            with contextlib.suppress(WorkersGone):
                args = (plan, raw, answer.seed_used, self.image_format, self.quality, to)
                return workers.call(finish_answer, *args, worker=at)[0]
        try:
            return finish(answer, plan, box_images(plan, request), self.image_format, self.quality)
        except BackendError as e:
            return CompositeFailed(e)

    def _paint_in_process(
        self, backend: Backend, plan: PanelPlan, to: CacheWrite
    ) -> Painted | CompositeFailed:
        """:func:`paint_locally` in a worker process (in this thread if the pool broke)."""
        pool = self._processes
        if pool is not None:
            try:
                return pool.run(paint_locally, backend, plan, self.image_format, self.quality, to)
            except WorkersGone:
                if self.cancelled.is_set():
                    raise BackendStopped(backend.name) from None
        return paint_locally(backend, plan, self.image_format, self.quality)

    # ------------------------------------------------------------ all jobs
    def paint(
        self, jobs: Iterable[PaintJob], *, expect: Sequence[str] | None = None
    ) -> list[PaintOutcome]:
        """Paint every job (cache first); outcomes in the jobs' order. On Ctrl-C no
        new attempt starts, closable backends cancel their work, and it re-raises.
        ``expect``: ``jobs`` is a stream whose jobs come as their pages are laid
        out (iterating it may wait; it ends early when the build stops), and this
        is the backend of each job it gives, for the count and the worker
        processes."""
        if expect is None:
            jobs = list(jobs)
            expect = [j.panel.settings.backend for j in jobs]
        results: list[PaintOutcome | None] = [None] * len(expect)
        bar: Bar = progress_bar(len(expect)) if self.progress else NoBar()
        network = any(b.capabilities.needs_network for b in self.backends.values())
        for b in (b for b in self.backends.values() if not b.capabilities.rate_limited):
            self.gate.answered(b.name, None, None)  # a server that queues (no 429s): open now
        size = self.pool_size(expect)
        early, self._early = self._early, None
        if early is not None and early.size != size:  # not the jobs it was forked for
            early.shutdown()
            early = None
        self._processes = early or (WorkerPool(size) if size else None)
        self._draw_gate = DrawGate(self.cancelled, size + 1) if size and network else None
        # threads past the slots: they draw the next requests (network) and keep
        # the worker processes fed while others write to the cache
        ahead = (max(PREPARE_AHEAD, self.workers) if network else 0) + AHEAD_PER_PROCESS * size
        threads = self.workers + ahead
        pool = cf.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="comicc-paint")
        counting = threading.Lock()
        all_painted = False

        def counted(_: cf.Future[PaintOutcome]) -> None:  # as each ends, a stream open or not
            with counting:
                bar.update(1)

        try:
            futures: dict[cf.Future[PaintOutcome], int] = {}
            for i, job in enumerate(jobs):  # a stream's: as its pages are laid out
                futures[fut := pool.submit(self._paint_one, job)] = i
                fut.add_done_callback(counted)
            for fut in cf.as_completed(futures):
                results[futures[fut]] = fut.result()
            all_painted = True
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
                self.painted_in_processes += self._processes.runs
                # all painted: idle, they leave by themselves while the build goes on
                self._processes.shutdown(wait=not all_painted)
                self._processes = None
        pool.shutdown(wait=True)
        outcomes = [r for r in results if r is not None]
        say_stopped(self.gate, outcomes)
        return outcomes
