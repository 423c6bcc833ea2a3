"""Image backends: what a backend is, its settings, typed errors and the registry of names.

Each name is imported from its module when first used (as in
:mod:`comicc.pipeline`): a build that needs the base records or the registry
does not load the price table, the key store or Pillow with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from comicc.lazy import lazy_names

if TYPE_CHECKING:
    from comicc.backends.base import (
        KEEP,
        MASK_CONVENTIONS,
        PAINT,
        Backend,
        BackendError,
        Capabilities,
        EdgeControl,
        Lora,
        PaintRequest,
        PaintResult,
        RateLimited,
        Reference,
        Rejected,
        Transient,
        Unavailable,
        to_service_mask,
    )
    from comicc.backends.config import MAX_RETRY_WAIT_ENV, max_retry_wait
    from comicc.backends.keys import api_key
    from comicc.backends.pricing import PRICES, Price, is_paid, price_for
    from comicc.backends.registry import (
        ENTRY_POINT_GROUP,
        UnknownBackend,
        create,
        is_known,
        load,
        names,
        register,
        unregister,
    )
    from comicc.backends.settings import SettingProblem, SettingSpec

# name -> the module defining it
_HOME = {
    "KEEP": "base",
    "MASK_CONVENTIONS": "base",
    "PAINT": "base",
    "Backend": "base",
    "BackendError": "base",
    "Capabilities": "base",
    "EdgeControl": "base",
    "Lora": "base",
    "PaintRequest": "base",
    "PaintResult": "base",
    "RateLimited": "base",
    "Reference": "base",
    "Rejected": "base",
    "Transient": "base",
    "Unavailable": "base",
    "to_service_mask": "base",
    "MAX_RETRY_WAIT_ENV": "config",
    "max_retry_wait": "config",
    "api_key": "keys",
    "PRICES": "pricing",
    "Price": "pricing",
    "is_paid": "pricing",
    "price_for": "pricing",
    "ENTRY_POINT_GROUP": "registry",
    "UnknownBackend": "registry",
    "create": "registry",
    "is_known": "registry",
    "load": "registry",
    "names": "registry",
    "register": "registry",
    "unregister": "registry",
    "SettingProblem": "settings",
    "SettingSpec": "settings",
}

__all__ = [
    "ENTRY_POINT_GROUP",
    "KEEP",
    "MASK_CONVENTIONS",
    "MAX_RETRY_WAIT_ENV",
    "PAINT",
    "PRICES",
    "Backend",
    "BackendError",
    "Capabilities",
    "EdgeControl",
    "Lora",
    "PaintRequest",
    "PaintResult",
    "Price",
    "Reference",
    "RateLimited",
    "Rejected",
    "SettingProblem",
    "SettingSpec",
    "Transient",
    "UnknownBackend",
    "Unavailable",
    "api_key",
    "create",
    "is_known",
    "is_paid",
    "load",
    "max_retry_wait",
    "names",
    "price_for",
    "register",
    "to_service_mask",
    "unregister",
]

__getattr__, __dir__ = lazy_names(__name__, _HOME)
