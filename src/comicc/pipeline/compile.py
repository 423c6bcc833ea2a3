"""The only module that wires the stages together.

source -> syntax (parse) -> model (lower) -> layout -> render -> backends ->
output. Each function takes explicit inputs and a diagnostics sink and
returns None when the stage found errors; the CLI turns that into exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from comicc.diagnostics import Sink
from comicc.model import ir
from comicc.model.lower import KNOWN_BACKENDS, Context, lower
from comicc.model.prompt import PromptTemplates, TemplateProblem
from comicc.source import SourceFile
from comicc.syntax import ast
from comicc.syntax.parser import parse
from comicc.theme import model as theme_mod


def load_source(path: str | Path, sink: Sink) -> SourceFile | None:
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


def available_themes() -> tuple[str, ...]:
    return tuple(theme_mod.available_themes())


def _theme_name(tree: ast.Script) -> str | None:
    for node in tree.header:
        if isinstance(node, ast.Setting) and node.key == "theme" and node.value:
            return node.value.strip()
    return None


def load_theme_for(tree: ast.Script, src: SourceFile, sink: Sink, sources: dict | None = None):
    """Load the theme a script asks for; None (and diagnostics) if it is broken.

    An unknown theme NAME is reported by the lowering (with a did-you-mean at
    the setting); here it silently falls back to the default theme.
    """
    name = _theme_name(tree) or "classic"
    if "/" not in name and not name.endswith(".toml") and name not in available_themes():
        name = "classic"
    if "/" in name or name.endswith(".toml"):
        p = Path(name) if Path(name).is_absolute() else Path(src.path).resolve().parent / name
        if not p.is_file():
            name = "classic"
    return theme_mod.load_theme(name, sink, Path(src.path).resolve().parent, sources=sources)


@dataclass
class Checked:
    source: SourceFile
    tree: ast.Script
    script: ir.Script | None
    theme: object | None
    sources: dict  # every file a diagnostic may point into (script, theme files)


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
    if not src.text.strip():
        sink.error(
            "empty-script",
            "the script is empty: there is nothing to build",
            path=src.path,
            hints=[
                "a minimal script is `title: Hello`, `PAGE 1`, `PANEL 1` and a line of description"
            ],
        )
        return None
    tree = parse(src, sink)
    if tree is None:
        return None
    sources: dict = {src.path: src}
    theme = load_theme_for(tree, src, sink, sources)
    template = getattr(theme, "prompt_template", None) or theme_mod.DEFAULT_PROMPT_TEMPLATE
    character = getattr(theme, "character_template", None) or theme_mod.DEFAULT_CHARACTER_TEMPLATE
    negative = getattr(theme, "negative", "") or ""
    try:
        templates = PromptTemplates(template, character)
    except TemplateProblem as e:
        sink.error("prompt-template", str(e), path=getattr(theme, "path", None) or src.path)
        return None
    ctx = Context(
        templates=templates,
        default_negative=negative,
        backends=tuple(backends or KNOWN_BACKENDS),
        themes=available_themes(),
        default_theme="classic",
        default_format=getattr(theme, "default_format", None) or "us-comic",
        default_reading=getattr(theme, "reading", None) or "ltr",
    )
    script = lower(tree, src, sink, ctx)
    return Checked(src, tree, script, theme, sources)
