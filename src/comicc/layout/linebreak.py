"""Line breaking: a balloon's lettering style, its measured words, and words -> lines.

Words are cut where spaces are (CJK characters break anywhere); there is no
hyphenation: a word is never broken. Punctuation-only words
("--", "...") stay with the word before; a one-word last line (a widow) is
avoided when a word can be pulled down. Characters no face covers are kept
and collected as missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from comicc.fonts import FontRef
from comicc.layout.measure import Measurer
from comicc.model import ir
from comicc.theme import Theme

__all__ = [
    "Prepared",
    "Seg",
    "TextStyle",
    "Word",
    "WEAK_ENDS",
    "fix_weak_ends",
    "fix_widow",
    "is_widow",
    "line_runs",
    "prepare",
    "text_style",
    "weak_end",
    "word_text",
    "words_of",
    "wrap_lines",
]


@dataclass(frozen=True)
class Seg:
    """A measured piece of text in one face."""

    text: str
    font: FontRef
    width: float


@dataclass(frozen=True)
class Word:
    """A measured word (pieces in different faces when emphasis or fallbacks change)."""

    segs: tuple[Seg, ...]
    width: float
    glue: bool = False  # no space before it (CJK characters break anywhere)


@dataclass(frozen=True)
class TextStyle:
    """The faces, leading, color and case a balloon is lettered in."""

    font: FontRef
    emphasis: FontRef
    fallbacks: tuple[FontRef, ...]
    leading: float
    color: str
    caps: bool


def text_style(balloon: ir.Balloon, theme: Theme, m: Measurer, shrink: float = 1.0) -> TextStyle:
    """The lettering style of ``balloon``: its kind's face and balloon style.
    ``shrink`` scales display lettering only (an SFX that has no room at full size)."""
    kind = balloon.kind
    spec = theme.lettering
    style = spec.style
    if kind in (ir.BalloonKind.CAPTION, ir.BalloonKind.NOTE):
        spec, style = theme.caption, theme.caption.style
    elif kind is ir.BalloonKind.SFX:
        spec, style = theme.sfx, theme.sfx.style
    elif kind is ir.BalloonKind.TITLE:
        spec, style = theme.title, theme.title.style
    bstyle = theme.balloon_style(kind)
    if bstyle.font is not None:
        spec, style = bstyle.font, bstyle.font.style
    elif kind is ir.BalloonKind.SHOUT:
        style = "bold" if spec.style in ("regular", "bold") else "bolditalic"
    scale = 1.0
    if balloon.small or kind is ir.BalloonKind.NOTE:
        # smaller type, but never below the floor (7 pt unless the theme says otherwise)
        floor = min(spec.size, small_floor(theme))
        scale = max(theme.small_scale, floor / spec.size) if spec.size > 0 else 1.0
    elif kind is ir.BalloonKind.SFX:
        scale = sfx_scale(balloon) * shrink
    size, leading = spec.size * scale, spec.leading * scale
    font = m.font(spec.family, style, size)
    emph = m.font(theme.emphasis.family, theme.emphasis.style, size)
    fallbacks = tuple(
        f for f in m.fallbacks(theme.fallback_fonts, "regular", size) if f.path != font.path
    )
    return TextStyle(font, emph, fallbacks, leading, bstyle.text_color, bool(theme.all_caps))


SMALL_FLOOR = 7.0  # points: SMALL / WEAK / NOTE type never smaller (lettering.md)


def small_floor(theme: Theme) -> float:
    """The smallest size of SMALL / WEAK / NOTE type: ``extra.layout.small_min`` in the
    theme (or ``extra.small_min``), else :data:`SMALL_FLOOR`."""
    table = theme.extra.get("layout", theme.extra)
    value = table.get("small_min") if isinstance(table, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return SMALL_FLOOR


def sfx_scale(balloon: ir.Balloon) -> float:
    """SFX size by length and emphasis: short sounds big, long ones smaller; a ``!`` or
    emphasis (``*KRAK*``) one step bigger."""
    text = balloon.text.strip()
    n = sum(1 for ch in text if ch.isalnum())
    k = 1.3 if n <= 4 else 1.15 if n <= 7 else 1.0 if n <= 12 else 0.85
    if text.endswith("!") or any(r.emphasis for r in balloon.runs):
        k *= 1.15
    return k


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF
        or 0xAC00 <= o <= 0xD7AF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF
        or 0x20000 <= o <= 0x3FFFF
    )


def _segments(
    text: str, font: FontRef, st: TextStyle, m: Measurer, missing: dict[str, None]
) -> list[Seg]:
    """``text`` cut where the face changes (a fallback for characters ``font`` lacks)."""
    runs: list[tuple[FontRef, list[str]]] = []
    for ch in text:
        f = font
        if not m.covers(ch, font):
            for fb in st.fallbacks:
                if m.covers(ch, fb):
                    f = fb
                    break
            else:
                missing[ch] = None
        if runs and runs[-1][0] is f:
            runs[-1][1].append(ch)
        else:
            runs.append((f, [ch]))
    out: list[Seg] = []
    for f, chars in runs:
        t = "".join(chars)
        out.append(Seg(t, f, m.width(t, f)))
    return out


MAX_WORD_CHARS = 30  # a longer word is broken into pieces of this many characters


def _chunks(pieces: list[tuple[str, bool]], size: int) -> list[list[tuple[str, bool]]]:
    """``pieces`` (text, emphasis) cut into runs of ``size`` characters each."""
    chars = [(ch, emph) for text, emph in pieces for ch in text]
    out: list[list[tuple[str, bool]]] = []
    for start in range(0, len(chars), size):
        chunk: list[tuple[str, bool]] = []
        for ch, emph in chars[start : start + size]:
            if chunk and chunk[-1][1] == emph:
                chunk[-1] = (chunk[-1][0] + ch, emph)
            else:
                chunk.append((ch, emph))
        out.append(chunk)
    return out


def words_of(balloon: ir.Balloon, st: TextStyle, m: Measurer) -> tuple[list[Word], tuple[str, ...]]:
    """Split the balloon's runs into measured words (emphasis kept per piece)."""
    missing: dict[str, None] = {}
    words: list[Word] = []
    pieces: list[tuple[str, bool]] = []  # the word being collected
    glue_next = False

    def flush(glue_after: bool = False) -> None:
        nonlocal pieces, glue_next
        if sum(len(t) for t, _ in pieces) > MAX_WORD_CHARS:
            # an over-long word breaks by characters: glued chunks, any of which
            # may start a line (measuring one huge word would cost super-linear time)
            chunks = _chunks(pieces, MAX_WORD_CHARS)
            for k, chunk in enumerate(chunks):
                pieces = chunk
                flush(True if k < len(chunks) - 1 else glue_after)  # noqa: F821 (del below)
            return
        if pieces:
            segs: list[Seg] = []
            for t, emph in pieces:
                segs += _segments(t, st.emphasis if emph else st.font, st, m, missing)
            word = Word(tuple(segs), sum(s.width for s in segs), glue_next)
            if words and not glue_next and not any(ch.isalnum() for t, _ in pieces for ch in t):
                # "--", "..." and the like never start a line: keep them with the word before
                prev = words.pop()
                space = Seg(" ", st.font, m.width(" ", st.font))
                word = Word(
                    prev.segs + (space,) + word.segs,
                    prev.width + space.width + word.width,
                    prev.glue,
                )
            words.append(word)
            pieces = []
        glue_next = glue_after

    for run in balloon.runs:
        text = run.text.upper() if st.caps else run.text
        for ch in text:
            if ch.isspace():
                flush(False)
            elif _is_cjk(ch):
                flush(True if pieces else glue_next)
                pieces = [(ch, run.emphasis)]
                flush(True)
            else:
                if pieces and pieces[-1][1] == run.emphasis:
                    pieces[-1] = (pieces[-1][0] + ch, run.emphasis)
                else:
                    pieces.append((ch, run.emphasis))
    flush(False)
    del flush  # it holds itself (its closure): a cycle the collector would have to free
    if words:
        words[0] = Word(words[0].segs, words[0].width, False)
    return words, tuple(missing)


