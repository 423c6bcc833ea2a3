"""The lock file (``story.comic.lock``, meant to be committed): per panel the
chosen variant, its seed and cache key, and the reserved balloon geometry,
so a rebuild on another machine gives the same book and a writer can see in
a diff which panels a change will repaint."""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from comicc.diagnostics import Sink
from comicc.files import write_bytes_atomic
from comicc.model import ir

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


MAX_LOCK_BYTES = 32 << 20  # far above any real book's; a bigger file is not ours


@dataclass(frozen=True)
class LockFile:
    """A lock file as read: its panels, or why it cannot be used (then no panels)."""

    panels: dict[str, LockEntry]
    problem: str | None = None  # None: fine, or no lock file at all


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_count(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 1


def _is_number(v: object) -> bool:
    return (isinstance(v, int | float) and not isinstance(v, bool)) and math.isfinite(v)


_FIELDS: dict[str, tuple[str, Callable[[object], bool]]] = {
    "backend": ("a string", lambda v: isinstance(v, str)),
    "model": ("a string or null", lambda v: v is None or isinstance(v, str)),
    "variants": ("a whole number of at least 1", _is_count),
    "pick": ("a whole number of at least 1", _is_count),
    "seed": ("a whole number or null", lambda v: v is None or _is_int(v)),
    "cache_key": ("a string", lambda v: isinstance(v, str)),
    "variant_keys": (
        "a list of strings",
        lambda v: isinstance(v, list) and all(isinstance(k, str) for k in v),
    ),
    "balloons": (
        "an object of [x, y, w, h] rectangles",
        lambda v: (
            isinstance(v, dict)
            and all(
                isinstance(r, list) and len(r) == 4 and all(_is_number(x) for x in r)
                for r in v.values()
            )
        ),
    ),
}


def _problem(doc: object) -> str | None:
    """Why ``doc`` is not a lock file of this version; None when it is one."""
    if not isinstance(doc, dict):
        return "the file is not a JSON object"
    if doc.get("version") != VERSION:
        return f"`version` is {json.dumps(doc.get('version'))[:40]}, not {VERSION}"
    panels = doc.get("panels")
    if not isinstance(panels, dict):
        return "`panels` is not an object"
    for pid, entry in panels.items():
        if not isinstance(entry, dict):
            return f"panel `{pid[:40]}` is not an object"
        for key, (what, ok) in _FIELDS.items():
            if key not in entry:
                return f"panel `{pid[:40]}` has no `{key}`"
            if not ok(entry[key]):
                return f"panel `{pid[:40]}`: `{key}` must be {what}"
    return None


def read_lock(path: Path) -> LockFile:
    """The lock file at ``path``, every field checked: no panels (and no
    problem) when there is none; no panels and a ``problem`` when the file is
    not a comicc lock file of this version (too big, not JSON, nested too
    deep, a field of the wrong type...)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_LOCK_BYTES + 1)
    except FileNotFoundError:
        return LockFile({})
    except OSError as e:
        return LockFile({}, f"it cannot be read: {e.strerror or e}")
    if len(data) > MAX_LOCK_BYTES:
        return LockFile({}, f"it is larger than {MAX_LOCK_BYTES >> 20} MiB")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        why = "it is nested too deeply" if isinstance(e, RecursionError) else "it is not JSON"
        return LockFile({}, why)
    problem = _problem(doc)
    if problem is not None:
        return LockFile({}, problem)
    return LockFile(doc["panels"])


def write_lock(path: Path, panels: list[LockedPanel]) -> bool:
    """Write the lock file (atomically; a symbolic link there is replaced, not
    followed: a link planted beside a script cannot redirect the write), panels
    in reading order. A lock file that already holds exactly this (a regular
    file, not a link) is left alone, its time too; whether it was written."""
    doc = {
        "version": VERSION,
        "generator": "comicc",
        "panels": {p.panel: p.to_json() for p in panels},
    }
    data = (json.dumps(doc, indent=1, sort_keys=False) + "\n").encode()
    if _holds(path, data):
        return False
    write_bytes_atomic(path, data, follow_symlinks=False)
    return True


def _holds(path: Path, data: bytes) -> bool:
    """Whether ``path`` is a regular file (not a link) of exactly ``data``."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        with open(path, "rb") as f:
            return f.read(len(data) + 1) == data
    except OSError:
        return False


def locked_sizes(
    script: ir.Script, sink: Sink | None = None, doing: str = "building"
) -> dict[str, tuple[float, float]]:
    """Balloon id -> body size recorded by the last build's lock file. A lock
    file that is not one (wrong shape, not JSON...) is a warning in ``sink``
    and counts as none."""
    path = lock_path(script.path)
    lock = read_lock(path)
    if lock.problem is not None and sink is not None:
        sink.warning(
            "lock-invalid",
            f"{path} is not a comicc lock file ({lock.problem}): {doing} as if there were none",
            path=str(path),
            hints=["a successful build writes a new one; delete it to silence this warning"],
        )
    balloons = (b for panel in lock.panels.values() for b in panel["balloons"].items())
    return {bid: (float(rect[2]), float(rect[3])) for bid, rect in balloons}
