"""``comicc cache ls FILE`` and ``comicc cache gc FILE``: what the art cache
holds for a script, and dropping the art its lock file no longer uses.

Whose art an entry is comes from its metadata (``script``/``scripts``: the
absolute paths of the script it was painted for and of every script that used
it since, and ``panel``/``variant``); several scripts may share one cache
(``.comicc-cache/`` beside them, or ``$COMICC_CACHE``), and ``gc`` only ever
removes the art of the script it is given, or entries that script's lock file
names. Art another script uses too is never removed: the script is only taken
off its users. Entries whose metadata names no script (painted by an older
comicc) are counted and left alone.

``gc`` is confined: it removes only regular files named like cache entries
(``art/<2 hex>/<64 hex>.<jpg|png|raw|json|lock>``) inside the cache folder,
never anything through a symbolic link, and takes an entry's painting lock
first (an entry another build is painting is skipped).

The cache also keeps laid-out pages (``layout/<2 hex>/<64 hex>.page``, see
:mod:`comicc.pipeline.layoutcache`) and build stamps (``builds/<40
hex>.stamp``, see :mod:`comicc.pipeline.stamp`); each records the scripts it
is for. ``gc`` removes the script's pages a build of it now would not look up
(their keys are computed as a build computes them; a page another script
uses too is only taken off its users) and the script's stamps of outputs
that are gone (the stamps of its default outputs are kept). Pages and stamps
that record no script are left alone. Both removals are confined as the
art's is.
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import Timeout

from comicc.commands.cachememo import KEY, file_size, is_dir, unlink_confined
from comicc.commands.report import EXIT_ERRORS, EXIT_OK, plural

if TYPE_CHECKING:
    from comicc.paint import ArtCache

SUFFIXES = ("jpg", "png", "raw", "json", "lock")
ART_SUFFIXES = ("jpg", "png")
KEEP_DEFAULT = 3


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: Callable[..., None]
) -> None:
    """Add the ``cache`` verb and its ``ls`` and ``gc`` subcommands (none of the
    ``common`` flags: nothing is checked)."""
    p = sub.add_parser(
        "cache",
        help="what the art cache holds for a script; drop art no longer used",
        description="The art cache keeps every image painted for a script (and its "
        "variants and earlier versions). `ls` shows what it holds per panel; `gc` removes "
        "the art the script's lock file no longer uses, keeping recent versions.",
    )
    verbs = p.add_subparsers(dest="cache_command", metavar="SUBCOMMAND", required=True)
    ls = verbs.add_parser(
        "ls",
        help="images and bytes per panel",
        description="List what the art cache holds for the script: per panel the images "
        "(variants, earlier versions), which ones its lock file uses, and their size.",
    )
    gc = verbs.add_parser(
        "gc",
        help="remove art the lock file no longer uses",
        description="Remove the script's art that its lock file does not use, keeping the "
        "newest versions of each panel and variant (so you can go back). Only the "
        "script's own art is touched, only inside the cache folder. Also removes the "
        "script's laid-out pages a build no longer looks up and its stamps of outputs "
        "that are gone.",
    )
    gc.add_argument(
        "--keep",
        type=_count,
        default=KEEP_DEFAULT,
        metavar="N",
        help="versions of each panel variant to keep besides the ones in use, 0-1000 "
        f"(default {KEEP_DEFAULT})",
    )
    gc.add_argument("--dry-run", action="store_true", help="only say what would be removed")
    for q in (ls, gc):
        q.add_argument("file", metavar="FILE", help="the script")
        q.add_argument(
            "--cache-dir",
            metavar="DIR",
            help="the art cache (default: .comicc-cache beside the script, or $COMICC_CACHE)",
        )
        q.add_argument(
            "--debug", action="store_true", help="show Python tracebacks for internal errors"
        )


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a whole number") from None
    if not 0 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"{value} is out of range: --keep must be 0 to 1000")
    return value


@dataclass
class Entry:
    """One cache entry: its files (path -> bytes), metadata and when it was painted."""

    key: str
    files: dict[Path, int] = field(default_factory=dict)
    meta: dict[str, Any] | None = None
    made: float = 0.0

    @property
    def size(self) -> int:
        return sum(self.files.values())

    @property
    def has_art(self) -> bool:
        return any(p.suffix[1:] in ART_SUFFIXES for p in self.files)

    @property
    def scripts(self) -> list[str]:
        """Every script that painted or used this art (absolute paths)."""
        from comicc.paint import entry_users

        return entry_users(self.meta) if self.meta else []

    @property
    def panel(self) -> str:
        v = (self.meta or {}).get("panel")
        return v if isinstance(v, str) else "?"

    @property
    def variant(self) -> int:
        v = (self.meta or {}).get("variant")
        return v if isinstance(v, int) and not isinstance(v, bool) else 1

    @property
    def name(self) -> str:
        return f"{self.panel} v{self.variant}"


def scan(root: Path) -> Iterator[Entry]:
    """Every entry under ``root``/art, confined (see the module doc): folders
    and files that are symbolic links, and names that are not a cache entry's,
    are not looked at."""
    from comicc.paint import ArtCache  # the painting half: only when used

    art = root / "art"
    try:
        shards = sorted(os.scandir(art), key=lambda d: d.name) if is_dir(art) else []
    except OSError:
        return
    cache = ArtCache(root)
    for shard in shards:
        if not (len(shard.name) == 2 and shard.is_dir(follow_symlinks=False)):
            continue
        entries: dict[str, Entry] = {}
        try:
            names = sorted(os.scandir(shard.path), key=lambda d: d.name)
        except OSError:
            continue
        for f in names:
            key, _, suffix = f.name.partition(".")
            if not (KEY.fullmatch(key) and key[:2] == shard.name and suffix in SUFFIXES):
                continue
            try:
                st = f.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            entry = entries.setdefault(key, Entry(key))
            entry.files[Path(f.path)] = st.st_size
            if suffix in ART_SUFFIXES or (suffix == "json" and not entry.has_art):
                entry.made = st.st_mtime  # when the art was painted (else its metadata)
        for entry in entries.values():
            if any(p.suffix == ".json" for p in entry.files):
                entry.meta = cache.meta(entry.key)
            yield entry


@dataclass
class Holdings:
    """The cache as one script sees it."""

    root: Path
    script: str  # the script's absolute path
    mine: list[Entry]  # its art (or art its lock names)
    others: list[Entry]  # other scripts'
    unknown: list[Entry]  # no script recorded, not in the lock
    in_lock: set[str]  # every key the lock file names
    picked: set[str]  # the chosen variant of each panel
    lock_problem: str | None


def holdings(file: str, cache_dir: str | None) -> Holdings:
    """Sort the cache's entries into the script's, other scripts' and unknown."""
    from comicc.paint import default_cache_dir, lock_path, read_lock

    script = str(Path(file).resolve())
    root = Path(cache_dir) if cache_dir else default_cache_dir(file)
    lock = read_lock(lock_path(file))
    in_lock: set[str] = set()
    picked: set[str] = set()
    for panel in lock.panels.values():
        in_lock.update(panel["variant_keys"])
        in_lock.add(panel["cache_key"])
        picked.add(panel["cache_key"])
    mine, others, unknown = [], [], []
    for entry in scan(root):
        if script in entry.scripts or entry.key in in_lock:
            mine.append(entry)
        elif entry.scripts:
            others.append(entry)
        else:
            unknown.append(entry)
    return Holdings(root, script, mine, others, unknown, in_lock, picked, lock.problem)


