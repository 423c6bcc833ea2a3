"""Backends by name, loaded lazily: the one list of backend names.

Built-in backends are listed in :data:`BUILTIN` as ``module:Class`` paths with
an install hint, and imported only when asked for, so ``comicc`` starts fast
and a missing optional dependency of one service never breaks another.
Third-party packages add backends through the ``comicc.backends`` entry-point
group::

    [project.entry-points."comicc.backends"]
    mybackend = "my_package.module:MyBackend"

The object an entry point names is a :class:`~comicc.backends.base.Backend`
subclass. :func:`names` is every name a script may use in ``backend:`` (the
pipeline hands it to the lowering); it imports nothing. The installed
distributions are scanned for entry points (``importlib.metadata``, slow to
import and to run) only when a name is not a built-in or registered one:
:func:`load` and :func:`is_known` of ``draft`` never scan.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

from comicc.backends.base import Backend, BackendError, Unavailable
from comicc.diagnostics import did_you_mean

if TYPE_CHECKING:
    from importlib import metadata

ENTRY_POINT_GROUP = "comicc.backends"
SUBCLASS_HINT = "a backend must subclass comicc.backends.Backend"


class BuiltinBackend(NamedTuple):
    """Where a built-in backend lives and what to install when it cannot be imported."""

    target: str  # "module:Class"
    install: str | None  # the hint when one of its dependencies is missing


BUILTIN: dict[str, BuiltinBackend] = {
    "draft": BuiltinBackend("comicc.backends.draft:DraftBackend", "pip install pillow"),
    "stability": BuiltinBackend(
        "comicc.backends.stability:StabilityBackend", "pip install requests"
    ),
    "replicate": BuiltinBackend(
        "comicc.backends.replicate:ReplicateBackend", "pip install requests"
    ),
    "automatic1111": BuiltinBackend(
        "comicc.backends.automatic1111:Automatic1111Backend", "pip install requests"
    ),
    "comfyui": BuiltinBackend("comicc.backends.comfyui:ComfyUIBackend", "pip install requests"),
    "openai": BuiltinBackend("comicc.backends.openai:OpenAIBackend", "pip install requests"),
}

_registered: dict[str, type[Backend]] = {}  # register() at run time (tests, embedding)


class UnknownBackend(BackendError, LookupError):
    """A name no built-in, plugin or registered backend has."""

    def __init__(self, name: str, suggestions: list[str], known: list[str]):
        hint = (
            f"did you mean `{suggestions[0]}`?"
            if suggestions
            else "known backends: " + ", ".join(known)
        )
        super().__init__(f"unknown backend `{name}`", hint=hint, backend=name)
        self.suggestions = suggestions


def _entry_points() -> dict[str, metadata.EntryPoint]:
    from importlib import metadata  # here: a built-in backend never needs it

    try:
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # a broken distribution must not break the built-ins
        return {}
    return {ep.name: ep for ep in eps}


def names() -> list[str]:
    """Every known backend name (built-in, entry points, registered); imports nothing."""
    return sorted(set(BUILTIN) | set(_entry_points()) | set(_registered))


def is_known(name: str) -> bool:
    """Whether ``name`` is a backend name (as ``name in names()``); a built-in
    or registered name is answered without scanning the entry points."""
    return name in BUILTIN or name in _registered or name in _entry_points()


def register(name: str, factory: type[Backend]) -> None:
    """Make the Backend subclass ``factory`` available as ``name``."""
    _registered[name] = factory


def unregister(name: str) -> None:
    _registered.pop(name, None)


def _import_builtin(name: str, entry: BuiltinBackend) -> object:
    module_name, attr = entry.target.split(":")
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
            f"the `{name}` backend cannot be imported: it needs the Python package `{exc.name}`",
            hint=entry.install or f"pip install {exc.name}",
            backend=name,
        ) from None
    return getattr(module, attr)


def load(name: str) -> type[Backend]:
    """The Backend subclass for ``name``.

    Raises :class:`UnknownBackend` (with did-you-mean) or :class:`Unavailable`
    when the backend's module or one of its dependencies is not installed, or
    a plugin names something that is not a Backend subclass.
    """
    if name in _registered:
        return _registered[name]
    found: object
    if name in BUILTIN:
        found = _import_builtin(name, BUILTIN[name])
    else:
        eps = _entry_points()
        if name not in eps:
            known = names()
            raise UnknownBackend(name, did_you_mean(name, known), known)
        try:
            found = eps[name].load()
        except ImportError as exc:
            raise Unavailable(
                f"the `{name}` backend plugin could not be imported: {exc}",
                hint=f"reinstall the package that provides `{name}`",
                backend=name,
            ) from None
    if not (isinstance(found, type) and issubclass(found, Backend)):
        raise Unavailable(
            f"backend `{name}` is not a Backend subclass", backend=name, hint=SUBCLASS_HINT
        )
    return found


def create(name: str, **backend_settings: str) -> Backend:
    """An instance of backend ``name``, constructed with ``backend_settings``."""
    return load(name)(**backend_settings)
