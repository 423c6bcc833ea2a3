"""Image backends: what a backend is, its settings, typed errors and the registry of names."""

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
    load,
    names,
    register,
    unregister,
)
from comicc.backends.settings import SettingProblem, SettingSpec

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
    "is_paid",
    "load",
    "max_retry_wait",
    "names",
    "price_for",
    "register",
    "to_service_mask",
    "unregister",
]
