"""Prompts that ask for words: the ``text-in-prompt`` warning.

A panel's final image prompt that asks for text (``speech bubble``, ``a sign
that says OPEN``, quoted words, ``no text``) makes the model letter on its own,
badly. :func:`lint_panel_prompt` finds the phrase in the description line,
prompt item, style, snippet or character definition that wrote it, and warns
there with the fix (see :mod:`comicc.model.slips` for the lookalike lines).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from comicc.diagnostics import Sink
from comicc.model.definitions import Definitions
from comicc.model.lettering import blank_trivia
from comicc.model.prompt import SNIPPET_REF, character_pattern
from comicc.model.slips import LOOKALIKE_CODES
from comicc.source import SourceFile
from comicc.syntax import ast


@dataclass(frozen=True)
class PromptSource:
    """A piece of the script that went into a panel's image prompt."""

    text: str  # as written, notes and boneyard blanked out (same offsets)
    start: int  # offset of ``text[0]`` in the script
    what: str  # "" for a line of the panel itself; "snippet `@sign`", "character `MAYA`"


_I = re.IGNORECASE
_WORDY = (
    r"(?:texts?|lettering|letters|words?|captions?|writing|typography|subtitles?|"
    r"(?:speech|word|thought|dialogue)[ -]?(?:bubbles?|balloons?))"
)
# (kind, pattern): what asks an image generator for words
TEXT_REQUESTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("negated", re.compile(r"\b(?:no|without|zero|free of)\s+(?:any\s+)?" + _WORDY + r"\b", _I)),
    (
        "balloon",
        re.compile(
            r"\b(?:speech|word|thought|dialogue|dialog|text|talk)[ -]?(?:bubbles?|balloons?)\b", _I
        ),
    ),
    ("words", re.compile(r"\btexts?\b", _I)),
    (
        "words",
        re.compile(
            r"\b(?:captions?|captioned|subtitles?|subtitled|lettering|typography|"
            r"inscriptions?|inscribed|titled|entitled|labell?ed)\b",
            _I,
        ),
    ),
    (
        "words",
        re.compile(
            r"\b(?:[\w'’-]+\s+)?(?:that|which)\s+(?:says|say|said|reads|read|spells?)\b", _I
        ),
    ),
    ("words", re.compile(r"\b(?:with|bearing)\s+the\s+words?\b|\bspelling\s+out\b", _I)),
    ("words", re.compile(r"\b(?:written|painted|printed)\s+(?:on|across)\b", _I)),
    ("words", re.compile(r"\b(?i:saying|reading|says|reads)\s*:?\s*(?:[\"“]|[A-Z]{2,}\b)")),
    ("quote", re.compile(r"[\"“][^\"“”\n]*[^\W\d_][^\"“”\n]*[\"”]")),
)


# for each of TEXT_REQUESTS, words one of which (in lower case) any match holds:
# most prompt text has none of them, and `in` is much quicker than a search.
# Used on ASCII text only: under IGNORECASE a few other letters match ASCII ones
_NEEDS: tuple[tuple[str, ...], ...] = (
    ("text", "letter", "word", "caption", "writing", "typography", "subtitle", "bubble", "balloon"),
    ("bubble", "balloon"),
    ("text",),
    ("caption", "subtitle", "lettering", "typography", "inscri", "titled", "label"),
    ("that", "which"),
    ("word", "spelling"),
    ("written", "painted", "printed"),
    ("saying", "reading", "says", "reads"),
    ('"', "\u201c"),
)
assert len(_NEEDS) == len(TEXT_REQUESTS)


def find_text_requests(text: str) -> list[tuple[int, int, str]]:
    """Where ``text`` asks for words: ``(start, end, kind)``, in order, not overlapping."""
    return list(_text_requests(text))


@functools.lru_cache(maxsize=4096)
def _text_requests(text: str) -> tuple[tuple[int, int, str], ...]:
    """:func:`find_text_requests`, kept per text: a book repeats its style,
    snippets and characters in every panel's prompt."""
    requests: Iterable[tuple[str, re.Pattern[str]]] = TEXT_REQUESTS
    if text.isascii():
        low = text.lower()
        requests = [
            r
            for r, needs in zip(TEXT_REQUESTS, _NEEDS, strict=True)
            if any(w in low for w in needs)
        ]
        if not requests:
            return ()
    hits = sorted(
        ((m.start(), m.end(), kind) for kind, rx in requests for m in rx.finditer(text)),
        key=lambda h: (h[0], -h[1]),
    )
    out: list[tuple[int, int, str]] = []
    for hit in hits:
        if not out or hit[0] >= out[-1][1]:
            out.append(hit)
    return tuple(out)


_HINTS = {
    "balloon": "comicc letters every balloon itself: drop `{phrase}` from the prompt and "
    "write the words as lettering (`NAME: ...`, `CAPTION: ...`)",
    "negated": "naming text in a prompt invites it, even after `no`: remove `{phrase}` here "
    "and write `negative: text, lettering` instead",
    "words": "put the words in a lettering line (`CAPTION: ...`, `TITLE: ...`, `SFX: ...` or "
    "the speaker's `NAME: ...`) and describe the thing without its words "
    "(`a shop sign`, not `a sign that says OPEN`)",
}
_HINTS["quote"] = _HINTS["words"]


def _def_text_start(node: ast.CharacterDef | ast.SnippetDef, src: SourceFile) -> int | None:
    """Offset of a definition's text (after ``NAME:``) in the script."""
    colon = src.text.find(":", node.name_span.end)
    if colon < 0:
        return None
    start = colon + 1
    while start < len(src.text) and src.text[start] in " \t":
        start += 1
    return start if src.text.startswith(node.text, start) else None


