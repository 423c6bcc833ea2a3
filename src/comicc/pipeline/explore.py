"""Explore prompt combinations of one panel: every on/off combination of some
of its toggles (prompt items, style snippets), painted through the art cache,
on a labelled contact sheet (``comicc explore``, the studio's explore grid).

Each combination (a *cell*) is the script with those toggles switched
(:func:`comicc.pipeline.edits.apply_states`), built in memory: checked,
its page laid out (pages are laid out independently, so the panel's box and
balloons are the book's) and its panel planned exactly as ``comicc build``
plans it, so the cell equal to the script as it is reuses the build's art, a
rerun sends no request, and choosing a cell (``--apply``) makes the next build
take that cell's art from the cache. Only the panel's chosen variant
(``pick:``) is painted for each cell.

:func:`plan_explore` sends nothing (the plan: cells, requests, cost);
:func:`run_explore` paints what is not cached; :func:`contact_sheet` draws the
grid, each cell lettered (the panel's balloons over its art, by the renderer
of PNG pages) and labelled ``@noir ON · dutch angle OFF``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image, ImageDraw

from comicc.backends import Capabilities
from comicc.diagnostics import Diagnostic, Sink, did_you_mean
from comicc.images import PanelArt, load_font
from comicc.layout import PageGeom
from comicc.model import ir
from comicc.output import render_page
from comicc.paint import (
    ArtCache,
    Painter,
    PaintJob,
    default_cache_dir,
    lock_path,
    read_lock,
)
from comicc.pipeline.book import layout, locked_sizes
from comicc.pipeline.compile import check_geometry, check_source
from comicc.pipeline.configure import apply_overrides, confine_paths, create_backends
from comicc.pipeline.edits import EditError, apply_states, parse_ref, read_script
from comicc.pipeline.edits import toggles as panel_toggles
from comicc.pipeline.options import BuildOptions
from comicc.pipeline.plan import PlannedImage, plan_images
from comicc.pipeline.reasons import RECORD, request_record
from comicc.source import SourceFile
from comicc.theme import Theme

DEFAULT_CAP = 16  # cells at most unless --cap says more
CAP_MAX = 256  # the most --cap allows (8 toggles)
CELL_WIDTH = 360  # px: one cell of the contact sheet
LABEL_SIZE = 15  # px: the labels' type size
PAD = 12  # px around and between cells
WRITTEN = ("item", "prompt!", "style")  # prompt parts a toggle can be
_KEYS = {"item": "prompt", "prompt!": "prompt!", "style": "style"}


class ExploreError(Exception):
    """Why an exploration cannot be planned or run: the message is for the
    writer; ``diagnostics`` (with the files they point into, ``sources``) say
    where, for the terminal's renderer; ``usage``: the request itself is
    wrong (no toggle named, more cells than the cap, not a panel)."""

    def __init__(
        self,
        message: str,
        diagnostics: Sequence[Diagnostic] = (),
        sources: Mapping[str, SourceFile] | None = None,
        *,
        usage: bool = False,
    ) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)
        self.sources = dict(sources or {})
        self.usage = usage


@dataclass(frozen=True)
class CellWork:
    """What painting and drawing one cell needs: its script (the cell's
    states applied), the panel's page laid out, and the planned image."""

    text: str
    script: ir.Script
    theme: Theme
    page: PageGeom
    image: PlannedImage
    capabilities: Mapping[str, Capabilities]


@dataclass(frozen=True)
class Cell:
    """One combination: the states of the toggles, its art (once painted)."""

    label: str  # "@noir ON · dutch angle OFF"
    states: dict[str, bool]
    image: Path | None  # the cached art (None until painted)
    cached: bool  # in the cache when planned: costs nothing
    cost: float
    index: int = 1  # 1-based, as the sheet numbers it (`--apply K`)
    cache_key: str = ""
    current: bool = False  # the script as it is now


