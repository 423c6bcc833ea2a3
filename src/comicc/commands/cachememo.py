"""The layout memo's pages and the build stamps as ``comicc cache`` sees them
(see :mod:`comicc.commands.cache`): which are a script's, which its build
looks up now, and removing the rest; and the confined file helpers the art's
removal uses too.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

KEY = re.compile(r"[0-9a-f]{64}")  # a layout key (and an art cache key)
STAMP = re.compile(r"[0-9a-f]{40}")  # a stamp's name: a hash of its output's path


def scan_files(folder: Path, name: re.Pattern[str], suffix: str, shards: bool) -> Iterator[Path]:
    """The regular files ``<name>.<suffix>`` in ``folder`` (in its two-hex-digit
    shard folders named after the name's start, when ``shards``), confined as
    :func:`comicc.commands.cache.scan` is."""
    if not is_dir(folder):
        return
    try:
        tops = sorted(os.scandir(folder), key=lambda d: d.name)
    except OSError:
        return
    groups: list[tuple[str | None, list[os.DirEntry[str]]]] = []
    if shards:
        for shard in tops:
            if len(shard.name) == 2 and shard.is_dir(follow_symlinks=False):
                try:
                    groups.append(
                        (shard.name, sorted(os.scandir(shard.path), key=lambda d: d.name))
                    )
                except OSError:
                    continue
    else:
        groups.append((None, tops))
    for shard_name, files in groups:
        for f in files:
            stem, _, ext = f.name.partition(".")
            if ext != suffix or not name.fullmatch(stem):
                continue
            if shard_name is not None and stem[:2] != shard_name:
                continue
            try:
                if stat.S_ISREG(f.stat(follow_symlinks=False).st_mode):
                    yield Path(f.path)
            except OSError:
                continue


def file_size(path: Path) -> int:
    """The size of the file at ``path`` (0 when there is none)."""
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def is_dir(path: Path) -> bool:
    """Whether ``path`` is a folder (not a link to one)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def unlink_confined(path: Path, shard: Path) -> None:
    """Remove ``path`` if it is a regular file (not a link) right in ``shard``."""
    with contextlib.suppress(OSError):
        if path.parent.resolve() != shard:
            return
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return
        path.unlink()


@dataclass
class Extras:
    """The layout memo's pages and the build stamps as one script sees them."""

    pages: list[tuple[Path, list[str]]]  # the script's pages and their users
    current: set[str] | None  # the keys a build looks up now; None: unknown
    other_pages: int
    other_bytes: int
    stamps: list[tuple[Path, str | None]]  # the script's stamps and their output
    defaults: set[Path]  # the stamps of the script's default outputs

    @property
    def in_use(self) -> int:
        """The script's pages a build looks up now."""
        now = self.current or set()
        return sum(1 for p, _ in self.pages if p.name.partition(".")[0] in now)


def extras(file: str, root: Path) -> Extras:
    """Find the script's layout pages and stamps, and the page keys a build of
    it looks up now (None when the script has errors)."""
    from comicc.diagnostics import Sink
    from comicc.pipeline.book import current_keys, default_output
    from comicc.pipeline.compile import check
    from comicc.pipeline.layoutcache import LayoutStore
    from comicc.pipeline.options import OUTPUT_FORMATS, BuildOptions
    from comicc.pipeline.stamp import stamp_owner, stamp_path

    script = str(Path(file).resolve())
    checked = check(file, Sink())
    current: set[str] | None = None
    if checked is not None and checked.script is not None:
        keys = current_keys(checked.script, checked.theme, BuildOptions(cache_dir=str(root)))
        if keys is not None:
            current = {k for k in keys if k is not None}
    store = LayoutStore(root)
    pages: list[tuple[Path, list[str]]] = []
    other_pages = other_bytes = 0
    for path in scan_files(root / "layout", KEY, "page", shards=True):
        stored = store.read(path.name.partition(".")[0])
        users = list(stored.scripts) if stored is not None else []
        if script in users:
            pages.append((path, users))
        else:
            other_pages += 1
            other_bytes += file_size(path)
    stamps: list[tuple[Path, str | None]] = []
    for path in scan_files(root / "builds", STAMP, "stamp", shards=False):
        owner = stamp_owner(path)
        if owner is not None and owner[0] == script:
            stamps.append((path, owner[1]))
    defaults = {stamp_path(root, default_output(file, f)) for f in OUTPUT_FORMATS}
    return Extras(pages, current, other_pages, other_bytes, stamps, defaults)


@dataclass
class Swept:
    """What :func:`sweep` removed (or would)."""

    pages: int = 0
    freed: int = 0
    shared: int = 0  # pages another script uses too: only let go of
    stamps: int = 0


def sweep(x: Extras, root: Path, script: str, *, dry_run: bool) -> Swept:
    """Remove the script's layout pages not in ``x.current`` (a page another
    script uses too: only take ``script`` off its users; none when the keys
    are unknown) and its stamps of outputs that are gone, other than those of
    its default outputs. Confined: see :func:`unlink_confined`."""
    from comicc.pipeline.layoutcache import LayoutStore

    done = Swept()
    if x.current is not None:
        store = LayoutStore(root)
        shards = (root / "layout").resolve()
        for path, users in x.pages:
            key = path.name.partition(".")[0]
            if key in x.current:
                continue
            if len(users) > 1:  # another script uses it too: only let go of it
                stored = None if dry_run else store.read(key)
                if stored is not None:
                    rest = tuple(u for u in stored.scripts if u != script)
                    store.put(key, replace(stored, scripts=rest))
                done.shared += 1
                continue
            size = file_size(path)
            if not dry_run:
                unlink_confined(path, shards / key[:2])
            done.pages += 1
            done.freed += size
    builds = (root / "builds").resolve()
    for path, output in x.stamps:
        if path in x.defaults or (output is not None and os.path.lexists(output)):
            continue
        if not dry_run:
            unlink_confined(path, builds)
        done.stamps += 1
    return done
