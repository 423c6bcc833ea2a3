"""Thought trails: how big a thought balloon's bubbles are and how far they reach.

Shared by the drawing (:mod:`comicc.layout.tails` lays the bubbles along the
trail) and the placement search (:mod:`comicc.layout.items` rejects a spot
whose trail would stop short of its speaker). Pure and deterministic.
"""

from __future__ import annotations

from comicc.layout.geometry import PathCmd, Point


def bubble_radius(w: float, h: float) -> float:
    """Radius of the biggest bubble of a thought balloon's trail (body w × h)."""
    return min(max(0.1 * min(w, h), 2.5), 9.0)


def circle_path(c: Point, r: float, squash: float) -> list[PathCmd]:
    """One bubble: a circle of radius ``r`` at ``c``, stretched by ``squash``
    across and shrunk as much along (four Bézier quarters)."""
    k = 0.5523 * r
    rx, ry = r * squash, r / squash
    kx, ky = k * squash, k / squash
    x, y = c
    return [
        PathCmd("M", (x + rx, y)),
        PathCmd("C", (x + rx, y + ky, x + kx, y + ry, x, y + ry)),
        PathCmd("C", (x - kx, y + ry, x - rx, y + ky, x - rx, y)),
        PathCmd("C", (x - rx, y - ky, x - kx, y - ry, x, y - ry)),
        PathCmd("C", (x + kx, y - ry, x + rx, y - ky, x + rx, y)),
        PathCmd("Z"),
    ]


def trail_radii(length: float, w: float, h: float, exact: bool) -> tuple[list[float], float]:
    """The radii of a thought trail ``length`` long from a body ``w`` × ``h``, and
    the gap between its bubbles (the first starts ``0.6`` gap from the body)."""
    big = bubble_radius(w, h)
    ratios = [1.0, 0.64, 0.42]
    gap_k = 0.45

    def need(rs: list[float], r0: float) -> float:
        return sum(2 * r0 * x for x in rs) + gap_k * r0 * len(rs)

    if exact:  # a long trail gets more (and smaller) bubbles, so that it reaches the tip
        k = 3
        while k < 12 and sum(2 * big * x for x in ratios) + 1.6 * big * (k + 0.6) < length:
            k += 1
            ratios = [0.42 ** (i / (k - 1)) for i in range(k)]
    if need(ratios, big) > length:
        ratios = ratios[:2]
    if need(ratios, big) > length:
        big = length / need(ratios, 1.0)
    # spread the circles along the trail, the smallest one ending at the tip
    radii = [big * x for x in ratios]
    slack = max(0.0, length - need(ratios, big))
    gap = gap_k * big + slack / len(radii)
    gap = min(gap, (2.4 if exact else 1.6) * big)
    return radii, gap


def bubble_reach(length: float, w: float, h: float) -> float:
    """How far from the body an exact thought trail meant to be ``length`` long
    really reaches (its last bubble's far side): the bubbles are at most 12 and
    their gaps at most 2.4 × the biggest radius, so a long trail stops short --
    the placement search rejects such a position rather than misattribute it."""
    if length < 1e-3:
        return 0.0
    radii, gap = trail_radii(length, w, h, True)
    return gap * 0.6 + sum(2 * r for r in radii) + gap * (len(radii) - 1)
