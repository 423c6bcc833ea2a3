"""The packages that load their names on first use (``comicc.paint``,
``comicc.layout``, ``comicc.backends``, ``comicc.output``, ``comicc.pipeline``)
give the very object their home module defines, also after every submodule is
loaded (a submodule named like one of the package's names would shadow it)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

PACKAGES = ["comicc.paint", "comicc.layout", "comicc.backends", "comicc.output", "comicc.pipeline"]


@pytest.mark.parametrize("name", PACKAGES)
def test_every_lazy_name_is_its_modules_object(name: str) -> None:
    package = importlib.import_module(name)
    home = getattr(package, "_HOME", None)
    if home is None:
        pytest.skip(f"{name} loads its names eagerly")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{name}.{info.name}")
    for attr, module in home.items():
        expected = getattr(importlib.import_module(f"{name}.{module}"), attr)
        assert getattr(package, attr) is expected, f"{name}.{attr}"
