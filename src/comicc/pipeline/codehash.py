"""Digests of comicc's own code: what a kept answer (a layout memo page, a
build stamp, a check memo page) was made by, so that a changed comicc never
reuses one. Light on purpose: ``comicc check`` imports it without the layout.

Reading and hashing the source (a build hashes about 100 files, 1 MB) takes
7-10 ms a process on the bench machine, so each digest is also kept in the
user cache (``code/digests.json``, beside the dataclasses' code), under a key
made of what the digest is of and every file's size, modification and change
times and inode: any write to a file, or a file added or removed, is a new key,
and the digest is made again from the bytes. The digest is the same either way.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import comicc
from comicc.codecache import CODE_CACHE_ENV
from comicc.files import read_trusted, write_private
from comicc.usercache import user_cache_dir

MAX_KEPT = 64  # digests kept (a comicc makes 4; older versions' go first)
MAX_KEPT_BYTES = 1 << 20


def code_digest_of(prefix: str, parts: tuple[str, ...]) -> str:
    """SHA-256 of ``prefix`` then, file by file (:func:`hash_code`), the path and
    source of comicc's modules under ``parts``; from the user cache when no
    file changed since it was made."""
    root = Path(comicc.__file__).parent
    files = _files(root, parts)
    stats: list[list[str | int]] = []
    for f in files:
        try:
            st = os.stat(root / f)
        except OSError:
            stats.append([f])
            continue
        stats.append([f, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino])
    key = hashlib.sha256(json.dumps([prefix, parts, str(root), stats]).encode()).hexdigest()
    kept = _read_kept()
    if isinstance(kept.get(key), str):
        return str(kept[key])
    h = hashlib.sha256(prefix.encode())
    hash_code(h, parts)
    digest = h.hexdigest()
    kept.pop(key, None)
    kept[key] = digest
    _write_kept(dict(list(kept.items())[-MAX_KEPT:]))
    return digest


def hash_code(h: hashlib._Hash, parts: tuple[str, ...]) -> None:
    """Feed ``h`` the path and source of each of comicc's modules under ``parts``
    (packages or files, relative to the ``comicc`` package), in a fixed order."""
    root = Path(comicc.__file__).parent
    for rel in _files(root, parts):
        h.update(rel.encode() + b"\0")
        try:
            h.update((root / rel).read_bytes())
        except OSError:
            h.update(b"?")


def _files(root: Path, parts: tuple[str, ...]) -> list[str]:
    """The modules under ``parts``, relative to ``root``, in :func:`hash_code`'s order."""
    out: list[str] = []
    for part in parts:
        path = root / part
        found = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        out.extend(str(f.relative_to(root)) for f in found)
    return out


def _kept_path() -> Path | None:
    folder = user_cache_dir(CODE_CACHE_ENV, "code")
    return None if folder is None else folder / "digests.json"


def _read_kept() -> dict[str, object]:
    path = _kept_path()
    data = None if path is None else read_trusted(path, MAX_KEPT_BYTES)
    try:
        kept = json.loads(data) if data else {}
    except (ValueError, RecursionError):
        return {}
    return kept if isinstance(kept, dict) else {}


def _write_kept(kept: dict[str, object]) -> None:
    path = _kept_path()
    if path is not None:
        write_private(path, json.dumps(kept).encode())
