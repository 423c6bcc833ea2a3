"""File paths a script or a theme names, and the folders they may be in.

A script or theme is untrusted: every file it names (a ``theme:``, an
``extends``) must be inside the folders comicc allows, checked with symlinks
resolved (see ``docs/security.md``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def is_theme_path(value: str) -> bool:
    """Whether a theme reference (a script's ``theme:``, a theme's ``extends``)
    names a file rather than a shipped theme: it has a slash or ends in ``.toml``."""
    return "/" in value or "\\" in value or value.endswith(".toml")


def expand_home(value: str | Path) -> Path:
    """``value`` with a leading ``~`` or ``~user`` expanded; unchanged when
    there is no such home folder (``~0``, ``~nobody``: then the file is simply
    not found, never a crash)."""
    try:
        return Path(value).expanduser()
    except RuntimeError:
        return Path(value)


def script_path(value: str, base_dir: str | Path) -> Path:
    """The file a script or theme names with ``value``: ``~`` expanded, a
    relative path taken from ``base_dir`` (the folder of the file naming it)."""
    p = expand_home(value)
    return p if p.is_absolute() else Path(base_dir) / p


def path_within(path: str | Path, roots: Iterable[str | Path]) -> bool:
    """Whether ``path``, symlinks resolved, is one of the folders ``roots`` or
    inside one (each root resolved too). A path that cannot be resolved is not."""
    try:
        real = Path(path).resolve()
    except (OSError, RuntimeError):
        return False
    for root in roots:
        try:
            r = expand_home(root).resolve()
        except (OSError, RuntimeError):
            continue
        if real == r or r in real.parents:
            return True
    return False