def size_text(n: int) -> str:
    """``812 B``, ``41.3 KB``, ``2.1 MB`` (powers of 1000)."""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"  # not reached


def _panel_order(name: str) -> tuple[int, ...]:
    digits = re.findall(r"\d+", name)
    return tuple(int(d) for d in digits) or (1 << 30,)


def _images(entries: list[Entry]) -> int:
    return sum(1 for e in entries if e.has_art)


def cmd_cache(args: argparse.Namespace) -> int:
    """``comicc cache ls`` / ``comicc cache gc``."""
    from comicc.paint import lock_path

    if not os.path.isfile(args.file):
        print(f"comicc cache: error: {args.file}: no such script", file=sys.stderr)
        return EXIT_ERRORS
    h = holdings(args.file, args.cache_dir)
    if h.lock_problem:
        print(
            f"comicc cache: warning: {lock_path(args.file)} is not a comicc lock file "
            f"({h.lock_problem}): no art counts as in use",
            file=sys.stderr,
        )
    if args.cache_command == "ls":
        return _ls(args, h)
    if h.lock_problem:
        print(
            "comicc cache gc: error: the lock file cannot be read, so which art is in use "
            "is unknown; nothing was removed (build the script to write a new one)",
            file=sys.stderr,
        )
        return EXIT_ERRORS
    return _gc(args, h)


