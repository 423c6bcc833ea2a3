"""Geometry produced by the layout stage: the contract for render and output.

All lengths are PostScript points (1/72 in). Coordinates have their origin at
the TOP-LEFT corner of the page's trim box, x to the right, y DOWN (like an
image); the bleed area has negative coordinates / coordinates past the trim
size. The PDF writer flips y. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from comicc.fonts import FontRef

Point = tuple[float, float]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def x2(self) -> float:
        return self.x + self.w

    @property
    def y2(self) -> float:
        return self.y + self.h

    @property
    def center(self) -> Point:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def inset(self, d: float) -> Rect:
        return Rect(self.x + d, self.y + d, self.w - 2 * d, self.h - 2 * d)

    def contains(self, other: Rect, eps: float = 1e-6) -> bool:
        return (
            other.x >= self.x - eps
            and other.y >= self.y - eps
            and other.x2 <= self.x2 + eps
            and other.y2 <= self.y2 + eps
        )

    def contains_point(self, p: Point, eps: float = 1e-6) -> bool:
        return self.x - eps <= p[0] <= self.x2 + eps and self.y - eps <= p[1] <= self.y2 + eps

    def intersects(self, other: Rect, gap: float = 0.0) -> bool:
        return not (
            self.x2 + gap <= other.x
            or other.x2 + gap <= self.x
            or self.y2 + gap <= other.y
            or other.y2 + gap <= self.y
        )

    def to_json(self) -> list[float]:
        return [round(self.x, 3), round(self.y, 3), round(self.w, 3), round(self.h, 3)]


@dataclass(frozen=True)
class PathCmd:
    """One path command: ``M x y`` | ``L x y`` | ``C x1 y1 x2 y2 x y`` | ``Z``."""

    op: str
    pts: tuple[float, ...] = ()


@dataclass(frozen=True)
class VectorPath:
    """A vector outline (one or more closed or open subpaths)."""

    cmds: tuple[PathCmd, ...]

    def points(self) -> Iterable[Point]:
        for c in self.cmds:
            for i in range(0, len(c.pts), 2):
                yield (c.pts[i], c.pts[i + 1])

    def bbox(self) -> Rect:
        pts = list(self.points())
        if not pts:
            return Rect(0, 0, 0, 0)
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        return Rect(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))

    def to_svg(self) -> str:
        parts = []
        for c in self.cmds:
            parts.append(c.op + (" " + " ".join(f"{v:.2f}" for v in c.pts) if c.pts else ""))
        return " ".join(parts)

    @staticmethod
    def polygon(pts: Iterable[Point]) -> VectorPath:
        pts = list(pts)
        cmds = [PathCmd("M", pts[0])] + [PathCmd("L", p) for p in pts[1:]] + [PathCmd("Z")]
        return VectorPath(tuple(cmds))

    @staticmethod
    def rect(r: Rect) -> VectorPath:
        return VectorPath.polygon([(r.x, r.y), (r.x2, r.y), (r.x2, r.y2), (r.x, r.y2)])


@dataclass(frozen=True)
class Stroke:
    width: float
    color: str = "#000000"
    dash: tuple[float, ...] | None = None  # on/off lengths in points


@dataclass(frozen=True)
class Shape:
    """Something to paint: a path with an optional fill and stroke."""

    path: VectorPath
    fill: str | None = "#ffffff"
    stroke: Stroke | None = None


@dataclass(frozen=True)
class GlyphRun:
    """A run of text in one face, starting at (x, baseline)."""

    text: str
    font: FontRef
    x: float
    baseline: float
    width: float
    color: str = "#000000"


@dataclass(frozen=True)
class TextLine:
    runs: tuple[GlyphRun, ...]

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True)
class BalloonGeom:
    id: str  # the IR balloon id, e.g. "p1.2.b3"
    kind: str  # BalloonKind value
    speaker: str | None
    rect: Rect  # bounding box of the body (not the tail)
    body: VectorPath  # outline of the body (caption: rectangle)
    tail: VectorPath | None  # tail outline, if any (filled like the body)
    shapes: tuple[Shape, ...]  # what to paint, in order (body, tail, connectors)
    lines: tuple[TextLine, ...]  # lettering, in reading order
    reserve: tuple[VectorPath, ...]  # area kept out of the art (body + tail), before keep-margin
    overflow: float = 0.0  # points of text that did not fit (0 = fits)
    line: int = 0  # source line of the lettering item, for diagnostics


@dataclass(frozen=True)
class PanelGeom:
    id: str  # "p1.2"
    number: int
    rect: Rect  # the panel's art box (may reach into the bleed)
    border: Shape | None  # panel border (None for borderless / full-bleed)
    balloons: tuple[BalloonGeom, ...]
    cast: tuple[tuple[str, Point], ...] = ()  # where each speaker stands, page coords
    bleed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PageGeom:
    numbers: tuple[int, ...]  # (4,) or (4, 5) for a spread
    width: float  # trim width (a spread: both pages)
    height: float  # trim height
    bleed: float  # bleed per side
    live: Rect  # the live (safe) area
    panels: tuple[PanelGeom, ...]
    extra: tuple[Shape, ...] = field(default=())  # page-level drawings (none yet)


@dataclass(frozen=True)
class BookGeom:
    pages: tuple[PageGeom, ...]
    reading: str = "ltr"
