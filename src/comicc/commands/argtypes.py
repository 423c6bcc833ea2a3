"""Argument types shared by several commands' options (argparse ``type=``
callables): each turns the text of an option into its value or a usage error."""

from __future__ import annotations

import argparse

COST_MAX = 1_000_000  # as the script's `budget:`


def cost(text: str) -> float:
    """A cost from 0 to :data:`COST_MAX` (``--max-cost``), else a usage error."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number") from None
    if not 0 <= value <= COST_MAX:  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"{text} is out of range: the cost must be from 0 to {COST_MAX:,}"
        )
    return value
