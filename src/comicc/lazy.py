"""Names a package loads from its modules on first use (PEP 562).

A package lists where each of its names lives (``name -> module``, or
``name -> (module, attribute)``) and sets
``__getattr__, __dir__ = lazy_names(__name__, HOME)``: ``import comicc.paint``
then loads none of its modules, and ``comicc.paint.Painter`` loads
``comicc.paint.scheduler`` the first time it is asked for (the value is kept
in the package, so the next lookup is a plain attribute). This is what keeps
``comicc check`` from importing the painting, layout and output halves.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_names(
    package: str, home: Mapping[str, str | tuple[str, str]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of ``package``, loading each
    name of ``home`` from its module when first asked for."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> object:
        where = home.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = where if isinstance(where, tuple) else (where, name)
        value = getattr(importlib.import_module(f"{package}.{module}"), attr)
        namespace[name] = value  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace.get("__all__", ()), *home})

    return __getattr__, __dir__
