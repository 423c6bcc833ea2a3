"""The paint stage: plan each panel, paint it through a backend, cache and lock it."""

from comicc.paint.cache import ArtCache, Lookup, default_cache_dir, entry_users
from comicc.paint.composite import Composited, CompositeReport, composite, decode
from comicc.paint.jobs import PaintJob, PaintOutcome
from comicc.paint.lock import LockedPanel, LockFile, lock_path, read_lock, write_lock
from comicc.paint.mask import build_init, build_mask
from comicc.paint.plan import SEED_MAX, PanelPlan, character_inputs, derive_seed, plan_panel
from comicc.paint.references import reference_warnings
from comicc.paint.scheduler import Painter

__all__ = [
    "SEED_MAX",
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
    "build_init",
    "build_mask",
    "character_inputs",
    "composite",
    "decode",
    "default_cache_dir",
    "derive_seed",
    "entry_users",
    "lock_path",
    "plan_panel",
    "read_lock",
    "reference_warnings",
    "write_lock",
]
