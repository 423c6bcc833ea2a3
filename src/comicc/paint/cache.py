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
import tempfile
from pathlib import Path


class ArtCache:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _base(self, key: str) -> Path:
        return self.root / "art" / key[:2] / key

    def get(self, key: str, ext: str) -> bytes | None:
        p = self._base(key).with_suffix(f".{ext}")
        try:
            return p.read_bytes()
        except OSError:
            return None

    def meta(self, key: str) -> dict | None:
        data = self.get(key, "json")
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def put(self, key: str, ext: str, data: bytes) -> None:
        p = self._base(key).with_suffix(f".{ext}")
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=p.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, p)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def put_meta(self, key: str, meta: dict) -> None:
        self.put(key, "json", json.dumps(meta, sort_keys=True, indent=1).encode())


def default_cache_dir(script_path: str | os.PathLike) -> Path:
    env = os.environ.get("COMICC_CACHE")
    if env:
        return Path(env)
    return Path(script_path).resolve().parent / ".comicc-cache"
