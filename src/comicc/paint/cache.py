"""The content-addressed art cache: nothing already painted is painted twice.

Layout on disk (``.comicc-cache/`` beside the script, or ``$COMICC_CACHE``):

    art/ab/abcdef....jpg   the finished panel art (or .png with --lossless)
    art/ab/abcdef....raw   what a paid service returned, byte for byte
    art/ab/abcdef....json  metadata: backend, seed used, composite report

Keys are :func:`comicc.paint.cachekey.cache_key` values: they cover
everything that changes the pixels and nothing else (not the balloon text).
Every write is atomic (temporary file + rename), so an interrupted build
loses nothing already painted and never leaves a half-written entry.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from comicc.files import write_bytes_atomic


class ArtCache:
    """The cache under ``root``: entries by key and file extension."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _base(self, key: str) -> Path:
        return self.root / "art" / key[:2] / key

    def get(self, key: str, ext: str) -> bytes | None:
        """The entry's bytes; None when it is not cached."""
        p = self._base(key).with_suffix(f".{ext}")
        try:
            return p.read_bytes()
        except OSError:
            return None

    def meta(self, key: str) -> dict[str, Any] | None:
        """The entry's metadata (JSON); None when missing or unreadable."""
        data = self.get(key, "json")
        if data is None:
            return None
        try:
            doc = json.loads(data)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    def put(self, key: str, ext: str, data: bytes) -> None:
        """Store an entry atomically (a reader sees the old entry or the whole new one)."""
        write_bytes_atomic(self._base(key).with_suffix(f".{ext}"), data)

    def put_meta(self, key: str, meta: dict[str, Any]) -> None:
        self.put(key, "json", json.dumps(meta, sort_keys=True, indent=1).encode())


def default_cache_dir(script_path: str | os.PathLike[str]) -> Path:
    """``$COMICC_CACHE``, else ``.comicc-cache`` beside the script."""
    env = os.environ.get("COMICC_CACHE")
    if env:
        return Path(env)
    return Path(script_path).resolve().parent / ".comicc-cache"
