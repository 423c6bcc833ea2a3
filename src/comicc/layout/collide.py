"""Small collision helpers for placement: convex polygons, rectangles, point in outline."""

from __future__ import annotations

import math
from collections.abc import Sequence

from comicc.layout.geometry import Point, Rect

Box = tuple[float, float, float, float]  # min x, min y, max x, max y of a polygon


def poly_box(poly: Sequence[Point]) -> Box:
    """The bounding box of ``poly``'s points."""
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    return min(xs), min(ys), max(xs), max(ys)


def poly_hits_rect(
    poly: Sequence[Point], r: Rect, gap: float = 0.0, box: Box | None = None
) -> bool:
    """Whether convex polygon ``poly`` intersects ``r`` grown by ``gap`` (SAT);
    ``box``: ``poly_box(poly)``, when the caller has it already."""
    x1, y1, x2, y2 = r.x - gap, r.y - gap, r.x2 + gap, r.y2 + gap
    bx1, by1, bx2, by2 = poly_box(poly) if box is None else box
    if bx2 <= x1 or bx1 >= x2 or by2 <= y1 or by1 >= y2:
        return False
    corners = [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
    # the rectangle's own axes were the bounding-box test above
    return not _separated_along_edges(poly, poly, corners)


def _separated_along_edges(
    edges_of: Sequence[Point], a: Sequence[Point], b: Sequence[Point]
) -> bool:
    """Whether some edge normal of ``edges_of`` separates ``a`` from ``b`` (SAT)."""
    n = len(edges_of)
    for i in range(n):
        ax, ay = edges_of[i]
        bx, by = edges_of[(i + 1) % n]
        nx, ny = ay - by, bx - ax
        if nx == 0 and ny == 0:
            continue
        pa = [nx * p[0] + ny * p[1] for p in a]
        pb = [nx * p[0] + ny * p[1] for p in b]
        if max(pa) <= min(pb) or max(pb) <= min(pa):
            return True
    return False


def polys_hit(a: Sequence[Point], b: Sequence[Point]) -> bool:
    """Whether two convex polygons intersect (SAT)."""
    return not (_separated_along_edges(a, a, b) or _separated_along_edges(b, a, b))


class IndexedPolys(list[list[Point]]):
    """Polygons (a list of them, used as one) with their edges indexed by height, so
    that :func:`polys_contain` asked many times about one outline (a tail's base
    buried in its body) tests only the edges at the point's height: the same
    answer, edge for edge the same arithmetic."""

    BANDS = 24  # horizontal bands the edges are filed in

    def __init__(self, polys: Sequence[list[Point]]):
        super().__init__(polys)
        edges: list[tuple[float, float, float, float, float]] = []
        for poly in self:
            if not poly:
                continue
            xj, yj = poly[-1]
            for xi, yi in poly:
                if yi != yj:  # a level edge never crosses
                    edges.append((xi, yi, yj, xj - xi, yj - yi))
                xj, yj = xi, yi
        ys = [e[1] for e in edges] + [e[2] for e in edges]
        self._y0 = y0 = min(ys, default=0.0)
        span = max(ys, default=0.0) - self._y0
        self._step = step = span / self.BANDS if span > 0 else 1.0
        self._bands: list[list[tuple[float, float, float, float, float]]] = [
            [] for _ in range(self.BANDS)
        ]
        bands, last = self._bands, self.BANDS - 1
        for e in edges:
            yi, yj = e[1], e[2]
            lo, hi = (yi, yj) if yi < yj else (yj, yi)
            # self._band(lo) .. self._band(hi), inlined
            b0, b1 = int((lo - y0) / step), int((hi - y0) / step)
            b0 = 0 if b0 < 0 else last if b0 > last else b0
            b1 = 0 if b1 < 0 else last if b1 > last else b1
            for b in range(b0, b1 + 1):
                bands[b].append(e)

    def _band(self, y: float) -> int:
        return min(self.BANDS - 1, max(0, int((y - self._y0) / self._step)))

    def contains(self, p: Point) -> bool:
        """:func:`polys_contain` of these polygons."""
        x, y = p
        inside = False
        b = int((y - self._y0) / self._step)  # self._band(y), inlined: the hot part
        band = self._bands[0 if b < 0 else b if b < self.BANDS else self.BANDS - 1]
        for xi, yi, yj, dx, dy in band:
            if (yi > y) != (yj > y) and x < xi + (y - yi) * dx / dy:
                inside = not inside
        return inside


def polys_contain(polys: Sequence[Sequence[Point]], p: Point) -> bool:
    """Even-odd point-in-polygons test (every polygon taken as closed)."""
    if isinstance(polys, IndexedPolys):
        return polys.contains(p)
    x, y = p
    inside = False
    for poly in polys:
        if not poly:
            continue
        xj, yj = poly[-1]  # each edge: from the point before (the last, for the first)
        above_j = yj > y
        for xi, yi in poly:
            above_i = yi > y
            if above_i != above_j and x < xi + (y - yi) * (xj - xi) / (yj - yi):
                inside = not inside
            xj, yj, above_j = xi, yi, above_i
    return inside


def band(a: Point, b: Point, half: float) -> list[Point]:
    """A rectangle of half-width ``half`` around segment ``a``-``b``."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    d = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / d * half, dx / d * half
    return [
        (a[0] + nx, a[1] + ny),
        (b[0] + nx, b[1] + ny),
        (b[0] - nx, b[1] - ny),
        (a[0] - nx, a[1] - ny),
    ]


def wedge(root: Point, tip: Point, half: float) -> list[Point]:
    """A triangle with base of half-width ``half`` at ``root``, apex at ``tip``."""
    dx, dy = tip[0] - root[0], tip[1] - root[1]
    d = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / d * half, dx / d * half
    return [(root[0] + nx, root[1] + ny), tip, (root[0] - nx, root[1] - ny)]


def overlap_area(a: Rect, b: Rect) -> float:
    """Area of the intersection of two rectangles (0 when they do not overlap)."""
    w = min(a.x2, b.x2) - max(a.x, b.x)
    h = min(a.y2, b.y2) - max(a.y, b.y)
    return w * h if w > 0 and h > 0 else 0.0


def rect_gap(a: Rect, b: Rect) -> float:
    """Shortest distance between two rectangles (0 when they touch or overlap)."""
    dx = max(0.0, b.x - a.x2, a.x - b.x2)
    dy = max(0.0, b.y - a.y2, a.y - b.y2)
    return math.hypot(dx, dy)


def ellipse_reach(w: float, h: float, ux: float, uy: float) -> float:
    """Distance from the center of a w x h ellipse to its outline along unit (ux, uy)."""
    a, b = w / 2, h / 2
    q = (ux / a) ** 2 + (uy / b) ** 2 if a > 0 and b > 0 else 0
    return 1 / math.sqrt(q) if q > 0 else 0.0


def hull(pts: list[Point]) -> list[Point]:
    """Convex hull (counter-clockwise in y-down coordinates) of a few points."""
    pts = sorted(set(pts))
    if len(pts) <= 2:
        return pts

    def half(seq: list[Point]) -> list[Point]:
        out: list[Point] = []
        for p in seq:
            while (
                len(out) >= 2
                and (
                    (out[-1][0] - out[-2][0]) * (p[1] - out[-2][1])
                    - (out[-1][1] - out[-2][1]) * (p[0] - out[-2][0])
                )
                <= 0
            ):
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return lower[:-1] + upper[:-1]