def _lock_name(file: str) -> str:
    return os.path.basename(file) + ".lock"


def _ls(args: argparse.Namespace, h: Holdings) -> int:
    out = sys.stdout
    out.write(f"{args.file}: art cache {h.root}\n")
    by_panel: dict[str, list[Entry]] = {}
    for e in h.mine:
        by_panel.setdefault(e.panel, []).append(e)
    if by_panel:
        rows = [("panel", "images", "variants", "in lock", "size")]
        for panel in sorted(by_panel, key=_panel_order):
            entries = by_panel[panel]
            rows.append(
                (
                    panel,
                    str(_images(entries)),
                    str(len({e.variant for e in entries})),
                    str(sum(1 for e in entries if e.key in h.in_lock)),
                    size_text(sum(e.size for e in entries)),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for r in rows:
            cells = [r[0].ljust(widths[0])] + [
                c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
            ]
            out.write("  " + "  ".join(cells) + "\n")
    used = sum(1 for e in h.mine if e.key in h.in_lock and e.has_art)
    out.write(
        f"total: {plural(_images(h.mine), 'image')} for {plural(len(by_panel), 'panel')}, "
        f"{size_text(sum(e.size for e in h.mine))}; {used} in use by "
        f"{_lock_name(args.file)}\n"
    )
    if h.others:
        scripts = {s for e in h.others for s in e.scripts}
        out.write(
            f"other scripts: {plural(_images(h.others), 'image')}, "
            f"{size_text(sum(e.size for e in h.others))} "
            f"({plural(len(scripts), 'script')})\n"
        )
    if h.unknown:
        out.write(
            f"no script recorded (painted by an older comicc): "
            f"{plural(_images(h.unknown), 'image')}, {size_text(sum(e.size for e in h.unknown))}"
            "; `cache gc` leaves them\n"
        )
    from comicc.commands.cachememo import extras

    x = extras(args.file, h.root)
    in_use = "?" if x.current is None else str(x.in_use)
    out.write(
        f"layout memo: {plural(len(x.pages), 'page')}, "
        f"{size_text(sum(file_size(p) for p, _ in x.pages))}; {in_use} in use by the current "
        f"build; other scripts' or none recorded: {plural(x.other_pages, 'page')}, "
        f"{size_text(x.other_bytes)}\n"
    )
    out.write(
        f"build stamps: {len(x.stamps)}, {size_text(sum(file_size(p) for p, _ in x.stamps))}\n"
    )
    return EXIT_OK


def _gc(args: argparse.Namespace, h: Holdings) -> int:
    groups: dict[tuple[str, int], list[Entry]] = {}
    for e in h.mine:
        groups.setdefault((e.panel, e.variant), []).append(e)
    drop: list[Entry] = []
    for entries in groups.values():
        entries.sort(key=lambda e: e.made, reverse=True)
        spare = [e for e in entries if e.key not in h.in_lock]
        drop.extend(spare[args.keep :])
    drop.sort(key=lambda e: (_panel_order(e.panel), e.variant, -e.made))
    from comicc.paint import ArtCache

    verb = "would remove" if args.dry_run else "removed"
    freed = removed = shared = 0

    cache = ArtCache(h.root)
    for e in drop:
        others = [s for s in e.scripts if s != h.script]
        if others:  # another script uses it too: this one lets go of it, nothing is removed
            if not args.dry_run:
                _release(cache, e, h.script)
            print(f"kept {e.name} {e.key[:12]}: {os.path.basename(others[0])} uses it too")
            shared += e.has_art
            continue
        if not args.dry_run and not _remove(cache, h.root, e):
            print(f"skipped {e.name} {e.key[:12]}: a build is painting it", file=sys.stderr)
            continue
        made = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.made)) if e.made else "?"
        print(f"{verb} {e.name} {e.key[:12]} ({size_text(e.size)}, painted {made})")
        freed += e.size
        removed += e.has_art
    in_use = sum(1 for e in h.mine if e.has_art and e.key in h.in_lock)
    earlier = _images(h.mine) - removed - in_use - shared
    verb, free = ("would remove", "would free") if args.dry_run else ("removed", "freed")
    also = f", {shared} another script uses too" if shared else ""
    print(
        f"comicc: {verb} {plural(removed, 'image')} ({free} {size_text(freed)}); kept "
        f"{in_use} in use by {_lock_name(args.file)}{also} and "
        f"{plural(earlier, 'earlier version')} (--keep {args.keep} per panel variant)",
        file=sys.stderr,
    )
    _gc_extras(args, h)
    return EXIT_OK


