"""Parsers for setting values (layout, cast, mask, lengths, numbers, lists).

Each parser reports into the sink with a span pointing at the exact part of
the value that is wrong, and returns None when the value cannot be used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from comicc.diagnostics import Sink, did_you_mean
from comicc.model.ir import CastPosition, LayoutSpec, Length, MaskSpec
from comicc.source import SourceFile, Span
from comicc.units import (
    MAX_PAGE_SIDE,
    MIN_PAGE_SIDE,
    WRITTEN_UNITS,
    split_length,
    split_size,
    to_points,
)

# `layout:` presets: tiers of panel counts, top to bottom
LAYOUT_PRESETS: dict[str, tuple[int, ...]] = {
    "splash": (1,),
    "grid-4": (2, 2),
    "grid-6": (2, 2, 2),
    "grid-9": (3, 3, 3),
    "strip-3": (3,),
}
NAMED_POSITIONS = {
    "left": (0.25, 0.55),
    "center": (0.5, 0.55),
    "centre": (0.5, 0.55),
    "right": (0.75, 0.55),
    "top-left": (0.25, 0.3),
    "top": (0.5, 0.3),
    "top-right": (0.75, 0.3),
    "bottom-left": (0.25, 0.8),
    "bottom": (0.5, 0.8),
    "bottom-right": (0.75, 0.8),
}
EDGES = ("top", "bottom", "left", "right")
MAX_TIER_PANELS = 12  # panels side by side in one tier
# a mask's keep-margin and feather: at most this many device pixels, or 2 in
MAX_MASK_PX = 600
MAX_MASK_PT = 144.0


@dataclass
class Value:
    """A setting value with its location, able to make spans of its parts."""

    text: str
    span: Span
    src: SourceFile

    def sub(self, start: int, end: int) -> Span:
        return self.src.span(self.span.start + start, self.span.start + end)

    def parts(self, sep: str = ",") -> Iterator[tuple[str, int, int]]:
        """Split on ``sep``: yields (stripped part, start offset, end offset)."""
        pos = 0
        for piece in self.text.split(sep):
            lead = len(piece) - len(piece.lstrip())
            s = piece.strip()
            yield s, pos + lead, pos + lead + len(s)
            pos += len(piece) + len(sep)


MAX_DIGITS = 24  # a longer number is out of range of every setting (checked before int())


def shown(text: str, limit: int = 40) -> str:
    """``text`` for a message: cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_int(v: Value, sink: Sink, key: str, lo: int, hi: int, hint: str = "") -> int | None:
    t = v.text.strip()
    if not re.fullmatch(r"[+-]?[0-9]+", t):
        sink.error(
            "bad-value",
            f"`{key}` must be a whole number, not `{shown(t)}`",
            v.span,
            label="not a number",
            hints=[hint] if hint else [],
        )
        return None
    if len(t.lstrip("+-").lstrip("0")) > MAX_DIGITS:  # int() of 5,000 digits fails
        n = -(10**MAX_DIGITS) if t.startswith("-") else 10**MAX_DIGITS
    else:
        n = int(t)
    if n < lo or n > hi:
        what = "negative" if n < 0 and lo >= 0 else "out of range"
        sink.error(
            "bad-value",
            f"`{key}` is {what}: {shown(t)} (allowed {lo} to {hi})",
            v.span,
            label=f"must be between {lo} and {hi}",
            hints=[hint] if hint else [],
        )
        return None
    return n


def parse_choice(
    v: Value, sink: Sink, key: str, choices: Sequence[str], code: str = "bad-value"
) -> str | None:
    t = v.text.strip().lower()
    if t in choices:
        return t
    close = did_you_mean(t, choices)
    hints = [f"did you mean `{close[0]}`?"] if close else []
    hints.append("one of: " + ", ".join(f"`{c}`" for c in choices))
    sink.error(
        code, f"unknown {key} `{v.text.strip()}`", v.span, label=f"not a known {key}", hints=hints
    )
    return None


def parse_length(text: str) -> Length | None:
    """``"24px"`` / ``"2mm"`` -> a :class:`Length`; None without a known unit."""
    written = split_length(text)
    if written is None or written[1] not in WRITTEN_UNITS:
        return None
    return Length(*written)


def _number_text(x: float) -> str:
    return str(int(x)) if x.is_integer() else str(x)


