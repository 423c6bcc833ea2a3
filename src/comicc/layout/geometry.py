"""Geometry produced by the layout stage: the contract for render and output.

All lengths are PostScript points (1/72 in). Coordinates have their origin at
the TOP-LEFT corner of the page's trim box, x to the right, y DOWN (like an
image); the bleed area has negative coordinates / coordinates past the trim
size. The PDF writer flips y. Nothing here does I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from comicc.fonts import FontRef

Point = tuple[float, float]
Transform = Callable[[float, float], Point]  # an affine map (scale and translate) of points
MAX_CURVE_PIECES = 256  # straight pieces one Bézier segment is cut into, at most


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle: top-left corner ``(x, y)``, width and height."""

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


class Polyline(NamedTuple):
    """One subpath of a :class:`VectorPath` with its curves cut into straight pieces.

    A closed polyline does not repeat its first point at the end.
    """

    points: list[Point]
    closed: bool


@dataclass(frozen=True)
class VectorPath:
    """A vector outline (one or more closed or open subpaths)."""

    cmds: tuple[PathCmd, ...]

    def points(self) -> Iterator[Point]:
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

    def polylines(self, tolerance: float, transform: Transform | None = None) -> list[Polyline]:
        """The subpaths as polylines, each curve cut into straight pieces that stay
        within ``tolerance`` of it (Wang's bound).

        ``transform`` (an affine map) is applied to every point first, so
        ``tolerance`` is in the caller's units: points without one, device
        pixels for a transform to pixels. This is the one place curves are
        flattened; subpaths of a single point are dropped.
        """
        tol = max(float(tolerance), 1e-3)
        out: list[Polyline] = []
        cur: list[Point] | None = None
        last: Point = (0.0, 0.0)

        def pts(c: PathCmd) -> list[Point]:
            xy = [(c.pts[i], c.pts[i + 1]) for i in range(0, len(c.pts) - 1, 2)]
            return xy if transform is None else [transform(x, y) for x, y in xy]

        for c in self.cmds:
            if c.op == "M":
                if cur and len(cur) > 1:
                    out.append(Polyline(cur, False))
                # pts(c)[0] (its first point, mapped), without the list of all of them
                q = c.pts
                last = (q[0], q[1]) if transform is None else transform(q[0], q[1])
                cur = [last]
            elif c.op == "L":
                if cur is None:
                    cur = [last]
                q = c.pts
                last = (q[0], q[1]) if transform is None else transform(q[0], q[1])
                cur.append(last)
            elif c.op == "C":
                if cur is None:
                    cur = [last]
                if transform is None:
                    q = c.pts
                    p1, p2, p3 = (q[0], q[1]), (q[2], q[3]), (q[4], q[5])
                else:
                    p1, p2, p3 = pts(c)
                cur.extend(_cubic_points(last, p1, p2, p3, tol))
                last = p3
            elif c.op == "Z":
                if cur:
                    if len(cur) > 1 and math.dist(cur[-1], cur[0]) < 1e-9:
                        cur.pop()
                    if len(cur) > 1:
                        out.append(Polyline(cur, True))
                    last = cur[0]
                cur = None
            else:
                raise ValueError(f"unknown path op {c.op!r}")
        if cur and len(cur) > 1:
            out.append(Polyline(cur, False))
        return out

    def to_svg(self) -> str:
        """SVG path data: each command's letter and its numbers to 2 decimals."""
        parts = []
        for c in self.cmds:
            pts = c.pts
            if pts:  # "%.2f" % v is f"{v:.2f}": one format string a command is faster
                parts.append(c.op + _svg_format(len(pts)) % tuple(pts))
            else:
                parts.append(c.op)
        return " ".join(parts)

    @staticmethod
    def polygon(pts: Iterable[Point]) -> VectorPath:
        pts = list(pts)
        cmds = [PathCmd("M", pts[0])] + [PathCmd("L", p) for p in pts[1:]] + [PathCmd("Z")]
        return VectorPath(tuple(cmds))

    @staticmethod
    def rect(r: Rect) -> VectorPath:
        return VectorPath.polygon([(r.x, r.y), (r.x2, r.y), (r.x2, r.y2), (r.x, r.y2)])