def wrap_lines(words: list[Word], widths: list[float], space: float) -> list[list[Word]] | None:
    """Greedy wrap into lines of the given widths; None if the words don't fit."""
    lines: list[list[Word]] = []
    i, n = 0, len(words)
    for limit in widths:
        line: list[Word] = []
        used = 0.0
        while i < n:
            w = words[i]
            add = w.width + (0.0 if (not line or w.glue) else space)
            if used + add > limit + 1e-9:
                break
            line.append(w)
            used += add
            i += 1
        if not line:
            return None
        lines.append(line)
        if i == n:
            break
    return lines if i == n and len(lines) == len(widths) else None


def _line_width(line: list[Word], space: float) -> float:
    return sum(w.width for w in line) + space * sum(1 for w in line[1:] if not w.glue)


def line_runs(line: list[Word], st: TextStyle, m: Measurer) -> tuple[tuple[Seg, ...], float]:
    """The words of ``line`` as runs of one face each, left to right, and their width."""
    parts: list[tuple[str, FontRef]] = []
    for k, w in enumerate(line):
        if k and not w.glue:
            prev = parts[-1][1]
            parts.append((" ", prev if prev == w.segs[0].font else st.font))
        parts += [(s.text, s.font) for s in w.segs]
    merged: list[tuple[str, FontRef]] = []
    for t, f in parts:
        if merged and merged[-1][1] == f:
            merged[-1] = (merged[-1][0] + t, f)
        else:
            merged.append((t, f))
    segs = tuple(Seg(t, f, m.width(t, f)) for t, f in merged)
    return segs, sum(s.width for s in segs)


