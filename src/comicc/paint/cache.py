"""The content-addressed art cache: nothing already painted is painted twice.

Layout on disk (``.comicc-cache/`` beside the script, or ``$COMICC_CACHE``):

    art/ab/abcdef....jpg   the finished panel art (or .png with --lossless)
    art/ab/abcdef....raw   what a paid service returned, byte for byte
    art/ab/abcdef....json  metadata: the script (absolute path) and panel it was
                           painted for, every script that used it since
                           (``scripts``), variant, backend, seed used,
                           composite report, the art's hash and size

    art/ab/abcdef....lock  held while one build paints the entry (filelock)

Keys are :func:`comicc.paint.cachekey.cache_key` values: they cover
everything that changes the pixels and nothing else (not the balloon text).
Every write is atomic (temporary file + rename), so an interrupted build
loses nothing already painted and never leaves a half-written entry. Art that
was paid for is also flushed to the disk (fsync) before it counts as stored;
free art (the draft, a self-hosted server) is not: an entry a power cut tore
fails the checks below and is painted again, at no cost.

Nothing read back is trusted: the metadata records the art's SHA-256 and
size when it is written, and :meth:`ArtCache.lookup` checks them, the image
format and pixel size, and decodes the image before the art is used. A
damaged entry is a miss (removed, and painted again).

Decoding is the slow part of that check, so it is done once per content: the
SHA-256 of art that decoded is remembered in this user's own cache
(``$XDG_CACHE_HOME/comicc/verified/``, ``COMICC_VERIFIED_ART=DIR`` or ``off``;
an empty file per digest, read only when it is this user's and no one else
can write it). Art whose recorded hash and size match and whose digest is
remembered there is not decoded again. An entry planted beside a stranger's
script, with a forged metadata file, has a digest this user never decoded:
it is decoded like any other.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from comicc.files import read_trusted, sweep_temp, write_bytes_atomic, write_private
from comicc.usercache import user_cache_dir

if TYPE_CHECKING:  # filelock is loaded by the first lock: a build from the cache takes none
    from filelock import FileLock

    from comicc.images import PanelArt  # loaded by the first look-up (Pillow)

_FORMAT = {"jpg": "jpeg", "png": "png"}
META_MAX_BYTES = 1 << 20
VERIFIED_ENV = "COMICC_VERIFIED_ART"


def _verified_marker(digest: str) -> Path | None:
    """Where this user's cache remembers that art with SHA-256 ``digest`` decoded."""
    folder = user_cache_dir(VERIFIED_ENV, "verified")
    return None if folder is None else folder / digest[:2] / digest


def was_verified(digest: str) -> bool:
    """Whether art with SHA-256 ``digest`` decoded before (see the module doc)."""
    marker = _verified_marker(digest)
    return marker is not None and read_trusted(marker, 0) is not None


def remember_verified(digest: str) -> None:
    """Remember that art with SHA-256 ``digest`` decoded (silently not, when the
    user cache cannot be written)."""
    marker = _verified_marker(digest)
    if marker is not None:
        write_private(marker, b"")


class Lookup(NamedTuple):
    """What the cache holds for a key: the art, or why the entry was unusable
    (``damage``; both None on a plain miss)."""

    art: PanelArt | None
    damage: str | None = None