@dataclass(frozen=True)
class ExplorePlan:
    """Every cell of one exploration, and what painting them costs."""

    panel: str  # "1.2"
    toggles: list[str]  # the labels explored, in order
    cells: list[Cell]
    cost: float  # in ``currency``
    currency: str  # the backend's cost unit ("credits", "USD"); "" when free
    requests: int  # images to paint (cells sharing art count once)
    script: Path = Path()
    text: str = ""  # the script as read
    backend: str = ""
    painted: int = 0  # after :func:`run_explore`: requests actually sent
    options: BuildOptions = field(default_factory=BuildOptions, compare=False, repr=False)
    work: tuple[CellWork, ...] = field(default=(), compare=False, repr=False)

    @property
    def panel_id(self) -> str:
        page, number = parse_ref(self.panel)
        return f"p{page}.{number}"

    def one_line(self) -> str:
        """``explore p1.2: 4 cells, 3 to paint, 1 from cache, 15 credits``."""
        cached = len({c.cache_key for c in self.cells if c.cached})
        cost = f"{self.cost:g} {self.currency}" if self.currency else "free"
        return (
            f"explore {self.panel_id}: {len(self.cells)} cells, {self.requests} to paint, "
            f"{cached} from cache, {cost}"
        )


def cell_label(states: Mapping[str, bool]) -> str:
    """``@noir ON · dutch angle OFF``."""
    return " · ".join(f"{k} {'ON' if v else 'OFF'}" for k, v in states.items())


def _fail(message: str, sink: Sink, sources: Mapping[str, SourceFile] | None = None) -> None:
    raise ExploreError(message, sink.diagnostics, sources)


def _resolve(
    names: Sequence[str], labels: Sequence[str], panel: ir.Panel, ref: str, sink: Sink
) -> list[str]:
    """The labels ``names`` mean (exactly, else ignoring case); an error at the
    panel's heading for each one the panel has none of."""
    out: list[str] = []
    for name in names:
        want = name.strip()
        hit = want if want in labels else None
        if hit is None:
            folded = [x for x in labels if x.casefold() == want.casefold()]
            hit = folded[0] if folded else None
        if hit is None:
            close = did_you_mean(want, labels)
            hints = [f"did you mean `{close[0]}`?"] if close else []
            inline = [
                s for s in panel.prompt.sources if s.kind in WRITTEN and s.source.strip() == want
            ]
            where = inline[0].span if inline else None
            if where is not None:
                hints.append(
                    f"`{want}` is part of a one-line `{_KEYS[inline[0].kind]}:` value (line "
                    f"{where.line}): put each part on its own `- item` line to switch it"
                )
            shown = ", ".join(f"`{x}`" for x in dict.fromkeys(labels))
            hints.append(
                f"its toggles: {shown}"
                if labels
                else "it has none: write its prompt items one per line (`prompt:` then `  - item`)"
            )
            sink.error(
                "unknown-toggle",
                f"panel {ref} has no prompt item or style snippet `{want}`",
                panel.span,
                label="the panel explored",
                hints=hints,
            )
        elif hit not in out:
            out.append(hit)
    return out


def _compile(text: str, path: Path, opts: BuildOptions, sink: Sink) -> tuple[ir.Script, Theme]:
    src = SourceFile.from_text(text, str(path))
    checked = check_source(src, sink, allow_paths=opts.allow_paths)
    if checked is None or checked.script is None or sink.has_errors():
        _fail("the script has errors: fix them (`comicc check`) first", sink, {src.path: src})
    assert checked is not None and checked.script is not None  # _fail raised otherwise
    return checked.script, checked.theme


