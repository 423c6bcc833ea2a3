"""The build stamp: whether the output on disk is what this build would write.

After writing a book the build records, in the art cache's folder
(``builds/<hash of the output path>.stamp``, JSON), a digest of everything the output
was made from (:func:`inputs_digest`: each page's layout key, each panel's
chosen art, the options, the book's metadata, the output code) and the size,
modification and change times and inode of every file it wrote. The next
build with the same inputs finds the same files unchanged and writes nothing
("up to date", like make). An output deleted or changed since (even keeping
its size and modification time: the change time moves), a stamp that is
damaged or not ours: the book is written again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import comicc
from comicc.files import read_trusted
from comicc.pipeline.codehash import code_digest_of
from comicc.pipeline.layoutcache import write_entry
from comicc.pipeline.layoutcodec import digest

VERSION = 1
MAX_STAMP_BYTES = 1 << 20
# the code an output comes from, past the layout (whose code is in the page keys):
# planning and painting the art, writing the book
_CODE = ("pipeline", "paint", "backends", "output", "images.py", "files.py")


@functools.lru_cache(maxsize=1)
def output_code_digest() -> str:
    """SHA-256 of comicc's version, the source of the code that writes a book and
    the versions of the libraries it writes with."""
    import PIL
    import reportlab

    return code_digest_of(
        f"{comicc.__version__}:{VERSION}:{reportlab.Version}:{PIL.__version__}", _CODE
    )


def inputs_digest(parts: object) -> str:
    """The digest of what an output is made from (``parts``: plain data,
    dataclasses, see :func:`comicc.pipeline.layoutcodec.canonical`)."""
    return digest([output_code_digest(), parts])


def stamp_path(cache_root: Path, output: Path) -> Path:
    """Where the stamp of ``output`` is kept."""
    name = hashlib.sha256(str(output.resolve()).encode()).hexdigest()[:40]
    return cache_root / "builds" / f"{name}.stamp"


def _read_doc(path: Path) -> object:
    """The JSON document in the regular file ``path``; None when there is none."""
    data = read_trusted(path, MAX_STAMP_BYTES, own=False)
    try:
        return None if data is None else json.loads(data)
    except (ValueError, RecursionError):
        return None


def _file_record(path: Path) -> list[Any] | None:
    """What identifies a regular file's content as written: its size, its
    modification and change times and its inode (any write, even one that
    puts the size and modification time back, moves the change time, which
    no user can set); None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_dev, st.st_ino]


def _same_file(path: Path, record: object) -> bool:
    """Whether ``path`` is still the file ``record`` describes."""
    return isinstance(record, list) and len(record) == 5 and _file_record(path) == record


