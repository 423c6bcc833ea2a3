"""The settings table: which keys exist, where they may appear, and how
values inherit (header -> page -> panel)."""

from __future__ import annotations

HEADER, PAGE, PANEL = "header", "page", "panel"
ALL = frozenset({HEADER, PAGE, PANEL})

# key -> levels where it is allowed
KEYS: dict[str, frozenset[str]] = {
    # book metadata and look: header only
    "title": frozenset({HEADER}),
    "author": frozenset({HEADER}),
    "series": frozenset({HEADER}),
    "issue": frozenset({HEADER}),
    "language": frozenset({HEADER}),
    "theme": frozenset({HEADER}),
    "format": frozenset({HEADER}),
    "reading": frozenset({HEADER}),
    "budget": frozenset({HEADER}),  # the most a build may cost (comicc plan)
    # pixel-changing settings: inherited
    "backend": ALL,
    "model": ALL,
    "seed": ALL,
    "variants": ALL,
    "dpi": ALL,
    "mask": ALL,
    "style": ALL,  # replaces the inherited style
    "negative": ALL,  # adds to the inherited negative prompt
    "prompt": ALL,  # adds to the inherited prompt items
    "prompt!": frozenset({PANEL}),  # replaces description, style and inherited items
    # structure
    "layout": frozenset({PAGE}),
    "cast": frozenset({PANEL}),
    "width": frozenset({PANEL}),
    "pick": frozenset({PANEL}),
    "bleed": frozenset({PAGE, PANEL}),
}

LIST_KEYS = frozenset({"prompt", "prompt!", "negative", "style"})
ADDITIVE = frozenset({"prompt", "negative"})

LEVEL_HINT = {
    HEADER: "put it in the header, before the first PAGE",
    PAGE: "put it right after the PAGE heading, before the first PANEL",
    PANEL: "put it inside a PANEL",
}


def describe_levels(levels: frozenset[str]) -> str:
    order = [lv for lv in (HEADER, PAGE, PANEL) if lv in levels]
    return " or ".join(order)
