"""The lock file (``story.comic.lock``, meant to be committed): per panel the
chosen variant, its seed and cache key, and the reserved balloon geometry,
so a rebuild on another machine gives the same book and a writer can see in
a diff which panels a change will repaint."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from comicc.files import write_bytes_atomic

VERSION = 1


class LockEntry(TypedDict):
    """One panel in the lock file, as JSON."""

    backend: str
    model: str | None
    variants: int
    pick: int
    seed: int | None
    cache_key: str
    variant_keys: list[str]
    balloons: dict[str, list[float]]  # balloon id -> [x, y, w, h] in points


@dataclass(frozen=True)
class LockedPanel:
    """What the lock file records about one panel."""

    panel: str
    backend: str
    model: str | None
    variants: int
    pick: int
    seed: int | None
    cache_key: str
    keys: tuple[str, ...]
    balloons: dict[str, list[float]]

    def to_json(self) -> LockEntry:
        return {
            "backend": self.backend,
            "model": self.model,
            "variants": self.variants,
            "pick": self.pick,
            "seed": self.seed,
            "cache_key": self.cache_key,
            "variant_keys": list(self.keys),
            "balloons": self.balloons,
        }


def lock_path(script_path: str | Path) -> Path:
    """``story.comic`` -> ``story.comic.lock``."""
    return Path(str(script_path) + ".lock")


def read_lock(path: Path) -> dict[str, LockEntry]:
    """Panel id -> its entry; empty when there is no lock file (or one of
    another version, or not JSON). Entries are not validated: read defensively."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        return {}
    panels = doc.get("panels")
    return panels if isinstance(panels, dict) else {}


def write_lock(path: Path, panels: list[LockedPanel]) -> None:
    """Write the lock file (atomically), panels in reading order."""
    doc = {
        "version": VERSION,
        "generator": "comicc",
        "panels": {p.panel: p.to_json() for p in panels},
    }
    write_bytes_atomic(path, (json.dumps(doc, indent=1, sort_keys=False) + "\n").encode())
