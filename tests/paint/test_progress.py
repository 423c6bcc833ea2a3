"""The progress bar counts each panel as it is painted, also while the jobs
still come (a build painting its pages as they are laid out)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from comicc.backends.draft import DraftBackend
from comicc.paint import ArtCache, Painter, PaintJob, scheduler
from support.panels import make_panel, two_speaker_geom

PATIENCE = 30.0  # seconds a condition may take to come true on a loaded machine


class CountingBar:
    """A progress bar that only counts."""

    def __init__(self, total: int) -> None:
        self.total, self.n, self.closed = total, 0, False
        self.lock = threading.Lock()

    def update(self, n: float | None = 1) -> bool | None:
        with self.lock:
            self.n += int(n or 0)
        return None

    def close(self) -> None:
        self.closed = True


def test_the_bar_counts_panels_painted_while_the_stream_is_open(tmp_path, monkeypatch):
    bars: list[CountingBar] = []

    def bar(total: int) -> CountingBar:
        bars.append(CountingBar(total))
        return bars[-1]

    monkeypatch.setattr(scheduler, "progress_bar", bar)
    jobs = [PaintJob(make_panel(dpi=72, number=k), two_speaker_geom(), 1) for k in range(1, 5)]
    seen_mid_stream: list[int] = []

    def stream() -> Iterator[PaintJob]:
        yield from jobs[:2]
        deadline = time.monotonic() + PATIENCE
        while bars[0].n < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        seen_mid_stream.append(bars[0].n)
        yield from jobs[2:]

    painter = Painter(
        {"draft": DraftBackend()}, ArtCache(tmp_path / "cache"), workers=2, progress=True
    )
    outcomes = painter.paint(stream(), expect=["draft"] * 4)
    assert all(o.ok for o in outcomes) and len(outcomes) == 4
    assert seen_mid_stream == [2]  # the first two counted before the last two were given
    assert bars[0].total == 4 and bars[0].n == 4 and bars[0].closed
