"""The worker processes: painting's CPU work off the build's threads.

A build's threads share one interpreter lock, so drawing, encoding and
compositing in them is done one panel at a time however many cores there
are. :class:`WorkerPool` holds processes (forkserver: the build has threads
running, which ``fork()`` must not copy) that do that work, one per core at
most, while the threads keep what needs the build's state: the cache, the
per-panel file locks, the request slots, the HTTP calls, the retries and the
progress.

* A local backend (the draft) runs a whole attempt in a worker:
  :func:`comicc.paint.finish.paint_locally`.
* A network backend that says how to rebuild it (:meth:`Backend.worker_settings`)
  has its request drawn and encoded in a worker (:func:`prepare_body`: mask,
  init image, the PNGs and the body); only the body comes back, the pixels
  stay there. The thread asks the service with it, and the answer goes back to
  a worker to be decoded, composited and encoded (:func:`finish_answer`), the
  box-size init image and mask drawn there again from the plan (the same
  pixels the request was made of).

A build forks the processes from itself before its threads start
(:meth:`WorkerPool.fork_now`): they have what it has loaded, so they are up
at once. Where it may not fork (a thread is running: the studio), they start
in the background from a forkserver at the first panel not in the cache
(about a second, more on a loaded machine); until they are up the threads do
the work themselves, so a small or cached book pays nothing for them. Either
way a panel's bytes are the same. Nothing a worker is sent or answers holds a
key: a backend is rebuilt there from its settings, and its keys are only read
where requests are made. Once up, each worker loads the image codecs
(:func:`load_codecs`) while the build starts its threads, not in its first
answer.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import multiprocessing
import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from PIL import Image

from comicc.backends import Backend, BackendError, PaintRequest, PaintResult
from comicc.forking import fork_safe
from comicc.paint.finish import (
    CacheWrite,
    CompositeFailed,
    Painted,
    box_images,
    finish,
    ignore_interrupts,
    store,
)
from comicc.paint.memory import keep_freed_memory
from comicc.paint.plan import PanelPlan

T = TypeVar("T")
# imported once by the forkserver, not by every worker of every paint() (requests
# for a network backend's class, ~0.1 s; the PNG and JPEG codecs)
PRELOAD = [
    "comicc.paint.scheduler",
    "comicc.backends.http",
    "PIL.PngImagePlugin",
    "PIL.JpegImagePlugin",
]


def built_in(backend: Backend) -> bool:
    """Whether ``backend`` is one of comicc's own: its class can be imported in a
    worker process (a plugin's may not)."""
    return type(backend).__module__.startswith("comicc.")


class WorkersGone(Exception):
    """The worker processes are shut down or broke: do the work in this thread."""


def _worker_starts() -> None:
    """Each worker process as it starts: Ctrl-C left to the build, freed image
    memory kept for the next panel."""
    ignore_interrupts()
    keep_freed_memory()


def _started() -> None:
    """Nothing: submitted once per worker process so that it starts at once."""
    return None


def load_codecs() -> None:
    """In a worker, before its first panel: the image formats Pillow registers
    the first time an image is opened or saved (``Image.preinit``: BMP, GIF,
    JPEG, PNG, PPM; about 10 ms of imports), which the build itself may not
    have loaded. Forked workers would otherwise import them in their first
    answer, when the first round of answers comes back together."""
    Image.preinit()


def warm_forkserver() -> None:
    """Start the forkserver the worker processes are forked from, if it is not
    running: a few milliseconds here, its imports (:data:`PRELOAD`) in that
    process, in the background. Starts no thread, so this process may still
    fork (the layout's workers). From the main thread it starts with Ctrl-C
    ignored, so a Ctrl-C during its imports prints no traceback from it (it
    ignores Ctrl-C once they are done, and so do the workers); a Ctrl-C
    meanwhile is held for this process (blocked, not ignored). A forkserver
    that cannot start is left to :meth:`WorkerPool.start`."""
    from multiprocessing import forkserver

    try:
        multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
        if threading.current_thread() is not threading.main_thread():
            forkserver.ensure_running()  # signal handlers are the main thread's to set
            return
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        handler = signal.signal(signal.SIGINT, signal.SIG_IGN)  # what an exec keeps
        try:
            forkserver.ensure_running()
        finally:
            signal.signal(signal.SIGINT, handler)
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    except (OSError, RuntimeError, ValueError):
        return


class WorkerPool:
    """Up to ``size`` worker processes, started in the background by :meth:`start`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._executor: cf.ProcessPoolExecutor | None = None
        self._warming: list[cf.Future[None]] = []
        self._starter: threading.Thread | None = None
        self._closed = False
        self._forked = False  # started by fork_now()
        self._up = threading.Event()  # every worker answered its warm-up (or it failed)
        self.runs = 0  # calls a worker ran (for tests and the benches)

    def start(self) -> None:
        """Start the processes in a background thread (once); returns at once."""
        if self._starter is not None or self._forked:  # the common case, without the lock
            return
        with self._lock:
            if self._starter is not None or self._forked or self._closed:
                return
            self._starter = threading.Thread(
                target=self._start, name="comicc-workers-start", daemon=False
            )
            self._starter.start()

    def fork_now(self) -> bool:
        """Fork the processes now, from this process as it is, if that is safe
        (:func:`~comicc.forking.fork_safe`: its main thread alone, so before the
        build's threads start): they have every module it has loaded, so they are
        up at once, with nothing to import (the forkserver's imports cost about a
        third of a second of CPU). Ctrl-C is held meanwhile (the workers keep it
        held, and ignore it). False, and nothing started, when it may not fork
        (:meth:`start` then starts them from the forkserver)."""
        with self._lock:
            if self._starter is not None or self._forked or self._closed or not fork_safe():
                return False
            held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            try:
                executor = cf.ProcessPoolExecutor(
                    max_workers=self.size,
                    mp_context=multiprocessing.get_context("fork"),
                    initializer=_worker_starts,
                )
                # the first submit forks every worker (then starts the pool's threads)
                warming = [executor.submit(_started) for _ in range(self.size)]
            except (OSError, RuntimeError):
                return False
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
            self._executor, self._warming, self._forked = executor, warming, True
        cf.wait(warming)  # a few milliseconds: nothing to import
        self._up.set()
        with contextlib.suppress(RuntimeError):  # shut down meanwhile
            for _ in range(self.size):  # one each, while this process starts its threads
                executor.submit(load_codecs)
        return True

    def _start(self) -> None:
        warm_forkserver()  # with its preload; from this thread, Ctrl-C is not held
        try:
            context = multiprocessing.get_context("forkserver")
            executor = cf.ProcessPoolExecutor(
                max_workers=self.size, mp_context=context, initializer=_worker_starts
            )
            # every worker starts now, not when the threads are done with theirs
            warming = [executor.submit(_started) for _ in range(self.size)]
        except (OSError, RuntimeError):
            self._up.set()  # no processes: the threads do the work
            return
        with self._lock:
            closed = self._closed
            if not closed:
                self._executor, self._warming = executor, warming
        if closed:  # stopped while starting (Ctrl-C): end them at once
            executor.shutdown(wait=True, cancel_futures=True)
            self._up.set()
            return
        cf.wait(warming)
        self._up.set()
        with contextlib.suppress(RuntimeError):  # shut down meanwhile
            for _ in range(self.size):
                executor.submit(load_codecs)

    def ready(self) -> bool:
        """True when every worker is up (never before :meth:`start`)."""
        if not self._up.is_set():
            return False
        return self._executor is not None and all(
            f.done() and f.exception() is None for f in self._warming
        )

    def wait_until_up(self) -> bool:
        """Wait for the processes to be up (after :meth:`start`); whether they are."""
        if self._starter is None and not self._forked:
            return False
        self._up.wait()
        return self.ready()

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker; :class:`WorkersGone` if there is none (shut
        down, broken, never started). What ``fn`` raises is raised here."""
        executor = self._executor
        if executor is None:
            raise WorkersGone
        try:
            future = executor.submit(fn, *args)
            result = future.result()
        except (BrokenProcessPool, RuntimeError, cf.CancelledError):
            raise WorkersGone from None
        with self._lock:
            self.runs += 1
        return result

    def shutdown(self) -> None:
        """End the processes, what is queued for them dropped (Ctrl-C); returns
        once the calls they run are done (a panel's work each: the build waits
        for those anyway) and they have ended. Never left to end in the
        background: the interpreter's exit would race the pool's own thread
        (Python 3.11 then prints a "Bad file descriptor" traceback from it)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
            starter = self._starter
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        if starter is not None and starter is not threading.current_thread():
            starter.join()


# ------------------------------------------------------------ in the workers
_BACKENDS: dict[tuple[type[Backend], tuple[tuple[str, str], ...]], Backend] = {}


def _backend(kind: type[Backend], settings: Mapping[str, str]) -> Backend:
    """``kind`` built from ``settings`` once per worker process."""
    key = (kind, tuple(sorted(settings.items())))
    backend = _BACKENDS.get(key)
    if backend is None:
        backend = _BACKENDS[key] = kind(**settings)
    return backend


def prepare_body(kind: type[Backend], settings: Mapping[str, str], plan: PanelPlan) -> Any:
    """In a worker: ``plan``'s request drawn and prepared by the backend; only what
    :meth:`Backend.prepare` made of it (the body) goes back."""
    return _backend(kind, settings).prepare(plan.request()).prepared


def finish_answer(
    plan: PanelPlan,
    image: bytes,
    seed_used: int | None,
    image_format: str,
    quality: int,
    to: CacheWrite,
) -> Painted | CompositeFailed:
    """In a worker: the service's ``image`` composited into the box, encoded and
    stored in the cache (the file writes are CPU work too, and would hold the
    build's threads)."""
    try:
        done = finish(
            PaintResult(image=image, seed_used=seed_used),
            plan,
            box_images(plan),
            image_format,
            quality,
        )
    except BackendError as e:
        return CompositeFailed(e)
    return store(done, plan, to)


_DRAWING = threading.Lock()  # requests drawn in the build's threads: one at a time


def prepare_here(backend: Backend, plan: PanelPlan) -> PaintRequest:
    """In the thread (no worker process is up): ``plan``'s request drawn and
    prepared by ``backend``, a bad setting or image failing the same way in the
    attempt, as always. One thread draws at a time: under one interpreter lock N
    requests drawn at once take as long in all, and the first is ready only with
    the last (the first requests of a build would wait for the eighth)."""
    with _DRAWING:
        request = plan.request()
        with contextlib.suppress(BackendError):
            request = backend.prepare(request)
    return request


def body_request(plan: PanelPlan, body: Any) -> PaintRequest:
    """The request a worker prepared, in the thread: ``body`` is what is sent.
    Its images are stand-ins of the right size, never read (not even
    initialised): the pixels were drawn, encoded and put in the body in the
    worker, and are never drawn here."""
    size = plan.request_size
    request = plan.request(images=(Image.new("RGB", size, None), Image.new("L", size, None)))
    return dataclasses.replace(request, prepared=body)
