"""The front half of the pipeline: source -> checked IR (load, parse, theme, lower).

Each function takes explicit inputs and a diagnostics sink and returns None
when the stage found errors; the CLI turns that into exit codes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from comicc.diagnostics import Sink
from comicc.model import (
    Context,
    PromptTemplates,
    TemplateProblem,
    ir,
    lower,
    path_within,
    script_path,
)
from comicc.source import MAX_SOURCE_BYTES, InputRefused, SourceFile, read_capped
from comicc.syntax import ast, parse
from comicc.theme import (
    PageFormat,
    Theme,
    available_themes,
    is_theme_path,
    load_theme,
    resolve_format,
    theme_roots,
)
from comicc.units import MAX_PAGE_PIXELS, pixel_count

DEFAULT_THEME = "classic"


class _BackendNames(Sequence[str]):
    """The registry's backend names, looked up when first used: most scripts
    never name a backend, and checking them then never loads the backends
    package (Pillow, the HTTP clients, the plugins' entry points)."""

    @functools.cached_property
    def _names(self) -> tuple[str, ...]:
        from comicc.backends import names

        return tuple(names())

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._names[index]

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __contains__(self, name: object) -> bool:
        if "_names" in self.__dict__:
            return name in self._names
        from comicc.backends import is_known  # `backend: draft` scans no entry points

        return isinstance(name, str) and is_known(name)


def load_source(path: str | Path, sink: Sink) -> SourceFile | None:
    """Read a script as UTF-8; None (and a diagnostic) if it cannot be read.

    Only a regular file of at most :data:`~comicc.source.MAX_SOURCE_BYTES` is
    read: a FIFO, a device such as ``/dev/zero`` or a huge file is refused
    before any of it is held in memory."""
    p = Path(path)
    try:
        data = read_capped(p, MAX_SOURCE_BYTES)
    except FileNotFoundError:
        hints = []
        if p.suffix != ".comic" and Path(str(p) + ".comic").exists():
            hints.append(f"did you mean `{p}.comic`?")
        sink.error("file-not-found", f"no such file: {path}", path=str(path), hints=hints)
        return None
    except InputRefused as e:
        if e.reason.startswith("is a directory"):
            sink.error("file-not-found", f"{path} is a directory, not a script", path=str(path))
        elif e.reason.startswith("is larger"):
            sink.error(
                "file-too-large",
                f"{path} {e.reason}: comicc reads scripts of up to "
                f"{MAX_SOURCE_BYTES // (1024 * 1024)} MiB",
                path=str(path),
                hints=["split the book into several scripts"],
            )
        else:
            sink.error(
                "not-a-file",
                f"{path} {e.reason}: comicc reads scripts from regular files only",
                path=str(path),
                hints=["save the script to a file and check that file"],
            )
        return None
    except OSError as e:
        sink.error("file-not-found", f"cannot read {path}: {e.strerror or e}", path=str(path))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        good = data[: e.start].decode("utf-8", errors="replace")
        src = SourceFile.from_text(good + "\ufffd", str(path))
        off = len(src.text) - 1
        sink.error(
            "not-utf8",
            f"the file is not UTF-8 text: byte 0x{data[e.start]:02x} cannot be read",
            src.span(off, off + 1),
            label="here",
            hints=["save the script as UTF-8 (every modern editor can)"],
        )
        return None
    return SourceFile.from_text(text, str(path))


def _theme_setting(tree: ast.Script) -> str | None:
    for node in tree.header:
        if isinstance(node, ast.Setting) and node.key == "theme" and node.value:
            return node.value.strip()
    return None


def _script_theme(
    tree: ast.Script,
    src: SourceFile,
    sink: Sink,
    sources: dict[str, SourceFile],
    allow: Sequence[str],
) -> Theme | None:
    """Load the theme a script asks for; None (and diagnostics) if it is broken.

    An unknown theme name, a missing theme file or one outside the folders a
    script may read (see :func:`~comicc.theme.theme_roots`) is reported by the
    lowering, at the setting; here it falls back to the default theme.
    """
    base_dir = Path(src.path).resolve().parent
    name = _theme_setting(tree) or DEFAULT_THEME
    if is_theme_path(name):
        path = script_path(name, base_dir)
        if not path_within(path, (base_dir, *theme_roots(allow))) or not path.is_file():
            name = DEFAULT_THEME
    elif name not in available_themes():
        name = DEFAULT_THEME
    return load_theme(name, sink, base_dir, sources=sources, allow=allow)


@dataclass
class Checked:
    """A parsed and checked script, and what a build of it needs next."""

    source: SourceFile
    tree: ast.Script
    script: ir.Script | None  # None when the script (or its theme) has errors
    # the script's theme; the default theme when the script's own is broken (then
    # `script` is None), so the script's own errors are still all reported
    theme: Theme
    sources: dict[str, SourceFile]  # every file a diagnostic may point into


def check(
    path: str | Path,
    sink: Sink,
    *,
    backends: tuple[str, ...] | None = None,
    allow_paths: Sequence[str] = (),
) -> Checked | None:
    """Parse and lower a script, collecting every diagnostic.

    ``allow_paths``: folders (``--allow-path``) the script may read theme files
    from, besides its own folder, the shipped themes and the user's themes."""
    src = load_source(path, sink)
    if src is None:
        return None
    return check_source(src, sink, backends=backends, allow_paths=allow_paths, from_file=True)


def check_source(
    src: SourceFile,
    sink: Sink,
    *,
    backends: tuple[str, ...] | None = None,
    allow_paths: Sequence[str] = (),
    from_file: bool = False,
) -> Checked | None:
    """Parse and lower a script already in memory, collecting every diagnostic.

    ``from_file``: ``src`` is the text of the file at its path, so its pages
    are kept in the parse cache however short it is (see :func:`comicc.syntax.parse`)."""
    allow = tuple(str(a) for a in allow_paths)
    tree = parse(src, sink, cached=from_file)
    if tree is None:
        return None
    sources = {src.path: src}
    found = script_context(tree, src, sink, sources, allow, backends)
    if found is None:
        return None
    theme, ctx = found
    script = lower(tree, src, sink, ctx)
    if script is not None and not check_geometry(script, theme, sink):
        script = None
    return Checked(src, tree, script, theme, sources)


def script_context(
    tree: ast.Script,
    src: SourceFile,
    sink: Sink,
    sources: dict[str, SourceFile],
    allow: tuple[str, ...],
    backends: Sequence[str] | None = None,
) -> tuple[Theme, Context] | None:
    """The theme of the script ``tree`` (its header is enough) and the context
    it is lowered in; None (and a diagnostic) when neither its theme nor the
    default theme can be used."""
    theme = _script_theme(tree, src, sink, sources, allow) or load_theme(DEFAULT_THEME, Sink())
    if theme is None:
        return None
    try:
        templates = PromptTemplates(theme.prompt_template, theme.character_template)
    except TemplateProblem as e:
        sink.error("prompt-template", str(e), path=theme.path)
        return None
    ctx = Context(
        templates=templates,
        page_formats=tuple(theme.formats),
        default_negative=theme.negative,
        backends=tuple(backends) if backends else _BackendNames(),
        themes=tuple(available_themes()),
        default_theme=DEFAULT_THEME,
        default_format=theme.default_format,
        default_reading=theme.reading,
        theme_dirs=theme_roots(allow),
        allow_paths=allow,
    )
    return theme, ctx


def check_geometry(script: ir.Script, theme: Theme, sink: Sink, dpi: int | None = None) -> bool:
    """Whether every page and panel of ``script`` can be made: each panel box at
    least :data:`~comicc.layout.MIN_PANEL_SIDE` a side, and each page and panel
    at most :data:`~comicc.units.MAX_PAGE_PIXELS` at its dpi (``dpi``: the
    ``--dpi`` of a build, for every panel and page). Reports each one that
    cannot, at its heading; checked before anything is allocated."""
    page_format = resolve_format(theme, script.page_format)
    if page_format is None:  # reported by the build, which needs it
        return True
    ok = True
    for page in script.pages:
        ok = check_page_geometry(page, page_format, theme, script, sink, dpi) and ok
    return ok


def check_page_geometry(
    page: ir.Page,
    page_format: PageFormat,
    theme: Theme,
    script: ir.Script,
    sink: Sink,
    dpi: int | None = None,
) -> bool:
    """:func:`check_geometry` for one page of ``script`` (its reading direction
    and book-level dpi), in the page format it resolved to."""
    from comicc.layout import MIN_PANEL_SIDE, layout_page  # a script with pages only

    page_dpi = dpi or script.settings.dpi
    budget = f"{MAX_PAGE_PIXELS // 1_000_000} megapixels"
    frame, boxes = layout_page(
        page, page_format, theme.gutter_tier, theme.gutter_within, script.reading
    )
    side = 2 * frame.bleed
    if pixel_count(frame.width + side, frame.height + side, page_dpi) > MAX_PAGE_PIXELS:
        sink.error(
            "page-too-large",
            f"page {page.number} at {page_dpi} dpi has more than {budget}",
            page.span,
            hints=["lower the `dpi:` setting, or use a smaller page format"],
        )
        return False
    small = [b for b in boxes if min(b.rect.w, b.rect.h) < MIN_PANEL_SIDE]
    if small:
        panel, rect = small[0].panel, small[0].rect
        more = f" (and {len(small) - 1} more panels of this page)" if len(small) > 1 else ""
        sink.error(
            "panel-too-small",
            f"panel {panel.number} of page {page.number} would be "
            f"{max(rect.w, 0):.0f}x{max(rect.h, 0):.0f}pt{more}: a panel is at least "
            f"{MIN_PANEL_SIDE:.0f}pt (0.25in) a side",
            panel.span,
            hints=[
                "put fewer panels on this page, give it fewer tiers, or use a larger "
                "page format (the theme's margins and gutters take room too)"
            ],
        )
        return False
    ok = True
    for box in boxes:
        panel, rect = box.panel, box.rect
        panel_dpi = dpi or panel.settings.dpi
        if pixel_count(rect.w, rect.h, panel_dpi) > MAX_PAGE_PIXELS:
            ok = False
            sink.error(
                "panel-too-large",
                f"panel {panel.number} of page {page.number} at {panel_dpi} dpi has "
                f"more than {budget}",
                panel.span,
                hints=["lower the `dpi:` setting"],
            )
    return ok
