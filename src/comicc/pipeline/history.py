"""The art a panel had under earlier prompts: its history in the art cache.

The cache keeps every image painted (``comicc cache gc`` drops old ones), and
each entry's metadata says which script and panel it was painted for
(``script``/``scripts``, ``panel``, ``variant``) and, in its request record
(:func:`comicc.pipeline.reasons.request_record`), the prompt that made it. So
the history of panel ``1.2`` is every entry of this script for ``p1.2`` that
still has its art, newest first; :func:`prompt_diff` says what changed
between two prompts, part by part (the comma-separated parts a prompt is
assembled from). Pure reading: nothing is written, and only files named like
cache entries inside the cache folder are looked at, never through a link.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comicc.paint import ArtCache, default_cache_dir, entry_users, lock_path, read_lock
from comicc.pipeline.edits import parse_ref
from comicc.pipeline.reasons import RECORD

_KEY = re.compile(r"[0-9a-f]{64}")
ART_EXTS = ("jpg", "png")


@dataclass(frozen=True)
class HistoryEntry:
    """One image this panel had: its cache key, art file and the request that made it."""

    key: str
    image: Path  # the art in the cache
    prompt: str  # "" when the entry keeps no request record (an older comicc)
    negative: str
    seed: int  # 0 when unknown (a backend without seeds)
    when: float  # when it was painted (the art file's time, seconds since the epoch)
    current: bool  # the lock file uses it (the last build's art for this panel)
    variant: int = 1
    backend: str = ""


def _text(record: dict[str, Any], key: str) -> str:
    v = record.get(key)
    return v if isinstance(v, str) else ""


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _entries(root: Path) -> list[tuple[str, Path]]:
    """(key, shard folder) of every entry with metadata under ``root``/art, confined."""
    art = root / "art"
    out = []
    try:
        if not stat.S_ISDIR(os.lstat(art).st_mode):
            return []
        shards = [
            d for d in os.scandir(art) if len(d.name) == 2 and d.is_dir(follow_symlinks=False)
        ]
    except OSError:
        return []
    for shard in shards:
        try:
            names = os.listdir(shard.path)
        except OSError:
            continue
        for name in names:
            key, _, suffix = name.partition(".")
            if suffix == "json" and _KEY.fullmatch(key) and key[:2] == shard.name:
                out.append((key, Path(shard.path)))
    return out


def _art(shard: Path, key: str) -> tuple[Path, float] | None:
    for ext in ART_EXTS:
        p = shard / f"{key}.{ext}"
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            return p, st.st_mtime
    return None


def history(
    script: Path, panel: str, *, cache_dir: str | os.PathLike[str] | None = None
) -> list[HistoryEntry]:
    """Every cached art of ``panel`` (``"1.2"``) of ``script``, newest first,
    with the prompt that made it. ``cache_dir``: the art cache (default: the
    one a build of the script uses). EditError for a ``panel`` that is not
    written PAGE.PANEL."""
    page, number = parse_ref(panel)
    pid = f"p{page}.{number}"
    me = str(Path(script).resolve())
    root = Path(cache_dir) if cache_dir else default_cache_dir(script)
    cache = ArtCache(root)
    lock = read_lock(lock_path(str(script))).panels.get(pid)
    in_use = set(lock["variant_keys"]) | {lock["cache_key"]} if lock else set()
    out = []
    for key, shard in _entries(root):
        meta = cache.meta(key)
        if meta is None or meta.get("panel") != pid or me not in entry_users(meta):
            continue
        found = _art(shard, key)
        if found is None:
            continue
        record = meta.get(RECORD)
        record = record if isinstance(record, dict) else {}
        out.append(
            HistoryEntry(
                key,
                found[0],
                _text(record, "prompt"),
                _text(record, "negative"),
                _int(record.get("seed", meta.get("seed"))),
                found[1],
                key in in_use,
                _int(meta.get("variant")) or 1,
                _text(meta, "backend"),
            )
        )
    out.sort(key=lambda e: (-e.when, e.key))
    return out


def prompt_parts(prompt: str) -> list[str]:
    """A prompt's comma-separated parts, stripped, empty ones left out."""
    return [p.strip() for p in prompt.split(",") if p.strip()]


def prompt_diff(a: str, b: str) -> list[tuple[str, str]]:
    """What changed from prompt ``a`` to prompt ``b``, part by part, in order:
    ``[(" ", "a dog"), ("-", "noir lighting"), ("+", "dutch angle")]``."""
    old, new = prompt_parts(a), prompt_parts(b)
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out += [(" ", p) for p in old[i1:i2]]
            continue
        out += [("-", p) for p in old[i1:i2]]
        out += [("+", p) for p in new[j1:j2]]
    return out
