"""The text memo of ``comicc layout --json``: the finished JSON of a book laid out before.

Run again on an unchanged script, ``comicc layout --json`` would read every
page back from the layout memo (:mod:`comicc.pipeline.layoutcache`), decode
and check its geometry, and write the whole book's JSON again: the same
bytes as last time, made at the cost of most of the command. So the text it
printed last is kept too, one file per script beside the layout memo's
pages (``layout/books/<32 hex>.json``), under a key of everything the text is
made of:

- every page's layout key (:func:`~comicc.pipeline.layoutcache.page_keys`:
  the page's IR, the theme, the page format, the reading order, the kept
  balloon sizes, the voices, the installed fonts, comicc's version and the
  code that lays pages out and writes the JSON, ``layout/serialize.py``
  included) -- what the layout memo already takes a page's geometry by;
- each balloon's source line now (the one part of the text not in a page's
  key: the memo's pages are placed on the lines of now);
- the reading order, this module's own source, the text format and Python's
  version;

and, as the layout memo's pages do, the font files the book was lettered
with and their size and modification time then (checked on reading: a font
rewritten in place is a miss). The layout warnings of the book's pages are
kept with it, as the layout memo keeps them (placed on the pages of now).

The file is read as the layout memo's are (:func:`~comicc.files.read_trusted`,
a regular file of at most :data:`MAX_TEXT_BYTES`): a first line holding its
format, its key and the SHA-256 of the rest, then a line of what it keeps
beside the text (the warnings, the fonts), then the text. Anything damaged,
of another format or key, or whose fonts changed is a miss -- the book is
laid out through the layout memo as ever and the file written anew -- never
an error. A script has one such file (the last text), so it never grows.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from comicc.collector import collector_off
from comicc.diagnostics import Diagnostic, Sink
from comicc.files import read_trusted
from comicc.model import ir
from comicc.pipeline.codehash import code_digest_of
from comicc.pipeline.layoutcache import (
    FontStamps,
    LayoutStore,
    code_digest,
    font_stamps,
    layout_memoized,
    page_keys,
    placed_warnings,
    stamps_unchanged,
    write_entry,
)
from comicc.pipeline.layoutcodec import Malformed, decode, digest
from comicc.theme import Theme, resolve_format

FORMAT = "comicc-layout-json 1"  # bump when what is kept, or how it is keyed, changes
MAX_TEXT_BYTES = 1 << 30  # far above any real book's text; a bigger file is not ours


def layout_json(
    script: ir.Script,
    theme: Theme,
    sink: Sink,
    keep: dict[str, tuple[float, float]],
    cache_dir: str | Path,
) -> str | None:
    """The text ``comicc layout --json`` prints for ``script`` (the bytes of
    ``json.dumps(to_json(book), indent=1)``, no final newline), its layout
    warnings into ``sink``; None (and an error) when the page format is
    unknown. From the text memo when it holds this book's text; else laid
    out through the layout memo (in ``cache_dir``, as
    :func:`~comicc.pipeline.book.layout` lays out) and kept for next time."""
    page_format = resolve_format(theme, script.page_format)
    if page_format is None:  # reported as a build reports it
        from comicc.pipeline.book import layout

        layout(script, theme, sink, keep=keep, cache_dir=cache_dir)
        return None
    keys = page_keys(script, theme, page_format, keep)
    memo = TextMemo(cache_dir, script.path)
    key = text_key(script, keys)
    if key is not None:
        found = memo.get(key, script)
        if found is not None:
            text, warnings = found
            sink.extend(warnings)
            return text
    from comicc.layout.serialize import json_text, to_json

    with collector_off():  # tens of thousands of records, lists and dicts; no cycle
        laid = layout_memoized(
            script,
            theme,
            page_format,
            sink,
            keep,
            keys=keys,
            store=LayoutStore(cache_dir, script.path),
        )
        text = json_text(to_json(laid.book))
    if key is not None and laid.warnings is not None:
        fonts = {f for page in laid.book.pages for f in font_stamps(page)}
        if len({p for p, _ in fonts}) == len(fonts):  # (else a font changed meanwhile)
            memo.put(key, text, laid.warnings, tuple(sorted(fonts, key=lambda f: f[0])))
    return text


def text_key(script: ir.Script, keys: tuple[str | None, ...]) -> str | None:
    """The key of the book's text (see the module doc); None when a page has no
    layout key (then neither its geometry nor the text is kept)."""
    if any(k is None for k in keys):
        return None
    lines = [
        [
            (b.id, b.span.line if b.span is not None else 0)
            for panel in p.panels
            for b in panel.balloons
        ]
        for p in script.pages
    ]
    return digest([FORMAT, sys.version, code_digest(), _own_code(), keys, lines, script.reading])


def _own_code() -> str:
    return code_digest_of("", ("pipeline/layoutjson.py",))


class TextMemo:
    """The kept text of the script at ``script`` (one file), in the layout
    memo's folder under ``root`` (the art cache's folder)."""

    def __init__(self, root: str | os.PathLike[str], script: str) -> None:
        name = hashlib.sha256(os.path.abspath(script).encode("utf-8", "surrogatepass")).hexdigest()
        self.path = Path(root) / "layout" / "books" / f"{name[:32]}.json"

    def get(self, key: str, script: ir.Script) -> tuple[str, list[Diagnostic]] | None:
        """The text kept under ``key`` and its warnings placed on ``script``'s
        pages; None when there is none, or it cannot be used."""
        data = read_trusted(self.path, MAX_TEXT_BYTES, own=False)
        if data is None:
            return None
        # the text is most of the file: it is hashed and decoded in place, not copied
        view, head_end = memoryview(data), data.find(b"\n")
        meta_end = data.find(b"\n", head_end + 1)
        if head_end < 0 or meta_end < 0:
            return None
        try:
            doc = json.loads(data[:head_end])
            if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("key") != key:
                return None
            if doc.get("sha256") != hashlib.sha256(view[head_end + 1 :]).hexdigest():
                return None
            meta = json.loads(data[head_end + 1 : meta_end])
            if not isinstance(meta, dict):
                return None
            fonts: FontStamps = decode(FontStamps, meta.get("fonts"))
            text = str(view[meta_end + 1 :], "ascii")
        except (ValueError, RecursionError, Malformed):
            return None
        if not stamps_unchanged(fonts):
            return None
        warnings = placed_warnings(meta.get("warnings"), script)
        if warnings is None:
            return None
        return text, warnings

    def put(
        self,
        key: str,
        text: str,
        warnings: tuple[tuple[dict[str, Any], ...], ...],
        fonts: FontStamps,
    ) -> None:
        """Keep ``text`` under ``key`` (atomically, in place of the text kept
        before); a memo that cannot be written is no memo."""
        try:
            meta = {"warnings": [list(w) for w in warnings], "fonts": [[p, s] for p, s in fonts]}
            rest = json.dumps(meta, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()
            rest += b"\n" + text.encode("ascii")
            head = {"format": FORMAT, "key": key, "sha256": hashlib.sha256(rest).hexdigest()}
            data = json.dumps(head, sort_keys=True).encode() + b"\n" + rest
            write_entry(self.path, data, durable=False)
        except (OSError, ValueError):
            return
