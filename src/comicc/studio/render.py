"""One preview build: the script checked, laid out, planned, painted where
allowed, and every page drawn at screen resolution.

The same stages as ``comicc build`` (:func:`comicc.pipeline.build`), wired
for the studio: nothing is written but the art cache and the lock file (the
book stays in memory), and painting obeys the studio's rule -- free images
(the draft backend, cached art) are painted at once, paid ones only when the
writer confirmed the plan; until then a panel shows the art it had (or none)
and the plan's images wait in :attr:`Preview.pending`. Pages are drawn by the
renderer of PNG output (:func:`comicc.output.render_page`).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from comicc.diagnostics import Sink
from comicc.files import FileRefused, describe_os_error
from comicc.images import PanelArt
from comicc.layout import BookGeom, PageGeom, Rect
from comicc.model import ir
from comicc.output import render_page
from comicc.paint import (
    ArtCache,
    LockedPanel,
    Painter,
    PaintJob,
    default_cache_dir,
    lock_path,
    read_lock,
    write_lock,
)
from comicc.pipeline import BookPlan, PlannedImage, check
from comicc.pipeline.book import layout, locked_sizes
from comicc.pipeline.configure import confine_paths, create_backends
from comicc.pipeline.options import LayoutMemo
from comicc.pipeline.plan import plan_images
from comicc.pipeline.reasons import RECORD, request_record
from comicc.source import SourceFile
from comicc.theme import Theme

SCREEN_DPI = 100  # the studio's page images: a screen's resolution, not the print's
ART_EXT = "jpg"  # the art a default build caches (no --lossless in the studio)
PAINT_MODES = ("none", "free", "all")  # --no-paint; the default; a confirmed plan
PLACEHOLDER_COLOR = (226, 226, 222)  # a panel waiting for its art
PLACEHOLDER_LINES = (208, 208, 203)


@dataclass(frozen=True)
class PanelBox:
    """A panel on a page image: its ref (``1.2``), id (``p1.2``) and box as
    fractions of the page image (x, y, width, height)."""

    ref: str
    id: str
    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class PageView:
    """One page drawn for the screen; ``key`` changes exactly when its pixels may."""

    number: int
    key: str
    png: bytes
    width: int
    height: int
    panels: tuple[PanelBox, ...]


@dataclass
class Preview:
    """What one successful preview build made (kept until the next good one)."""

    script: ir.Script
    theme: Theme
    book: BookGeom
    plan: BookPlan
    cache: ArtCache
    art: dict[str, PanelArt]  # panel id -> the art the page shows
    pages: list[PageView]
    pending: tuple[PlannedImage, ...]  # images the plan would paint and this build did not
    painted: list[PlannedImage] = field(default_factory=list)  # images this build painted
    workflows: tuple[str, ...] = ()


def ref_of(panel_id: str) -> str:
    """``p1.2`` -> ``1.2``."""
    return panel_id[1:] if panel_id.startswith("p") else panel_id


def check_script(
    path: Path, sink: Sink, allow_paths: tuple[str, ...] = ()
) -> tuple[tuple[ir.Script, Theme] | None, dict[str, SourceFile]]:
    """The checked script and its theme (None on errors), and the files its
    diagnostics point into; ``allow_paths``: as ``--allow-path``."""
    res = check(str(path), sink, allow_paths=allow_paths)
    if res is None:
        return None, {}
    sources = dict(res.sources)
    if res.script is None or sink.has_errors():
        return None, sources
    return (res.script, res.theme), sources


def preview_build(
    script: ir.Script,
    theme: Theme,
    sink: Sink,
    *,
    memo: LayoutMemo | None,
    cache_dir: str | None,
    paint: str,
    shown: Mapping[str, PanelArt],
    pages_before: Mapping[str, PageView],
    paid: frozenset[str] | None = None,
    allow_paths: tuple[str, ...] = (),
) -> Preview | None:
    """Lay out, plan and paint (as ``paint`` allows: one of :data:`PAINT_MODES`)
    ``script``; draw its pages. ``shown``: the art each panel showed before
    (kept while its new art waits for a paid paint); ``pages_before``: the page
    images of the last build by key (reused when unchanged); ``paid``: with
    ``paint="all"``, the panels whose paid images may be painted (None: all).
    None on errors."""
    script = confine_paths(script, sink, allow_paths)
    if sink.has_errors():
        return None
    keep = locked_sizes(script, sink)
    book = layout(script, theme, sink, keep=keep, memo=memo)
    if book is None or sink.has_errors():
        return None
    planning = create_backends(script, sink, ready=False)
    if planning is None:
        return None
    cache = ArtCache(cache_dir or default_cache_dir(script.path), script=script.path)
    caps = {name: b.capabilities for name, b in planning.items()}
    lock = read_lock(lock_path(script.path))
    plan = plan_images(script, book, caps, cache, ext=ART_EXT, lock=lock)
    wanted = [i for i in plan.to_paint if _may_paint(i, paint, paid)]
    painted: list[PlannedImage] = []
    if wanted and not _within_budget(script, wanted, sink):
        return None
    if wanted:
        backends = create_backends(script, sink)
        if backends is None:
            return None
        jobs = [PaintJob(i.panel, i.geom, i.variant) for i in wanted]
        outcomes = Painter(backends, cache, progress=False).paint(jobs)
        for o in outcomes:
            sink.extend(o.diagnostics)
            if o.plan is not None and o.art is not None:
                meta = cache.meta(o.plan.cache_key)
                if meta is not None and RECORD not in meta:
                    record = request_record(o.plan, o.job.panel, o.job.geom, caps[o.plan.backend])
                    cache.add_meta(o.plan.cache_key, {RECORD: record})
        if sink.has_errors():
            return None
        painted = wanted
        plan = plan_images(script, book, caps, cache, ext=ART_EXT, lock=lock)
    art, keys = _chosen_art(plan, cache, shown)
    if not plan.to_paint:
        try:
            _write_lock(script, plan)
        except (FileRefused, OSError) as e:
            why = str(e) if isinstance(e, FileRefused) else describe_os_error(e) or str(e)
            sink.warning(
                "lock-not-written",
                f"the lock file was not written: {why}",
                path=str(lock_path(script.path)),
                hints=["the studio shows the book all the same; `comicc build` needs the file"],
            )
    pages = [_page_view(page, art, keys, theme.page_color, pages_before) for page in book.pages]
    base = Path(script.path).resolve().parent
    named = (p.settings.settings_for("comfyui").get("workflow", "") for p in script.panels)
    workflows = tuple(sorted({str(base / w.strip()) for w in named if w.strip()}))
    return Preview(script, theme, book, plan, cache, art, pages, plan.to_paint, painted, workflows)


def _within_budget(script: ir.Script, images: list[PlannedImage], sink: Sink) -> bool:
    """Whether painting ``images`` stays within the script's ``budget:`` (in
    each paying backend's unit, as ``build`` checks it); an error if not."""
    if script.budget is None:
        return True
    limit = script.budget.amount
    costs: dict[str, float] = {}
    for image in images:
        if image.cost:
            costs[image.unit or ""] = costs.get(image.unit or "", 0.0) + image.cost
    over = {unit: cost for unit, cost in costs.items() if cost > limit + 1e-9}
    for unit, cost in over.items():
        sink.error(
            "over-budget",
            f"painting these images would cost {cost:g} {unit}: {cost - limit:g} {unit} "
            f"more than the script's `budget:` of {limit:g}; nothing was painted",
            script.budget.span,
            path=None if script.budget.span is not None else script.path,
            hints=[
                "raise the budget, or paint fewer images (fewer variants, or a panel at a time)"
            ],
        )
    return not over


