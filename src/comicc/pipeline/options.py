"""What a build takes and gives: its options, its result, the output formats.

Apart from ``book.py`` (the wiring) so the command line can list the output
formats without loading the painting half.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from comicc.pipeline.layoutcache import StoredPage
    from comicc.pipeline.plan import BookPlan

OUTPUT_FORMATS = ("pdf", "cbz", "png")
DPI_RANGE = (72, 1200)  # art resolution: the bounds of `--dpi`, as of the script's `dpi:`
CBZ_MAX_DPI = 300  # CBZ pages are for screens: more pixels only make the file bigger


@dataclass
class BuildOptions:
    """How to build: the command line's options, as the library takes them."""

    output: str | None = (
        None  # file (pdf, cbz) or directory (png); "-": stdout; None: beside the script
    )
    output_format: str = "pdf"  # one of OUTPUT_FORMATS
    backend: str | None = None  # override every panel's backend
    dpi: int | None = None  # override every panel's dpi
    bleed: bool = False
    lossless: bool = False  # panel art as PNG instead of JPEG
    quality: int = 90  # JPEG quality
    cache_dir: str | None = None
    workers: int | None = None
    progress: bool | None = None  # None: a progress bar when stderr is a terminal
    write_lock: bool = True
    use_lock: bool = True  # keep balloon sizes from the lock file while text fits
    # files never to write over, path -> what it is (the build adds the script,
    # its lock file and its ComfyUI workflows); the CLI adds the theme files
    protect: dict[str, str] = field(default_factory=dict)
    # folders (--allow-path) a backend setting may name files in, besides the
    # script's own folder
    allow_paths: tuple[str, ...] = ()
    # the most the build may cost (`--max-cost`, in the paying backend's cost
    # unit); None: the script's `budget:`, if any
    max_cost: float | None = None
    # called with the book plan before the first paid request (only when the
    # build would pay): prints it, may ask; False stops the build unpainted
    on_paid_plan: Callable[[BookPlan], bool] | None = None
    # pages laid out by earlier builds in this process (`comicc watch`): a page
    # whose content did not change is not laid out again (pages are also kept
    # in the art cache's folder, `layout/`, for the next process)
    layout_memo: LayoutMemo | None = None
    # build and write even when the output is up to date (`--force`)
    force: bool = False


@dataclass
class LayoutMemo:
    """Pages laid out by earlier builds, by what they were laid out from (the
    page, the theme, the page format, the balloon sizes kept...: see
    :mod:`comicc.pipeline.layoutcache`), kept in memory between the builds of
    ``comicc watch``; ``laid_out`` and ``reused``: the page numbers the last
    build laid out and took from a memo (this one or the one on disk)."""

    # key -> the page's geometry and its layout warnings
    pages: dict[str, StoredPage] = field(default_factory=dict)
    laid_out: list[int] = field(default_factory=list)
    reused: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Repaint:
    """One image a build painted (not taken from the cache), and why."""

    panel_id: str
    page: int
    number: int  # the panel's number on its page
    variant: int
    reasons: tuple[str, ...] = ()  # "new panel", "prompt: added `dutch angle`", ...


@dataclass
class BuildResult:
    """What a build wrote: the output's path and how the panels were painted."""

    output: Path
    pages: int
    panels: int
    painted: int
    cached: int
    repainted: tuple[Repaint, ...] = ()  # every painted image, in panel order
    # panel id -> its number of variants, for the panels with more than one
    variants: tuple[tuple[str, int], ...] = ()
    # nothing to do: no page and no art changed and the output is as the last
    # build wrote it (then neither the output nor the lock file was written)
    up_to_date: bool = False
    laid_out: tuple[int, ...] = ()  # the pages laid out (not taken from the layout memo)