def parse_format(v: Value, sink: Sink, page_formats: Sequence[str]) -> str | None:
    """A page format: one of ``page_formats`` (the theme's names, any case),
    returned as the theme spells it, or a size such as ``6.625x10.25in``."""
    t = v.text.strip()
    by_key = {name.lower(): name for name in page_formats}
    if t.lower() in by_key:
        return by_key[t.lower()]
    size = split_size(t)
    if size is not None and all(unit in WRITTEN_UNITS for _, unit in size):
        (w, w_unit), (h, h_unit) = size
        if w <= 0 or h <= 0:
            sink.error("unknown-format", f"page format `{shown(t)}` has a zero side", v.span)
            return None
        sides = [to_points(x, "css_px" if u == "px" else u) for x, u in ((w, w_unit), (h, h_unit))]
        if not all(MIN_PAGE_SIDE - 1e-6 <= side <= MAX_PAGE_SIDE + 1e-6 for side in sides):
            sink.error(
                "unknown-format",
                f"page format `{shown(t)}` is out of range: each side is 20 mm to 2 m",
                v.span,
                label="not a page size",
                hints=["e.g. `6.625x10.25in`, `210x297mm` or `800x1280px`"],
            )
            return None
        width = _number_text(w) + ("" if w_unit == h_unit else w_unit)
        return f"{width}x{_number_text(h)}{h_unit}"
    close = did_you_mean(t, page_formats)
    hints = [f"did you mean `{close[0]}`?"] if close else []
    hints.append(
        "use a format of the theme ("
        + ", ".join(page_formats)
        + ") or a size like `6.625x10.25in` or `210x297mm`"
    )
    sink.error(
        "unknown-format", f"unknown page format `{t}`", v.span, label="not a format", hints=hints
    )
    return None


def parse_layout(v: Value, sink: Sink) -> LayoutSpec | None:
    t = v.text.strip()
    if t.lower() in LAYOUT_PRESETS:
        return LayoutSpec(LAYOUT_PRESETS[t.lower()], None, t.lower(), v.span)
    tiers_text, at, heights_text = t.partition("@")
    tiers = []
    ok = True
    lead = len(v.text) - len(v.text.lstrip())
    pos = lead
    for part in tiers_text.split("/"):
        s = part.strip()
        off = pos + (len(part) - len(part.lstrip()))
        if not re.fullmatch(r"[0-9]{1,4}", s) or not 1 <= int(s) <= MAX_TIER_PANELS:
            hints = [
                "a layout is tiers of panel counts top to bottom, e.g. `2/1/3`, "
                "optionally with heights `2/1/3 @ 1:2:1`, or a preset: " + ", ".join(LAYOUT_PRESETS)
            ]
            close = did_you_mean(t, LAYOUT_PRESETS)
            if close:
                hints.insert(0, f"did you mean `{close[0]}`?")
            sink.error(
                "bad-value",
                f"bad layout `{shown(t)}`: `{shown(s)}` is not a panel count "
                f"(1 to {MAX_TIER_PANELS} panels a tier)",
                v.sub(off, off + max(1, len(s))),
                label="expected a number of panels",
                hints=hints,
            )
            ok = False
            break
        tiers.append(int(s))
        pos += len(part) + 1
    heights = None
    if ok and at:
        hs = []
        base = lead + len(tiers_text) + 1
        hpos = base
        for part in heights_text.split(":"):
            s = part.strip()
            off = hpos + (len(part) - len(part.lstrip()))
            try:
                h = float(s)
                if not math.isfinite(h) or h <= 0:
                    raise ValueError
                hs.append(h)
            except ValueError:
                what = f"`{s}`" if s else "(nothing)"
                sink.error(
                    "bad-value",
                    f"bad tier height {what} in layout `{t}`",
                    v.sub(off, off + max(1, len(s))),
                    label="expected a positive number",
                    hints=["tier heights are ratios, e.g. `@ 1:2:1`"],
                )
                ok = False
                break
            hpos += len(part) + 1
        if ok and len(hs) != len(tiers):
            first = base + len(heights_text) - len(heights_text.lstrip())
            sink.error(
                "bad-value",
                f"layout `{t}` has {len(tiers)} tiers but {len(hs)} heights",
                v.sub(first, len(v.text.rstrip())),
                label=f"expected {len(tiers)} heights",
                hints=["give one height per tier, e.g. `2/1/3 @ 1:2:1`"],
            )
            ok = False
        heights = tuple(hs)
    if not ok:
        return None
    return LayoutSpec(tuple(tiers), heights, None, v.span)


_CAST_AT = re.compile(r"([A-Z][A-Z0-9 .'\-]*?)\s+(\S+%)\s+(\S+%)")  # `NAME x% y%`
_CAST_NAMED = re.compile(r"([A-Z][A-Z0-9 .'\-]*?)\s+(\S+)()")  # `NAME left`


