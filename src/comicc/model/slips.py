"""Slips: lines that would send words to the image generator by accident.

comicc exists because image generators paint words badly, so words meant for
the reader must never reach the painter silently. The grammar decides what a
line *is*; these checks look at lines that became description (the image
prompt) but were probably meant as lettering, and at prompts that ask for
words, and warn at the line with the fix:

- ``missing-colon``: dialogue without its colon (``MAYA Hello there.``,
  ``2. SFX BOOM``, ``MAYA (WHISPER) psst``, ``MAYA; Hello``);
- ``lowercase-cue``: a cue not in capitals (``Maya: hi``, ``Bob: hi``);
- ``continuation-indent``: a line indented by one space right under a
  balloon (continuation lines take two spaces or a tab);
- ``text-in-prompt`` (in :mod:`comicc.model.text_requests`): a panel's
  final prompt asks for words.

What stays undecidable is said in docs/language.md ("Lines that look like
lettering"): ``MAYA hello there`` (a lower-case word after the name) reads
like ``MAYA looks at the sea`` and is description without a warning.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from comicc.diagnostics import Sink, did_you_mean
from comicc.model.lettering import RESERVED_CUES, canonical_mod
from comicc.source import SourceFile
from comicc.syntax import ast

# ---------------------------------------------------------------- cue lookalikes

_NUMBER = re.compile(r"(\d+)\.?[ \t]+")
_MODS = re.compile(r"[ \t]*\(([^()\n]*)\)")
_SEMICOLON = re.compile(r"[ \t]*;")
# `[n[.]] Name [(...)]:` at the start of a description line
_TITLE_CUE = re.compile(r"(?:\d+\.?\s*)?([A-Za-z][A-Za-z0-9 .'\-]*?)\s*(?:\([^)]*\))?\s*:")
_CAPITALIZED = re.compile(r"[A-Z][a-z]*(?:['’.\-][A-Za-z]+)*\.?")
# all-caps words that may follow a name in a description (`MAYA AND BOB run`)
_CONNECTIVES = frozenset({"AND", "OR", "WITH", "AS", "&"})
# words that start description lines like `Insert: the photograph` in
# professional scripts: a capitalised `Word:` with one of these first is not
# taken for a speaker
DIRECTIONS = frozenset(
    """
    insert inset close closer close-up closeup wide medium long tight extreme angle reverse
    overhead aerial establishing pov cut smash match pan zoom tilt track camera shot view
    background foreground bg fg later meanwhile flashback setting scene location time
    day night morning evening dawn dusk noon midnight interior exterior int int. ext ext.
    inside outside detail panel page tier splash spread description art artist color colors
    colour colours lighting light mood silhouette silent beat reference ref style inks
    pencils letters letterer lettering editor writer font balloon balloons below above
    """.split()
)
# a capitalised cue that names a reserved cue's job
CUE_ALIASES = {
    "narrator": "CAPTION",
    "narration": "CAPTION",
    "narrative": "CAPTION",
    "voice-over": "CAPTION",
    "voiceover": "CAPTION",
    "sound": "SFX",
    "sound effect": "SFX",
    "noise": "SFX",
}


LOOKALIKE_CODES = frozenset({"missing-colon", "lowercase-cue"})


def lint_cue_lookalike(
    node: ast.Description, src: SourceFile, sink: Sink, names: AbstractSet[str]
) -> None:
    """Warn when a description line is probably dialogue that did not parse as
    lettering: a missing colon, or a cue not in capitals. ``names``: the
    script's characters and speakers."""
    if not _missing_colon(node, src, sink, names):
        _not_capitals(node, src, sink, names)


_NAME_RUN = re.compile(r"[A-Z0-9][A-Z0-9 .'\-]*")
MAX_NAME = 200  # characters of a line tried as a name (longer names are not looked for)


def _leading_name(text: str, names: AbstractSet[str], numbered: bool) -> tuple[str, int] | None:
    """The longest known name or reserved cue ``text`` starts with, as a whole
    word: (the name in capitals, its length). After a balloon number any case
    counts; otherwise only capitals (``Maya looks`` is description). Only the
    word ends of the line's leading run of capitals are tried, so a line costs
    at most :data:`MAX_NAME` look-ups whatever the number of names."""
    window = text[:MAX_NAME]
    probe = window.upper() if numbered else window
    if len(probe) != len(window):  # `ß` -> `SS`: no case folding then
        probe = window
    run = _NAME_RUN.match(probe)
    if run is None:
        return None
    for end in range(run.end(), 0, -1):
        nxt = text[end : end + 1]
        if nxt.isalnum() or nxt == "_":
            continue
        cand = probe[:end]
        if cand in names or cand in RESERVED_CUES:
            return cand, end
    return None


def _speechlike(said: str, names: AbstractSet[str]) -> bool:
    """Whether text right after a name reads as what they say rather than as
    what they do: ``Hello there.`` yes, ``looks at the sea`` no, ``AND BOB
    run`` (a connective or another name in capitals) no."""
    first = said.split()[0]
    if first[0].islower() or first[0] in "-–—([{,;/&+@#'’":
        return False
    word = first.strip('.,!?;:"“”')
    if len(word) >= 2 and word.isupper() and word in _CONNECTIVES:
        return False
    return _leading_name(said, names, numbered=False) is None


