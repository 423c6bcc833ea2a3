"""Whether a build has anything to do, and what its output is made from.

A build whose every page has the layout key, every panel the settings and
the backends the configuration the output on disk was made with, and whose
output and lock file nobody changed since, is "up to date"
(:func:`if_up_to_date`): nothing is laid out, painted or written. The
digests here (:func:`build_inputs` for the whole output, :func:`page_digests`
per page) are what the build stamp (:mod:`comicc.pipeline.stamp`) records;
:mod:`comicc.pipeline.book` wires them into the build.
"""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

from comicc.backends import Backend
from comicc.diagnostics import Sink
from comicc.files import sweep_temp
from comicc.layout import BookGeom
from comicc.model import expand_home, ir
from comicc.paint import ArtCache, LockedPanel, lock_path, reference_warnings
from comicc.pipeline.configure import create_backends
from comicc.pipeline.layoutcache import placed_warnings
from comicc.pipeline.layoutcodec import Unkeyable
from comicc.pipeline.options import CBZ_MAX_DPI, BuildOptions, BuildResult
from comicc.pipeline.stamp import inputs_digest, read_stamp


def variant_counts(script: ir.Script) -> tuple[tuple[str, int], ...]:
    return tuple((p.id, p.settings.variants) for p in script.panels if p.settings.variants > 1)


def if_up_to_date(
    script: ir.Script,
    sink: Sink,
    opts: BuildOptions,
    keys: tuple[str | None, ...],
    out: Path,
    cache_root: Path,
) -> BuildResult | None:
    """The result of a build that has nothing to do: every page has the layout
    key, every panel the settings and the backends the configuration the output
    on disk was made with (its stamp says so, :mod:`comicc.pipeline.stamp`),
    and nobody changed the output or the lock file since. Then nothing is
    laid out, painted or written. None: the build has work to do."""
    if any(key is None for key in keys):
        return None
    backends = create_backends(script, Sink(), ready=False)  # a failure is reported later
    if backends is None:
        return None
    inputs = build_inputs(script, opts, keys, backends)
    if inputs is None:
        return None
    lock = lock_path(script.path) if opts.write_lock else None
    stored = read_stamp(cache_root, out, inputs, lock)
    warnings = None if stored is None else placed_warnings(stored, script)
    if warnings is None:
        return None
    sink.extend(warnings)
    sink.extend(reference_warnings(script, backends))
    # the housekeeping of every build: temp files killed builds left
    ArtCache(cache_root).sweep()
    if not writes_folder(opts):
        target = out.resolve()
        sweep_temp(target.parent, target.name)
    if opts.layout_memo is not None:
        opts.layout_memo.laid_out, opts.layout_memo.reused = [], [p.number for p in script.pages]
    return BuildResult(
        out,
        len(script.pages),
        len(script.panels),
        0,
        sum(p.settings.variants for p in script.panels),
        (),
        variant_counts(script),
        up_to_date=True,
    )


def build_inputs(
    script: ir.Script,
    opts: BuildOptions,
    keys: tuple[str | None, ...],
    backends: dict[str, Backend],
) -> str | None:
    """The digest of everything the output is made from past the layout (whose
    inputs the page ``keys`` stand for): the options, the script's header and
    panels (in the keys), the backends' capabilities and every file a backend
    setting names; None when there is no telling (a page without a key...)."""
    if any(key is None for key in keys):
        return None
    files = []
    values = {v for panel in script.panels for _, v in panel.settings.backend_settings}
    for value in sorted(values):
        try:
            path = expand_home(value.strip())
            if path.is_file():
                st = path.stat()
                files.append([value, st.st_size, st.st_mtime_ns])
        except (OSError, ValueError):
            continue
    try:
        return inputs_digest(
            [
                opts.output_format,
                opts.bleed,
                opts.lossless,
                opts.quality,
                opts.dpi or script.settings.dpi,
                CBZ_MAX_DPI,
                keys,
                replace(script, pages=()),
                sorted((name, b.capabilities) for name, b in backends.items()),
                files,
            ]
        )
    except Unkeyable:
        return None


def page_digests(
    script: ir.Script,
    opts: BuildOptions,
    keys: tuple[str | None, ...],
    book: BookGeom,
    locked: list[LockedPanel],
) -> list[str] | None:
    """Per page a digest of what its image (PNG page, CBZ page) is drawn from:
    its layout key, its panels' art, the options; None without layout keys."""
    if any(key is None for key in keys):
        return None
    art = {p.panel: p.cache_key for p in locked}
    common = [opts.output_format, opts.bleed, opts.lossless, opts.quality]
    common += [opts.dpi or script.settings.dpi, CBZ_MAX_DPI, script.reading]
    try:
        return [
            inputs_digest(["page", key, [art.get(g.id) for g in page.panels], common])
            for key, page in zip(keys, book.pages, strict=True)
        ]
    except Unkeyable:
        return None


def page_files(out: Path, opts: BuildOptions, written: list[Path] | None) -> list[str] | None:
    """The file (PNG) or CBZ member holding each page, in page order."""
    if written is not None:
        return [p.name for p in written]
    if opts.output_format != "cbz":
        return None
    try:
        with zipfile.ZipFile(out) as z:
            return [n for n in z.namelist() if n != "ComicInfo.xml"]
    except (OSError, zipfile.BadZipFile):
        return None


def book_fonts(book: BookGeom) -> list[str]:
    """The font files a book's lettering uses (and its PDF embeds)."""
    return sorted(
        {
            run.font.path
            for page in book.pages
            for panel in page.panels
            for balloon in panel.balloons
            for line in balloon.lines
            for run in line.runs
        }
    )


def writes_folder(opts: BuildOptions) -> bool:
    return opts.output_format == "png"