def _may_paint(image: PlannedImage, paint: str, paid: frozenset[str] | None) -> bool:
    """Whether this build paints ``image``: free ones unless ``--no-paint``,
    paid ones only when confirmed (for the panels ``paid`` names, if any)."""
    if image.cost == 0:
        return paint != "none"
    return paint == "all" and (paid is None or image.panel.id in paid)


def _chosen_art(
    plan: BookPlan, cache: ArtCache, shown: Mapping[str, PanelArt]
) -> tuple[dict[str, PanelArt], dict[str, str]]:
    """Per panel the art its page shows (the picked variant's cached art, else
    what it showed before, else none) and a key naming that art."""
    art: dict[str, PanelArt] = {}
    keys: dict[str, str] = {}
    for image in plan.images:
        if not image.picked:
            continue
        pid = image.panel.id
        data = cache.get(image.plan.cache_key, ART_EXT) if image.cached else None
        if data is not None:
            art[pid] = PanelArt.from_bytes(data)
            keys[pid] = image.plan.cache_key
        elif pid in shown:
            art[pid] = shown[pid]
            keys[pid] = "old:" + hashlib.sha256(shown[pid].data).hexdigest()
        else:
            k = SCREEN_DPI / 72.0
            size = (max(1, round(image.geom.rect.w * k)), max(1, round(image.geom.rect.h * k)))
            art[pid] = placeholder(size)
            keys[pid] = f"placeholder:{size}"
    return art, keys


