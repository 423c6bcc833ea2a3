"""Safe file output: a file is either the old one or the complete new one, and nothing but
the output is ever touched.

The rules (docs/cli.md, ``-o``):

* a regular file is replaced atomically (temp file beside it, fsync, ``os.replace``); a
  symbolic link is followed and its final target replaced, the link kept
  (``follow_symlinks=False`` replaces the link itself instead);
* a character device or a FIFO (``/dev/null``, ``/dev/stdout``, a pipe) is opened and written
  through: never replaced, never chmod'ed; ``-`` is standard output;
* a folder, socket or block device is refused, and so is any file the caller protects (the
  script, its lock file, its theme files...);
* an ``OSError`` from the environment (permission denied, disk full, ...) has a plain message
  (:func:`describe_os_error`).

Temp files are ``.<name>.<pid>-<host>.<random>.tmp``; those a killed writer left go at the
next write beside them (:func:`sweep_temp`). :func:`write_file_set` writes a set of files in a
folder (PNG pages) whole. The user's own caches: :func:`read_trusted`, :func:`write_private`.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

STDOUT = "-"  # the output path meaning standard output
STALE_SECONDS = 600.0  # a temp file this old is a killed writer's, whoever wrote it

Protected = Mapping[str, str]  # path -> what it is ("the script", "a theme file")


class FileRefused(Exception):
    """An output comicc will not write (a folder, the script itself, ...): the
    message says why, naming the path."""


_UMASK = os.umask(0o022)  # read once, at import (os.umask is process-wide), and put back
os.umask(_UMASK)


@functools.cache
def _host() -> str:  # a digest of this machine's name (uname's is socket's hostname)
    if not hasattr(os, "uname"):  # pragma: no cover - Windows
        import socket

        return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
    return hashlib.sha256(os.uname().nodename.encode()).hexdigest()[:6]


_TEMP_RE = re.compile(
    r"\.(?P<name>.+?)\.(?:(?P<pid>\d+)-(?P<host>[0-9a-f]{6})\.)?[a-z0-9_]{8}\.(?:tmp|old)"
)


def temp_prefix(name: str) -> str:
    """The start of a temp file's name for the file ``name`` (see the module doc)."""
    return f".{name}.{os.getpid()}-{_host()}."


def _default_mode(path: Path) -> int:
    """An existing file keeps its mode; a new one gets what `open()` would give."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def _writer_gone(pid: str | None, host: str | None) -> bool:
    if pid is None or host != _host():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return False


def is_stale_temp(directory: Path, name: str, *, for_name: str | None = None) -> bool:
    """Whether ``directory/name`` is a temp file (or folder) of comicc's whose
    writer is gone or that is older than :data:`STALE_SECONDS`."""
    m = _TEMP_RE.fullmatch(name)
    if m is None or (for_name is not None and m["name"] != for_name):
        return False
    if _writer_gone(m["pid"], m["host"]):
        return True
    try:
        age = time.time() - os.lstat(directory / name).st_mtime
    except OSError:
        return False
    return age > STALE_SECONDS


def sweep_temp(directory: str | os.PathLike[str], for_name: str | None = None) -> None:
    """Remove the stale temp files comicc left in ``directory`` (only regular
    files matching comicc's temp-name pattern; ``for_name``: only those of that file)."""
    d = Path(directory)
    try:
        names = os.listdir(d)
    except OSError:
        return
    for name in names:
        if is_stale_temp(d, name, for_name=for_name):
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(d / name).st_mode):
                    os.unlink(d / name)


def _ensure_folder(folder: Path) -> None:
    """``folder`` and its parents exist as folders (``ENOTDIR`` naming the file in the way)."""
    for p in (folder, *folder.parents):
        if p.exists():
            if not p.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(p))
            break
    folder.mkdir(parents=True, exist_ok=True)


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_protected(path: str | os.PathLike[str], target: Path, protect: Protected) -> None:
    """Refuse (:class:`FileRefused`) when ``target`` is one of the protected files."""
    for other, role in protect.items():
        if _same_file(target, other):
            raise FileRefused(f"refusing to write {os.fspath(path)}: it is {role} ({other})")


def resolve_target(path: str | os.PathLike[str], follow_symlinks: bool = True) -> Path:
    """Where writing ``path`` writes: a symbolic link's final target (when
    followed), else ``path`` itself."""
    p = Path(path)
    return Path(os.path.realpath(p)) if follow_symlinks else p


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISSOCK, "a socket"), (stat.S_ISBLK, "a block device"))


def _kind(st: os.stat_result) -> str | None:
    """What a non-writable file is, in words; None for a regular file or a link."""
    return next((what for test, what in _KINDS if test(st.st_mode)), None)


