"""Reading a theme's files: the ``extends`` chain of TOML files, merged into one table."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comicc.diagnostics import Sink, did_you_mean
from comicc.model import is_theme_path, path_within, script_path
from comicc.resources import themes_dir
from comicc.source import InputRefused, SourceFile
from comicc.theme.positions import (
    KeyPath,
    Loc,
    index_keys,
    locate,
    syntax_error_message,
    syntax_error_span,
)

_NOT_INHERITED = {("name",), ("extends",), ("description",)}
MAX_THEME_BYTES = 1024 * 1024  # the largest theme file comicc reads (1 MiB)


@dataclass
class ThemeDoc:
    """One theme file of a chain: its text, where its keys are, its parsed TOML."""

    src: SourceFile
    index: dict[KeyPath, Loc]
    data: dict[str, Any]  # the parsed TOML


@dataclass
class MergedTheme:
    """The keys of a whole chain, each with the file that set it."""

    data: dict[str, Any]  # nested like TOML tables
    origin: dict[KeyPath, ThemeDoc]  # leaf key -> the file that set it
    top: ThemeDoc  # the file that was asked for (the last of the chain)


def theme_file(name: str) -> Path:
    """The file of the shipped theme ``name`` (it may not exist)."""
    return themes_dir() / f"{name}.toml"


def user_themes_dir() -> Path:
    """The user's own themes: ``themes/`` in the comicc config folder
    (``$COMICC_CONFIG``, else ``$XDG_CONFIG_HOME/comicc``, else ``~/.config/comicc``).

    Only that subfolder: the config folder itself holds ``keys.toml``."""
    if os.environ.get("COMICC_CONFIG"):
        return Path(os.environ["COMICC_CONFIG"]) / "themes"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "comicc" / "themes"


def theme_roots(allow: Sequence[str | Path] = ()) -> tuple[str, ...]:
    """The folders any script may read theme files from (besides its own):
    the shipped themes, the user's themes folder, and ``allow`` (``--allow-path``)."""
    return (str(themes_dir()), str(user_themes_dir()), *(str(a) for a in allow))


def available_themes() -> list[str]:
    """Names of the shipped themes (``themes/*.toml``), sorted."""
    d = themes_dir()
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.toml") if not p.stem.startswith("_"))


def read_chain(
    path: Path,
    sink: Sink,
    sources: dict[str, SourceFile],
    roots: Sequence[str | Path] | None = None,
) -> list[ThemeDoc] | None:
    """The file and the files it extends, base first; ``None`` after an error.

    The text of every file read is put into ``sources`` (path → file). Every
    file of the chain must be inside one of the folders ``roots`` (symlinks
    resolved; default: :func:`theme_roots` and the folder of ``path``): a theme
    from a stranger cannot ``extends`` its way to other files.
    """
    if roots is None:
        roots = (*theme_roots(), str(path.parent))
    docs: list[ThemeDoc] = []
    seen: list[Path] = []
    via: tuple[ThemeDoc, KeyPath] | None = None  # the `extends` that led to `path`
    while True:
        real = path.resolve()
        if real in seen:
            names = " → ".join(p.name for p in seen + [real])
            sink.error(
                "theme-extends-cycle",
                f"themes extend each other in a cycle: {names}",
                locate(via[0].src, via[0].index, via[1], True) if via else None,
            )
            return None
        seen.append(real)
        doc = _read(path, via, sink, sources, roots)
        if doc is None:
            return None
        docs.append(doc)
        ext = doc.data.get("extends")
        if ext is None:
            break
        via = (doc, ("extends",))
        if not isinstance(ext, str):
            sink.error(
                "theme-bad-value",
                "`extends` must be a theme name or a path",
                locate(doc.src, doc.index, ("extends",), True),
            )
            return None
        if is_theme_path(ext):
            path = script_path(ext, Path(doc.src.path).parent)
        else:
            path = theme_file(ext)
            if not path.is_file():
                sug = did_you_mean(ext, available_themes())
                hints = ([f"did you mean `{sug[0]}`?"] if sug else []) + [
                    "shipped themes: " + ", ".join(available_themes())
                ]
                sink.error(
                    "theme-not-found",
                    f"`extends` names an unknown theme `{ext}`",
                    locate(doc.src, doc.index, ("extends",), True),
                    hints=hints,
                )
                return None
    docs.reverse()
    return docs


