"""Where the shipped data (grammar, themes, the writers' documentation) lives.

In a wheel, ``grammar/``, ``themes/`` and the documents ``comicc help``
prints (``docs/*.md``, see pyproject.toml) are force-included as
``comicc/_data/``; in a source checkout they sit at the repository's top
level, where writers and contributors find them.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The shipped data folder ``name``: inside the wheel, else in the checkout."""
    packaged = _PKG / "_data" / name
    if packaged.is_dir():
        return packaged
    return _PKG.parent.parent / name


def grammar_path() -> Path:
    """The Lark grammar of .comic scripts."""
    return data_dir("grammar") / "comic.lark"


def themes_dir() -> Path:
    """The folder of the built-in themes (one TOML file each)."""
    return data_dir("themes")


def docs_dir() -> Path:
    """The folder of the documents ``comicc help`` prints (Markdown)."""
    return data_dir("docs")
