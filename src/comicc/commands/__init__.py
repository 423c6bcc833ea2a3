"""The command line's verbs, one module each: a function taking the parsed
arguments and returning the exit code (see :mod:`comicc.commands.report`).

Each name is imported from its module when first used, so ``comicc check``
never loads what only ``build`` needs (reportlab, the painting stages).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from comicc.lazy import lazy_names

if TYPE_CHECKING:
    from comicc.commands.backends import cmd_backends
    from comicc.commands.backends import register as register_backends
    from comicc.commands.build import cmd_build
    from comicc.commands.cache import cmd_cache
    from comicc.commands.cache import register as register_cache
    from comicc.commands.check import cmd_check
    from comicc.commands.explain import cmd_explain
    from comicc.commands.explain import register as register_explain
    from comicc.commands.explore import cmd_explore
    from comicc.commands.explore import register as register_explore
    from comicc.commands.fmt import cmd_fmt
    from comicc.commands.help import cmd_help
    from comicc.commands.help import register as register_help
    from comicc.commands.init import cmd_init
    from comicc.commands.init import register as register_init
    from comicc.commands.layout import cmd_layout
    from comicc.commands.plan import cmd_plan
    from comicc.commands.plan import register as register_plan
    from comicc.commands.preview import cmd_preview
    from comicc.commands.preview import register as register_preview
    from comicc.commands.report import (
        EXIT_ERRORS,
        EXIT_INTERNAL,
        EXIT_INTERRUPTED,
        EXIT_OK,
        EXIT_USAGE,
    )
    from comicc.commands.watch import cmd_watch

# name -> (module, name there)
_HOME = {
    "EXIT_ERRORS": ("report", "EXIT_ERRORS"),
    "EXIT_INTERNAL": ("report", "EXIT_INTERNAL"),
    "EXIT_INTERRUPTED": ("report", "EXIT_INTERRUPTED"),
    "EXIT_OK": ("report", "EXIT_OK"),
    "EXIT_USAGE": ("report", "EXIT_USAGE"),
    "cmd_backends": ("backends", "cmd_backends"),
    "cmd_build": ("build", "cmd_build"),
    "cmd_explain": ("explain", "cmd_explain"),
    "cmd_plan": ("plan", "cmd_plan"),
    "register_explain": ("explain", "register"),
    "cmd_explore": ("explore", "cmd_explore"),
    "register_explore": ("explore", "register"),
    "register_plan": ("plan", "register"),
    "cmd_preview": ("preview", "cmd_preview"),
    "register_preview": ("preview", "register"),
    "cmd_check": ("check", "cmd_check"),
    "cmd_fmt": ("fmt", "cmd_fmt"),
    "cmd_layout": ("layout", "cmd_layout"),
    "register_backends": ("backends", "register"),
    "cmd_cache": ("cache", "cmd_cache"),
    "register_cache": ("cache", "register"),
    "cmd_help": ("help", "cmd_help"),
    "register_help": ("help", "register"),
    "cmd_init": ("init", "cmd_init"),
    "register_init": ("init", "register"),
    "cmd_watch": ("watch", "cmd_watch"),
}

__all__ = [
    "EXIT_ERRORS",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "cmd_backends",
    "cmd_build",
    "cmd_explain",
    "cmd_plan",
    "register_explain",
    "cmd_explore",
    "register_explore",
    "register_plan",
    "cmd_preview",
    "register_preview",
    "cmd_check",
    "cmd_fmt",
    "cmd_layout",
    "register_backends",
    "cmd_cache",
    "register_cache",
    "cmd_help",
    "register_help",
    "cmd_init",
    "register_init",
    "cmd_watch",
]

__getattr__, __dir__ = lazy_names(__name__, _HOME)
