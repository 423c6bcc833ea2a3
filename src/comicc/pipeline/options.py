"""What a build takes and gives: its options, its result, the output formats.

Apart from ``book.py`` (the wiring) so the command line can list the output
formats without loading the painting half.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

OUTPUT_FORMATS = ("pdf", "cbz", "png")
DPI_RANGE = (72, 1200)  # art resolution: the bounds of `--dpi`, as of the script's `dpi:`


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