def read_stamp(cache_root: Path, output: Path, inputs: str, lock: Path | None) -> list[Any] | None:
    """The layout warnings (JSON, per page) of the build that wrote ``output``
    from ``inputs``, when nobody changed it since (nor ``lock``, the lock file
    it wrote, nor the font files it embeds); None when the output must be
    written again."""
    doc = _read_doc(stamp_path(cache_root, output))
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        return None
    if doc.get("output") != str(output.resolve()) or doc.get("inputs") != inputs:
        return None
    files, warnings, fonts = doc.get("files"), doc.get("warnings"), doc.get("fonts")
    if not isinstance(files, dict) or not files or not isinstance(warnings, list):
        return None
    base = output.resolve()
    for name, rec in files.items():
        if not isinstance(name, str) or (name and ("/" in name or name.startswith("."))):
            return None
        if not _same_file(base / name if name else base, rec):
            return None
    if lock is not None and not _same_file(lock, doc.get("lock")):
        return None
    if not isinstance(fonts, list) or not all(
        isinstance(f, list) and len(f) == 2 and isinstance(f[0], str) for f in fonts
    ):
        return None
    if any(_stat(f[0]) != f[1] for f in fonts):
        return None
    art = doc.get("art")
    if not isinstance(art, list) or not all(
        isinstance(a, list) and len(a) == 2 and isinstance(a[0], str) for a in art
    ):
        return None
    if any(_stat(a[0]) != a[1] for a in art):  # an entry removed or damaged: repaint it
        return None
    return warnings


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def record_stamp(
    cache_root: Path,
    output: Path,
    inputs: str,
    written: list[Path] | None,
    *,
    warnings: object,
    fonts: list[str],
    lock: Path | None,
    art: list[Path],
    pages: list[str] | None = None,
    page_files: list[str] | None = None,
    script: str | None = None,
) -> None:
    """Stamp ``output`` (a file, or the folder holding ``written``) as made from
    ``inputs``, with the layout ``warnings`` (JSON, per page), the ``fonts``
    it embeds, ``lock``, the lock file written with it, ``art``, the cache
    entries it was made from (an entry removed or damaged since is painted
    again: the build is not up to date), and per page its
    digest (``pages``) and the file or CBZ member holding it (``page_files``),
    for :func:`reusable_pages`. A stamp that cannot
    be written is no stamp: the next build writes again."""
    base = output.resolve()
    files: dict[str, Any] = {}
    for path in written if written is not None else [base]:
        rec = _file_record(path)
        if rec is None:
            forget_stamp(cache_root, output)
            return
        files["" if written is None else path.name] = rec
    doc: dict[str, Any] = {
        "version": VERSION,
        "output": str(base),
        "inputs": inputs,
        "files": files,
        "warnings": warnings,
        "fonts": [[f, _stat(f)] for f in fonts],
        "art": [[str(a), _stat(str(a))] for a in art],
    }
    if script is not None:  # whose stamp it is, for `comicc cache gc`
        doc["script"] = str(Path(script).resolve())
    if lock is not None:
        doc["lock"] = _file_record(lock)
    if pages is not None and page_files is not None and len(pages) == len(page_files):
        doc["pages"], doc["page_files"] = pages, page_files
    try:
        data = json.dumps(doc, sort_keys=True, indent=1).encode()
        write_entry(stamp_path(cache_root, output), data)
    except (OSError, ValueError, TypeError):
        return


def stamp_owner(path: Path) -> tuple[str | None, str | None] | None:
    """The script that wrote the stamp file ``path`` and its output (absolute
    paths, None when not recorded); None when it is not a stamp of this version."""
    doc = _read_doc(path)
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        return None
    script, output = doc.get("script"), doc.get("output")
    return (
        script if isinstance(script, str) else None,
        output if isinstance(output, str) else None,
    )


def forget_stamp(cache_root: Path, output: Path) -> None:
    """Remove the stamp of ``output`` (its next build writes it again)."""
    try:
        stamp_path(cache_root, output).unlink()
    except OSError:
        return


MAX_PAGE_BYTES = 256 << 20  # a page image larger than this is drawn again, not read back


def reusable_pages(
    cache_root: Path, output: Path, output_format: str, pages: list[str]
) -> dict[int, bytes]:
    """Page index -> the encoded page (PNG file, CBZ member) the last build
    wrote into ``output`` from the same page digest (``pages``: this build's,
    by index), read back from the output when it is as that build left it:
    those pages are not drawn again. Empty when there is nothing to reuse."""
    if output_format not in ("png", "cbz"):
        return {}
    doc = _read_doc(stamp_path(cache_root, output))
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        return {}
    then, names, files = doc.get("pages"), doc.get("page_files"), doc.get("files")
    if not (isinstance(then, list) and isinstance(names, list) and isinstance(files, dict)):
        return {}
    if len(names) != len(then) or doc.get("output") != str(output.resolve()):
        return {}
    same = [i for i, d in enumerate(pages) if i < len(then) and then[i] == d]
    if not same:
        return {}
    base = output.resolve()
    out: dict[int, bytes] = {}
    try:
        if output_format == "png":
            for i in same:
                name = names[i]
                if not isinstance(name, str) or "/" in name or name.startswith("."):
                    continue
                if _same_file(base / name, files.get(name)) and files[name][0] <= MAX_PAGE_BYTES:
                    out[i] = (base / name).read_bytes()
            return out
        if not _same_file(base, files.get("")):
            return {}
        with zipfile.ZipFile(base) as z:
            members = {info.filename: info for info in z.infolist()}
            for i in same:
                info = members.get(names[i]) if isinstance(names[i], str) else None
                if info is not None and info.file_size <= MAX_PAGE_BYTES:
                    out[i] = z.read(info)
    except (OSError, ValueError, zipfile.BadZipFile, RuntimeError, EOFError):
        return {}
    return out