def check_output(
    path: str | os.PathLike[str],
    *,
    protect: Protected | None = None,
    follow_symlinks: bool = True,
    folder: bool = False,
) -> tuple[Path, os.stat_result | None]:
    """Where writing ``path`` writes, and what is there now (None: nothing);
    :class:`FileRefused` when it may not be written (a folder, socket or block
    device, a protected file; ``folder``: anything but a folder)."""
    target = resolve_target(path, follow_symlinks)
    try:
        st: os.stat_result | None = os.lstat(target)
    except FileNotFoundError:
        st = None
    if st is None:
        return target, None
    if not stat.S_ISLNK(st.st_mode):
        check_protected(path, target, protect or {})
    if folder:
        if not stat.S_ISDIR(st.st_mode):
            raise FileRefused(f"cannot write pages into {os.fspath(path)}: it is not a folder")
        return target, st
    what = _kind(st)
    if what is not None:
        raise FileRefused(f"cannot write {os.fspath(path)}: it is {what}")
    return target, st


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    *,
    protect: Protected | None = None,
    follow_symlinks: bool = True,
    durable: bool = True,
) -> Iterator[BinaryIO]:
    """Yield a binary file object for the output ``path`` (see the module doc);
    on success a regular file is replaced whole; on any error the temp file is
    removed and ``path`` is left as it was. ``durable=False``: no fsync (cache entries)."""
    if os.fspath(path) == STDOUT:
        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    target, st = check_output(path, protect=protect, follow_symlinks=follow_symlinks)
    if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
        # a device or a pipe: written through, never replaced (not even chmod'ed)
        with open(os.open(target, os.O_WRONLY), "wb") as f:
            yield f
        return
    _ensure_folder(target.parent)
    sweep_temp(target.parent, target.name)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.chmod(tmp, _default_mode(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_bytes_atomic(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    protect: Protected | None = None,
    follow_symlinks: bool = True,
    durable: bool = True,
) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, protect=protect, follow_symlinks=follow_symlinks, durable=durable) as f:
        f.write(data)


# --- the user's own cache files ---------------------------------------------


def read_trusted(path: str | os.PathLike[str], limit: int, *, own: bool = True) -> bytes | None:
    """The bytes of the regular file ``path`` of at most ``limit`` bytes and (``own``) of this
    user, writable by no one else; else None (a FIFO is opened without blocking and refused):
    the caller computes it again."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        mine = not hasattr(os, "getuid") or (
            st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        )
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit or (own and not mine):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= limit else None


def write_private(path: str | os.PathLike[str], data: bytes) -> bool:
    """Save ``data`` at ``path`` atomically, mode 0o600; False if it cannot (no error)."""
    p, tmp = Path(path), None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(p.name), suffix=".tmp", dir=p.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, p)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False
    return True


# errno -> (what happened, a hint)
_ENVIRONMENT: dict[int, tuple[str, str]] = {
    errno.EACCES: ("permission denied", "check the permissions of the file and its folder"),
    errno.EPERM: ("operation not permitted", "check the permissions of the file and its folder"),
    errno.ENOSPC: ("no space left on the device", "free some disk space and build again"),
    errno.EDQUOT: ("disk quota exceeded", "free some space within your quota"),
    errno.EFBIG: ("the file is too large", "the file system or `ulimit -f` limits file sizes"),
    errno.EMFILE: ("too many open files", "raise `ulimit -n` or build with fewer `--jobs`"),
    errno.ENFILE: ("too many open files on this system", "close other programs and retry"),
    errno.EROFS: ("the file system is read-only", "choose another output with `-o`"),
    errno.ENOTDIR: ("a part of the path is not a folder", "check the path"),
    errno.EISDIR: ("it is a folder", "give a file name"),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.ENAMETOOLONG: ("the name is too long", "use a shorter path"),
    errno.ELOOP: ("too many levels of symbolic links", "check the links in the path"),
    errno.EIO: ("an input/output error", "the disk or the network file system failed"),
    errno.EEXIST: ("it exists and is not a folder", "check the path"),
    errno.ETXTBSY: ("the file is busy", "close the program using it"),
}


def describe_os_error(
    e: OSError, path: str | os.PathLike[str] | None = None, verb: str = "write"
) -> str | None:
    """A plain one-line message for an error of the environment (disk full, permission denied,
    ...), naming the path; None for any other ``OSError`` (that one is a bug)."""
    known = _ENVIRONMENT.get(e.errno or -1)
    if known is None:
        return None
    where = e.filename if e.filename is not None else path
    what, hint = known
    named = f"{os.fsdecode(where)}: " if where is not None else ""
    return f"cannot {verb} {named}{what} ({hint})"


# --- a set of files in a folder (PNG pages) ----------------------------------

MANIFEST = ".comicc-pages.json"  # in an output folder: the files comicc wrote there
MANIFEST_MAX_BYTES = 1 << 20
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


@functools.cache
def _load_renameat2() -> Callable[..., int] | None:
    import ctypes

    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _exchange(new: Path, old: Path) -> None:
    """Swap two folders: ``old`` becomes the new set, ``new`` holds the old one.
    Atomic where the system can (Linux ``renameat2(RENAME_EXCHANGE)``), else two renames."""
    import ctypes

    renameat2 = _load_renameat2()
    if renameat2 is not None:
        if renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(old), _RENAME_EXCHANGE):
            code = ctypes.get_errno()
            if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
                raise OSError(code, os.strerror(code), str(old))
        else:
            return
    aside = old.with_name(f"{temp_prefix(old.name)}{os.urandom(4).hex()}.old")
    os.rename(old, aside)
    try:
        os.rename(new, old)
    except BaseException:
        os.rename(aside, old)
        raise
    os.rename(aside, new)


def _read_manifest(folder: Path, names: re.Pattern[str]) -> set[str]:
    """The files comicc wrote into ``folder`` (only names ``names`` matches:
    a manifest from elsewhere cannot make comicc delete anything else)."""
    try:
        with open(folder / MANIFEST, "rb") as f:
            data = f.read(MANIFEST_MAX_BYTES + 1)
        doc = json.loads(data) if len(data) <= MANIFEST_MAX_BYTES else None
    except (OSError, ValueError, RecursionError):
        return set()
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        return set()
    return {n for n in files if isinstance(n, str) and names.fullmatch(n)}


def _manifest(names: list[str]) -> bytes:
    return (json.dumps({"generator": "comicc", "files": names}, indent=1) + "\n").encode()


def _remove_set(folder: Path, names: set[str]) -> None:
    """Remove the files comicc wrote in ``folder`` (regular files only), then the
    folder if nothing else is left in it."""
    for name in (*names, MANIFEST):
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(folder / name).st_mode):
                os.unlink(folder / name)
    sweep_temp(folder)
    with contextlib.suppress(OSError):
        os.rmdir(folder)


def _write_new(path: Path, data: bytes) -> None:
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _checked_name(name: str, names: re.Pattern[str]) -> str:
    if "/" in name or os.sep in name or not names.fullmatch(name):
        raise ValueError(f"not a file name of this set: {name!r}")
    return name


def write_file_set(
    folder: str | os.PathLike[str],
    files: Iterable[tuple[str, bytes]],
    *,
    names: str,
    follow_symlinks: bool = True,
) -> list[Path]:
    """Write ``files`` (name, bytes; names matching the regex ``names``) into ``folder`` as one
    set, with a manifest (:data:`MANIFEST`) of what was written.

    A folder holding only comicc's files is replaced whole (the new set is written into a temp
    folder beside it and swapped in). A folder holding other files too is written around: each
    file is written to a temp file first, then all are renamed into place; files of the last
    set that the new one lacks are removed, and nothing comicc did not write is ever removed.
    A symbolic link is followed (``follow_symlinks=False``: refused)."""
    rx = re.compile(names)
    out, st = check_output(folder, folder=True, follow_symlinks=follow_symlinks)
    _ensure_folder(out.parent)
    for name in os.listdir(out.parent):  # folders of killed builds
        if is_stale_temp(out.parent, name, for_name=out.name) and (out.parent / name).is_dir():
            found = {n for n in os.listdir(out.parent / name) if rx.fullmatch(n)}
            _remove_set(out.parent / name, found)
    if st is None:
        return _swap_in(out, files, rx, set(), None)
    sweep_temp(out)
    ours = _read_manifest(out, rx)
    foreign = set(os.listdir(out)) - ours - {MANIFEST}
    if foreign:
        return _write_around(out, files, rx, ours)
    return _swap_in(out, files, rx, ours, st)


def _swap_in(
    out: Path,
    files: Iterable[tuple[str, bytes]],
    rx: re.Pattern[str],
    ours: set[str],
    st: os.stat_result | None,
) -> list[Path]:
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(out.name), suffix=".tmp", dir=out.parent))
    written: list[str] = []
    try:
        for name, data in files:
            _write_new(tmp / _checked_name(name, rx), data)
            written.append(name)
        _write_new(tmp / MANIFEST, _manifest(written))
        os.chmod(tmp, stat.S_IMODE(st.st_mode) if st is not None else 0o777 & ~_UMASK)
        if st is None:
            os.rename(tmp, out)
            return [out / n for n in written]
        _exchange(tmp, out)
    except BaseException:
        _remove_set(tmp, set(written))
        raise
    _remove_set(tmp, ours)  # the old set, now in the temp folder
    return [out / n for n in written]


def _write_around(
    out: Path, files: Iterable[tuple[str, bytes]], rx: re.Pattern[str], ours: set[str]
) -> list[Path]:
    temps: list[tuple[str, str]] = []
    written: list[str] = []
    try:
        for name, data in files:
            target = out / _checked_name(name, rx)
            with contextlib.suppress(FileNotFoundError):
                what = _kind(os.lstat(target))
                if what is not None:
                    raise FileRefused(f"cannot write {target}: it is {what}")
            fd, tmp = tempfile.mkstemp(prefix=temp_prefix(name), suffix=".tmp", dir=out)
            temps.append((tmp, name))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, _default_mode(target))
            written.append(name)
        while temps:  # every page is on disk: now the renames, one after another
            tmp, name = temps[0]
            os.replace(tmp, out / name)
            temps.pop(0)
    finally:
        for tmp, _ in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    write_bytes_atomic(out / MANIFEST, _manifest(written), follow_symlinks=False)
    for name in ours - set(written):  # pages of the last set the new one lacks
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(out / name).st_mode):
                os.unlink(out / name)
    return [out / n for n in written]
