"""Painting a book's pages while its later pages are still being laid out.

A cold build of a long book lays its pages out (then the layout memo encodes
and stores each page) before it paints them (in worker processes), and on
two cores those steps were done one after the other. With free local
backends (the draft) they overlap: the worker processes are forked first
(:meth:`~comicc.paint.Painter.warm_up`), then each page is handed to the
painter as soon as this process has laid it out (:class:`PaintAhead`),
planned as :func:`~comicc.pipeline.plan.plan_images` plans it (its cache
look-ups and repaint reasons, before any of its images is painted) and
painted by them, while the layout goes on with the next pages.

Only when that changes nothing a build says or makes: every backend is one of
comicc's own, local and free (a build that costs money shows its whole plan,
budget and confirmation before the first request; a network backend is made
ready, key and server, only once the book is laid out), and the painter uses
its worker processes (the layout in this process and painting threads would
share one interpreter lock). The outcomes are put back in the book's order,
so every diagnostic, the summary, the PDF and the lock are the same bytes.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType

from comicc.backends import Backend, is_paid
from comicc.backends import load as load_backend
from comicc.diagnostics import Diagnostic, Sink
from comicc.fonts import FontBook
from comicc.layout import BookGeom, PageGeom
from comicc.model import ir
from comicc.paint import (
    ArtCache,
    LockFile,
    Painter,
    PaintJob,
    PaintOutcome,
    lock_path,
    read_lock,
)
from comicc.pipeline.configure import create_backends
from comicc.pipeline.options import BuildOptions
from comicc.pipeline.plan import PlannedImage, plan_images
from comicc.pipeline.records import recorder
from comicc.theme import PageFormat, Theme

# while this process lays out, the threads feeding the worker processes get the
# interpreter lock this soon when they ask for it (the default, 5 ms, starved them:
# the workers sat idle until the layout was done)
LAYOUT_SWITCH_SECONDS = 0.0005
JOIN_POLL_SECONDS = 0.2  # how often a build waiting for its painter checks for Ctrl-C


def paint_ahead(
    script: ir.Script, opts: BuildOptions, cache_root: Path, ext: str
) -> PaintAhead | None:
    """The painter of a build that may paint while it lays out, ready to be
    given pages; None when it may not (then it paints once the book is laid out)."""
    backends = backends_ahead(script, opts)
    if backends is None:
        return None
    cache = ArtCache(cache_root, script=script.path)
    lock = read_lock(lock_path(script.path))
    painter = make_painter(backends, cache, opts)
    # no panel painted in this process's threads while the worker processes start:
    # the layout has this process (one interpreter lock) and its forked worker meanwhile
    painter.wait_for_processes = True
    ahead = PaintAhead(script, painter, cache, ext=ext, lock=lock)
    if not ahead.uses_processes():
        return None
    cache.sweep()
    # the worker processes forked now, before any thread: up at once (and then the
    # layout runs in this process alone, its pages painted by them as they come)
    painter.warm_up(ahead.expected())
    return ahead


def make_painter(backends: dict[str, Backend], cache: ArtCache, opts: BuildOptions) -> Painter:
    """The painter a build with ``opts`` paints with."""
    return Painter(
        backends,
        cache,
        image_format="png" if opts.lossless else "jpeg",
        quality=opts.quality,
        workers=opts.workers,
        progress=opts.progress,
        record=recorder(backends),
    )


def backends_ahead(script: ir.Script, opts: BuildOptions) -> dict[str, Backend] | None:
    """The script's backends, made now (before the layout) when the build may
    paint while it lays out; None when it may not (one job at a time, one core,
    a backend that is not built in, local and free, a budget below nothing, or
    one that cannot be made: then the build makes them after the layout, as
    ever, and says why there)."""
    if opts.workers == 1 or (os.cpu_count() or 1) < 2:
        return None
    limit = opts.max_cost
    if limit is None and script.budget is not None:
        limit = script.budget.amount
    if limit is not None and limit < 0:
        return None
    names = {panel.settings.backend for panel in script.panels}
    for name in names:
        try:
            kind = load_backend(name)
        except Exception:  # said by create_backends, after the layout
            return None
        if not (isinstance(kind, type) and issubclass(kind, Backend)) or not _free_and_local(kind):
            return None
    scratch = Sink()  # nothing said twice: a problem stops this, and is said later
    backends = create_backends(script, scratch)
    if backends is None or scratch.diagnostics:
        return None
    if not all(_free_and_local(b) for b in backends.values()):
        return None
    return backends


def _free_and_local(backend: Backend | type[Backend]) -> bool:
    caps = backend.capabilities
    module = backend.__module__ if isinstance(backend, type) else type(backend).__module__
    return module.startswith("comicc.") and not caps.needs_network and not is_paid(caps)


class PaintAhead:
    """The painter of one build, painting each page as soon as it is laid out:
    give :meth:`layout` to the layout memo, then :meth:`finish` with the book."""

    def __init__(
        self,
        script: ir.Script,
        painter: Painter,
        cache: ArtCache,
        *,
        ext: str,
        lock: LockFile,
    ) -> None:
        self.script = script
        self.painter = painter
        self.cache = cache
        self.ext = ext
        self.lock = lock
        self._index = {id(page): i for i, page in enumerate(script.pages)}
        self._pages: queue.SimpleQueue[tuple[int, PageGeom] | None] = queue.SimpleQueue()
        self._given: set[int] = set()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._planned: dict[int, tuple[PlannedImage, ...]] = {}
        self._outcomes: list[PaintOutcome] = []
        self._error: BaseException | None = None
        self._heard = False  # a Ctrl-C came (see hearing_ctrl_c)

    @contextlib.contextmanager
    def hearing_ctrl_c(self) -> Iterator[None]:
        """While the layout and the painter run (from the main thread): a Ctrl-C
        raises KeyboardInterrupt, as ever, and is remembered too, so one the
        interpreter drops (raised inside a finalizer another thread left to this
        one: "Exception ignored") still stops the build, before anything is written.
        A process started with Ctrl-C ignored (a background job of a script:
        ``comicc build ... &``) keeps ignoring it here too, as in every other step
        of the build."""
        if (
            threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        ):
            yield
            return

        def heard(signum: int, frame: FrameType | None) -> None:
            self._heard = True
            raise KeyboardInterrupt

        before = signal.signal(signal.SIGINT, heard)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, before)

    def expected(self) -> list[str]:
        """The backend of each job the painter will be given, in the book's order."""
        return [
            panel.settings.backend
            for panel in self.script.panels
            for _ in range(panel.settings.variants)
        ]

    def uses_processes(self) -> bool:
        """Whether the painter paints in worker processes (else nothing is
        gained by painting during the layout)."""
        return self.painter.pool_size(self.expected()) > 0

    # ------------------------------------------------------------ the layout's side
    def layout(
        self,
        script: ir.Script,
        theme: Theme,
        page_format: PageFormat,
        fonts: FontBook,
        *,
        keep: dict[str, tuple[float, float]],
        jobs: int | None,
    ) -> tuple[BookGeom, list[Diagnostic]]:
        """:func:`~comicc.layout.layout_book` of ``script`` (this build's pages,
        or some of them), telling the painter of each page laid out."""
        from comicc.layout import layout_book

        where = [self._index.get(id(page)) for page in script.pages]

        def laid(j: int, geom: PageGeom) -> None:
            i = where[j] if j < len(where) else None
            if i is not None:
                self.give(i, geom)

        before = sys.getswitchinterval()
        sys.setswitchinterval(LAYOUT_SWITCH_SECONDS)
        try:
            return layout_book(script, theme, page_format, fonts, keep, jobs, on_page=laid)
        finally:
            sys.setswitchinterval(before)

    def give(self, index: int, geom: PageGeom) -> None:
        """Page ``index`` laid out as ``geom``: painted from now on (a page given
        twice is painted once). Never raises (the layout's threads call it)."""
        with self._guard:
            if self._closed or index in self._given:
                return
            self._given.add(index)
            if self._thread is None:
                thread = threading.Thread(target=self._paint, name="comicc-paint-ahead")
                try:
                    thread.start()
                except RuntimeError:  # no thread to be had: painted after the layout
                    self._given.discard(index)
                    return
                self._thread = thread
        self._pages.put((index, geom))

    # ------------------------------------------------------------ the painter's side
    def _jobs(self) -> Iterator[PaintJob]:
        while True:
            item = self._pages.get()
            if item is None or self.painter.cancelled.is_set():
                return
            index, geom = item
            page = self.script.pages[index]
            one = replace(self.script, pages=(page,))
            book = BookGeom((geom,), self.script.reading)
            caps = {name: b.capabilities for name, b in self.painter.backends.items()}
            plan = plan_images(one, book, caps, self.cache, ext=self.ext, lock=self.lock)
            self._planned[index] = plan.images  # before any of them is painted
            for image in plan.images:
                yield image.job

    def _paint(self) -> None:
        try:
            self._outcomes = self.painter.paint(self._jobs(), expect=self.expected())
        except BaseException as e:  # given to the build's thread by finish()
            self._error = e

    # ------------------------------------------------------------ the build's side
    def finish(
        self, book: BookGeom, meanwhile: Callable[[], None] | None = None
    ) -> tuple[list[PaintOutcome], tuple[PlannedImage, ...]]:
        """Paint what was not given yet (pages from the memo), run ``meanwhile``
        (in this thread, as the painter goes on), wait for the painter; the
        outcomes and planned images in the book's order."""
        for i, geom in enumerate(book.pages):
            self.give(i, geom)
        self._close()
        if self._thread is None:  # nothing could be given to it
            raise RuntimeError("the painter could not be started")
        try:
            if meanwhile is not None:
                meanwhile()
            while self._thread.is_alive():
                if self._heard:
                    raise KeyboardInterrupt
                self._thread.join(JOIN_POLL_SECONDS)
            if self._heard:
                raise KeyboardInterrupt
        except BaseException:
            self.stop()
            raise
        if self._error is not None:
            raise self._error
        order = {
            (panel.id, v): k
            for k, (panel, v) in enumerate(
                (panel, v)
                for panel in self.script.panels
                for v in range(1, panel.settings.variants + 1)
            )
        }
        outcomes = sorted(self._outcomes, key=lambda o: order[(o.job.panel.id, o.job.variant)])
        images = tuple(img for i in sorted(self._planned) for img in self._planned[i])
        return outcomes, images

    def stop(self) -> None:
        """The build stops (Ctrl-C, an error): no new attempt starts, and this
        returns once the painter is done with what it had begun (its worker
        processes told to end)."""
        self.painter.cancel()
        self._close()
        thread = self._thread
        if thread is not None:
            thread.join()

    def _close(self) -> None:
        with self._guard:
            if self._closed:
                return
            self._closed = True
        self._pages.put(None)
