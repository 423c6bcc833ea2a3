"""The check memo: what ``comicc check`` found on each page, kept in the user cache.

Checking a long script again, unchanged or after an edit to one page, should
not lower every page again. :func:`check_memoized` cuts the script into the
chunks the parser cuts it into (:func:`~comicc.syntax.chunks.split_chunks`:
the header, then one page each) and keeps, per page chunk, in one file per
script beside the parse cache (``<parse cache>/<name>.check.json``, the same
switch ``COMICC_PARSE_CACHE``):

- what the page is, keyed by its text alone: its heading, the cues that speak
  on it, what the numbering check reports inside it;
- what lowering it reported, and what the word-budget and geometry checks
  report of its IR, keyed by everything that lowering reads: the page's text,
  the header's text, the cues of every page (the names a panel may mention),
  the theme (its whole value), the lowering context, the header offsets the
  prompt checks already reported (:class:`~comicc.model.text_requests.SlipState`)
  and a digest of comicc's own code. The backend names a page asks about are
  asked again and must answer the same; a page that lists the backends (an
  unknown one) is never kept.

A page found in the memo is neither parsed nor lowered: its diagnostics are
put back, their spans moved to where the page is now (as the parse cache
moves a chunk's spans), and the checks across pages (page numbers) run on the
kept headings. Everything else runs as ever: the header is lowered, the theme
loaded, every page the memo has no answer for parsed and lowered. A script
the memo cannot describe (no header chunk, a definition on a page, a syntax
error, a span into another page) is checked the ordinary way
(:func:`~comicc.pipeline.compile.check_source`); the memo never changes a
result (``tests/cli/test_check_memo.py`` holds a memo-warm check of random
edits to a cold one).

The file is plain JSON, written atomically, read only when it is a regular
file of this user that no one else can write, and holds the chunks of the
last check only (so it never grows past a few times the script's size).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from comicc.diagnostics import Diagnostic, Severity, Sink
from comicc.files import read_trusted, write_private
from comicc.model import (
    Lowerer,
    check_page_numbering,
    check_page_numbers,
    check_page_words,
    ir,
)
from comicc.pipeline.checkcodec import DiagnosticCodec, Recorder, Unusable
from comicc.pipeline.codehash import code_digest_of
from comicc.pipeline.compile import (
    check_page_geometry,
    check_source,
    load_source,
    script_context,
)
from comicc.source import SourceFile
from comicc.syntax import ast
from comicc.syntax.chunks import (
    ParseCache,
    chunk_digest,
    decode_lines,
    encode_lines,
    open_cache,
    parse_cache_dir,
    split_chunks,
)
from comicc.syntax.grammar import grammar_digest
from comicc.syntax.parser import chunk_lines, fold, padded_text
from comicc.theme import PageFormat, Theme, resolve_format

FORMAT = "comicc-check-memo 1"
MAX_MEMO_BYTES = 64 * 1024 * 1024
# the parts of comicc whose code a kept answer depends on (relative to the package)
CODE_PARTS = (
    "syntax",
    "model",
    "theme",
    "layout",
    "diagnostics.py",
    "source.py",
    "units.py",
    "lazy.py",
    "resources.py",
    "files.py",
    "pipeline/compile.py",
    "pipeline/checkmemo.py",
    "pipeline/checkcodec.py",
)
# parse this many pages without reading the parse cache (an edit: Lark is
# quicker than reading every page's lines); from then on, read it
_DIRECT_PARSES = 3


def check_memoized(
    path: str | Path, sink: Sink, allow_paths: Sequence[str] = ()
) -> dict[str, SourceFile] | None:
    """:func:`~comicc.pipeline.compile.check` for ``comicc check``: the same
    diagnostics into ``sink``, the files they point into (None where ``check``
    gives None), through the memo when the script has one."""
    src = load_source(path, sink)
    if src is None:
        return None
    allow = tuple(str(a) for a in allow_paths)
    folder = parse_cache_dir()
    # the checks look at what the sink holds (errors of an earlier script stop
    # the word and geometry checks; a script checked twice sees its own), so the
    # memo starts from a copy of it; a second check of one script is ordinary
    if folder is not None and not any(
        d.span is not None and d.span.path == src.path for d in sink.diagnostics
    ):
        trial = Sink(list(sink.diagnostics))
        try:
            found = _MemoCheck(folder, src, trial, allow).run()
        except Unusable:
            pass
        else:
            sink.diagnostics[:] = trial.diagnostics
            return found
    res = check_source(src, sink, allow_paths=allow, from_file=True)
    return None if res is None else res.sources


def code_digest() -> str:
    """A digest of the code a kept answer was made by (see :data:`CODE_PARTS`)."""
    return code_digest_of(f"{FORMAT}\0{sys.version}\0{grammar_digest()}\0", CODE_PARTS)


def memo_path(folder: Path, script: str) -> Path:
    """The memo file of the script at ``script`` in ``folder``."""
    name = hashlib.sha256(os.path.abspath(script).encode("utf-8", "surrogatepass")).hexdigest()
    return folder / f"{name[:32]}.check.json"


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:40]


class _MemoCheck:
    """One check of one script through the memo."""

    def __init__(self, folder: Path, src: SourceFile, sink: Sink, allow: tuple[str, ...]):
        self.src, self.sink, self.allow = src, sink, allow
        self.path = memo_path(folder, src.path)
        self.key = f"{FORMAT} {code_digest()}"
        self.saved = self._read()
        self.text = padded_text(src)
        self.chunks = split_chunks(self.text)
        if len(self.chunks) < 2:
            raise Unusable("no page")
        self.bare_end = not src.text.endswith("\n")
        self.header_end = self.chunks[0][1]
        self.codec = DiagnosticCodec(src.path, self.header_end)
        self.parse_cache: ParseCache | None = None
        self.parses = 0
        self.changed = False

    def _read(self) -> dict[str, Any]:
        data = read_trusted(self.path, MAX_MEMO_BYTES)
        if data is None:
            return {}
        try:
            doc = json.loads(data.decode("utf-8", "surrogatepass"))
        except ValueError:
            return {}
        if type(doc) is not dict or doc.get("key") != self.key or doc.get("path") != self.src.path:
            return {}
        return doc

    def _digest_of(self, start: int, end: int) -> str:
        return chunk_digest(self.text[start:end], self.bare_end and end == len(self.text))

    def _line_base(self, start: int) -> int:
        import bisect

        return bisect.bisect_left(self.src.line_starts, start)

    def _nodes(self, start: int, end: int) -> list[Any]:
        """A chunk's lines (parsed, or from the parse cache after a few parses)."""
        self.parses += 1
        if self.parses > _DIRECT_PARSES and self.parse_cache is None:
            self.parse_cache = open_cache(self.src)
        nodes = chunk_lines(self.src, self.text, start, end, self.parse_cache)
        if nodes is None:
            raise Unusable("a syntax error: reported by the ordinary parse")
        return nodes

    # ------------------------------------------------------------ the header
    def _header(self) -> ast.Script:
        start, end = self.chunks[0]
        digest = self._digest_of(start, end)
        saved = self.saved.get("header")
        nodes = None
        if type(saved) is list and len(saved) == 2 and saved[0] == digest:
            try:
                nodes = decode_lines(saved[1], self.src.path, 0, 0)
            except Exception:
                nodes = None
        if nodes is None:
            nodes = self._nodes(start, end)
            self.changed = True
        if any(isinstance(n, ast.PageHead) for n in nodes):
            raise Unusable("the first chunk is a page")
        self.header_entry = [digest, encode_lines(nodes, 0, 0)]
        self.header_digest = digest
        tree = fold(self.src, nodes)
        if tree.pages:
            raise Unusable("a page in the header")
        return tree

    # ------------------------------------------------------------ the pages
    def _facts(self, start: int, end: int, digest: str, line_base: int) -> dict[str, Any]:
        """What the page chunk is (kept, or found by parsing it): its heading,
        its speakers, its numbering diagnostics (``page``: its syntax tree)."""
        kept = self.kept.get(digest)
        if type(kept) is dict and type(kept.get("facts")) is dict:
            facts = kept["facts"]
            try:
                head = decode_lines(facts["head"], self.src.path, start, line_base)
                numbering = self.codec.decode(facts["numbering"], start, line_base)
                speakers = facts["speakers"]
                if (
                    len(head) == 1
                    and isinstance(head[0], ast.PageHead)
                    and type(speakers) is list
                    and all(type(s) is str for s in speakers)
                ):
                    return {
                        "stored": kept,
                        "head": head[0],
                        "numbering": numbering,
                        "speakers": speakers,
                        "page": None,
                    }
            except Exception:
                pass
        nodes = self._nodes(start, end)
        tree = fold(self.src, nodes)
        if tree.header or len(tree.pages) != 1:
            raise Unusable("a chunk that is not one page")
        page = tree.pages[0]
        lines = [*page.lines, *(n for p in page.panels for n in p.lines)]
        if any(isinstance(n, (ast.CharacterDef, ast.SnippetDef)) for n in lines):
            raise Unusable("a definition on a page")
        speakers = sorted(
            {
                n.cue
                for p in page.panels
                for n in p.lines
                if isinstance(n, ast.LetteringLine) and n.cue not in ast.RESERVED_CUES
            }
        )
        scratch = Sink()
        check_page_numbering(page, scratch)
        self.changed = True
        return {
            "stored": {
                "facts": {
                    "head": encode_lines([page.head], start, line_base),
                    "numbering": self.codec.encode(scratch.diagnostics, start, end, line_base),
                    "speakers": speakers,
                }
            },
            "head": page.head,
            "numbering": scratch.diagnostics,
            "speakers": speakers,
            "page": page,
        }

    def run(self) -> dict[str, SourceFile] | None:
        src, sink = self.src, self.sink
        kept = self.saved.get("pages")
        self.kept: dict[str, Any] = kept if type(kept) is dict else {}
        geometry = self.saved.get("geometry")
        self.geometry_kept: dict[str, Any] = geometry if type(geometry) is dict else {}
        self.geometry_now: dict[str, Any] = {}
        missing = sum(1 for a, b in self.chunks[1:] if self._digest_of(a, b) not in self.kept)
        if missing > _DIRECT_PARSES:  # not an edit: read the parse cache at once
            self.parse_cache = open_cache(src)
        header = self._header()
        pages = []
        for start, end in self.chunks[1:]:
            digest = self._digest_of(start, end)
            line_base = self._line_base(start)
            facts = self._facts(start, end, digest, line_base)
            pages.append((start, end, digest, line_base, facts))
        speakers = frozenset(s for *_, facts in pages for s in facts["speakers"])
        sources = {src.path: src}
        found = script_context(header, src, sink, sources, self.allow)
        if found is None:
            self._save(pages)
            return None
        theme, ctx = found
        recorder = Recorder(ctx.backends)
        lowerer = Lowerer(header, src, sink, replace(ctx, backends=recorder), speakers)
        lowerer.start()
        book = lowerer.script()
        page_format = resolve_format(theme, book.page_format)
        common = _digest(
            self.key,
            src.path,
            self.header_digest,
            sorted(speakers),
            repr(theme),
            ctx.page_formats,
            ctx.default_negative,
            ctx.themes,
            ctx.default_theme,
            ctx.default_format,
            ctx.default_reading,
            ctx.theme_dirs,
            ctx.allow_paths,
            # what the header means, files it reads included (a `ref:` image's digest)
            repr(book),
            repr(tuple(lowerer.characters.values())),
        )
        later: list[tuple[list[Diagnostic], list[Diagnostic]]] = []
        for start, end, digest, line_base, facts in pages:
            key = _digest(common, digest, lowerer.carried(self.header_end))
            kept = self._kept(facts["stored"].get("lower"), key, recorder.inner, start, line_base)
            if kept is not None:
                diags, words, geometry, (reported, style) = kept
                sink.extend(diags)
                lowerer.carry(reported, style)
                kept_gkey = facts["stored"]["lower"].get("gkey")
                if type(kept_gkey) is str and kept_gkey in self.geometry_kept:  # a later edit's
                    self.geometry_now[kept_gkey] = self.geometry_kept[kept_gkey]
                later.append((words, geometry))
                continue
            page = facts["page"]
            if page is None:
                page = fold(src, self._nodes(start, end)).pages[0]
            recorder.asked, recorder.tainted = {}, False
            n0 = len(sink.diagnostics)
            lowered = lowerer.page(page)
            lowered_diags = sink.diagnostics[n0:]
            word_sink = Sink()
            check_page_words(lowered, word_sink)
            gkey: str | None = None
            geometry_diags: list[Diagnostic] = []
            if page_format is not None:
                gkey, geometry_diags = self._geometry(lowered, common, theme, book, page_format)
            later.append((word_sink.diagnostics, geometry_diags))
            self.changed = True
            facts["stored"].pop("lower", None)
            if recorder.tainted:
                continue
            after, after_style = lowerer.carried(self.header_end)
            try:
                facts["stored"]["lower"] = {
                    "key": key,
                    "diagnostics": self.codec.encode(lowered_diags, start, end, line_base),
                    "words": self.codec.encode(word_sink.diagnostics, start, end, line_base),
                    "geometry": self.codec.encode(geometry_diags, start, end, line_base),
                    "reported": list(after),
                    "style": after_style,
                    "backends": recorder.asked,
                    "gkey": gkey,
                }
            except Unusable:
                pass
        heads = [facts["head"] for *_, facts in pages]
        check_page_numbers(heads, sink, lambda i: sink.extend(pages[i][4]["numbering"]))
        self._save(pages)
        if sink.has_errors():
            return sources
        for words_diags, _ in later:
            sink.extend(words_diags)
        if page_format is not None:
            for _, geometry_diags in later:
                sink.extend(geometry_diags)
        return sources

    def _geometry(
        self, page: ir.Page, common: str, theme: Theme, book: ir.Script, page_format: PageFormat
    ) -> tuple[str, list[Diagnostic]]:
        """:func:`~comicc.pipeline.compile.check_page_geometry` of a page just
        lowered (and the key it is kept by: what it reads of the page, so a
        text edit lays out nothing)."""
        panels = [(p.number, p.width, sorted(p.bleed), p.settings.dpi) for p in page.panels]
        key = _digest(common, page.number, page.numbers, repr(page.layout), panels)
        spans = [page.span, *(p.span for p in page.panels)]
        kept = self.geometry_kept.get(key)
        if type(kept) is list:
            try:
                found = []
                for sev, code, message, where, hints in kept:
                    if not all(type(t) is str for t in (code, message, *hints)):
                        raise ValueError("diagnostic")
                    found.append(
                        Diagnostic(Severity(sev), code, message, spans[where], hints=tuple(hints))
                    )
                self.geometry_now[key] = kept
                return key, found
            except (TypeError, ValueError, IndexError):
                pass
        scratch = Sink()
        check_page_geometry(page, page_format, theme, book, scratch)
        plain = [
            [d.severity.value, d.code, d.message, spans.index(d.span), list(d.hints)]
            for d in scratch.diagnostics
            if d.span in spans and spans.count(d.span) == 1 and not d.labels and not d.label
        ]
        if len(plain) == len(scratch.diagnostics):
            self.geometry_now[key] = plain
        self.changed = True
        return key, scratch.diagnostics

    def _kept(
        self, stored: Any, key: str, backends: Sequence[str], start: int, line_base: int
    ) -> tuple[list[Diagnostic], list[Diagnostic], list[Diagnostic], tuple[list[int], bool]] | None:
        """A page's kept lowering, when it was made with ``key`` and every
        backend name it asked about answers the same now."""
        if type(stored) is not dict or stored.get("key") != key:
            return None
        try:
            asked = stored["backends"]
            if type(asked) is not dict or any(
                (name in backends) is not found for name, found in asked.items()
            ):
                return None
            reported, style = stored["reported"], stored["style"]
            if type(reported) is not list or not all(type(o) is int for o in reported):
                return None
            if type(style) is not bool:
                return None
            return (
                self.codec.decode(stored["diagnostics"], start, line_base),
                self.codec.decode(stored["words"], start, line_base),
                self.codec.decode(stored["geometry"], start, line_base),
                (reported, style),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def _save(self, pages: list[tuple[int, int, str, int, dict[str, Any]]]) -> None:
        if self.parse_cache is not None:  # keep every page's lines in the parse cache
            for _, _, digest, *_ in pages:
                self.parse_cache.get(digest)
            self.parse_cache.get(self.header_digest)
            self.parse_cache.save()
        if not self.changed:
            return
        doc = {
            "key": self.key,
            "path": self.src.path,
            "header": self.header_entry,
            "pages": {digest: facts["stored"] for _, _, digest, _, facts in pages},
            "geometry": self.geometry_now,
        }
        data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8", "surrogatepass"
        )
        if len(data) <= MAX_MEMO_BYTES:
            write_private(self.path, data)