def _plan_cell(text: str, path: Path, pid: str, opts: BuildOptions, sink: Sink) -> CellWork:
    """Check ``text`` and plan the image of panel ``pid`` as a build would."""
    script, theme = _compile(text, path, opts, sink)
    page = next(pg for pg in script.pages if any(p.id == pid for p in pg.panels))
    one = replace(script, pages=(page,))
    one = confine_paths(apply_overrides(one, opts), sink, opts.allow_paths)
    if opts.dpi and not check_geometry(one, theme, sink, dpi=opts.dpi):
        _fail("the panel is too large at that dpi", sink)
    keep = locked_sizes(one, sink, doing="exploring") if opts.use_lock else None
    book = layout(one, theme, sink, keep=keep)
    backends = create_backends(one, sink, ready=False) if book is not None else None
    if book is None or backends is None or sink.has_errors():
        _fail("the panel cannot be planned", sink)
    assert book is not None and backends is not None
    caps = {name: b.capabilities for name, b in backends.items()}
    cache = ArtCache(opts.cache_dir or default_cache_dir(path))
    ext, lock = "png" if opts.lossless else "jpg", read_lock(lock_path(one.path))
    plan = plan_images(one, book, caps, cache, ext=ext, lock=lock)
    image = next(i for i in plan.of_panel(pid) if i.picked)
    return CellWork(text, one, theme, book.pages[0], image, caps)


def plan_explore(
    script: Path,
    panel: str,
    toggles: list[str],
    *,
    cap: int = DEFAULT_CAP,
    options: BuildOptions | None = None,
    text: str | None = None,
) -> ExplorePlan:
    """The plan of exploring ``toggles`` (labels of prompt items or style
    snippets of ``panel``, ``"1.2"``): every on/off combination, first all
    on, what each costs and whether the cache has it. Nothing is sent.
    ``text``: the script's text when already read (else read from ``script``).
    Raises :class:`ExploreError`: the script has errors, an unknown panel or
    toggle (a diagnostic at the panel's heading, with "did you mean"), more
    cells than ``cap``."""
    opts = options or BuildOptions()
    path = Path(script)
    sink = Sink()
    try:
        page_no, number = parse_ref(panel)
    except EditError as e:
        raise ExploreError(str(e), usage=True) from None
    try:
        text = read_script(path) if text is None else text
    except EditError as e:
        raise ExploreError(str(e)) from None
    ref, pid = f"{page_no}.{number}", f"p{page_no}.{number}"
    current, _ = _compile(text, path, opts, sink)
    target = next((p for p in current.panels if p.id == pid), None)
    if target is None:
        pages = sorted({p.page for p in current.panels})
        raise ExploreError(
            f"the script has no panel {ref} (its pages: {pages[0]} to {pages[-1]})", usage=True
        )
    labels = [t.label for t in panel_toggles(text, panel)]
    src = SourceFile.from_text(text, str(path))
    if not toggles:
        raise ExploreError("name at least one toggle to explore (`--toggle @noir`)", usage=True)
    chosen = _resolve(toggles, labels, target, ref, sink)
    if sink.has_errors():
        _fail(sink.errors[0].message, sink, {src.path: src})
    count = 2 ** len(chosen)
    if count > cap:
        raise ExploreError(
            f"{len(chosen)} toggles make {count} cells, more than the cap of {cap}: "
            f"explore fewer toggles, or allow them with `--cap {count}`",
            usage=True,
        )
    now = {t.label: t.enabled for t in panel_toggles(text, panel)}
    cells: list[Cell] = []
    work: list[CellWork] = []
    for index, combo in enumerate(itertools.product((True, False), repeat=len(chosen)), 1):
        states = dict(zip(chosen, combo, strict=True))
        cell_sink = Sink()
        try:
            cell_text = apply_states(text, panel, states)
        except EditError as e:
            raise ExploreError(str(e)) from None
        try:
            w = _plan_cell(cell_text, path, pid, opts, cell_sink)
        except ExploreError as e:
            raise ExploreError(f"cell {index} ({cell_label(states)}): {e}", e.diagnostics) from None
        work.append(w)
        i, is_now = w.image, all(now.get(k) == v for k, v in states.items())
        cells.append(
            Cell(
                cell_label(states), states, None, i.cached, i.cost, index, i.plan.cache_key, is_now
            )
        )
    to_paint = {c.cache_key: c.cost for c in cells if not c.cached}
    unit = next((w.image.unit for w in work if w.image.unit), None)
    cost, backend = sum(to_paint.values()), work[0].image.plan.backend
    return ExplorePlan(
        ref,
        chosen,
        cells,
        cost,
        unit or "",
        len(to_paint),
        path,
        text,
        backend,
        0,
        opts,
        tuple(work),
    )


