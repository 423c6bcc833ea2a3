"""Loading the Lark grammar: one LALR(1) parser per process, kept on disk.

Building the LALR tables from ``grammar/comic.lark`` takes tens of
milliseconds, on every run. The built parser is therefore saved (Lark's own
``save``/``load``) into the user's cache, :func:`grammar_cache_dir`, in a file
named by a digest of everything it was built from (the grammar text, the
parser options, the Lark and Python versions), and the next process loads it
from there. The cache is an optimisation only: a missing, unreadable, corrupt
or foreign file is ignored (and rebuilt), a folder that cannot be written is
no error, and ``COMICC_GRAMMAR_CACHE=off`` turns it off.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comicc.files import read_trusted, write_private
from comicc.resources import grammar_path
from comicc.usercache import user_cache_dir

if TYPE_CHECKING:  # Lark is loaded by the first parse (a script all in the parse cache: none)
    import lark

GRAMMAR_CACHE_ENV = "COMICC_GRAMMAR_CACHE"
_OPTIONS: dict[str, Any] = {
    "parser": "lalr",
    "lexer": "contextual",
    "propagate_positions": False,
    "maybe_placeholders": False,
}
_MAGIC = b"comicc-grammar-cache 1 "
_MAX_CACHE_BYTES = 4 * 1024 * 1024  # the file is about 25 KiB

# Human names for the grammar's terminals, used in "expected ..." messages.
TERMINAL_NAMES = {
    "NUMBER": "a number (`3` or `THREE`)",
    "HEAD_NOTE": "a note in parentheses",
    "_DASH": "`-` (a spread: PAGES 4-5)",
    "CHAR_NAME": "a character name in CAPS (e.g. `HAMMY`, `MR. SMITH`)",
    "SNIPPET_NAME": "a snippet name in lower case (e.g. `moonlight`)",
    "_COLON": "`:`",
    "TEXT": "text",
    "MOD": "a modifier such as `WHISPER` or `OFF`",
    "_LPAR": "`(`",
    "_RPAR": "`)`",
    "_COMMA": "`,`",
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "CUE": "a speaker in CAPS",
    "KEY": "a setting such as `seed:`",
    "ITEM": "an indented list item (`  - ...`)",
    "CONT": "an indented continuation line",
}


@functools.lru_cache(maxsize=1)
def parser() -> lark.Lark:
    """The parser of ``grammar/comic.lark`` (it makes a parse tree), once per process."""
    return load_parser()


def load_parser(transformer: lark.Transformer[Any, Any] | None = None) -> lark.Lark:
    """A parser of ``grammar/comic.lark``, from the grammar cache when it holds
    this grammar's parser (else built, and saved there). ``transformer``: run
    inline, rule by rule, as the parser reduces (what ``transform`` of the
    parse tree would give, without making the tree)."""
    import lark

    extra: dict[str, Any] = {} if transformer is None else {"transformer": transformer}
    grammar = grammar_path().read_text(encoding="utf-8")
    folder = grammar_cache_dir()
    if folder is None:
        return lark.Lark(grammar, **_OPTIONS, **extra)
    digest = _digest(grammar)
    path = folder / f"comic-{digest[:32]}.lark"
    cached = _load_cached(path, digest, extra)
    if cached is not None:
        return cached
    built = lark.Lark(grammar, **_OPTIONS, **extra)
    _save_cached(built, path, digest)
    return built


def grammar_cache_dir() -> Path | None:
    """Where the built parser is kept: ``$COMICC_GRAMMAR_CACHE`` (``off``: no
    cache), else the user cache (``$XDG_CACHE_HOME/comicc/grammar`` or
    ``~/.cache/comicc/grammar``)."""
    return user_cache_dir(GRAMMAR_CACHE_ENV, "grammar")


@functools.lru_cache(maxsize=1)
def grammar_digest() -> str:
    """A digest of the grammar, the parser options and the Lark and Python
    versions: what anything derived from a parse (a cached parser, cached
    parsed lines) must have been made with to be used."""
    return _digest(grammar_path().read_text(encoding="utf-8"))


def _digest(grammar: str) -> str:
    """What a cached parser must have been built from to be used."""
    key = "\0".join(
        (grammar, repr(sorted(_OPTIONS.items())), _lark_release(), sys.version.split()[0])
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _lark_release() -> str:
    """What identifies the installed Lark, without loading it: a digest of its
    ``__init__.py`` (which sets ``__version__``; a parse-cache hit loads no Lark)."""
    spec = importlib.util.find_spec("lark")
    origin = spec.origin if spec is not None else None
    try:
        data = Path(origin).read_bytes() if origin else b""
    except OSError:
        data = b""
    return hashlib.sha256(data).hexdigest()


def _load_cached(path: Path, digest: str, extra: dict[str, Any]) -> lark.Lark | None:
    """The parser saved at ``path`` for ``digest``; None when there is none
    that can be trusted and read (any problem means: build it again)."""
    # only a regular file of this user that no one else can write: the
    # cache holds a pickle, so it must be as trusted as the user's own files
    import lark

    data = read_trusted(path, _MAX_CACHE_BYTES)
    header = _MAGIC + digest.encode("ascii") + b"\n"
    if data is None or not data.startswith(header):
        return None
    try:
        # `Lark.load` with options, as Lark's own cache loads (its public
        # `load` takes none); any failure here only means: build it again
        loaded = lark.Lark.__new__(lark.Lark)._load(io.BytesIO(data[len(header) :]), **extra)
    except Exception:  # a truncated or corrupt file: rebuild
        return None
    return loaded if isinstance(loaded, lark.Lark) else None


def _save_cached(built: lark.Lark, path: Path, digest: str) -> None:
    """Save ``built`` at ``path`` atomically (a concurrent reader sees the old
    file or the whole new one); a folder that cannot be written is no error."""
    buf = io.BytesIO()
    buf.write(_MAGIC + digest.encode("ascii") + b"\n")
    try:
        built.save(buf, exclude_options=("transformer",))  # given again on load
    except (OSError, ValueError, TypeError):
        return
    write_private(path, buf.getvalue())


def describe_expected(names: Iterable[str]) -> list[str]:
    """Human descriptions of the terminals a parser expected, for messages."""
    out = []
    for n in sorted(set(names)):
        if n.startswith("_") and n not in TERMINAL_NAMES:
            continue
        desc = TERMINAL_NAMES.get(n)
        if desc and desc not in out:
            out.append(desc)
    return out
