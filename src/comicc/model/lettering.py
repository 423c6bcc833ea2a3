"""Lettering items: MODs -> balloon kind, text -> emphasis runs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from comicc.diagnostics import Sink, did_you_mean
from comicc.model.ir import BalloonKind, TextRun
from comicc.source import SourceFile
from comicc.syntax import ast

# the reserved cues (the parser stores them in capitals, however written)
RESERVED_CUES = {name: BalloonKind[name] for name in ast.RESERVED_CUES}

# canonical MOD name -> what it does; aliases map onto canonical names
MODS: dict[str, tuple[str, BalloonKind | None]] = {
    "WHISPER": ("kind", BalloonKind.WHISPER),
    "SHOUT": ("kind", BalloonKind.SHOUT),
    "BURST": ("kind", BalloonKind.SHOUT),
    "THOUGHT": ("kind", BalloonKind.THOUGHT),
    "ELECTRONIC": ("kind", BalloonKind.ELECTRONIC),
    "RADIO": ("kind", BalloonKind.ELECTRONIC),
    "PHONE": ("kind", BalloonKind.ELECTRONIC),
    "TV": ("kind", BalloonKind.ELECTRONIC),
    "CAPTION": ("kind", BalloonKind.CAPTION),
    "V.O.": ("kind", BalloonKind.CAPTION),
    "OFF": ("off", None),
    "OP": ("off", None),
    "O.S.": ("off", None),
    "SMALL": ("small", None),
    "WEAK": ("small", None),
    "CONT'D": ("contd", None),
    "CONT": ("contd", None),
    "SEPARATE": ("separate", None),  # opt out of joining with the speaker's previous balloon
}
# `SFX (NEAR HAMMY): CLICK`: display lettering placed by a cast member
NEAR = re.compile(r"NEAR\s+(\S.*)", re.IGNORECASE)
_ALIASES = {re.sub(r"[.\s']", "", k): k for k in MODS}
_ALIASES.update({"CONTINUED": "CONT'D", "OFFPANEL": "OFF", "OS": "O.S.", "VO": "V.O."})


_MOD_NOISE = re.compile(r"[.\s'’]")


def canonical_mod(name: str) -> str | None:
    """``"o.s."`` -> ``"O.S."``, ``"contd"`` -> ``"CONT'D"``; None for no known MOD."""
    return _ALIASES.get(_MOD_NOISE.sub("", name.upper()))


@dataclass(frozen=True)
class LetteringMeaning:
    kind: BalloonKind
    speaker: str | None
    mods: tuple[str, ...]
    off_panel: bool
    small: bool
    contd: bool


def interpret_mods(balloon: ast.LetteringLine, sink: Sink) -> LetteringMeaning:
    """What a lettering line's cue and MODs make of it (kind, speaker, flags)."""
    reserved = RESERVED_CUES.get(balloon.cue)
    kind = reserved or BalloonKind.SPEECH
    kind_mod: ast.Mod | None = None  # the MOD that chose `kind`
    off = small = contd = False
    names: list[str] = []
    for mod in balloon.mods:
        near = NEAR.fullmatch(mod.name.strip())
        if near is not None:
            if kind is not BalloonKind.SFX:
                sink.warning(
                    "ignored-mod",
                    f"`NEAR` places sound effects only; it has no effect on a {balloon.cue} item",
                    mod.span,
                    hints=["remove it, or use it on an `SFX` line: `SFX (NEAR HAMMY): CLICK`"],
                )
                continue
            names.append("NEAR " + " ".join(near.group(1).upper().split()))
            continue
        canon = canonical_mod(mod.name)
        if canon is None:
            close = did_you_mean(mod.name, MODS)
            hints = [f"did you mean `{close[0]}`?"] if close else []
            hints.append(
                "modifiers: WHISPER, SHOUT, BURST, THOUGHT, ELECTRONIC, RADIO, PHONE, TV, "
                "OFF, OP, O.S., CAPTION, V.O., SMALL, WEAK, CONT'D, SEPARATE; `NEAR NAME` on SFX"
            )
            sink.error(
                "unknown-mod",
                f"unknown modifier `{mod.name}`",
                mod.span,
                label="not a modifier",
                hints=hints,
            )
            continue
        names.append(canon)
        what, value = MODS[canon]
        if value is not None:  # a kind MOD
            if reserved is not None:
                sink.warning(
                    "ignored-mod",
                    f"`{canon}` has no effect on a {balloon.cue} item",
                    mod.span,
                    hints=[f"{balloon.cue} items have their own look; remove `{canon}`"],
                )
                continue
            if kind_mod is not None and value is not kind:
                sink.error(
                    "conflicting-mods",
                    f"`{kind_mod.name}` and `{mod.name}` choose different balloon kinds",
                    mod.span,
                    hints=["a balloon has one kind; split the line into two balloons"],
                )
                continue
            kind_mod = mod
            kind = value
        elif what == "off":
            off = True
        elif what == "small":
            small = True
        elif what == "contd":
            contd = True
    if reserved is not None and off:
        off = False
    speaker = None if reserved is not None else balloon.cue
    return LetteringMeaning(kind, speaker, tuple(names), off, small, contd)


