"""FontRef: the one record of a concrete face that layout measures and output embeds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FontRef:
    """A concrete font face: the layout measured with it, output embeds it."""

    name: str  # unique face name, e.g. "Kalam-Regular"
    path: str  # TrueType file on disk
    size: float  # points