def _missing_colon(
    node: ast.Description, src: SourceFile, sink: Sink, names: AbstractSet[str]
) -> bool:
    text = node.text
    num = _NUMBER.match(text)
    pos = num.end() if num else 0
    found = _leading_name(text[pos:], names, numbered=num is not None)
    if found is None:
        return False
    name, length = found
    cue_end = pos + length
    after = text[cue_end:]
    mods = ""
    paren = _MODS.match(after)
    if paren:
        canon = [canonical_mod(part) for part in paren.group(1).split(",")]
        if any(c is None for c in canon):
            return False  # `MAYA (40s) stands` describes her
        mods = " (" + ", ".join(c for c in canon if c) + ")"
        cue_end += paren.end()
        after = after[paren.end() :]
    semi = _SEMICOLON.match(after)
    if semi:
        said = after[semi.end() :].strip()
    elif after[:1].isspace():
        said = after.strip()
        if said and not (num or mods or _speechlike(said, names)):
            return False
    else:
        return False  # `MAYA's hand`, `MAYA, soaked,`
    if not said:
        return False
    number = f"{num.group(1)}. " if num else ""
    fixed = f"{number}{name}{mods}: {said}"
    what = (
        "dialogue" if name not in RESERVED_CUES else f"{'an' if name == 'SFX' else 'a'} {name} item"
    )
    how = "with `;` instead of `:`" if semi else "without a colon"
    sink.warning(
        "missing-colon",
        f"this looks like {what} {how}: as written it is description, "
        "and its words go to the image prompt",
        src.span(node.span.start + pos, node.span.start + cue_end),
        label="a colon goes after this",
        hints=[f"write `{fixed}`"],
    )
    return True


MAX_SUGGEST = 2000  # names compared for a "did you mean" (more: no suggestion)


def _close_name(cue: str, names: AbstractSet[str]) -> str | None:
    """The script's name closest to ``cue`` (in capitals), if one is close."""
    if len(names) > MAX_SUGGEST:
        return None
    near = [n for n in names if n[:1] == cue[:1] or abs(len(n) - len(cue)) <= 2]
    close = did_you_mean(cue, near, n=1)
    return close[0] if close else None


def _not_capitals(
    node: ast.Description, src: SourceFile, sink: Sink, names: AbstractSet[str]
) -> None:
    m = _TITLE_CUE.match(node.text)
    if not m:
        return
    cue = m.group(1).strip()
    upper = cue.upper()
    if cue == upper:
        return
    said = node.text[m.end() :].strip()
    at = node.span.start + m.start(1)
    span = src.span(at, at + len(cue))

    def written_as(name: str) -> str:
        return (node.text[: m.start(1)] + name + node.text[m.start(1) + len(cue) :]).strip()

    fixed = written_as(upper)
    if upper in names:
        sink.warning(
            "lowercase-cue",
            f"`{cue}:` reads as description, not dialogue",
            span,
            hints=[f"write the speaker in CAPS: `{upper}:` (`{fixed}`)"],
        )
        return
    words = cue.split()
    if not said or not 1 <= len(words) <= 3:
        return
    if not all(_CAPITALIZED.fullmatch(w) for w in words):
        return  # `Close on the phone console: ...` is prose
    if any(w.endswith(("'s", "’s")) for w in words):
        return  # `Maya's hand: trembling`
    alias = CUE_ALIASES.get(cue.lower())
    if alias is None and words[0].lower() in DIRECTIONS:
        return
    hints = []
    if alias is not None:
        hints.append(f"for {alias} lettering write `{alias}: {said}`")
    else:
        close = _close_name(upper, names)
        if close:
            hints.append(f"did you mean `{close}`? write `{written_as(close)}`")
        hints.append(f"if this is dialogue, write the speaker in CAPS: `{fixed}`")
    hints.append("if it is description, rephrase it without the colon")
    sink.warning(
        "lowercase-cue",
        f"`{cue}:` looks like dialogue, but a cue is written in capitals: as written "
        "this line is description, and its words go to the image prompt",
        span,
        hints=hints,
    )


def lint_continuations(lines: Sequence[ast.Line], src: SourceFile, sink: Sink) -> None:
    """Warn at a line indented by one space right under a balloon: it is
    description (continuation lines take two spaces or a tab)."""
    prev: ast.Line | None = None
    for node in lines:
        if (
            isinstance(node, ast.Description)
            and isinstance(prev, ast.LetteringLine)
            and node.span.line == prev.span.end_line + 1
            and node.span.col > 1
        ):
            start = node.span.start - node.span.col + 1
            indent = src.text[start : node.span.start]
            how = "by one space" if indent == " " else "but not with spaces or a tab"
            sink.warning(
                "continuation-indent",
                f"this line under `{prev.cue}` is indented {how}, so it is "
                "description (its words go to the image prompt), not more lettering",
                src.span(start, node.span.start),
                label="one space" if indent == " " else "not spaces or a tab",
                hints=[
                    "indent a continuation line by two spaces or a tab; "
                    "if it is description, start it at the beginning of the line"
                ],
            )
        prev = node