_OPENER = re.compile(r"\[\[|/\*")
_CLOSERS = {"[[": "]]", "/*": "*/"}


def _trivia_spans(text: str) -> list[tuple[int, int]]:
    """The ``[[note]]`` and ``/* boneyard */`` pieces of a line, as ``(start, end)``.

    Left to right, an opener takes the first closer after it (on its line); an
    opener without one is skipped (see :func:`_unclosed_start`). Linear in the
    length of the line: where the next closer of each kind is, is remembered,
    so a line of 16,000 ``[[`` is not scanned 16,000 times."""
    spans: list[tuple[int, int]] = []
    after: dict[str, int] = {}  # closer -> its next position (-1: none is left)
    pos = 0
    while True:
        m = _OPENER.search(text, pos)
        if m is None:
            return spans
        start = m.start()
        closer = _CLOSERS[m.group()]
        if closer not in after or (after[closer] >= 0 and after[closer] < start + 2):
            after[closer] = text.find(closer, start + 2)
        end = after[closer]
        newline = text.find("\n", start, end) if end >= 0 else -1
        if end >= 0 and newline < 0:
            spans.append((start, end + 2))
            pos = end + 2
        else:
            pos = start + 1


def _masked(text: str, spans: list[tuple[int, int]], fill: str) -> str:
    """``text`` with every span replaced by ``fill`` repeated (``""``: cut out)."""
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(text[pos:start])
        out.append(fill * (end - start))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _unclosed_start(text: str) -> int | None:
    """Where an unclosed ``/*`` or ``[[`` starts in ``text`` (closed ones masked)."""
    last_newline = text.rfind("\n", 0, len(text) - 1)  # a final newline ends the text
    m = _OPENER.search(text, last_newline + 1)
    return None if m is None else m.start()


_SPACES = re.compile(r"\s{2,}")


def _has_trivia(text: str) -> bool:
    """Whether ``text`` may hold a note or boneyard (an opener): the quick test
    that lets most lines skip the scan."""
    return "[[" in text or "/*" in text


def strip_trivia(text: str) -> str:
    """Remove inline ``[[notes]]`` and ``/* boneyard */`` from a text; an
    unclosed one (reported separately) cuts the rest of its line."""
    if not _has_trivia(text):
        return text
    stripped = _masked(text, _trivia_spans(text), "")
    cut = _unclosed_start(stripped)
    if cut is None:
        return stripped
    rest = stripped[cut:]
    return stripped[:cut] + ("\n" if rest.endswith("\n") else "")


def blank_trivia(text: str) -> str:
    """``text`` with its notes and boneyard (and an unclosed one's rest of the
    line) replaced by spaces: what reaches the build, at the same offsets."""
    if not _has_trivia(text):
        return text
    masked = _masked(text, _trivia_spans(text), " ")
    cut = _unclosed_start(masked)
    if cut is None:
        return masked
    return masked[:cut] + re.sub(r"[^\n]", " ", masked[cut:])


def _visible(text: str) -> list[tuple[int, str]]:
    """(index in the raw line, character) for every character that is not a
    note or boneyard, so positions in the meaning map back to columns."""
    spans = _trivia_spans(text)
    hidden = [False] * len(text)
    for start, end in spans:
        for i in range(start, end):
            hidden[i] = True
    tail = _unclosed_start(_masked(text, spans, "\0"))
    if tail is not None:
        for i in range(tail, len(text)):
            hidden[i] = True
    return [(i, ch) for i, ch in enumerate(text) if not hidden[i]]


