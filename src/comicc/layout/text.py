"""Text fitting: a balloon's lines fitted into its body at a FIXED type size.

Type is never shrunk to make text fit: the balloon grows instead, and the
placement stage reports what still does not fit. Speech-like balloons wrap
into an oval (lines of an ellipse around the block, one scale factor searched
on the ellipse's semi-axes, see ``shared/reference/lettering.md``); captions
and notes wrap into a rectangle with balanced lines; SFX and titles are
display lettering. Line breaking itself (words, widows, no hyphenation) is
:mod:`comicc.layout.linebreak`; a word longer than the widest line is kept
whole and its excess reported. Characters no face covers are kept and
returned in :attr:`Fit.missing`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import overload

from comicc.layout.geometry import GlyphRun, Rect, TextLine
from comicc.layout.linebreak import (
    Prepared,
    Seg,
    TextStyle,
    Word,
    fix_weak_ends,
    fix_widow,
    is_widow,
    line_runs,
    prepare,
    wrap_lines,
)
from comicc.layout.measure import Measurer
from comicc.layout.shapes import ellipse_line_widths, text_block_to_body
from comicc.model import ir
from comicc.theme import Theme

__all__ = [
    "BOX_STEP",
    "OVAL_STEP",
    "Fit",
    "FitLine",
    "LazyFits",
    "fit_box",
    "fit_oval",
    "fit_variants",
    "kept_size",
]

SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class FitLine:
    """One wrapped line, placed relative to the body center."""

    runs: tuple[Seg, ...]  # merged runs of one face, left to right
    x0: float  # left end of the line relative to the body center
    dy: float  # baseline relative to the body center
    width: float


@dataclass(frozen=True)
class Fit:
    """One way of lettering a balloon: its body size and its lines."""

    w: float
    h: float
    lines: tuple[FitLine, ...]
    leading: float
    ascent: float
    descent: float
    cap: float
    color: str
    missing: tuple[str, ...] = ()
    overflow_w: float = 0.0  # width of unbreakable text beyond the widest line

    def text_lines(self, rect: Rect) -> tuple[TextLine, ...]:
        cx, cy = rect.center
        out = []
        for ln in self.lines:
            x = cx + ln.x0
            runs = []
            for s in ln.runs:
                runs.append(GlyphRun(s.text, s.font, x, cy + ln.dy, s.width, self.color))
                x += s.width
            out.append(TextLine(tuple(runs)))
        return tuple(out)


Wrapped = tuple[list[list[Word]], list[float]]  # lines of words, and each line's width


def fit_oval(
    balloon: ir.Balloon,
    theme: Theme,
    m: Measurer,
    aspect: float = 1.35,
    padding: float | None = None,
    prep: Prepared | None = None,
    grow: bool = True,
) -> Fit:
    """Wrap into an ellipse of semi-axes (aspect*s, s), searching the smallest s.

    ``grow``: try a slightly larger ellipse (up to 26 %) to avoid a one-word last
    line; without it the smallest ellipse is kept (a last resort for a tight panel)."""
    st, words, missing = prep or prepare(balloon, theme, m)
    asc, desc, cap = m.metrics(st.font)
    L = st.leading
    pad = theme.balloon_padding if padding is None else padding
    space = m.width(" ", st.font)
    top_ext = max(L / 2, asc - cap / 2)
    bot_ext = max(L / 2, desc + cap / 2)
    total = sum(w.width for w in words)
    longest = max((w.width for w in words), default=0.0)

    heights: list[list[float]] = [[]]  # n -> the farthest reach of each line from the center

    def extents(n: int) -> list[float]:
        while len(heights) <= n:  # the same for every ellipse tried: computed once
            k = len(heights)
            cs = [(i - (k - 1) / 2) * L for i in range(k)]
            heights.append([max(abs(c - top_ext), abs(c + bot_ext)) for c in cs])
        return heights[n]

    def attempt(s: float) -> Wrapped | None:
        a, b = aspect * s, s
        nmax = int((2 * (b - pad) - (top_ext + bot_ext - L)) // L)
        for n in range(1, nmax + 1):
            widths = ellipse_line_widths(a, b, pad, extents(n))
            if sum(widths) < total or max(widths) < longest:
                continue
            lines = wrap_lines(words, widths, space)
            if lines is not None:
                return lines, widths
        return None

    if not words:
        s = pad + L / 2
        return _oval_fit(balloon, [], s, aspect, st, m, (asc, desc, cap), missing)
    lo = pad + max(top_ext, bot_ext)
    hi = lo
    found = attempt(hi)
    while found is None and hi < 1e5:
        lo, hi = hi, hi * 1.6
        found = attempt(hi)
    for _ in range(12):
        if hi - lo < 0.5:
            break
        mid = (lo + hi) / 2
        r = attempt(mid)
        if r is None:
            lo = mid
        else:
            hi, found = mid, r
    if found is None:  # no ellipse up to 1e5 pt holds the words: never for real text
        raise ValueError("text too long to letter")
    lines, widths = found
    fix_widow(lines, widths, space)
    fix_weak_ends(lines, widths, space)
    if grow and is_widow(lines):  # a slightly larger balloon often avoids the one-word last line
        for k in (1.03, 1.06, 1.09, 1.12, 1.15, 1.2, 1.26):
            r = attempt(hi * k)
            if r is not None:
                fix_widow(r[0], r[1], space)
                fix_weak_ends(r[0], r[1], space)
                if not is_widow(r[0]):
                    lines, widths, hi = r[0], r[1], hi * k
                    break
    return _oval_fit(
        balloon, lines, _quantize(hi, OVAL_STEP), aspect, st, m, (asc, desc, cap), missing
    )


# Balloon sizes grow in small steps rather than continuously, so fixing a typo
# (a text of about the same length) keeps the same reserved shape, and hence
# the same mask and cache key: no paid repaint. Steps are in points: the oval's
# semi-axis (the body grows ~5.7 pt a step) and the caption box's text width.
OVAL_STEP = 1.5
BOX_STEP = 6.0


def _quantize(value: float, step: float) -> float:
    return math.ceil(value / step - 1e-9) * step


def _oval_fit(
    balloon: ir.Balloon,
    lines: list[list[Word]],
    s: float,
    aspect: float,
    st: TextStyle,
    m: Measurer,
    met: tuple[float, float, float],
    missing: tuple[str, ...],
) -> Fit:
    asc, desc, cap = met
    L = st.leading
    n = len(lines)
    # the body whose inner (lettering) ellipse has semi-axes (aspect*s, s)
    bw, bh = text_block_to_body(balloon.kind, aspect * s * SQRT2, s * SQRT2, 0.0)
    out = []
    for i, line in enumerate(lines):
        runs, w = line_runs(line, st, m)
        c = (i - (n - 1) / 2) * L
        out.append(FitLine(runs, -w / 2, c + cap / 2, w))
    return Fit(bw, bh, tuple(out), L, asc, desc, cap, st.color, missing)


def fit_box(
    balloon: ir.Balloon,
    theme: Theme,
    m: Measurer,
    max_w: float,
    padding: float | None = None,
    align: str = "left",
    prep: Prepared | None = None,
) -> Fit:
    """Wrap into a rectangle at most ``max_w`` wide (text area), balanced lines."""
    st, words, missing = prep or prepare(balloon, theme, m)
    asc, desc, cap = m.metrics(st.font)
    L = st.leading
    if padding is None:
        padding = theme.caption_padding
    space = m.width(" ", st.font)
    longest = max((w.width for w in words), default=0.0)
    limit = max(max_w, 1.0)
    overflow = max(0.0, longest - limit)
    limit = max(limit, longest)

    def wrap_at(width: float) -> list[list[Word]]:
        lines: list[list[Word]] = []
        cur: list[Word] = []
        used = 0.0
        for w in words:
            add = w.width + (0.0 if (not cur or w.glue) else space)
            if cur and used + add > width + 1e-9:
                lines.append(cur)
                cur, used = [w], w.width
            else:
                cur.append(w)
                used += add
        if cur:
            lines.append(cur)
        return lines

    lines = wrap_at(limit)
    n = len(lines)
    if n > 1:  # balance: the narrowest width that keeps the same number of lines
        lo, hi = longest, limit
        for _ in range(12):
            mid = (lo + hi) / 2
            if len(wrap_at(mid)) <= n:
                hi = mid
            else:
                lo = mid
        lines = wrap_at(hi)
        fix_widow(lines, [hi] * len(lines), space)
    built = [line_runs(line, st, m) for line in lines]
    block_w = _quantize(max((w for _, w in built), default=0.0), BOX_STEP)
    n = len(built)
    block_h = (n - 1) * L + cap + desc if n else 0.0
    w, h = text_block_to_body(balloon.kind, block_w, block_h, padding)
    out = []
    top = -block_h / 2 + cap
    for i, (runs, lw) in enumerate(built):
        x0 = -block_w / 2 if align == "left" else -lw / 2
        out.append(FitLine(runs, x0, top + i * L, lw))
    return Fit(w, h, tuple(out), L, asc, desc, cap, st.color, missing, overflow)


class LazyFits(Sequence[Fit]):
    """A sequence of fits computed on first access (most balloons need one or two)."""

    def __init__(self, makers: Sequence[Callable[[], Fit]]):
        self._makers = list(makers)
        self._done: dict[int, Fit] = {}

    def __len__(self) -> int:
        return len(self._makers)

    @overload
    def __getitem__(self, i: int) -> Fit: ...

    @overload
    def __getitem__(self, i: slice) -> list[Fit]: ...

    def __getitem__(self, i: int | slice) -> Fit | list[Fit]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        f = self._done.get(i)
        if f is None:
            f = self._done[i] = self._makers[i]()
        return f

    def __iter__(self) -> Iterator[Fit]:
        return (self[i] for i in range(len(self)))

    def keep_first(self, keep: tuple[float, float]) -> None:
        """Make the preferred fit keep the body size ``keep`` when its text still fits."""
        first = self._makers[0]
        self._makers[0] = lambda: kept_size(first(), keep)


def fit_variants(
    balloon: ir.Balloon,
    theme: Theme,
    m: Measurer,
    avail: Rect,
    keep: tuple[float, float] | None = None,
) -> LazyFits:
    """Candidate fits for ``balloon`` in a panel area ``avail``, preferred first:
    the theme's balloon shape, then wider, narrower, much wider, much narrower.

    ``keep``: the body size this balloon had in the last build (from the lock
    file). If the text still fits in it, the preferred fit keeps that size, so
    an edit to the text does not move the reserved shape (nor repaint art)."""
    fits = _variants(balloon, theme, m, avail)
    if keep is not None and len(fits):
        fits.keep_first(keep)
    return fits


KEEP_MIN_W, KEEP_MIN_H = 0.8, 0.7  # a text that shrank more than this gets a smaller balloon


def kept_size(fit: Fit, keep: tuple[float, float]) -> Fit:
    """``fit`` at the body size ``keep`` if its text fits there and did not shrink much."""
    w, h = keep
    if abs(fit.w - w) < 0.01 and abs(fit.h - h) < 0.01:
        return fit  # the same size (the lock file rounds): keep the exact geometry
    if (
        fit.w <= w + 0.01
        and fit.h <= h + 0.01
        and fit.w >= KEEP_MIN_W * w
        and fit.h >= KEEP_MIN_H * h
    ):
        return replace(fit, w=w, h=h)
    return fit


ASPECT_STEP = 0.25
WORDS_PER_LINE = 3.5  # the text shape aimed at for Latin text (lettering.md: 3-4 a line)


def shape_aspect(prep: Prepared, m: Measurer, theme: Theme) -> float:
    """The oval aspect (semi-axes a / b of the text ellipse) that gives about
    :data:`WORDS_PER_LINE` words a line: a diamond of ``n = words / 3.5`` lines whose
    widest (middle) line holds a little more than the average. CJK text (no
    spaces) keeps the classic 1.35."""
    st, words, _ = prep
    if not words or any(w.glue for w in words):
        return 1.35
    space = m.width(" ", st.font)
    n_words = len(words)
    avg = sum(w.width for w in words) / n_words + space
    lines = max(1.0, round(n_words / WORDS_PER_LINE))
    mid = min(n_words, WORDS_PER_LINE * (1.3 if lines > 2 else 1.1)) * avg
    pad = theme.balloon_padding
    a = (mid + 2 * pad) / 1.9
    b = (lines * st.leading + 2 * pad) / 1.55
    aspect = min(max(a / b, 0.6), 3.0 if lines > 1 else 2.4)
    # in steps, like the sizes: fixing a typo keeps the shape (and the painted art)
    return round(aspect / ASPECT_STEP) * ASPECT_STEP


def _variants(balloon: ir.Balloon, theme: Theme, m: Measurer, avail: Rect) -> LazyFits:
    kind = balloon.kind
    prep = prepare(balloon, theme, m)
    if kind.body == "oval":
        aspect = theme.extra.get("balloon_aspect")
        if isinstance(aspect, int | float) and not isinstance(aspect, bool) and aspect > 0:
            base = float(aspect)
        else:
            base = shape_aspect(prep, m, theme)
        shaped = [
            partial(fit_oval, balloon, theme, m, base * k, prep=prep) for k in (1.0, 1.4, 0.7, 2.0)
        ]
        tight = [  # last resorts for narrow panels: the classic narrow ovals, no growing
            partial(fit_oval, balloon, theme, m, k, prep=prep, grow=g)
            for k, g in ((base * 0.5, True), (0.675, False))
        ]
        return LazyFits(shaped + tight)
    if kind in (ir.BalloonKind.CAPTION, ir.BalloonKind.NOTE):
        pad = theme.caption_padding * (theme.small_scale if kind is ir.BalloonKind.NOTE else 1.0)
        fracs = (0.55, 0.8, 1.0, 0.4) if kind is ir.BalloonKind.CAPTION else (0.6, 1.0)
        return LazyFits(
            [
                partial(fit_box, balloon, theme, m, avail.w * f - 2 * pad, pad, prep=prep)
                for f in fracs
            ]
        )
    pad = theme.balloon_padding * 0.5
    makers = [
        partial(fit_box, balloon, theme, m, avail.w * f - 2 * pad, pad, "center", prep)
        for f in (0.9, 0.6)
    ]
    if kind is ir.BalloonKind.SFX:  # display lettering may be set smaller when crowded
        small = prepare(balloon, theme, m, 0.7)
        makers.append(
            partial(fit_box, balloon, theme, m, avail.w * 0.6 - 2 * pad, pad, "center", small)
        )
    return LazyFits(makers)
