"""Backends by name, loaded lazily.

Built-in backends are listed here as ``module:Class`` strings and imported
only when asked for, so ``comicc`` starts fast and a missing optional
dependency of one service never breaks another. Third-party packages add
backends through the ``comicc.backends`` entry-point group::

    [project.entry-points."comicc.backends"]
    mybackend = "my_package.module:MyBackend"

The object an entry point names is a :class:`~comicc.backends.base.Backend`
subclass (or any callable returning an object with ``name``,
``capabilities`` and ``paint``).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from importlib import metadata
from typing import Any

from comicc.backends.base import Backend, BackendError, Unavailable

ENTRY_POINT_GROUP = "comicc.backends"

# name -> ("module:attr", install hint when a dependency is missing)
BUILTIN: dict[str, tuple[str, str | None]] = {
    "draft": ("comicc.backends.draft:DraftBackend", None),
    "stability": ("comicc.backends.stability:StabilityBackend", None),
    "replicate": ("comicc.backends.replicate:ReplicateBackend", None),
    "automatic1111": ("comicc.backends.automatic1111:Automatic1111Backend", None),
    "comfyui": ("comicc.backends.comfyui:ComfyUIBackend", None),
    "openai": ("comicc.backends.openai:OpenAIBackend", None),
}

_registered: dict[str, Callable[..., Any]] = {}  # register() at run time (tests, embedding)


class UnknownBackend(BackendError, LookupError):
    def __init__(self, name: str, suggestions: list[str], known: list[str]):
        hint = (
            f"did you mean `{suggestions[0]}`?"
            if suggestions
            else "known backends: " + ", ".join(known)
        )
        super().__init__(f"unknown backend `{name}`", hint=hint, backend=name)
        self.suggestions = suggestions


def _entry_points() -> dict[str, metadata.EntryPoint]:
    try:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # a broken distribution must not break the built-ins
        return {}
    return {ep.name: ep for ep in eps}


def names() -> list[str]:
    """Every known backend name (built-in, entry points, registered); imports nothing."""
    return sorted(set(BUILTIN) | set(_entry_points()) | set(_registered))


def register(name: str, factory: Callable[..., Any]) -> None:
    """Make ``factory`` (a Backend class or callable) available as ``name``."""
    _registered[name] = factory


def unregister(name: str) -> None:
    _registered.pop(name, None)


def load(name: str) -> Callable[..., Any]:
    """The factory (usually a Backend subclass) for ``name``.

    Raises :class:`UnknownBackend` (with did-you-mean) or :class:`Unavailable`
    when the backend's module or one of its dependencies is not installed.
    """
    if name in _registered:
        return _registered[name]
    if name in BUILTIN:
        target, install = BUILTIN[name]
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                raise Unavailable(
                    f"the `{name}` backend is not built into this version of comicc yet",
                    hint="use `backend: draft` for offline roughs, or a plugin "
                    f"that provides `{name}` via the `{ENTRY_POINT_GROUP}` entry points",
                    backend=name,
                ) from None
            raise Unavailable(
                f"the `{name}` backend needs the Python package `{exc.name}`",
                hint=install or f"pip install {exc.name}",
                backend=name,
            ) from None
        return getattr(module, attr)
    eps = _entry_points()
    if name in eps:
        try:
            return eps[name].load()
        except ImportError as exc:
            raise Unavailable(
                f"the `{name}` backend plugin could not be imported: {exc}",
                hint=f"reinstall the package that provides `{name}`",
                backend=name,
            ) from None
    known = names()
    raise UnknownBackend(name, difflib.get_close_matches(name, known, n=3, cutoff=0.6), known)


def create(name: str, **options: Any) -> Backend:
    """An instance of backend ``name``, constructed with ``options``."""
    backend = load(name)(**options)
    for attr in ("name", "capabilities", "paint"):
        if not hasattr(backend, attr):
            raise Unavailable(
                f"backend `{name}` has no `{attr}`",
                backend=name,
                hint="a backend must subclass comicc.backends.base.Backend",
            )
    return backend
