"""``comicc init [DIR]``: start a story -- a starter script that builds offline
and a ``.gitignore`` for the art cache and the outputs.

Nothing existing is ever written over: when any of the files is already
there, nothing is written at all (exit 1, naming it). Each file appears whole
or not at all (written beside, then linked into place, which fails if a file
of that name appeared in the meantime).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from comicc.commands.report import EXIT_ERRORS, EXIT_OK
from comicc.files import describe_os_error, temp_prefix

SCRIPT_NAME = "story.comic"

STARTER = """\
# A starter script: `comicc build story.comic` paints it with the offline
# `draft` backend (rough colour studies, no network, no key) and writes story.pdf.
# The language: `comicc help language`. Switch a prompt item off with `#`.
title: The Last Lamp
author: Your Name
format: us-comic
backend: draft
seed: 1
style: @inks
negative: text, letters, watermark, signature

character MAYA: a young lighthouse keeper in a yellow raincoat, short black hair
character GULL: a scruffy grey seagull with one bent feather

snippet inks: clean comic-book inks, flat colors
snippet storm: dark storm clouds, heavy rain, spray from the waves
snippet dusk: orange dusk light, long shadows

PAGE 1
layout: 1/2

PANEL 1
Wide shot of a lighthouse on a rocky island. MAYA climbs the outside stairs.
prompt:
  - @storm
  # - @dusk
  - wide establishing shot
1. CAPTION: The last night before the lamp goes electric.
2. MAYA: One more night, old friend.

PANEL 2
cast: MAYA left, GULL right
MAYA looks at GULL, who shelters on the window ledge.
3. GULL: Squawk?
4. MAYA (WHISPER): You heard that too?

PANEL 3
The great lamp flares to life, its beam cutting through the rain.
5. SFX: WHOOM
"""


def gitignore(script: str) -> str:
    """The ``.gitignore`` for a story folder: the art cache and the outputs of ``script``."""
    stem = script.removesuffix(".comic")
    return (
        "# comicc: the art cache (painted again from the script and its lock file)\n"
        ".comicc-cache/\n"
        "# comicc: the built book (commit the script and its .lock instead)\n"
        f"/{stem}.pdf\n"
        f"/{stem}.cbz\n"
        f"/{stem}-pages/\n"
    )


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: Callable[..., None]
) -> None:
    """Add the ``init`` verb (none of the ``common`` flags: it reads no script)."""
    p = sub.add_parser(
        "init",
        help="start a story: a starter script and a .gitignore",
        description=f"Write a starter script ({SCRIPT_NAME}) that builds offline with the "
        "`draft` backend, and a .gitignore for the art cache and the outputs, into DIR "
        "(default: the current folder). Never writes over an existing file.",
    )
    p.add_argument("dir", nargs="?", default=".", metavar="DIR", help="the story's folder")
    p.add_argument(
        "--debug", action="store_true", help="show Python tracebacks for internal errors"
    )


def _place(path: Path, data: bytes) -> None:
    """Write ``path`` whole, never over an existing file: the data goes into a
    temp file beside it, which is then hard-linked to ``path`` (FileExistsError
    when a file of that name appeared meanwhile)."""
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: create it exclusively
            with open(path, "xb") as out:
                out.write(data)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def cmd_init(args: argparse.Namespace) -> int:
    """Write the starter files into ``args.dir``; exit 1 (writing nothing) when
    one of them exists already."""
    folder = Path(args.dir)
    files = {
        folder / SCRIPT_NAME: STARTER.encode(),
        folder / ".gitignore": gitignore(SCRIPT_NAME).encode(),
    }
    existing = [p for p in files if os.path.lexists(p)]
    if existing:
        names = ", ".join(str(p) for p in existing)
        print(
            f"comicc init: error: {names} already "
            f"{'exists' if len(existing) == 1 else 'exist'}; nothing was written "
            "(comicc init never writes over a file: give it another folder, "
            "or move the file away)",
            file=sys.stderr,
        )
        return EXIT_ERRORS
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in files.items():
            _place(path, data)
            written.append(path)
    except OSError as e:
        for path in written:  # all or nothing
            with contextlib.suppress(OSError):
                path.unlink()
        if isinstance(e, FileExistsError):
            message = f"{e.filename or 'a file'} appeared while writing; nothing was written"
        else:
            message = describe_os_error(e, folder) or f"cannot write into {folder}: {e}"
        print(f"comicc init: error: {message}", file=sys.stderr)
        return EXIT_ERRORS
    script = folder / SCRIPT_NAME
    shown = SCRIPT_NAME if folder == Path(".") else str(script)
    print(
        f"comicc: wrote {shown} and {folder / '.gitignore'}\n"
        f"  build it:  comicc build {shown}   (offline, the `draft` backend)\n"
        f"  commit:    {shown} and, after the first build, {shown}.lock\n"
        "  (.gitignore keeps the art cache .comicc-cache/ and the built book out of git)",
        file=sys.stderr,
    )
    return EXIT_OK