def prompt_sources(
    descriptions: Sequence[ast.Description],
    settings: Sequence[ast.Setting],
    cast: Sequence[str],
    defs: Definitions,
    src: SourceFile,
) -> list[PromptSource]:
    """The pieces of the script in a panel's prompt: its description lines, the
    prompt and style settings in force (header, page, panel), and the snippets
    and characters they bring in."""
    out: list[PromptSource] = []
    for d in descriptions:
        out.append(PromptSource(blank_trivia(d.text), d.span.start, ""))
    for s in settings:
        if s.value and s.value_span is not None:
            out.append(PromptSource(blank_trivia(s.value), s.value_span.start, ""))
        for item in s.items:
            if isinstance(item, ast.ListItem) and item.text:
                out.append(PromptSource(blank_trivia(item.text), item.span.start, ""))
    snippets: dict[str, None] = {}
    for piece in out:
        for m in SNIPPET_REF.finditer(piece.text):
            if m.group(1) in defs.snippets:
                snippets.setdefault(m.group(1))
    for name in snippets:
        node = defs.snippets[name]
        start = _def_text_start(node, src)
        if start is not None:
            out.append(PromptSource(node.text, start, f"snippet `@{name}`"))
    pattern = character_pattern(tuple(defs.characters))
    used: dict[str, None] = dict.fromkeys(n for n in cast if n in defs.characters)
    if pattern is not None:
        for piece in out:
            for m in pattern.finditer(piece.text):
                used.setdefault(m.group(1))
    for name in used:
        cnode = defs.characters[name]
        start = _def_text_start(cnode, src)
        if start is not None:
            out.append(PromptSource(cnode.text, start, f"character `{name}`"))
    return out


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def check_prompt_text(
    sources: Sequence[PromptSource],
    prompt: str,
    where: str,
    src: SourceFile,
    sink: Sink,
    seen: set[int],
) -> None:
    """Warn where a piece of the script asks the image generator for words that
    are in the panel's final ``prompt``; ``where`` names the panel ("page 1,
    panel 2"); ``seen`` (offsets already reported) keeps a snippet used by
    forty panels to one warning."""
    final = _squash(prompt)
    for piece in sources:
        if piece.start in seen:
            continue
        for start, end, kind in find_text_requests(piece.text):
            phrase = piece.text[start:end]
            if _squash(phrase) not in final:
                continue
            seen.add(piece.start)
            label = "asks for words" if not piece.what else f"in the prompt of {where}"
            sink.warning(
                "text-in-prompt",
                f"the image prompt asks for text: `{' '.join(phrase.split())}`"
                + (f" (from {piece.what})" if piece.what else "")
                + "; image generators paint words badly and add lettering of their own",
                src.span(piece.start + start, piece.start + end),
                label=label,
                hints=[_HINTS[kind].format(phrase=" ".join(phrase.split()))],
            )
            break


@dataclass
class SlipState:
    """What the prompt checks remember from panel to panel of one script, so
    that checking every panel stays linear in the size of the script."""

    reported: set[int] = field(default_factory=set)  # offsets already warned about
    lookalike_lines: set[int] = field(default_factory=set)  # lines warned as lettering
    scanned: int = 0  # how many of the sink's diagnostics were looked at
    prompt_settings: dict[int, list[ast.Setting]] = field(default_factory=dict)  # by id(lines)

    def settings_of(self, lines: Sequence[ast.Line | ast.Panel]) -> list[ast.Setting]:
        """The ``prompt:`` settings among ``lines`` (a header's or a page's), once."""
        key = id(lines)
        if key not in self.prompt_settings:
            self.prompt_settings[key] = [
                n for n in lines if isinstance(n, ast.Setting) and n.key == "prompt"
            ]
        return self.prompt_settings[key]

    def lookalikes(self, sink: Sink, path: str) -> set[int]:
        """The lines warned about as lettering so far (new diagnostics only)."""
        for d in sink.diagnostics[self.scanned :]:
            if d.code in LOOKALIKE_CODES and d.span is not None and d.span.path == path:
                self.lookalike_lines.add(d.span.line)
        self.scanned = len(sink.diagnostics)
        return self.lookalike_lines


def lint_panel_prompt(
    header: Sequence[ast.Line | ast.Panel],
    page: ast.Page,
    panel: ast.Panel,
    style: ast.Setting | None,
    cast: Sequence[str],
    prompt: str,
    defs: Definitions,
    src: SourceFile,
    sink: Sink,
    state: SlipState,
) -> None:
    """:func:`check_prompt_text` for one panel: its description lines, the
    ``prompt:`` items of the header, its page and itself (or its ``prompt!``
    items alone) and the ``style`` in force (``style``), against the final
    ``prompt``."""
    replaced = [n for n in panel.lines if isinstance(n, ast.Setting) and n.key == "prompt!"]
    if replaced:
        sources = prompt_sources([], replaced, cast, defs, src)
    else:
        settings = state.settings_of(header) + state.settings_of(page.lines)
        settings += [n for n in panel.lines if isinstance(n, ast.Setting) and n.key == "prompt"]
        if style is not None:
            settings.append(style)
        # a line already warned about as lettering without its colon is not
        # warned again for the words it sends
        lookalike = state.lookalikes(sink, src.path)
        descriptions = [
            n
            for n in panel.lines
            if isinstance(n, ast.Description) and n.span.line not in lookalike
        ]
        sources = prompt_sources(descriptions, settings, cast, defs, src)
    where = f"page {page.head.numbers[0].value}, panel {panel.head.number.value}"
    check_prompt_text(sources, prompt, where, src, sink, state.reported)
