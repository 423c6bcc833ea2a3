"""The later half of the pipeline, wired: layout -> render -> backends ->
output. ``compiler.py`` does source -> IR; this module takes a checked
script to a book on disk. (Split from compiler.py to keep both readable.)"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from comicc.backends import registry
from comicc.backends.base import Backend, BackendError
from comicc.diagnostics import Sink
from comicc.fonts import book as fonts_mod
from comicc.layout.engine import layout_book
from comicc.layout.geometry import BookGeom
from comicc.model import ir
from comicc.paint.cache import ArtCache, default_cache_dir
from comicc.paint.lock import LockedPanel, lock_path, read_lock, write_lock
from comicc.paint.scheduler import Painter, PaintJob
from comicc.theme import model as theme_mod

FORMATS = ("pdf", "cbz", "png")


@dataclass
class BuildOptions:
    output: str | None = None
    format: str = "pdf"
    backend: str | None = None  # override every panel's backend
    dpi: int | None = None  # override every panel's dpi
    bleed: bool = False
    lossless: bool = False
    quality: int = 90
    cache_dir: str | None = None
    workers: int | None = None
    progress: bool | None = None
    write_lock: bool = True
    use_lock: bool = True  # keep balloon sizes from the lock file while text fits


@dataclass
class BuildResult:
    output: Path
    pages: int
    panels: int
    painted: int
    cached: int


def locked_sizes(script: ir.Script) -> dict[str, tuple[float, float]]:
    """Balloon id -> body size recorded by the last build's lock file."""
    out = {}
    for panel in read_lock(lock_path(script.path)).values():
        for bid, rect in (panel.get("balloons") or {}).items():
            if isinstance(rect, list) and len(rect) == 4:
                out[bid] = (float(rect[2]), float(rect[3]))
    return out


def layout(script: ir.Script, theme, sink: Sink, keep: dict | None = None) -> BookGeom | None:
    fmt = theme_mod.resolve_format(theme, script.format)
    if fmt is None:
        sink.error(
            "unknown-format",
            f"the theme `{theme.name}` has no page format `{script.format}`",
            path=script.path,
        )
        return None
    book, issues = layout_book(script, theme, fmt, fonts_mod.default_fontbook(), keep=keep)
    sink.extend(issues)
    return book


def apply_overrides(script: ir.Script, opts: BuildOptions) -> ir.Script:
    if not opts.backend and not opts.dpi:
        return script

    def fix(s: ir.RenderSettings) -> ir.RenderSettings:
        if opts.backend:
            s = replace(s, backend=opts.backend)
        if opts.dpi:
            s = replace(s, dpi=opts.dpi)
        return s

    pages = tuple(
        replace(p, panels=tuple(replace(pn, settings=fix(pn.settings)) for pn in p.panels))
        for p in script.pages
    )
    return replace(script, pages=pages, settings=fix(script.settings))


def create_backends(script: ir.Script, sink: Sink) -> dict[str, Backend] | None:
    """Instantiate every backend the script uses and check its configuration
    (settings, key, reachability) BEFORE any paint request is sent. Problems
    point at the setting's line (`stability.url: ...`, `backend: stability`)."""
    out: dict[str, Backend] = {}
    first_use: dict[str, ir.Panel] = {}
    for panel in script.panels:
        first_use.setdefault(panel.settings.backend, panel)
    ok = True
    for name, panel in first_use.items():
        st = panel.settings
        params = st.backend_params(name)

        def where(key: str | None):
            if key:
                span = st.span_of(f"{name}.{key}")
                if span is not None:
                    return span
            return st.span_of("backend") or panel.span

        try:
            cls = registry.load(name)
        except BackendError as e:
            hints = [e.hint] if getattr(e, "hint", None) else []
            sink.error(
                "backend-unavailable",
                f"backend `{name}` cannot be used: {e}",
                where(None),
                hints=hints,
            )
            ok = False
            continue
        known = getattr(cls, "settings", None)
        if st.model and "model" not in params and known is not None and "model" in known:
            params = {**params, "model": st.model}  # the generic `model:` setting
        # every distinct set of settings a panel uses is checked, not only the first
        problems = []
        seen_sets: set = set()
        for other in script.panels:
            if other.settings.backend != name:
                continue
            op = other.settings.backend_params(name)
            if st.model and "model" not in op and known is not None and "model" in known:
                op = {**op, "model": other.settings.model or st.model}
            sig = tuple(sorted(op.items()))
            if sig in seen_sets:
                continue
            seen_sets.add(sig)
            for prob in cls.validate_settings(op) if hasattr(cls, "validate_settings") else []:
                span = other.settings.span_of(f"{name}.{prob.key}") or where(prob.key)
                key = (prob.key, prob.message, span.line if span else 0)
                if key in {(p_.key, p_.message, l_) for p_, l_ in problems}:
                    continue
                problems.append((prob, span.line if span else 0))
                sink.error(
                    "backend-setting", prob.message, span, hints=[prob.hint] if prob.hint else []
                )
        if problems:
            ok = False
            continue
        try:
            backend = cls(**params)
            if hasattr(backend, "preflight"):
                backend.preflight()
        except BackendError as e:
            hints = [e.hint] if getattr(e, "hint", None) else []
            setting = (
                f"`{name}.{e.setting}`: "
                if getattr(e, "setting", None) and st.span_of(f"{name}.{e.setting}")
                else ""
            )
            sink.error(
                "backend-unavailable",
                f"backend `{name}` cannot be used: {setting}{e}",
                where(getattr(e, "setting", None)),
                hints=hints,
            )
            ok = False
            continue
        out[name] = backend
    return out if ok else None


