"""The paint stage: plan each panel, paint it through a backend, cache and lock it.

Each name is imported from its module when first used, so a build whose book
is up to date (or a command that only reads the lock) never loads the
compositing, the scheduler or the worker processes. A name that is also a
module's (``composite``) is not offered here: once ``comicc.paint.composite``
is loaded, the package's attribute of that name is the module; import it from
its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from comicc.lazy import lazy_names

if TYPE_CHECKING:
    from comicc.paint.cache import ArtCache, Lookup, default_cache_dir, entry_users
    from comicc.paint.composite import Composited, CompositeReport, decode
    from comicc.paint.jobs import PaintJob, PaintOutcome
    from comicc.paint.lock import (
        LockedPanel,
        LockFile,
        lock_path,
        locked_sizes,
        read_lock,
        write_lock,
    )
    from comicc.paint.mask import build_init, build_mask
    from comicc.paint.plan import SEED_MAX, PanelPlan, character_inputs, derive_seed, plan_panel
    from comicc.paint.references import reference_warnings
    from comicc.paint.scheduler import Painter

# name -> the module defining it
_HOME = {
    "ArtCache": "cache",
    "Lookup": "cache",
    "default_cache_dir": "cache",
    "entry_users": "cache",
    "Composited": "composite",
    "CompositeReport": "composite",
    "decode": "composite",
    "PaintJob": "jobs",
    "PaintOutcome": "jobs",
    "LockedPanel": "lock",
    "LockFile": "lock",
    "lock_path": "lock",
    "locked_sizes": "lock",
    "read_lock": "lock",
    "write_lock": "lock",
    "build_init": "mask",
    "build_mask": "mask",
    "SEED_MAX": "plan",
    "PanelPlan": "plan",
    "character_inputs": "plan",
    "derive_seed": "plan",
    "plan_panel": "plan",
    "reference_warnings": "references",
    "Painter": "scheduler",
}

__all__ = [
    "ArtCache",
    "CompositeReport",
    "Composited",
    "LockFile",
    "LockedPanel",
    "Lookup",
    "PaintJob",
    "PaintOutcome",
    "Painter",
    "PanelPlan",
    "SEED_MAX",
    "build_init",
    "build_mask",
    "character_inputs",
    "decode",
    "default_cache_dir",
    "derive_seed",
    "entry_users",
    "lock_path",
    "locked_sizes",
    "plan_panel",
    "read_lock",
    "reference_warnings",
    "write_lock",
]

__getattr__, __dir__ = lazy_names(__name__, _HOME)
