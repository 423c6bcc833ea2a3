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
  stay there, kept for the answer. The thread asks the service with it, and
  the answer goes back to that worker to be decoded, composited and encoded
  (:func:`finish_answer`) with the init image and mask the request was drawn
  with: each panel's images are drawn once (drawn again from the plan, the
  same pixels, only where that worker is gone, dropped them for memory, or was
  busy when the answer came and another was free).

Each worker has its own pipe, and a call runs in the thread that makes it
(its arguments pickled there, the answer read there): no thread of the pool's
own hands calls on, and a call can name its worker. A worker leaves when its
pipe closes, so it never outlives the build, even one that was killed.

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

import contextlib
import dataclasses
import gc
import multiprocessing
import os
import signal
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, ForkServerContext
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from PIL import Image

from comicc.backends import Backend, BackendError, PaintRequest, PaintResult
from comicc.forking import fork_safe
from comicc.images import pixelless
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
END_SECONDS = 10.0  # a worker asked to end is killed past this (it never takes so long)
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


def _serve(conn: Connection, inherited: list[int]) -> None:
    """A worker's life: it says it is up, loads the codecs while the build goes
    on, then runs the calls that come down its pipe, one at a time, until the
    pipe is closed (the pool shut down, or the build gone: a worker never
    outlives it). ``inherited``: the build's ends of the pipes (this worker's and
    those of the workers forked before it), closed here, so that the build closing
    its end is seen."""
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    _worker_starts()
    try:
        conn.send(None)
        load_codecs()
        while True:
            try:
                call = conn.recv()
            except (EOFError, OSError):
                return
            if call is None:
                return
            fn, args = call
            try:
                answer: tuple[bool, Any] = (True, fn(*args))
            except BaseException as e:  # handed to the caller, as a call of its own would raise
                answer = (False, e)
            try:
                conn.send(answer)
            except (EOFError, OSError):
                return
            except Exception as e:  # a result or error that does not pickle: a bug
                conn.send((False, RuntimeError(f"a worker's answer could not be sent: {e!r}")))
    finally:
        conn.close()


class _Worker:
    """One worker process, the build's end of its pipe, and whether a call holds it."""

    def __init__(self, index: int, process: BaseProcess, conn: Connection) -> None:
        self.index, self.process, self.conn = index, process, conn
        self.busy = False


def _end(workers: list[_Worker], wait: bool = True) -> None:
    """Close the pipes of ``workers`` (they leave their loops, together), then
    (``wait``) wait for each to exit. Without waiting they exit by themselves
    (none is in a call): multiprocessing reaps them when a process is next
    started, or at exit."""
    for w in workers:
        with contextlib.suppress(OSError):
            w.conn.close()
    if not wait:
        return
    for w in workers:
        w.process.join(END_SECONDS)
        if w.process.is_alive():  # stuck in a call past its time: it is the build's to end
            w.process.kill()
            w.process.join()


def _spawn(context: ForkContext | ForkServerContext, size: int) -> list[_Worker]:
    """``size`` worker processes started from ``context``, each with its own pipe,
    up (each said so) or none at all (an exception)."""
    workers: list[_Worker] = []
    forked = context.get_start_method() == "fork"
    try:
        for index in range(size):
            mine, theirs = context.Pipe(duplex=True)
            # a forked worker has a copy of each of the build's ends: its own pipe's
            # and those of the workers before it (then none of them would see the
            # build close its end)
            inherited = [c.fileno() for c in (*(w.conn for w in workers), mine)] if forked else []
            process = context.Process(
                target=_serve, args=(theirs, inherited), name=f"comicc-worker-{index}", daemon=True
            )
            process.start()
            theirs.close()
            workers.append(_Worker(index, process, mine))
        for w in workers:
            w.conn.recv()  # its "up" (EOFError: it died starting)
    except BaseException:
        _end(workers)
        raise
    return workers


