"""The painter's progress bar: tqdm's on stderr when one is drawn, else a no-op
(so a build without a bar never imports tqdm, nor the importlib.metadata it loads)."""

from __future__ import annotations

import sys
from typing import Protocol


class Bar(Protocol):
    """What the painter calls on its progress bar."""

    def update(self, n: float | None = 1) -> bool | None: ...

    def close(self) -> None: ...


class NoBar:
    """The progress bar when none is drawn (tqdm is not even loaded)."""

    def update(self, n: float | None = 1) -> bool | None:
        return None

    def close(self) -> None:
        return None


def progress_bar(total: int) -> Bar:
    """tqdm's bar on stderr, counting panels (imported only when one is drawn)."""
    from tqdm import tqdm

    return tqdm(total=total, desc="painting", unit="panel", file=sys.stderr, leave=False)