def art_path(cache_root: Path, key: str, ext: str) -> Path:
    """Where the art cache keeps the art of ``key`` (see :mod:`comicc.paint.cache`)."""
    return cache_root / "art" / key[:2] / f"{key}.{ext}"


def run_explore(
    plan: ExplorePlan,
    *,
    progress: bool | None = None,
    workers: int | None = None,
    confirm: Callable[[ExplorePlan], bool] | None = None,
) -> ExplorePlan:
    """Paint the cells of ``plan`` the cache does not hold (each image once),
    through the backend the panel names, and return the plan with every
    cell's ``image`` filled. Before a paid request: the cost must be within
    ``options.max_cost`` (else the script's ``budget:``), and ``confirm``
    (shown the plan) must say yes. Raises :class:`ExploreError` (nothing more
    is sent then; what was painted stays cached)."""
    opts = plan.options
    ext = "png" if opts.lossless else "jpg"
    first = plan.work[0].script if plan.work else None
    limit = opts.max_cost
    if limit is None and first is not None and first.budget is not None:
        limit = first.budget.amount
    if limit is not None and plan.cost > limit + 1e-9:
        raise ExploreError(
            f"exploring would cost {plan.cost:g} {plan.currency}: "
            f"{plan.cost - limit:g} {plan.currency} more than the limit of {limit:g} "
            "(`--max-cost`, else the script's `budget:`)"
        )
    todo: dict[str, CellWork] = {}
    for cell, w in zip(plan.cells, plan.work, strict=True):
        if not cell.cached:
            todo.setdefault(cell.cache_key, w)
    if plan.cost > 0 and todo and confirm is not None and not confirm(plan):
        raise ExploreError("not confirmed: nothing was painted")
    root = Path(opts.cache_dir) if opts.cache_dir else default_cache_dir(plan.script)
    painted = 0
    if todo:
        sink = Sink()
        w0 = next(iter(todo.values()))
        only = replace(
            w0.script,
            pages=tuple(
                replace(pg, panels=(w0.image.panel,))
                for pg in w0.script.pages
                if w0.image.panel in pg.panels
            ),
        )
        backends = create_backends(only, sink)
        if backends is None:
            _fail("the backend is not ready: nothing was painted", sink)
        assert backends is not None
        cache = ArtCache(root, script=str(plan.script))
        cache.sweep()
        painter = Painter(
            backends,
            cache,
            image_format="png" if opts.lossless else "jpeg",
            quality=opts.quality,
            workers=workers if workers is not None else opts.workers,
            progress=progress,
        )
        jobs = [PaintJob(w.image.panel, w.image.geom, w.image.variant) for w in todo.values()]
        outcomes = painter.paint(jobs)
        for o in outcomes:
            sink.extend(o.diagnostics)
            if o.plan is None or o.art is None:
                continue
            painted += not o.from_cache
            meta = cache.meta(o.plan.cache_key)
            if meta is not None and RECORD not in meta:
                caps = backends[o.job.panel.settings.backend].capabilities
                record = request_record(o.plan, o.job.panel, o.job.geom, caps)
                cache.add_meta(o.plan.cache_key, {RECORD: record})
        if sink.has_errors():
            _fail(sink.errors[0].message, sink)
    cells = []
    for cell in plan.cells:
        p = art_path(root, cell.cache_key, ext)
        cells.append(replace(cell, image=p if p.is_file() else None))
    return replace(plan, cells=cells, painted=painted)


# ------------------------------------------------------------------ the sheet
def lettered_panel(
    page: PageGeom, panel_id: str, art: PanelArt | None, width: int, page_color: str | None
) -> Image.Image:
    """Panel ``panel_id`` of ``page``, ``width`` px wide: its art with its
    balloons drawn over it, by the renderer of PNG pages (cropped to the art box)."""
    geom = next(g for g in page.panels if g.id == panel_id)
    k = width / max(geom.rect.w, 1e-6)
    alone = replace(page, panels=(geom,), extra=())
    arts = {panel_id: art} if art is not None else {}
    img = render_page(alone, arts, dpi=72 * k, bleed=True, page_color=page_color)
    b = page.bleed
    box = (
        round((geom.rect.x + b) * k),
        round((geom.rect.y + b) * k),
        round((geom.rect.x2 + b) * k),
        round((geom.rect.y2 + b) * k),
    )
    return img.crop(box)


