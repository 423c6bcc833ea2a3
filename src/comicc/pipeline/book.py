"""The later half of the pipeline, wired: a checked script to a book on disk.

layout -> backends (configured and checked before any request, see
``configure.py``) -> paint -> output, then the lock file. ``compile.py`` is
the first half (source to IR).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from comicc.backends import Backend, Capabilities
from comicc.diagnostics import Sink
from comicc.files import STDOUT, FileRefused, check_output
from comicc.fonts import default_fontbook
from comicc.images import PanelArt
from comicc.layout import BookGeom, PanelGeom
from comicc.model import ir
from comicc.paint import (
    ArtCache,
    LockedPanel,
    LockFile,
    PanelPlan,
    default_cache_dir,
    lock_path,
    locked_sizes,
    read_lock,
    reference_warnings,
    write_lock,
)
from comicc.pipeline.compile import check_geometry
from comicc.pipeline.configure import apply_overrides, confine_paths, create_backends
from comicc.pipeline.freshness import (
    book_fonts,
    build_inputs,
    if_up_to_date,
    page_digests,
    page_files,
    variant_counts,
    writes_folder,
)
from comicc.pipeline.layoutcache import (
    LayoutStore,
    MemoResult,
    layout_memoized,
    page_keys,
)
from comicc.pipeline.options import CBZ_MAX_DPI, BuildOptions, BuildResult, LayoutMemo, Repaint
from comicc.pipeline.records import record_requests
from comicc.pipeline.stamp import (
    forget_stamp,
    record_stamp,
    reusable_pages,
)
from comicc.theme import PageFormat, Theme, resolve_format

if TYPE_CHECKING:  # the book plan and the painter are loaded past the "up to date" check
    from comicc.output.pdf import PdfDraft
    from comicc.paint import PaintOutcome
    from comicc.pipeline.ahead import PaintAhead
    from comicc.pipeline.plan import BookPlan, PlannedImage


def protected_files(script: ir.Script, opts: BuildOptions) -> dict[str, str]:
    """The files a build must never write over: the script, its lock file, its
    theme files (``opts.protect``) and every ComfyUI workflow it names."""
    base = Path(script.path).resolve().parent
    out = {script.path: "the script being built"}
    out[str(lock_path(script.path))] = "the script's lock file"
    for panel in script.panels:
        workflow = panel.settings.settings_for("comfyui").get("workflow", "").strip()
        if workflow:
            out[workflow] = "a ComfyUI workflow of the script"
            out[str(base / workflow)] = "a ComfyUI workflow of the script"
    return {**opts.protect, **out}


def layout(
    script: ir.Script,
    theme: Theme,
    sink: Sink,
    keep: dict[str, tuple[float, float]] | None = None,
    memo: LayoutMemo | None = None,
    cache_dir: str | Path | None = None,
) -> BookGeom | None:
    """Lay out every page; None (and a diagnostic) when the page format is unknown.
    ``keep``: balloon sizes to keep while their text fits (:func:`locked_sizes`);
    ``memo`` (in memory) and ``cache_dir`` (the art cache's folder, on disk):
    pages laid out before, reused when laid out from the same things
    (:mod:`comicc.pipeline.layoutcache`)."""
    laid = _layout(script, theme, sink, keep, memo, cache_dir)
    return None if laid is None else laid.book


def _page_format(script: ir.Script, theme: Theme, sink: Sink) -> PageFormat | None:
    page_format = resolve_format(theme, script.page_format)
    if page_format is None:
        sink.error(
            "unknown-format",
            f"the theme `{theme.name}` has no page format `{script.page_format}`",
            path=script.path,
        )
    return page_format


def _layout(
    script: ir.Script,
    theme: Theme,
    sink: Sink,
    keep: dict[str, tuple[float, float]] | None,
    memo: LayoutMemo | None,
    cache_dir: str | Path | None,
    keys: tuple[str | None, ...] | None = None,
    jobs: int | None = None,
    ahead: PaintAhead | None = None,
) -> MemoResult | None:
    page_format = _page_format(script, theme, sink)
    if page_format is None:
        return None
    if memo is None and cache_dir is None:
        from comicc.layout import layout_book  # the engine: loaded when a page is laid out

        book, issues = layout_book(script, theme, page_format, default_fontbook(), keep, jobs)
        sink.extend(issues)
        numbers = tuple(p.number for p in script.pages)
        return MemoResult(book, tuple(None for _ in script.pages), numbers, ())
    laid = layout_memoized(
        script,
        theme,
        page_format,
        sink,
        keep or {},
        keys=keys,
        memory=memo.pages if memo is not None else None,
        store=LayoutStore(cache_dir, script.path) if cache_dir is not None else None,
        layout=ahead.layout if ahead is not None else None,  # each page painted once laid out
        jobs=jobs,
    )
    if memo is not None:
        memo.laid_out, memo.reused = list(laid.laid_out), list(laid.reused)
    return laid


def current_keys(
    script: ir.Script, theme: Theme, opts: BuildOptions
) -> tuple[str | None, ...] | None:
    """The layout key of every page a build of ``script`` with ``opts`` looks up
    (as :func:`build` computes them); None when such a build stops first."""
    sink = Sink()
    script = confine_paths(apply_overrides(script, opts), sink, opts.allow_paths)
    if sink.has_errors():
        return None
    keep = locked_sizes(script) if opts.use_lock else None
    page_format = _page_format(script, theme, sink)
    if page_format is None:
        return None
    return page_keys(script, theme, page_format, keep or {})


def default_output(script_path: str, output_format: str) -> Path:
    """Where a build writes without ``-o``: beside the script (``story.pdf``,
    ``story.cbz``, ``story-pages/``)."""
    p = Path(script_path)
    stem = p.name[: -len(".comic")] if p.name.endswith(".comic") else p.stem
    if output_format == "png":
        return p.with_name(f"{stem}-pages")
    return p.with_name(f"{stem}.{output_format}")


def build(script: ir.Script, theme: Theme, sink: Sink, opts: BuildOptions) -> BuildResult | None:
    """Lay out, paint and write the book; None when a stage found errors (then
    nothing was written: every output is written atomically, at the end)."""
    script = confine_paths(apply_overrides(script, opts), sink, opts.allow_paths)
    if sink.has_errors():
        return None
    if opts.dpi and not check_geometry(script, theme, sink, dpi=opts.dpi):
        return None  # `--dpi` past the pixel budget: refused before allocating
    keep = locked_sizes(script, sink) if opts.use_lock else None
    cache_root = Path(opts.cache_dir) if opts.cache_dir else default_cache_dir(script.path)
    page_format = _page_format(script, theme, sink)
    if page_format is None:
        return None
    keys = page_keys(script, theme, page_format, keep or {})
    out = Path(opts.output) if opts.output else default_output(script.path, opts.output_format)
    protect = protected_files(script, opts)
    if opts.output == STDOUT and writes_folder(opts):
        sink.error("output-refused", "`-o -` (standard output) takes one file: pdf or cbz")
        return None
    try:  # before anything is painted: a refused output costs no request
        if opts.output != STDOUT:
            check_output(
                out, protect=protect, follow_symlinks=bool(opts.output), folder=writes_folder(opts)
            )
    except FileRefused as e:
        sink.error("output-refused", str(e), path=str(out))
        return None
    if not opts.force and opts.output != STDOUT:
        done = if_up_to_date(script, sink, opts, keys, out, cache_root)
        if done is not None:
            return done
    from comicc.pipeline.ahead import paint_ahead

    ahead = paint_ahead(script, opts, cache_root, _ext(opts))  # None: painted once laid out
    try:
        with ahead.hearing_ctrl_c() if ahead is not None else contextlib.nullcontext():
            laid = _layout(
                script, theme, sink, keep, opts.layout_memo, cache_root, keys, opts.workers, ahead
            )
            if laid is None or sink.has_errors():
                return None
            drafts: list[PdfDraft | None] = []  # the writer's, begun while painting

            def meanwhile() -> None:
                drafts.append(_prepare_writer(laid.book, script, theme, opts))

            painted = _paint(script, laid.book, sink, opts, cache_root, ahead, meanwhile)
    finally:
        if ahead is not None:  # stopped (Ctrl-C, an error), or already done
            ahead.stop()
    if painted is None:
        return None
    book = laid.book
    geoms = {g.id: g for page in book.pages for g in page.panels}
    outcomes, images, backends, cache = painted
    for o in outcomes:
        sink.extend(o.diagnostics)
    record_requests(outcomes, backends, cache)
    if sink.has_errors():
        return None
    by_panel: dict[str, dict[int, PaintOutcome]] = {}
    for o in outcomes:
        by_panel.setdefault(o.job.panel.id, {})[o.job.variant] = o
    art: dict[str, PanelArt] = {}
    locked = []
    for panel in script.panels:
        variants = by_panel[panel.id]
        chosen = variants[panel.settings.pick]
        # an outcome without an error diagnostic has its plan and its art
        assert chosen.art is not None and chosen.plan is not None, chosen
        art[panel.id] = chosen.art
        made = tuple(o.plan.cache_key for _, o in sorted(variants.items()) if o.plan is not None)
        locked.append(_locked(panel, geoms[panel.id], chosen.plan, made))
    digests = page_digests(script, opts, keys, book, locked)
    reuse: dict[int, bytes] = {}
    if opts.output != STDOUT:
        if digests is not None:  # pages drawn by the last build from the same things
            reuse = reusable_pages(cache_root, out, opts.output_format, digests)
        forget_stamp(cache_root, out)  # a build stopped while writing leaves no stamp
    try:
        draft = drafts[0] if drafts else None
        written = _write(book, art, script, theme, opts, out, protect, reuse, draft)
    except FileRefused as e:
        sink.error("output-refused", str(e), path=str(out))
        return None
    if opts.write_lock:
        write_lock(lock_path(script.path), locked)  # only when its content changed
    inputs = build_inputs(script, opts, keys, backends)
    if opts.output != STDOUT and inputs is not None and laid.warnings is not None:
        record_stamp(
            cache_root,
            out,
            inputs,
            written,
            warnings=[list(w) for w in laid.warnings],
            fonts=book_fonts(book),
            lock=lock_path(script.path) if opts.write_lock else None,
            art=[cache.path(key, _ext(opts)) for p in locked for key in p.keys],
            pages=digests,
            page_files=page_files(out, opts, written),
            script=script.path,
        )
    why = {(i.panel.id, i.variant): i.reasons for i in images}
    repainted = tuple(
        Repaint(
            o.job.panel.id,
            o.job.panel.page,
            o.job.panel.number,
            o.job.variant,
            why.get((o.job.panel.id, o.job.variant)) or ("painted by another build meanwhile",),
        )
        for o in outcomes
        if not o.from_cache
    )
    return BuildResult(
        out,
        len(book.pages),
        len(script.panels),
        len(repainted),
        len(outcomes) - len(repainted),
        repainted,
        variant_counts(script),
        laid_out=laid.laid_out,
    )


def _paint(
    script: ir.Script,
    book: BookGeom,
    sink: Sink,
    opts: BuildOptions,
    cache_root: Path,
    ahead: PaintAhead | None,
    meanwhile: Callable[[], None],
) -> tuple[list[PaintOutcome], tuple[PlannedImage, ...], dict[str, Backend], ArtCache] | None:
    """Every image painted or taken from the cache: the outcomes, the planned
    images (why each repaints), the backends and the cache; None when the
    backends, the budget or the confirmation stop the build. ``meanwhile`` runs
    while the art is painted, when it is painted ahead."""
    if ahead is not None:  # the backends were made before the layout; free, so in budget
        backends = dict(ahead.painter.backends)
        sink.extend(reference_warnings(script, backends))
        outcomes, images = ahead.finish(book, meanwhile=meanwhile)
        return outcomes, images, backends, ahead.cache
    backends_made = create_backends(script, sink)
    if backends_made is None:
        return None
    backends = backends_made
    sink.extend(reference_warnings(script, backends))  # once per backend, not per panel
    from comicc.pipeline.ahead import make_painter
    from comicc.pipeline.plan import plan_images, within_budget

    cache = ArtCache(cache_root, script=script.path)
    cache.sweep()
    plan = plan_images(
        script, book, _capabilities(backends), cache, ext=_ext(opts), lock=_lock(script)
    )
    if not within_budget(plan, script, opts.max_cost, sink):
        return None
    if plan.paid and plan.to_paint and opts.on_paid_plan is not None:
        if not opts.on_paid_plan(plan):
            sink.error("build-not-confirmed", "the build was not confirmed: nothing was painted")
            return None
    painter = make_painter(backends, cache, opts)
    # its worker processes forked now (up at once), if enough images are not cached
    painter.warm_up([i.plan.backend for i in plan.images if not i.cached])
    return painter.paint([i.job for i in plan.images]), plan.images, backends, cache


def _prepare_writer(
    book: BookGeom, script: ir.Script, theme: Theme, opts: BuildOptions
) -> PdfDraft | None:
    """What the book's writer can do before the art is painted (the PDF's fonts
    and its pages but for the art), done while worker processes paint instead
    of after the last panel."""
    if opts.output_format != "pdf":
        return None
    from comicc.output.pdf import prepare_pdf

    bleed = opts.bleed
    return prepare_pdf(
        book, script.meta, bleed=bleed, crop_marks=bleed, page_color=theme.page_color
    )


def _ext(opts: BuildOptions) -> str:
    """The file extension of the art a build caches."""
    return "png" if opts.lossless else "jpg"


def _lock(script: ir.Script) -> LockFile:
    return read_lock(lock_path(script.path))


def _capabilities(backends: dict[str, Backend]) -> dict[str, Capabilities]:
    return {name: backend.capabilities for name, backend in backends.items()}


def plan_book(
    script: ir.Script, theme: Theme, sink: Sink, opts: BuildOptions
) -> tuple[ir.Script, BookPlan] | None:
    """What ``build`` with ``opts`` would paint, take from the cache and pay, and
    why; no request is sent and no key is read (backends are configured and
    their settings checked, but not made ready). Also the script as built
    (``--backend``/``--dpi`` applied). None when a stage found errors."""
    script = confine_paths(apply_overrides(script, opts), sink, opts.allow_paths)
    if sink.has_errors():
        return None
    if opts.dpi and not check_geometry(script, theme, sink, dpi=opts.dpi):
        return None
    keep = locked_sizes(script, sink, doing="planning") if opts.use_lock else None
    book = layout(
        script, theme, sink, keep=keep, cache_dir=opts.cache_dir or default_cache_dir(script.path)
    )
    if book is None or sink.has_errors():
        return None
    backends = create_backends(script, sink, ready=False)
    if backends is None:
        return None
    from comicc.pipeline.plan import plan_images

    cache = ArtCache(opts.cache_dir or default_cache_dir(script.path))
    plan = plan_images(
        script, book, _capabilities(backends), cache, ext=_ext(opts), lock=_lock(script)
    )
    return script, plan


def _write(
    book: BookGeom,
    art: dict[str, PanelArt],
    script: ir.Script,
    theme: Theme,
    opts: BuildOptions,
    out: Path,
    protect: dict[str, str],
    reuse: dict[int, bytes],
    draft: PdfDraft | None,
) -> list[Path] | None:
    """Write the book in ``opts.output_format``. Without ``-o`` a symbolic link
    at the default output is replaced, not followed (it may have come with the
    script); ``-o -`` is standard output (pdf, cbz). The files of a folder of
    PNG pages; None for one file."""
    # each writer loaded here, not with the module: a build that is up to date
    # writes nothing, and one format's build loads only its writer
    target: str | Path = STDOUT if opts.output == STDOUT else out
    follow = bool(opts.output)
    dpi = opts.dpi or script.settings.dpi
    if opts.output_format == "pdf":
        from comicc.output import write_pdf

        write_pdf(
            book,
            art,
            script.meta,
            target,
            bleed=opts.bleed,
            crop_marks=opts.bleed,
            page_color=theme.page_color,
            protect=protect,
            follow_symlinks=follow,
            draft=draft,
        )
    elif opts.output_format == "cbz":
        from comicc.output import page_images, write_cbz

        images = page_images(
            book,
            art,
            dpi=min(dpi, CBZ_MAX_DPI),
            image_format="jpeg",
            quality=opts.quality,
            bleed=opts.bleed,
            page_color=theme.page_color,
            reuse=reuse,
        )
        write_cbz(
            images,
            script.meta,
            target,
            rtl=script.reading == "rtl",
            page_count=len(images),
            protect=protect,
            follow_symlinks=follow,
        )
    else:
        from comicc.output import write_png_pages

        return write_png_pages(
            book,
            art,
            out,
            dpi=dpi,
            bleed=opts.bleed,
            page_color=theme.page_color,
            follow_symlinks=follow,
            reuse=reuse,
        )
    return None


def _locked(
    panel: ir.Panel, geom: PanelGeom, chosen: PanelPlan, keys: tuple[str, ...]
) -> LockedPanel:
    """The lock file's record of one panel: the chosen variant and every variant's key."""
    st = panel.settings
    return LockedPanel(
        panel.id,
        st.backend,
        st.model,
        st.variants,
        st.pick,
        chosen.seed,
        chosen.cache_key,
        keys,
        {balloon.id: balloon.rect.to_json() for balloon in geom.balloons},
    )
