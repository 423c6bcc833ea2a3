"""The command line's verbs, one module each: a function taking the parsed
arguments and returning the exit code (see :mod:`comicc.commands.report`).

Each name is imported from its module when first used, so ``comicc check``
never loads what only ``build`` needs (reportlab, the painting stages).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from comicc.commands.backends import cmd_backends
    from comicc.commands.backends import register as register_backends
    from comicc.commands.build import cmd_build
    from comicc.commands.check import cmd_check
    from comicc.commands.fmt import cmd_fmt
    from comicc.commands.layout import cmd_layout
    from comicc.commands.report import (
        EXIT_ERRORS,
        EXIT_INTERNAL,
        EXIT_INTERRUPTED,
        EXIT_OK,
        EXIT_USAGE,
    )

# name -> (module, name there)
_HOME = {
    "EXIT_ERRORS": ("report", "EXIT_ERRORS"),
    "EXIT_INTERNAL": ("report", "EXIT_INTERNAL"),
    "EXIT_INTERRUPTED": ("report", "EXIT_INTERRUPTED"),
    "EXIT_OK": ("report", "EXIT_OK"),
    "EXIT_USAGE": ("report", "EXIT_USAGE"),
    "cmd_backends": ("backends", "cmd_backends"),
    "cmd_build": ("build", "cmd_build"),
    "cmd_check": ("check", "cmd_check"),
    "cmd_fmt": ("fmt", "cmd_fmt"),
    "cmd_layout": ("layout", "cmd_layout"),
    "register_backends": ("backends", "register"),
}

__all__ = [
    "EXIT_ERRORS",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "cmd_backends",
    "cmd_build",
    "cmd_check",
    "cmd_fmt",
    "cmd_layout",
    "register_backends",
]


def __getattr__(name: str) -> object:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _HOME[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
