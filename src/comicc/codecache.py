"""The compiled code of the dataclasses' methods, kept between runs.

Creating a dataclass writes out the source of its methods (``__init__``,
``__repr__``, ``__eq__``, ``__hash__``; for a frozen one ``__setattr__`` and
``__delattr__`` too) and compiles each with the built-in ``exec``. On Python
3.11 that is about 1.3 ms a frozen class on the bench machine, most of it the
compiling, and comicc's command line creates about a hundred of them (the
syntax tree, the model, the theme, the options) before it reads a script: a
quarter of a one-page build.

:func:`keep_dataclass_code` gives the ``dataclasses`` module an ``exec`` of its
own (the module finds ``exec`` among its own globals before the built-ins, on
every Python from 3.7 to 3.13). It compiles a source text the first time it
sees it, as ``exec`` would, and keeps the code object; when the process ends,
the code is written (:mod:`marshal`) to the user cache, and the next process
compiles nothing. The methods are the same either way: the source text is the
key (it names every field, default and option, so a changed class is a new
text), and a code object is what ``compile`` makes of its text. The file is
named by the interpreter's version, since marshal's format and the byte code
change with it. ``COMICC_CODE_CACHE=DIR`` moves it, ``=off`` turns it off.

Only the command line turns this on (:mod:`comicc.launch`): importing comicc as
a library changes nothing in the interpreter.

The file holds code, so it is trusted as the grammar cache's pickle is: read
only when it is a regular file of this user that no one else can write, of at
most :data:`MAX_BYTES`, holding text keys and code objects only (anything else:
compiled again, as with no file). It keeps at most :data:`MAX_ENTRIES` texts;
past that, only those the last process used.
"""

from __future__ import annotations

import atexit
import builtins
import marshal
import os
import sys
import types
from pathlib import Path
from typing import Any

from comicc.files import read_trusted, write_private
from comicc.usercache import user_cache_dir

CODE_CACHE_ENV = "COMICC_CODE_CACHE"
MAX_ENTRIES = 4096  # comicc's own classes make about 600 texts
MAX_BYTES = 16 * 1024 * 1024  # comicc's own: about 0.6 MB
_MAGIC = b"comicc-code-cache 1\n"


class KeptCode:
    """Code objects by source text: those read from :attr:`path`, and those
    this process compiled (:attr:`compiled` of them), written back at exit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.codes = read_codes(path)
        self.loaded = len(self.codes)
        self.compiled = 0
        self.used: set[str] = set()
        self.pid = os.getpid()

    def exec(self, source: Any, globals: Any = None, locals: Any = None, /) -> None:
        """``exec``, with a source text's code compiled once (flags as the
        ``dataclasses`` module's own: it has no ``__future__`` imports)."""
        if type(source) is str:
            code = self.codes.get(source)
            if code is None:
                code = self.codes[source] = compile(source, "<string>", "exec", dont_inherit=True)
                self.compiled += 1
            self.used.add(source)
            source = code
        builtins.exec(source, globals, locals)

    def save(self) -> None:
        """Write the codes if this process compiled any (a forked child never
        does: its parent writes); a folder that cannot be written is no error."""
        if os.getpid() != self.pid or not self.compiled:
            return
        codes = self.codes
        if len(codes) > MAX_ENTRIES:  # texts of older comiccs piled up: keep this run's
            codes = {text: codes[text] for text in sorted(self.used)[:MAX_ENTRIES]}
        write_private(self.path, _MAGIC + marshal.dumps(codes))


def read_codes(path: Path) -> dict[str, types.CodeType]:
    """The codes kept at ``path``; empty when there are none that can be trusted."""
    data = read_trusted(path, MAX_BYTES)
    if data is None or not data.startswith(_MAGIC):
        return {}
    try:
        codes = marshal.loads(memoryview(data)[len(_MAGIC) :])
    except (ValueError, EOFError, TypeError):  # damaged: compiled again
        return {}
    if not isinstance(codes, dict) or len(codes) > MAX_ENTRIES:
        return {}
    if not all(type(k) is str and type(v) is types.CodeType for k, v in codes.items()):
        return {}
    return codes


_kept: KeptCode | None = None


def keep_dataclass_code() -> KeptCode | None:
    """Compile the dataclasses' methods once per user instead of once per
    process (see the module's notes); the cache in use, or None (turned off,
    no home folder, or ``dataclasses`` already given an ``exec`` by someone
    else, which is left alone). Idempotent."""
    global _kept
    if _kept is not None:
        return _kept
    import dataclasses

    folder = user_cache_dir(CODE_CACHE_ENV, "code")
    if folder is None or "exec" in vars(dataclasses):
        return None
    tag = f"{sys.implementation.cache_tag}-{sys.hexversion:08x}"
    kept = KeptCode(folder / f"dataclasses-{tag}.marshal")
    dataclasses.exec = kept.exec  # type: ignore[attr-defined]
    atexit.register(kept.save)
    _kept = kept
    return kept
