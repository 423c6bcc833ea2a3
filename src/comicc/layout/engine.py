"""The layout stage: IR script + theme + page format -> book geometry.

``layout_book`` is pure and deterministic: the same script, theme, page
format and fonts always give the same :class:`BookGeom` (a long book is laid
out in this process and forked ones, one per core, with the same result; see
:func:`_jobs` and :func:`_in_processes`). It never raises for
content (text that does not fit, characters no face has); those come back as
warning diagnostics at the balloon's line:

* ``text-overflow``  — "balloon text does not fit: 14.2 pt too tall for the panel",
  or, at the panel's line, "panel 2: 1 lettering item (11 of its 16 words, 22 %
  of the panel) found no room without covering a face or another balloon"
* ``unjoined``       — "panel 3: MAYA's balloon could not be joined to the one
  before it (line 12): stacked, the two find no room, so each has its own tail"
* ``missing-glyphs`` — "no font has a glyph for 'X' (U+0058)"
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from comicc.collector import collector_off
from comicc.diagnostics import Diagnostic, Severity
from comicc.fonts import FontBook
from comicc.forking import fork_safe
from comicc.layout.balloons import build_geoms, voice_colors
from comicc.layout.geometry import (
    BookGeom,
    PageGeom,
    PanelGeom,
    Point,
    Rect,
    Shape,
    Stroke,
    VectorPath,
)
from comicc.layout.grid import PageFrame, PanelBox, layout_page, panel_live
from comicc.layout.items import (
    PanelContext,
    PlacedBalloon,
    PlacementTuning,
    balloons_to_place,
    cast_points,
    face_box,
    gutter_area,
)
from comicc.layout.measure import Measurer, as_measurer
from comicc.layout.place import place_panel
from comicc.layout.text import fit_variants
from comicc.model import ir
from comicc.theme import PageFormat, Theme

K = ir.BalloonKind
Sizes = dict[str, tuple[float, float]]  # balloon id -> body size (w, h) from the lock file
# told of each page once it is laid out: its index in the script and its geometry
OnPage = Callable[[int, PageGeom], None]


def layout_book(
    script: ir.Script,
    theme: Theme,
    page_format: PageFormat,
    fonts: FontBook | Measurer | None = None,
    keep: Sizes | None = None,
    jobs: int | None = None,
    on_page: OnPage | None = None,
) -> tuple[BookGeom, list[Diagnostic]]:
    """Lay out every page of ``script``. ``fonts``: a :class:`~comicc.fonts.FontBook`
    or any :class:`~comicc.layout.measure.Measurer` (``None``: the default).
    ``keep``: balloon id -> body size from the last build (the lock file); a
    balloon whose text still fits keeps that size (see text.fit_variants).
    ``jobs``: at most this many processes (``--jobs``; ``None``: one per core).
    ``on_page``: called in this process as each page is laid out (in no set
    order, from any of its threads, at most twice for a page: it must be quick,
    thread-safe and never raise), so later stages can start on it; the book
    returned is the same.

    The cyclic garbage collector is off meanwhile (forked workers inherit that): the
    search allocates millions of short-lived tuples, all freed by reference counting
    (the layout makes no reference cycles: ``tests/layout/test_layout_gc.py``), and
    the collector's passes over them and over the whole heap (the script, the pages
    done, the workers' pages unpickled) cost about a tenth of the layout's CPU."""
    with collector_off():
        return _layout_book(script, theme, page_format, fonts, keep, jobs, on_page)


def _layout_book(
    script: ir.Script,
    theme: Theme,
    page_format: PageFormat,
    fonts: FontBook | Measurer | None,
    keep: Sizes | None,
    jobs: int | None,
    on_page: OnPage | None = None,
) -> tuple[BookGeom, list[Diagnostic]]:
    m = as_measurer(fonts)
    reading = script.reading if script.reading in ("ltr", "rtl") else "ltr"
    tuning = PlacementTuning.from_theme(theme)
    issues: list[Diagnostic] = []
    voices = voice_colors(script, theme)
    job = _Job(script, theme, page_format, m, reading, tuning, keep, voices)
    n = len(script.pages)
    jobs = min(_jobs(n), max(1, jobs)) if jobs is not None else _jobs(n)
    if jobs > 1:
        told = (on_page,) if on_page is not None else ()  # passed only when there is one
        parts = _in_processes(job, _chunks(n, jobs), jobs, *told)
        if parts is not None:
            pages = tuple(p for part, _ in parts for p in part)
            for _, found in parts:
                issues.extend(found)
            return BookGeom(pages, reading), issues
    part, issues = _layout_range(job, 0, n, on_page)
    return BookGeom(part, reading), issues


FOLD_CLEAR = 9.0  # points each side of a spread's fold that no broken-out balloon reaches
PARALLEL_PAGES = 24  # books of this many pages or more are laid out on several cores


@dataclass(frozen=True)
class _Job:
    """What every page of one ``layout_book`` call shares."""

    script: ir.Script
    theme: Theme
    page_format: PageFormat
    m: Measurer
    reading: str
    tuning: PlacementTuning
    keep: Sizes | None
    voices: dict[str, str]


def _layout_range(
    job: _Job, start: int, end: int, on_page: OnPage | None = None
) -> tuple[tuple[PageGeom, ...], list[Diagnostic]]:
    issues: list[Diagnostic] = []
    pages = []
    for i, page in enumerate(job.script.pages[start:end], start):
        geom = layout_one_page(
            page,
            job.theme,
            job.page_format,
            job.m,
            job.reading,
            job.tuning,
            issues,
            job.keep,
            job.voices,
        )
        pages.append(geom)
        if on_page is not None:
            on_page(i, geom)
    return tuple(pages), issues


def _jobs(pages: int) -> int:
    """How many processes lay out a book of ``pages`` pages: one per core (at most 4) for
    a long book on Linux when this process runs no other thread (forking is safe then)
    and is not itself a daemonic worker; ``COMICC_LAYOUT_JOBS`` overrides the count
    (``1``: never fork; forking is still refused where it is unsafe)."""
    env = os.environ.get("COMICC_LAYOUT_JOBS", "")
    if env.isdigit():
        wanted = max(1, min(int(env), pages))
    elif pages < PARALLEL_PAGES:
        return 1
    else:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        wanted = max(1, min(cores or 1, 4, pages // (PARALLEL_PAGES // 2)))
    if wanted > 1 and not fork_safe():
        return 1
    return wanted


# pages a worker takes at a time: one, so the book's last pages are shared out evenly
# (a chunk queued for a worker cannot be taken back: with 4-page chunks this process
# waited 0.5-1 s at the end of the 200-page bench; a chunk's round trip is ~0.2 ms)
CHUNK_PAGES = 1


def _chunks(pages: int, jobs: int) -> list[tuple[int, int]]:
    """Page ranges handed out to ``jobs`` workers as they come free (in page order)."""
    size = max(1, min(CHUNK_PAGES, pages // (jobs * 4) or 1))
    return [(i, min(pages, i + size)) for i in range(0, pages, size)]


_JOB: _Job | None = None  # the job a forked worker inherits


def _work(span: tuple[int, int]) -> tuple[tuple[PageGeom, ...], list[Diagnostic]]:
    assert _JOB is not None
    return _layout_range(_JOB, *span)


def _in_processes(
    job: _Job, chunks: list[tuple[int, int]], jobs: int, on_page: OnPage | None = None
) -> list[tuple[tuple[PageGeom, ...], list[Diagnostic]]] | None:
    """Lay out page ranges in ``jobs`` processes: ``jobs - 1`` forked workers (they
    inherit ``job``) take them from the front while this process takes them from the
    back, so it is never idle and only the workers' pages are pickled back (unpickling
    them here is the main cost of forking: about 7 ms a page). The results are in page
    order, so the book is the same as one process makes. None when the workers could
    not run (no processes here, a worker killed): the caller then lays the book out
    itself, with the same result. ``on_page`` hears of a worker's pages as they come
    back (from the pool's thread), of this process's as it lays them out."""
    global _JOB
    ctx = multiprocessing.get_context("fork")
    _JOB = job
    # Ctrl-C is held (blocked: this process has no other thread to take it) until the
    # pool is up with its work: stopped while it starts, it would leave a worker
    # waiting for work for ever, and this process waiting for it at exit. The forked
    # workers keep it blocked: a Ctrl-C is this process's, which stops them.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        try:
            pool = ProcessPoolExecutor(max(1, jobs - 1), mp_context=ctx)
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            raise
        with pool:
            try:
                futures = [pool.submit(_work, span) for span in chunks]
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
            if on_page is not None:  # the workers are forked by now: threads may start
                for span, future in zip(chunks, futures, strict=True):
                    future.add_done_callback(functools.partial(_came_back, on_page, span[0]))
            mine: dict[int, tuple[tuple[PageGeom, ...], list[Diagnostic]]] = {}
            try:
                for i in range(len(chunks) - 1, -1, -1):
                    if not futures[i].cancel():
                        break  # a worker has taken it, and (in order) every chunk before it
                    mine[i] = _layout_range(job, *chunks[i], on_page)
                return [mine[i] if i in mine else futures[i].result() for i in range(len(chunks))]
            except BaseException:  # Ctrl-C: the pool waits for the chunks begun, no other
                for future in futures:
                    future.cancel()
                raise
    except (OSError, RuntimeError, pickle.PicklingError, BrokenProcessPool):
        return None  # BrokenProcessPool is a RuntimeError; named for the reader
    finally:
        _JOB = None


def _came_back(
    on_page: OnPage, start: int, future: Future[tuple[tuple[PageGeom, ...], list[Diagnostic]]]
) -> None:
    """A worker's pages (from ``start`` on), to ``on_page``; nothing when it failed."""
    if future.cancelled() or future.exception() is not None:
        return
    for i, geom in enumerate(future.result()[0], start):
        on_page(i, geom)


def layout_one_page(
    page: ir.Page,
    theme: Theme,
    page_format: PageFormat,
    m: Measurer,
    reading: str = "ltr",
    tuning: PlacementTuning | None = None,
    issues: list[Diagnostic] | None = None,
    keep: Sizes | None = None,
    voices: dict[str, str] | None = None,
) -> PageGeom:
    """Lay out one page; diagnostics go into ``issues`` when given. ``voices``: the
    caption fill of each voiced character (:func:`~comicc.layout.balloons.voice_colors`)."""
    tuning = tuning or PlacementTuning.from_theme(theme)
    frame, boxes = layout_page(page, page_format, theme.gutter_tier, theme.gutter_within, reading)
    rects = [box.rect for box in boxes]
    if len(page.numbers) > 1:  # a spread: no balloon breaks out toward the fold
        fold = frame.width / 2
        rects.append(Rect(fold - FOLD_CLEAR, frame.live.y, 2 * FOLD_CLEAR, frame.live.h))
    panels = tuple(
        _panel(box, frame, theme, m, reading, tuning, issues, keep, voices, rects) for box in boxes
    )
    return PageGeom(tuple(page.numbers), frame.width, frame.height, frame.bleed, frame.live, panels)


def panel_context(
    box: PanelBox,
    frame: PageFrame,
    theme: Theme,
    m: Measurer,
    reading: str,
    tuning: PlacementTuning,
    keep: Sizes | None = None,
    rects: Sequence[Rect] = (),
) -> tuple[PanelContext, dict[str, Point]]:
    """The search state of one panel, and where each speaker's mouth is. ``rects``:
    the art boxes of the page's panels (where a balloon may break into the gutter)."""
    live = panel_live(box, frame)
    inset = min(tuning.margin, live.w / 4, live.h / 4)
    area = live.inset(inset)
    mouths = cast_points(box.panel, box.frame, reading, tuning)
    keep = keep or {}
    fits = [
        fit_variants(balloon, theme, m, area, keep.get(balloon.id))
        for balloon in box.panel.balloons
    ]
    heads = {
        name: face_box(pt, box.rect, tuning)
        for name, pt in mouths.items()
        if live.contains_point(pt)
    }
    balloons = balloons_to_place(
        box.panel, fits, mouths, live, heads, tuning.auto_join, tuning.sfx_tilt
    )
    ctx = PanelContext(area, live, reading, tuning, balloons, list(heads.values()), heads, mouths)
    ctx.prect = box.frame
    if tuning.gutter_break:
        others = [r for r in rects if r != box.rect]
        ctx.breakout = gutter_area(area, box.rect, others, frame.live, tuning.gutter_clear)
    return ctx, mouths


def _panel(
    box: PanelBox,
    frame: PageFrame,
    theme: Theme,
    m: Measurer,
    reading: str,
    tuning: PlacementTuning,
    issues: list[Diagnostic] | None,
    keep: Sizes | None = None,
    voices: dict[str, str] | None = None,
    rects: Sequence[Rect] = (),
) -> PanelGeom:
    ctx, mouths = panel_context(box, frame, theme, m, reading, tuning, keep, rects)
    joined = [b.index for b in ctx.balloons if b.auto_joined]
    placed = place_panel(ctx)
    geoms = build_geoms(ctx, placed, theme, voices)
    if issues is not None:
        for p in placed:
            issues.extend(_diagnose(ctx.balloons[p.index].balloon, p))
        issues.extend(_diagnose_panel(box.panel, ctx, placed))
        issues.extend(_diagnose_unjoined(box.panel, ctx, placed, joined))
    border = None
    if not box.bleed and theme.border_width > 0:
        border = Shape(
            VectorPath.rect(box.rect), None, Stroke(theme.border_width, theme.border_color)
        )
    # off-panel voices (radio, phone, O.S.) stand outside the panel: not in its cast,
    # so nothing draws them standing in the room
    cast = tuple((name, pt) for name, pt in mouths.items() if box.frame.contains_point(pt))
    return PanelGeom(box.panel.id, box.panel.number, box.rect, border, geoms, cast, box.bleed)


def _diagnose_unjoined(
    panel: ir.Panel, ctx: PanelContext, placed: list[PlacedBalloon], joined: list[int]
) -> list[Diagnostic]:
    """A warning for each balloon the engine meant to join to the one before (same
    speaker, one after the other) but had to draw with its own tail: stacked, the
    two found no room. Said, so a run of one speaker with two tails never goes
    unexplained."""
    lost = {p.index for p in placed if p.overflow > 0}
    out = []
    for i in joined:
        b = ctx.balloons[i]
        if b.prev is not None or i in lost or i - 1 in lost:
            continue
        balloon, before = b.balloon, ctx.balloons[i - 1].balloon
        where = f"line {before.span.line}" if before.span is not None else before.id
        msg = (
            f"panel {panel.number}: {balloon.speaker}'s balloon could not be joined to the one "
            f"before it ({where}): stacked, the two find no room, so each has its own tail"
        )
        hints = (
            "merge the two lines into one balloon, cut words, or give the panel more room; "
            "`SEPARATE` after the name says two tails are meant",
        )
        out.append(
            Diagnostic(Severity.WARNING, "unjoined", msg, balloon.span, "not joined", (), hints)
        )
    return out


def _diagnose_panel(
    panel: ir.Panel, ctx: PanelContext, placed: list[PlacedBalloon]
) -> list[Diagnostic]:
    """One warning at the panel's line for the balloons that found no room in it
    (drawn as red markers): how much text is over and what to do."""
    out = [p for p in placed if p.overflow > 0 and p.overflow_dir == "room"]
    if not out:
        return []
    items = [ctx.balloons[p.index].balloon for p in out]
    words = sum(b.words for b in items)
    total = sum(b.words for b in panel.balloons)
    area = sum(p.fit.w * p.fit.h for p in out)
    share = 100 * area / max(1.0, ctx.area.w * ctx.area.h)
    which = ", ".join(f"line {b.span.line}" if b.span is not None else b.id for b in items[:6]) + (
        ", ..." if len(items) > 6 else ""
    )
    n = len(items)
    msg = (
        f"panel {panel.number}: {n} lettering item{'s' if n > 1 else ''} ({words} of its "
        f"{total} words, {share:.0f} % of the panel) found no room without covering a face "
        f"or another balloon ({which})"
    )
    span = panel.span if panel.span is not None else items[0].span
    hints = (
        f"cut about {words} words, split the panel in two, or give it more room "
        "(`width:` or the page's `layout:` heights); the red marker shows where it is missing",
    )
    return [Diagnostic(Severity.WARNING, "text-overflow", msg, span, "too much text", (), hints)]


def _diagnose(balloon: ir.Balloon, p: PlacedBalloon) -> list[Diagnostic]:
    """The warnings of one placed balloon: text that does not fit, missing glyphs."""
    out = []
    span = balloon.span
    over_w = p.fit.overflow_w
    if (p.overflow > 0 and p.overflow_dir != "room") or over_w > 0:
        if p.overflow > 0:
            msg = (
                f"balloon text does not fit: {p.overflow:.1f} pt too {p.overflow_dir} for the panel"
            )
        else:
            msg = f"balloon text does not fit: a word is {over_w:.1f} pt too wide"
        what = "caption" if balloon.kind is K.CAPTION else "balloon"
        hints = (
            "shorten the text, split it into two balloons, or give the panel more room "
            "(`width:` or the page's `layout:` heights)",
        )
        out.append(
            Diagnostic(
                Severity.WARNING,
                "text-overflow",
                msg.replace("balloon", what, 1),
                span,
                "does not fit",
                (),
                hints,
            )
        )
    if p.fit.missing:
        chars = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in p.fit.missing[:8])
        more = f" and {len(p.fit.missing) - 8} more" if len(p.fit.missing) > 8 else ""
        out.append(
            Diagnostic(
                Severity.WARNING,
                "missing-glyphs",
                f"no font has a glyph for {chars}{more}",
                span,
                "cannot be lettered",
                (),
                ("add a face that has them to the theme's `fallback_fonts`",),
            )
        )
    return out
