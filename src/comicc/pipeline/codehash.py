"""Digests of comicc's own code: what a kept answer (a layout memo page, a
build stamp, a check memo page) was made by, so that a changed comicc never
reuses one. Light on purpose: ``comicc check`` imports it without the layout."""

from __future__ import annotations

import hashlib
from pathlib import Path

import comicc


def hash_code(h: hashlib._Hash, parts: tuple[str, ...]) -> None:
    """Feed ``h`` the path and source of each of comicc's modules under ``parts``
    (packages or files, relative to the ``comicc`` package), in a fixed order."""
    root = Path(comicc.__file__).parent
    for part in parts:
        path = root / part
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(str(f.relative_to(root)).encode() + b"\0")
            try:
                h.update(f.read_bytes())
            except OSError:
                h.update(b"?")