def art_problem(
    data: bytes, ext: str, size: tuple[int, int], meta: dict[str, Any] | None
) -> str | None:
    """Why ``data`` is not good ``ext`` art of ``size`` pixels; None when it is."""
    record = meta.get("art") if meta else None
    digest = hashlib.sha256(data).hexdigest()
    if isinstance(record, dict):
        if record.get("bytes") != len(data):
            return f"it has {len(data)} bytes, not the {record.get('bytes')} written"
        if record.get("sha256") != digest:
            return "its content is not what was written"
    from comicc.images import PanelArt

    try:
        art = PanelArt.from_bytes(data)
    except ValueError as e:
        return f"it is not an image ({e})"
    if art.format != _FORMAT.get(ext):
        return f"it holds {art.format.upper()}, not {_FORMAT.get(ext, ext).upper()}"
    if (art.width, art.height) != tuple(size):
        return f"it is {art.width}x{art.height} px, not {size[0]}x{size[1]}"
    if isinstance(record, dict) and was_verified(digest):
        return None  # these very bytes decoded before
    from PIL import Image  # here: art decoded before needs no Pillow

    try:
        with Image.open(io.BytesIO(data)) as im:
            if art.format == "jpeg":  # decoded at 1/8 scale: every byte read, fast
                im.draft("RGB", (max(1, art.width // 8), max(1, art.height // 8)))
            im.load()
    except Exception as e:  # Pillow raises many kinds on corrupt data
        return f"it cannot be decoded ({e})"
    remember_verified(digest)
    return None


class ArtCache:
    """The cache under ``root``: entries by key and file extension. ``script``:
    the script being built, recorded in the metadata of the art it paints (so
    ``comicc cache`` knows whose art an entry is: several scripts may share a
    cache)."""

    def __init__(self, root: str | os.PathLike[str], script: str | None = None) -> None:
        self.root = Path(root)
        self.script = str(Path(script).resolve()) if script else None

    def _base(self, key: str) -> Path:
        return self.root / "art" / key[:2] / key

    def path(self, key: str, ext: str) -> Path:
        """Where the entry's art is (or would be) kept."""
        return self._base(key).with_suffix(f".{ext}")

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
        if data is None or len(data) > META_MAX_BYTES:
            return None
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError):
            return None
        return doc if isinstance(doc, dict) else None

    def lookup(self, key: str, ext: str, size: tuple[int, int]) -> Lookup:
        """The entry's art, checked (see the module doc): a miss when there is
        none; ``damage`` says what is wrong with an entry that cannot be used."""
        data = self.get(key, ext)
        if data is None:
            return Lookup(None)
        meta = self.meta(key)
        problem = art_problem(data, ext, size, meta)
        if problem is not None:
            return Lookup(None, problem)
        if meta is not None and self.script and self.script not in entry_users(meta):
            # another script's art, used by this one too: `cache gc` of either keeps it
            self.put_meta(key, {**meta, "scripts": [*entry_users(meta), self.script]})
        from comicc.images import PanelArt

        return Lookup(PanelArt.from_bytes(data))

    def put_art(
        self, key: str, ext: str, data: bytes, meta: dict[str, Any], *, durable: bool = True
    ) -> None:
        """Store the art and its metadata, which records the art's hash and size."""
        self.put(key, ext, data, durable=durable)
        record = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        owner = {"script": self.script, "scripts": [self.script]} if self.script else {}
        self.put_meta(key, {**owner, **meta, "art": record}, durable=durable)

    def remove(self, key: str, ext: str) -> None:
        """Remove a (damaged) entry's art and metadata."""
        for suffix in (ext, "json"):
            with contextlib.suppress(OSError):
                self._base(key).with_suffix(f".{suffix}").unlink()

    def lock(self, key: str) -> FileLock:
        """The lock one build holds while it paints ``key`` (another build
        painting the same panel waits, then finds it cached)."""
        from filelock import FileLock

        path = self._base(key).with_suffix(".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(path)

    def sweep(self) -> None:
        """Remove the temp files killed builds left in the cache."""
        try:
            shards = list((self.root / "art").iterdir())
        except OSError:
            return
        for shard in shards:
            if shard.is_dir() and not shard.is_symlink():
                sweep_temp(shard)

    def put(self, key: str, ext: str, data: bytes, *, durable: bool = True) -> None:
        """Store an entry atomically (a reader sees the old entry or the whole new one).
        ``durable=False``: not flushed to the disk first (free art: one a power cut
        tore fails :meth:`lookup`'s checks and is painted again)."""
        path = self._base(key).with_suffix(f".{ext}")
        write_bytes_atomic(path, data, follow_symlinks=False, durable=durable)

    def put_meta(self, key: str, meta: dict[str, Any], *, durable: bool = True) -> None:
        data = json.dumps(meta, sort_keys=True, indent=1).encode()
        self.put(key, "json", data, durable=durable)

    def add_meta(self, key: str, extra: dict[str, Any]) -> None:
        """Add ``extra`` to the metadata of an entry that has some (a missing or
        unreadable one is left alone: its art would not pass :meth:`lookup`)."""
        meta = self.meta(key)
        if meta is not None:
            self.put_meta(key, {**meta, **extra})


def entry_users(meta: dict[str, Any]) -> list[str]:
    """The scripts (absolute paths) an entry's metadata says painted or used it."""
    more = meta.get("scripts")
    found = [meta.get("script"), *(more if isinstance(more, list) else [])]
    return list(dict.fromkeys(s for s in found if isinstance(s, str)))


def default_cache_dir(script_path: str | os.PathLike[str]) -> Path:
    """``$COMICC_CACHE``, else ``.comicc-cache`` beside the script."""
    env = os.environ.get("COMICC_CACHE")
    if env:
        return Path(env)
    return Path(script_path).resolve().parent / ".comicc-cache"