def check_unclosed_trivia(
    line: ast.LineText | ast.Description, src: SourceFile, sink: Sink
) -> None:
    if not _has_trivia(line.text):
        return
    text = _masked(line.text, _trivia_spans(line.text), " ")
    for opener, closer, code, what in (
        ("/*", "*/", "unclosed-boneyard", "boneyard"),
        ("[[", "]]", "unclosed-note", "note"),
    ):
        i = text.find(opener)
        if i >= 0:
            sink.error(
                code,
                f"this {what} `{opener}` is not closed on its line",
                src.span(line.span.start + i, line.span.start + i + 2),
                hints=[
                    f"close it with `{closer}` on the same line, or start a `/* ... */` block "
                    "at the beginning of a line to cut several lines"
                ],
            )


def parse_runs(
    lines: tuple[ast.LineText, ...], src: SourceFile, sink: Sink, note: bool = False
) -> tuple[TextRun, ...]:
    """Join text lines and split ``*emphasis*``; ``\\*`` is a literal asterisk.

    ``note``: in a NOTE item, a leading ``*`` without a partner is the
    editor's asterisk ("*See issue #3"), not emphasis."""
    if not any("*" in line.text or _has_trivia(line.text) for line in lines):
        # plain text (no emphasis, note or boneyard): what the walk below
        # makes of it, without going through it character by character
        joined = " ".join(line.text for line in lines if line.text.strip())
        plain = _SPACES.sub(" ", joined).strip()
        return (TextRun(plain, False),) if plain else ()
    runs: list[TextRun] = []
    buf: list[str] = []
    emphasis = False
    open_pos: int | None = None

    def flush() -> None:
        if buf:
            text = "".join(buf)
            if runs and runs[-1].emphasis == emphasis:
                runs[-1] = TextRun(runs[-1].text + text, emphasis)
            else:
                runs.append(TextRun(text, emphasis))
            buf.clear()

    first = True
    literal_first_star = False
    if note:
        stars = [ch for line in lines for _, ch in _visible(line.text.replace("\\*", ""))].count(
            "*"
        )
        head = "".join(ch for _, ch in _visible(lines[0].text)).lstrip() if lines else ""
        literal_first_star = stars % 2 == 1 and head.startswith("*")
    for line in lines:
        check_unclosed_trivia(line, src, sink)
        text = line.text
        if not literal_first_star and "\\" not in text and not _has_trivia(text):
            # every character visible, no escape: the walk below, a run of
            # text between two `*` at a time
            if not text.strip():
                continue
            if not first:
                buf.append(" ")
            first = False
            parts = text.split("*")
            if parts[0]:
                buf.append(parts[0])
            at = len(parts[0])  # where the next `*` is in the line
            for part in parts[1:]:
                flush()
                emphasis = not emphasis
                open_pos = line.span.start + at if emphasis else None
                at += 1 + len(part)
                if part:
                    buf.append(part)
            continue
        chars = _visible(line.text)
        if literal_first_star:
            k0 = next((k for k, (_, ch) in enumerate(chars) if not ch.isspace()), None)
            if k0 is not None and chars[k0][1] == "*":
                chars = chars[:k0] + [(chars[k0][0], "\\"), chars[k0]] + chars[k0 + 1 :]
                literal_first_star = False
        if not "".join(ch for _, ch in chars).strip():
            continue
        if not first:
            buf.append(" ")
        first = False
        k = 0
        while k < len(chars):
            idx, ch = chars[k]
            if ch == "\\" and k + 1 < len(chars) and chars[k + 1][1] == "*":
                buf.append("*")
                k += 2
                continue
            if ch == "*":
                flush()
                emphasis = not emphasis
                open_pos = line.span.start + idx if emphasis else None
                k += 1
                continue
            buf.append(ch)
            k += 1
    flush()
    if emphasis and open_pos is not None:
        sink.error(
            "unclosed-emphasis",
            "emphasis `*` is opened but never closed",
            src.span(open_pos, open_pos + 1),
            label="opened here",
            hints=["close it with another `*`, or write `\\*` for a literal asterisk"],
        )
    out = []
    for r in runs:
        t = _SPACES.sub(" ", r.text)
        if t:
            out.append(TextRun(t, r.emphasis))
    if out:
        out[0] = TextRun(out[0].text.lstrip(), out[0].emphasis)
        out[-1] = TextRun(out[-1].text.rstrip(), out[-1].emphasis)
    return tuple(r for r in out if r.text)