def placeholder(size: tuple[int, int]) -> PanelArt:
    """What a panel shows until its art is painted: grey, hatched, labelled."""
    image = Image.new("RGB", size, PLACEHOLDER_COLOR)
    draw = ImageDraw.Draw(image)
    w, h = size
    for x in range(-h, w, 24):
        draw.line([(x, h), (x + h, 0)], fill=PLACEHOLDER_LINES, width=2)
    font = ImageFont.load_default(size=max(10, min(28, w // 14)))
    text = "not painted yet"
    box = draw.textbbox((0, 0), text, font=font)
    tw, th = box[2] - box[0], box[3] - box[1]
    left, top = (w - tw) / 2, h * 0.85 - th / 2  # low: balloons sit high
    draw.rectangle([left - 8, top - 6, left + tw + 8, top + th + 10], fill=PLACEHOLDER_COLOR)
    draw.text((left, top), text, fill=(90, 90, 90), font=font)
    return PanelArt.from_image(image, "png")


def _write_lock(script: ir.Script, plan: BookPlan) -> None:
    """The lock file of this book, as ``build`` writes it (every image is cached)."""
    locked = []
    for panel in script.panels:
        images = plan.of_panel(panel.id)
        chosen = next(i for i in images if i.picked)
        st = panel.settings
        locked.append(
            LockedPanel(
                panel.id,
                st.backend,
                st.model,
                st.variants,
                st.pick,
                chosen.plan.seed,
                chosen.plan.cache_key,
                tuple(i.plan.cache_key for i in images),
                {b.id: b.rect.to_json() for b in chosen.geom.balloons},
            )
        )
    write_lock(lock_path(script.path), locked)


def _page_view(
    page: PageGeom,
    art: Mapping[str, PanelArt],
    keys: Mapping[str, str],
    page_color: str | None,
    before: Mapping[str, PageView],
) -> PageView:
    """The page drawn at :data:`SCREEN_DPI`, or the last build's image of it
    when it was drawn from the same geometry and art."""
    shown = sorted((p.id, keys.get(p.id, "")) for p in page.panels)
    key = hashlib.sha256(repr((page, shown, page_color)).encode()).hexdigest()[:16]
    old = before.get(key)
    if old is not None and old.number == page.numbers[0]:
        return old
    mine = {p.id: art[p.id] for p in page.panels if p.id in art}
    image = render_page(page, mine, dpi=SCREEN_DPI, page_color=page_color)
    boxes = tuple(PanelBox(ref_of(p.id), p.id, _fractions(p.rect, page)) for p in page.panels)
    return PageView(page.numbers[0], key, png_bytes(image), image.width, image.height, boxes)


def _fractions(rect: Rect, page: PageGeom) -> tuple[float, float, float, float]:
    """``rect`` (points) as fractions of the trimmed page, clipped to it (a
    full-bleed panel reaches past the trim)."""
    x0, y0 = max(0.0, rect.x / page.width), max(0.0, rect.y / page.height)
    x1, y1 = min(1.0, rect.x2 / page.width), min(1.0, rect.y2 / page.height)
    return (round(x0, 5), round(y0, 5), round(max(0.0, x1 - x0), 5), round(max(0.0, y1 - y0), 5))


def png_bytes(image: Image.Image) -> bytes:
    """``image`` encoded as PNG."""
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()