class WorkerPool:
    """Up to ``size`` worker processes, each with its own pipe: forked now by
    :meth:`fork_now`, or started in the background by :meth:`start`. A call
    runs in the calling thread (its arguments and answer go through a pipe, no
    thread of the pool's own), in any free worker or in the one named (where
    the request it finishes was drawn: :func:`prepare_body`)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._cond = threading.Condition()
        self._workers: list[_Worker] = []
        self._wanted = [0] * size  # calls waiting for that very worker (served first)
        self._starter: threading.Thread | None = None
        self._closed = False
        self._forked = False  # started by fork_now()
        self._up = threading.Event()  # every worker is up (or they could not start)
        self.runs = 0  # calls a worker ran (for tests and the benches)

    def start(self) -> None:
        """Start the processes in a background thread (once); returns at once."""
        if self._starter is not None or self._forked:  # the common case, without the lock
            return
        with self._cond:
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
        with self._cond:
            if self._starter is not None or self._forked or self._closed or not fork_safe():
                return False
            held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            # the build's objects frozen for the fork: a worker's collector never
            # goes through them (each pass would write to every one, copying the
            # build's memory page by page); unfrozen here once the workers are up
            gc.freeze()
            try:
                self._workers = _spawn(multiprocessing.get_context("fork"), self.size)
            except (OSError, RuntimeError, EOFError):
                return False
            finally:
                gc.unfreeze()
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
            self._forked = True
        self._up.set()
        return True

    def _start(self) -> None:
        warm_forkserver()  # with its preload; from this thread, Ctrl-C is not held
        try:
            workers = _spawn(multiprocessing.get_context("forkserver"), self.size)
        except (OSError, RuntimeError, EOFError, ValueError):
            self._up.set()  # no processes: the threads do the work
            return
        with self._cond:
            closed = self._closed
            if not closed:
                self._workers = workers
        if closed:  # stopped while starting (Ctrl-C): end them at once
            _end(workers)
        self._up.set()

    def ready(self) -> bool:
        """True when every worker is up (never before :meth:`start`)."""
        return self._up.is_set() and bool(self._workers)

    def wait_until_up(self) -> bool:
        """Wait for the processes to be up (after :meth:`start`); whether they are."""
        if self._starter is None and not self._forked:
            return False
        self._up.wait()
        return self.ready()

    def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a free worker; :class:`WorkersGone` if there is none
        (shut down, broken, never started). What ``fn`` raises is raised here."""
        return self.call(fn, *args)[0]

    def call(self, fn: Callable[..., T], *args: Any, worker: int | None = None) -> tuple[T, int]:
        """:meth:`run` in worker number ``worker`` (any free one if None or if
        that one is gone), and the number of the worker that ran it."""
        w = self._take(worker)
        try:
            w.conn.send((fn, args))
            ok, value = w.conn.recv()
        except (EOFError, OSError):  # it died (killed, out of memory)
            self._lose(w)
            raise WorkersGone from None
        except BaseException:  # not pickled, or this thread interrupted mid-call
            self._lose(w)
            raise
        self._give(w)
        if not ok:
            raise value
        return value, w.index

    def _take(self, worker: int | None) -> _Worker:
        """A worker for a call: number ``worker`` when it is free (it serves the
        calls that name it first), else any other that is free rather than none
        (the call then does without what that one kept: never a worker idle
        while a call waits)."""
        with self._cond:
            mine = next((w for w in self._workers if w.index == worker), None)
            if mine is not None:
                self._wanted[mine.index] += 1
            try:
                while True:
                    if self._closed or not self._workers:
                        raise WorkersGone
                    if mine is not None and not mine.busy and mine in self._workers:
                        mine.busy = True
                        return mine
                    for w in self._workers:
                        if not w.busy and not self._wanted[w.index]:
                            w.busy = True
                            return w
                    self._cond.wait()
            finally:
                if mine is not None:
                    self._wanted[mine.index] -= 1

    def _give(self, w: _Worker) -> None:
        with self._cond:
            w.busy = False
            self.runs += 1
            self._cond.notify_all()

    def _lose(self, w: _Worker) -> None:
        """``w`` is of no more use (it died, or its pipe is out of step): ended,
        and out of the pool."""
        with self._cond:
            if w in self._workers:
                self._workers.remove(w)
            self._cond.notify_all()
        _end([w])

    def shutdown(self, wait: bool = True) -> None:
        """End the processes, the calls waiting for one dropped (Ctrl-C: they
        raise :class:`WorkersGone`); returns once the calls they run are done (a
        panel's work each: the build waits for those anyway) and (``wait``) they
        have ended. Not waiting saves the build the processes' exit (about
        10 ms each) when it has nothing left for them: idle, they leave as
        their pipes close."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            while any(w.busy for w in self._workers):
                self._cond.wait()
            workers, self._workers = self._workers, []
            starter = self._starter
        _end(workers, wait)
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


# the requests this worker drew, kept for their answers (finish_answer), oldest first
_DRAWN: OrderedDict[str, PaintRequest] = OrderedDict()
DRAWN_BUDGET_BYTES = 96 * 2**20  # past this the oldest go (their answer draws them again)


def _keep_drawn(key: str, request: PaintRequest) -> None:
    _DRAWN[key] = request
    _DRAWN.move_to_end(key)
    size = sum(_pixels_bytes(r) for r in _DRAWN.values())
    while size > DRAWN_BUDGET_BYTES and len(_DRAWN) > 1:
        _, gone = _DRAWN.popitem(last=False)
        size -= _pixels_bytes(gone)


def _pixels_bytes(request: PaintRequest) -> int:
    """What an init image (RGB: four bytes a pixel in Pillow) and mask hold."""
    w, h = request.init_image.size
    return 5 * w * h


def prepare_body(kind: type[Backend], settings: Mapping[str, str], plan: PanelPlan) -> Any:
    """In a worker: ``plan``'s request drawn and prepared by the backend; only what
    :meth:`Backend.prepare` made of it (the body) goes back. The drawn request is
    kept here for the answer (sent to this worker: :meth:`WorkerPool.call`), so
    its init image and mask are drawn once."""
    request = plan.request()
    body = _backend(kind, settings).prepare(request).prepared
    _keep_drawn(plan.cache_key, request)
    return body


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
    build's threads), with the init image and mask of the request this worker
    drew (:func:`prepare_body`), or drawn again from the plan (the same pixels)."""
    drawn = _DRAWN.pop(plan.cache_key, None)
    try:
        done = finish(
            PaintResult(image=image, seed_used=seed_used),
            plan,
            box_images(plan, drawn),
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
    Its images are stand-ins of the right size that hold no pixels (reading them
    fails): the pixels were drawn, encoded and put in the body in the worker,
    and are never drawn here. (Blank images of that size cost the thread more
    than anything else it does for a request: allocating 5 MB at 300 dpi.)"""
    size = plan.request_size
    request = plan.request(images=(pixelless("RGB", size), pixelless("L", size)))
    return dataclasses.replace(request, prepared=body)