def fix_widow(lines: list[list[Word]], widths: list[float], space: float) -> None:
    """Avoid a one-word last line by pulling a word down when it fits; when the line
    above would then be a lone word, it pulls one down from the line above it too."""
    n = len(lines)
    if n < 2 or len(lines[-1]) != 1 or len(lines[-2]) < 2:
        return
    trial = [list(line) for line in lines]
    i = n - 2
    while i >= 0:
        moved = [trial[i][-1]] + trial[i + 1]
        if _line_width(moved, space) > widths[i + 1] + 1e-9:
            return  # does not fit: keep the lines as they were
        trial[i] = trial[i][:-1]
        trial[i + 1] = moved
        if len(trial[i]) >= 2 or (len(trial[i]) == 1 and i == 0):
            break
        if not trial[i] or i == 0:
            return
        i -= 1
    if all(trial):
        lines[:] = trial


WEAK_ENDS = frozenset({"A", "AN", "THE", "OF", "TO"})  # words a line should not end on


def word_text(w: Word) -> str:
    """The text of a measured word."""
    return "".join(s.text for s in w.segs)


def weak_end(line: list[Word]) -> bool:
    """Whether ``line`` ends on A / AN / THE / OF / TO (with more words before it)."""
    return len(line) > 1 and word_text(line[-1]).strip(",.;:!?\"'").upper() in WEAK_ENDS


def fix_weak_ends(lines: list[list[Word]], widths: list[float], space: float) -> None:
    """Move a line-ending A / AN / THE / OF / TO down to the next line when it fits there."""
    for i in range(len(lines) - 1):
        if weak_end(lines[i]):
            moved = [lines[i][-1]] + lines[i + 1]
            if _line_width(moved, space) <= widths[i + 1] + 1e-9:
                lines[i] = lines[i][:-1]
                lines[i + 1] = moved


def is_widow(lines: list[list[Word]]) -> bool:
    """Whether the last of ``lines`` is a lone word (in a text of four words or more)."""
    return len(lines) >= 2 and len(lines[-1]) == 1 and sum(len(x) for x in lines) >= 4


class Prepared(NamedTuple):
    """Style and measured words of a balloon, shared by all its fits."""

    style: TextStyle
    words: list[Word]
    missing: tuple[str, ...]


def prepare(balloon: ir.Balloon, theme: Theme, m: Measurer, shrink: float = 1.0) -> Prepared:
    """Style and measured words of ``balloon``, shared by all its fits."""
    st = text_style(balloon, theme, m, shrink)
    words, missing = words_of(balloon, st, m)
    return Prepared(st, words, missing)