def default_output(script_path: str, fmt: str) -> Path:
    p = Path(script_path)
    stem = p.name[: -len(".comic")] if p.name.endswith(".comic") else p.stem
    if fmt == "png":
        return p.with_name(f"{stem}-pages")
    return p.with_name(f"{stem}.{fmt}")


def build(script: ir.Script, theme, sink: Sink, opts: BuildOptions) -> BuildResult | None:
    from comicc.output.cbz import write_cbz
    from comicc.output.pdf import write_pdf
    from comicc.output.raster import page_images, write_png_pages

    script = apply_overrides(script, opts)
    book = layout(script, theme, sink, keep=locked_sizes(script) if opts.use_lock else None)
    if book is None or sink.has_errors():
        return None
    backends = create_backends(script, sink)
    if backends is None:
        return None
    geoms = {g.id: g for page in book.pages for g in page.panels}
    jobs = [
        PaintJob(panel, geoms[panel.id], v)
        for panel in script.panels
        for v in range(1, panel.settings.variants + 1)
    ]
    cache = ArtCache(opts.cache_dir or default_cache_dir(script.path))
    painter = Painter(
        backends,
        cache,
        encoding="png" if opts.lossless else "jpeg",
        quality=opts.quality,
        workers=opts.workers,
        progress=opts.progress,
    )
    outcomes = painter.paint(jobs)
    for o in outcomes:
        sink.extend(o.diagnostics)
    if sink.has_errors():
        return None
    by_panel: dict[str, dict[int, object]] = {}
    for o in outcomes:
        by_panel.setdefault(o.job.panel.id, {})[o.job.variant] = o
    art = {}
    locked = []
    for panel in script.panels:
        chosen = by_panel[panel.id][panel.settings.pick]
        art[panel.id] = chosen.art
        geom = geoms[panel.id]
        locked.append(
            LockedPanel(
                panel.id,
                panel.settings.backend,
                panel.settings.model,
                panel.settings.variants,
                panel.settings.pick,
                chosen.plan.seed,
                chosen.plan.cache_key,
                tuple(by_panel[panel.id][v].plan.cache_key for v in sorted(by_panel[panel.id])),
                {b.id: b.rect.to_json() for b in geom.balloons},
            )
        )
    out = Path(opts.output) if opts.output else default_output(script.path, opts.format)
    page_color = getattr(theme, "page_color", "#ffffff")
    meta = script.meta
    dpi = opts.dpi or script.settings.dpi
    if opts.format == "pdf":
        write_pdf(
            book, art, meta, out, bleed=opts.bleed, crop_marks=opts.bleed, page_color=page_color
        )
    elif opts.format == "cbz":
        images = page_images(
            book,
            art,
            dpi=min(dpi, 300),
            fmt="jpeg",
            quality=opts.quality,
            bleed=opts.bleed,
            page_color=page_color,
        )
        write_cbz(images, meta, out, rtl=script.reading == "rtl", page_count=len(images))
    else:
        out.mkdir(parents=True, exist_ok=True)
        write_png_pages(book, art, out, dpi=dpi, bleed=opts.bleed, page_color=page_color)
    if opts.write_lock:
        write_lock(lock_path(script.path), locked)
    painted = sum(1 for o in outcomes if not o.from_cache)
    return BuildResult(out, len(book.pages), len(script.panels), painted, len(outcomes) - painted)