_BERNSTEIN: dict[int, tuple[tuple[float, float, float, float], ...]] = {}


def _bernstein(n: int) -> tuple[tuple[float, float, float, float], ...]:
    """The cubic Bernstein weights at ``t = i / n``, ``i = 1..n`` (the same for every
    curve cut into ``n`` pieces: computed once; read-only)."""
    got = _BERNSTEIN.get(n)
    if got is None:
        rows = []
        for i in range(1, n + 1):
            t = i / n
            u = 1.0 - t
            rows.append((u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t))
        got = _BERNSTEIN[n] = tuple(rows)
    return got


_SVG_FORMATS: dict[int, str] = {}


def _svg_format(n: int) -> str:
    """``" %.2f %.2f ..."``: ``n`` numbers of an SVG path command."""
    got = _SVG_FORMATS.get(n)
    if got is None:
        got = _SVG_FORMATS[n] = " %.2f" * n
    return got


def _cubic_points(p0: Point, p1: Point, p2: Point, p3: Point, tol: float) -> list[Point]:
    """Points of a cubic Bézier after ``p0`` (``p3`` included), at most ``tol`` off the curve."""
    x0, y0 = p0
    x1, y1 = p1
    x2, y2 = p2
    x3, y3 = p3
    mx = max(abs(x0 - 2 * x1 + x2), abs(x1 - 2 * x2 + x3))
    my = max(abs(y0 - 2 * y1 + y2), abs(y1 - 2 * y2 + y3))
    m = math.hypot(mx, my)
    n = max(1, min(MAX_CURVE_PIECES, math.ceil(math.sqrt(0.75 * m / tol))))
    return [
        (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3)
        for a, b, c, d in _bernstein(n)
    ]


@dataclass(frozen=True)
class Stroke:
    """How an outline is stroked: width in points, color, optional dash pattern."""

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
    """One laid-out line of lettering: its glyph runs, left to right."""

    runs: tuple[GlyphRun, ...]

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass(frozen=True)
class BalloonGeom:
    """One placed balloon: outline, tail, what to paint and its lettering."""

    id: str  # the IR balloon id, e.g. "p1.2.b3"
    kind: str  # BalloonKind value
    speaker: str | None
    rect: Rect  # bounding box of the body (not the tail)
    body: VectorPath  # outline of the body (caption: rectangle)
    tail: VectorPath | None  # tail outline, if any (filled like the body)
    shapes: tuple[Shape, ...]  # what to paint, in order (body, tail, connectors)
    lines: tuple[TextLine, ...]  # lettering, in reading order
    reserve: tuple[VectorPath, ...]  # kept out of the art (body + connector), before keep-margin
    overflow: float = 0.0  # points of text that did not fit (0 = fits)
    line: int = 0  # source line of the lettering item, for diagnostics
    # display lettering (SFX): degrees its lines are turned about the center of ``rect``,
    # counter-clockwise on the page; ``body`` is then the turned box
    angle: float = 0.0


@dataclass(frozen=True)
class PanelGeom:
    """One panel: its art box, border, balloons and where each speaker stands."""

    id: str  # "p1.2"
    number: int
    rect: Rect  # the panel's art box (may reach into the bleed)
    border: Shape | None  # panel border (None for borderless / full-bleed)
    balloons: tuple[BalloonGeom, ...]
    cast: tuple[tuple[str, Point], ...] = ()  # where each speaker stands, page coords
    bleed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PageGeom:
    """One page (or spread): trim size, bleed, live area and panels."""

    numbers: tuple[int, ...]  # (4,) or (4, 5) for a spread
    width: float  # trim width (a spread: both pages)
    height: float  # trim height
    bleed: float  # bleed per side
    live: Rect  # the live (safe) area
    panels: tuple[PanelGeom, ...]
    extra: tuple[Shape, ...] = field(default=())  # page-level drawings (none yet)


@dataclass(frozen=True)
class BookGeom:
    """The whole book's geometry and its reading direction."""

    pages: tuple[PageGeom, ...]
    reading: str = "ltr"