def parse_cast(v: Value, sink: Sink, known: Collection[str]) -> list[CastPosition] | None:
    out: list[CastPosition] = []
    ok = True
    for part, s, e in v.parts(","):
        if not part:
            continue
        m = _CAST_AT.fullmatch(part) or _CAST_NAMED.fullmatch(part)
        if not m:
            sink.error(
                "bad-value",
                f"bad cast entry `{part}`",
                v.sub(s, e),
                label="expected `NAME position`",
                hints=["write `cast: HAMMY left, OFFICER BRUIN right` or `cast: HAMMY 30% 70%`"],
            )
            ok = False
            continue
        name = m.group(1)
        name_span = v.sub(s, s + len(name))
        if name not in known:
            close = did_you_mean(name, known)
            hints = [f"did you mean `{close[0]}`?"] if close else []
            hints.append(
                "cast names are characters defined with `character NAME: ...` "
                "or speaking in the script"
            )
            sink.error(
                "unknown-character",
                f"unknown character `{name}` in cast",
                name_span,
                label="not a character",
                hints=hints,
            )
            ok = False
            continue
        pos_text = part[m.start(2) :]
        pos_span = v.sub(s + m.start(2), e)
        if not m.group(3):
            key = m.group(2).lower()
            if key not in NAMED_POSITIONS:
                close = did_you_mean(key, NAMED_POSITIONS)
                hints = [f"did you mean `{close[0]}`?"] if close else []
                hints.append("positions: " + ", ".join(NAMED_POSITIONS) + ", or `x% y%`")
                sink.error(
                    "bad-value", f"unknown cast position `{pos_text}`", pos_span, hints=hints
                )
                ok = False
                continue
            x, y = NAMED_POSITIONS[key]
        else:
            xs, ys = m.group(2), m.group(3)
            mx, my = re.fullmatch(r"(\d+(?:\.\d+)?)%", xs), re.fullmatch(r"(\d+(?:\.\d+)?)%", ys)
            if not mx or not my or float(mx.group(1)) > 100 or float(my.group(1)) > 100:
                sink.error(
                    "bad-value",
                    f"bad cast position `{pos_text}`",
                    pos_span,
                    label="expected two percentages",
                    hints=["`x% y%` from the panel's top-left, e.g. `30% 70%`"],
                )
                ok = False
                continue
            x, y = float(mx.group(1)) / 100, float(my.group(1)) / 100
        if any(c.name == name for c in out):
            sink.error("redefinition", f"`{name}` is in this cast twice", name_span)
            ok = False
            continue
        out.append(CastPosition(name, x, y, True, name_span))
    return out if ok else None


def parse_mask(v: Value, sink: Sink, base: MaskSpec) -> MaskSpec | None:
    keep, feather, balloons = base.keep_margin, base.feather, base.balloons
    ok = True
    for part, s, e in v.parts(","):
        if not part:
            continue
        word, _, rest = part.partition(" ")
        word_l = word.lower()
        rest = rest.strip()
        span = v.sub(s, e)
        if word_l in ("keep-margin", "feather"):
            ln = parse_length(rest)
            if ln is None:
                sink.error(
                    "bad-value",
                    f"`{word_l}` needs a length like `24px` or `2mm`, not `{rest}`",
                    span,
                    hints=["units: px (at the panel's dpi), pt, mm, cm, in"],
                )
                ok = False
            elif not _mask_length_ok(ln):
                sink.error(
                    "bad-value",
                    f"`{word_l}` is out of range: {shown(rest)} (allowed 0 to {MAX_MASK_PX}px, "
                    f"or {MAX_MASK_PT / 72:g}in / {MAX_MASK_PT * 25.4 / 72:g}mm)",
                    span,
                    hints=["a margin of a few dozen pixels is usual: `keep-margin 24px`"],
                )
                ok = False
            elif word_l == "keep-margin":
                keep = ln
            else:
                feather = ln
        elif word_l == "balloons":
            if rest.lower() not in ("blank", "lettered", "none"):
                sink.error(
                    "bad-value", f"`balloons` is `blank`, `lettered` or `none`, not `{rest}`", span
                )
                ok = False
            else:
                balloons = rest.lower()
        else:
            close = did_you_mean(word_l, ["keep-margin", "feather", "balloons"])
            hints = [f"did you mean `{close[0]}`?"] if close else []
            hints.append("write e.g. `mask: keep-margin 24px, feather 8px, balloons blank`")
            sink.error(
                "bad-value", f"unknown mask option `{word}`", v.sub(s, s + len(word)), hints=hints
            )
            ok = False
    return MaskSpec(keep, feather, balloons) if ok else None


def _mask_length_ok(ln: Length) -> bool:
    if ln.unit == "px":
        return 0 <= ln.value <= MAX_MASK_PX
    return 0 <= to_points(ln.value, ln.unit) <= MAX_MASK_PT + 1e-9


def parse_bleed(v: Value, sink: Sink) -> frozenset[str] | None:
    t = v.text.strip().lower()
    if t in ("yes", "true", "all", "on"):
        return frozenset(EDGES)
    if t in ("no", "false", "none", "off"):
        return frozenset()
    edges = set()
    for part, s, e in v.parts(","):
        if part.lower() not in EDGES:
            sink.error(
                "bad-value",
                f"unknown bleed edge `{part}`",
                v.sub(s, e),
                hints=["`bleed: yes`, `bleed: no`, or edges: `bleed: top, left`"],
            )
            return None
        edges.add(part.lower())
    return frozenset(edges)


def parse_width(v: Value, sink: Sink) -> float | None:
    try:
        w = float(v.text.strip())
        if not math.isfinite(w) or w <= 0 or w > 12:
            raise ValueError
        return w
    except ValueError:
        sink.error(
            "bad-value",
            f"`width` is a share of the tier between 0 and 12, not `{v.text.strip()}`",
            v.span,
            hints=["`width: 2` gives a panel twice the share of the others in its tier"],
        )
        return None