def cell_image(plan: ExplorePlan, index: int, *, width: int = CELL_WIDTH) -> Image.Image:
    """Cell ``index`` (1-based) lettered, ``width`` px wide (a grey panel with
    its balloons when it has no art yet)."""
    cell, w = plan.cells[index - 1], plan.work[index - 1]
    art = PanelArt.from_bytes(cell.image.read_bytes()) if cell.image is not None else None
    img = lettered_panel(w.page, w.image.panel.id, art, width, w.theme.page_color)
    if art is None:
        grey = Image.new("RGB", img.size, (200, 200, 200))
        img = Image.blend(img, grey, 0.5)
    return img


@dataclass(frozen=True)
class SheetLayout:
    """Where the contact sheet draws each cell: its art box and its label's
    top-left corner, in sheet pixels."""

    size: tuple[int, int]
    boxes: tuple[tuple[int, int, int, int], ...]  # (left, top, right, bottom) per cell
    labels: tuple[tuple[int, int], ...]
    label_height: int


def sheet_layout(
    plan: ExplorePlan, cell_size: tuple[int, int], label_lines: int = 3
) -> SheetLayout:
    """The grid: about square (2x2 for 4 cells), each cell above its label
    (``label_lines`` lines of type)."""
    n = len(plan.cells)
    cols = max(1, min(n, math.ceil(math.sqrt(n))))
    rows = max(1, math.ceil(n / cols))
    label_h = label_lines * (LABEL_SIZE + 4) + 4
    top = 2 * PAD + LABEL_SIZE + 4
    cw, ch = cell_size
    size = (PAD + cols * (cw + PAD), top + rows * (ch + label_h + PAD))
    boxes, labels = [], []
    for i in range(n):
        r, c = divmod(i, cols)
        x, y = PAD + c * (cw + PAD), top + r * (ch + label_h + PAD)
        boxes.append((x, y, x + cw, y + ch))
        labels.append((x, y + ch + 4))
    return SheetLayout(size, tuple(boxes), tuple(labels), label_h)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: object, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split(" "):
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:  # type: ignore[arg-type]  # a FreeType font
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def contact_sheet(plan: ExplorePlan, *, width: int = CELL_WIDTH) -> Image.Image:
    """The labelled grid of every cell (see :func:`sheet_layout`): each cell
    lettered, numbered as ``--apply`` takes it and labelled with its states
    (``2. @noir ON · dutch angle OFF``, ``(now)`` for the script as it is)."""
    images = [cell_image(plan, i, width=width) for i in range(1, len(plan.cells) + 1)]
    cell_size = (width, max(im.height for im in images))
    font = load_font(None, LABEL_SIZE)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    texts = [f"{c.index}. {c.label}" + (" (now)" if c.current else "") for c in plan.cells]
    wrapped = [_wrap(measure, t, font, width)[:3] for t in texts]
    geo = sheet_layout(plan, cell_size, max(len(w) for w in wrapped))
    sheet = Image.new("RGB", geo.size, (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    explored = ", ".join(plan.toggles)
    title = f"{plan.script.name}, panel {plan.panel}: {len(plan.cells)} cells of {explored}"
    draw.text((PAD, PAD), title, fill=(0, 0, 0), font=font)
    for lines, im, box, at in zip(wrapped, images, geo.boxes, geo.labels, strict=True):
        sheet.paste(im, box[:2])
        draw.rectangle((box[0] - 1, box[1] - 1, box[2], box[1] + im.height), outline=(0, 0, 0))
        y = at[1]
        for line in lines:
            draw.text((at[0], y), line, fill=(0, 0, 0), font=font)
            y += LABEL_SIZE + 4
    return sheet
