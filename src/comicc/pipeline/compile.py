"""The front half of the pipeline: source -> checked IR (load, parse, theme, lower).

Each function takes explicit inputs and a diagnostics sink and returns None
when the stage found errors; the CLI turns that into exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from comicc.backends import names as backend_names
from comicc.diagnostics import Sink
from comicc.model import Context, PromptTemplates, TemplateProblem, ir, lower
from comicc.source import SourceFile
from comicc.syntax import ast, parse
from comicc.theme import Theme, available_themes, is_theme_path, load_theme

DEFAULT_THEME = "classic"


def load_source(path: str | Path, sink: Sink) -> SourceFile | None:
    """Read a script as UTF-8; None (and a diagnostic) if it cannot be read."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        hints = []
        if p.suffix != ".comic" and Path(str(p) + ".comic").exists():
            hints.append(f"did you mean `{p}.comic`?")
        sink.error("file-not-found", f"no such file: {path}", path=str(path), hints=hints)
        return None
    except IsADirectoryError:
        sink.error("file-not-found", f"{path} is a directory, not a script", path=str(path))
        return None
    except OSError as e:
        sink.error("file-not-found", f"cannot read {path}: {e.strerror}", path=str(path))
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
    tree: ast.Script, src: SourceFile, sink: Sink, sources: dict[str, SourceFile]
) -> Theme | None:
    """Load the theme a script asks for; None (and diagnostics) if it is broken.

    An unknown theme name or a missing theme file is reported by the lowering
    (with a did-you-mean at the setting); here it falls back to the default theme.
    """
    base_dir = Path(src.path).resolve().parent
    name = _theme_setting(tree) or DEFAULT_THEME
    if is_theme_path(name):
        path = Path(name)
        if not (path if path.is_absolute() else base_dir / path).is_file():
            name = DEFAULT_THEME
    elif name not in available_themes():
        name = DEFAULT_THEME
    return load_theme(name, sink, base_dir, sources=sources)


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
    path: str | Path, sink: Sink, *, backends: tuple[str, ...] | None = None
) -> Checked | None:
    """Parse and lower a script, collecting every diagnostic."""
    src = load_source(path, sink)
    if src is None:
        return None
    return check_source(src, sink, backends=backends)


def check_source(
    src: SourceFile, sink: Sink, *, backends: tuple[str, ...] | None = None
) -> Checked | None:
    """Parse and lower a script already in memory, collecting every diagnostic."""
    tree = parse(src, sink)
    if tree is None:
        return None
    sources = {src.path: src}
    theme = _script_theme(tree, src, sink, sources) or load_theme(DEFAULT_THEME, Sink())
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
        backends=tuple(backends or backend_names()),
        themes=tuple(available_themes()),
        default_theme=DEFAULT_THEME,
        default_format=theme.default_format,
        default_reading=theme.reading,
    )
    script = lower(tree, src, sink, ctx)
    return Checked(src, tree, script, theme, sources)