def _read(
    path: Path,
    via: tuple[ThemeDoc, KeyPath] | None,
    sink: Sink,
    sources: dict[str, SourceFile],
    roots: Sequence[str | Path],
) -> ThemeDoc | None:
    """One theme file, read and parsed; ``None`` after an error.

    Only a regular ``.toml`` file inside ``roots`` is read. A file that is not
    UTF-8 TOML is reported by name and problem, and its text is never put into
    ``sources``: a diagnostic must not quote a file that is not a theme (a
    ``keys.toml``, ``/proc/self/environ``)."""
    span = locate(via[0].src, via[0].index, via[1], True) if via else None
    if not path_within(path, roots):
        sink.error(
            "path-not-allowed",
            f"theme file `{path}` is outside the folders themes are read from",
            span,
            path=str(path),
            hints=(
                "themes are read from the script's folder (and below), the shipped themes "
                f"and {user_themes_dir()}",
                f"if you trust this theme, run comicc with `--allow-path {_real(path).parent}`",
            ),
        )
        return None
    if _real(path).suffix.lower() != ".toml":
        sink.error(
            "theme-not-found",
            f"`{path}` is not a theme file: theme files are `.toml` files",
            span,
            path=str(path),
        )
        return None
    try:
        raw = SourceFile.read(path, MAX_THEME_BYTES)
    except (OSError, UnicodeDecodeError, InputRefused) as exc:
        if isinstance(exc, UnicodeDecodeError):
            code, msg = "theme-syntax", f"theme file `{path}` is not UTF-8 text"
        elif isinstance(exc, InputRefused):
            code, msg = "theme-not-found", f"theme file `{path}` {exc.reason}"
        else:
            code = "theme-not-found"
            msg = f"cannot read theme file `{path}`: {exc.strerror or exc}"
        sink.error(code, msg, span, path=str(path))
        return None
    src = SourceFile(str(path), raw.text, raw.line_starts)
    try:
        data = tomllib.loads(src.text)
    except tomllib.TOMLDecodeError as exc:
        # located, but the file stays out of `sources`: its lines are not quoted
        sink.error(
            "theme-syntax",
            f"invalid TOML in theme file `{path}`: {syntax_error_message(exc)}",
            syntax_error_span(src, exc),
            hints=('theme files are TOML: `key = "value"`, tables as `[name]`',),
        )
        return None
    except RecursionError:  # `x = [[[[…` thousands deep
        sink.error(
            "theme-syntax",
            f"invalid TOML in theme file `{path}`: it nests too deeply",
            span,
            path=str(path),
        )
        return None
    sources[src.path] = src
    return ThemeDoc(src, index_keys(src), data)


def _real(p: Path) -> Path:
    try:
        return p.resolve()
    except (OSError, RuntimeError):
        return p


def merge_chain(docs: list[ThemeDoc]) -> MergedTheme:
    """One table from a chain read by :func:`read_chain`: later files win, key by key.

    ``name``, ``extends`` and ``description`` are not inherited; a table and a
    plain value under the same key replace each other whole.
    """
    leaves: dict[KeyPath, Any] = {}
    origin: dict[KeyPath, ThemeDoc] = {}
    for doc in docs:
        for key in list(leaves):
            if key in _NOT_INHERITED:
                del leaves[key]
                origin.pop(key, None)
        for path, value in _leaves(doc.data, ()):
            for key in list(leaves):  # a table replacing a value, or the reverse
                if key != path and (key == path[: len(key)] or path == key[: len(path)]):
                    del leaves[key]
                    origin.pop(key, None)
            leaves[path] = value
            origin[path] = doc
    nested: dict[str, Any] = {}
    for path, value in leaves.items():
        node = nested
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return MergedTheme(nested, origin, docs[-1])


def _leaves(d: dict[str, Any], prefix: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    """Every non-table value (and empty table) of ``d`` with its key path."""
    for k, v in d.items():
        if isinstance(v, dict) and v:
            yield from _leaves(v, prefix + (k,))
        else:
            yield prefix + (k,), v