def _gc_extras(args: argparse.Namespace, h: Holdings) -> None:
    """Remove the script's layout pages its build no longer looks up and its
    stamps of outputs that are gone (see the module doc)."""
    from comicc.commands.cachememo import extras, sweep

    x = extras(args.file, h.root)
    done = sweep(x, h.root, h.script, dry_run=args.dry_run)
    would = "would remove" if args.dry_run else "removed"
    if x.current is None:
        print(
            f"comicc: the script has errors, so which laid-out pages a build uses is "
            f"unknown: kept its {plural(len(x.pages), 'layout page')}",
            file=sys.stderr,
        )
    else:
        free = "would free" if args.dry_run else "freed"
        also = f", let go of {done.shared} another script uses too" if done.shared else ""
        print(
            f"comicc: {would} {plural(done.pages, 'layout page')} ({free} "
            f"{size_text(done.freed)}) the current build does not use{also}; kept "
            f"{x.in_use} in use",
            file=sys.stderr,
        )
    print(
        f"comicc: {would} {plural(done.stamps, 'build stamp')} of outputs that are gone; "
        f"kept {len(x.stamps) - done.stamps}",
        file=sys.stderr,
    )


def _release(cache: ArtCache, entry: Entry, script: str) -> None:
    """Take ``script`` off the users of ``entry`` (its metadata), so the other
    scripts' `gc` may remove it once none of them uses it."""
    meta = cache.meta(entry.key)
    if meta is None:
        return
    from comicc.paint import entry_users

    rest = [s for s in entry_users(meta) if s != script]
    if rest:
        cache.put_meta(entry.key, {**meta, "script": rest[0], "scripts": rest})


def _remove(cache: ArtCache, root: Path, entry: Entry) -> bool:
    """Remove ``entry``'s files, holding its painting lock; False when another
    build holds it. Each file is checked again just before: a regular file (not
    a link) in its shard folder under ``root``/art."""
    shard = (root / "art").resolve() / entry.key[:2]
    lock = cache.lock(entry.key)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    try:
        for path in sorted(entry.files, key=lambda p: p.suffix == ".json"):  # meta last
            if path.suffix != ".lock":
                unlink_confined(path, shard)
    finally:
        lock.release()
    unlink_confined(shard / f"{entry.key}.lock", shard)
    return True
