"""The studio's state: the last good preview of the book, the diagnostics of
the last rebuild, its status, and who is waiting to hear about the next one.

Rebuilds run in worker threads (the file watcher's, or a request's through
``anyio.to_thread``), one at a time (:attr:`Studio.lock`), never on the event
loop. Each one bumps :attr:`Studio.version` and tells every subscriber (an
``/api/events`` stream) through its event loop. A rebuild with errors keeps
the last good pages and publishes its diagnostics.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comicc.diagnostics import Diagnostic, Sink, redact, render_human
from comicc.files import FileRefused, describe_os_error
from comicc.images import PanelArt
from comicc.pipeline.options import LayoutMemo
from comicc.source import SourceFile
from comicc.studio.render import PageView, Preview, check_script, preview_build, ref_of


@dataclass(frozen=True)
class Event:
    """What a subscriber hears after a rebuild."""

    version: int
    changed_pages: tuple[int, ...]
    building: bool = False  # a rebuild has started (the book event follows it)


class Studio:
    """One script's studio session (see the module docstring)."""

    def __init__(
        self,
        script: Path,
        *,
        cache_dir: str | None = None,
        paint: bool = True,
        allow_paths: tuple[str, ...] = (),
        report: Callable[[Studio, list[Diagnostic], dict[str, SourceFile]], None] | None = None,
    ) -> None:
        """``paint``: False for ``--no-paint``; ``report``: called after every
        rebuild with its diagnostics and the files they point into (the
        terminal's log)."""
        self.script = script.resolve()
        self.given = script  # as the writer named it: how diagnostics name it
        self.cache_dir = cache_dir
        self.allow_paths = allow_paths
        self.report = report
        self.debug = False  # --debug: print the traceback of an internal error
        self.paint_free = paint  # False: --no-paint (nothing is painted, not even free art)
        self.lock = threading.Lock()  # one rebuild at a time
        self.memo = LayoutMemo()
        self.version = 0
        self.building = False
        self.preview: Preview | None = None
        self.diagnostics: list[dict[str, Any]] = []
        self.ok = False
        self.message = "building"
        self.reasons: list[str] = []
        self.changed_pages: list[int] = []
        self.watched: set[str] = {str(self.script)}
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event | None]]] = []
        self._sub_lock = threading.Lock()
        self._last_diagnostics: list[Diagnostic] = []
        self._last_sources: dict[str, SourceFile] = {}

    # ------------------------------------------------------------ rebuilding
    def rebuild(
        self,
        changed: Iterable[str] = (),
        *,
        confirm_paint: bool = False,
        panels: frozenset[str] | None = None,
    ) -> None:
        """Check, lay out, plan and paint the script again (paid images only
        with ``confirm_paint``: of the panel ids ``panels``, or all), then tell
        the subscribers. ``changed``: the files whose change started it."""
        with self.lock:
            self.building = True
            self._publish(Event(self.version, (), building=True))
            try:
                self._rebuild(list(changed), confirm_paint, panels)
            except Exception as e:  # a bug, or the disk: the studio stays up and says so
                self._failed(e)
            finally:
                self.building = False
                self.version += 1
            self._publish(Event(self.version, tuple(self.changed_pages)))
            if self.report is not None:
                self.report(self, self._last_diagnostics, self._last_sources)

    def _failed(self, e: Exception) -> None:
        """A rebuild that raised: the last good pages stay; the status says what
        happened (the environment's message, or that it is a bug in comicc)."""
        self.ok = False
        self.changed_pages, self.reasons = [], []
        if isinstance(e, (OSError, FileRefused)):
            what = str(e) if isinstance(e, FileRefused) else describe_os_error(e) or str(e)
            self.message = f"build failed: {redact(what)}; the last good pages are shown"
        else:
            if self.debug:
                traceback.print_exc(file=sys.stderr)
            self.message = (
                "internal error: this is a bug in comicc, not in your script "
                f"({type(e).__name__}); please report it (--debug shows the details)"
            )
        self.diagnostics = []
        self._last_diagnostics, self._last_sources = [], {}

    def _rebuild(
        self, changed: list[str], confirm_paint: bool, panels: frozenset[str] | None
    ) -> None:
        sink = Sink()
        checked, sources = check_script(self.given, sink, self.allow_paths)
        before = self.preview
        made: Preview | None = None
        if sources:
            self.watched |= {_real(p) for p in sources if _is_file(p)}
        if checked is not None:
            script, theme = checked
            mode = "all" if confirm_paint else ("free" if self.paint_free else "none")
            shown: dict[str, PanelArt] = dict(before.art) if before else {}
            pages_before = {p.key: p for p in before.pages} if before else {}
            made = preview_build(
                script,
                theme,
                sink,
                memo=self.memo,
                cache_dir=self.cache_dir,
                paint=mode,
                shown=shown,
                pages_before=pages_before,
                paid=panels,
                allow_paths=self.allow_paths,
            )
        if not sources:
            sources = _source_of(self.given)
        self.diagnostics = [diagnostic_json(d, sources) for d in sink.sorted()]
        self._last_diagnostics, self._last_sources = sink.sorted(), sources
        if made is None:
            self.ok = False
            errors = len([d for d in sink.diagnostics if d.is_error])
            kept = "the last good pages are shown" if before else "nothing to show yet"
            self.message = f"build failed: {_plural(errors, 'error')}; {kept}"
            self.changed_pages = []
            self.reasons = []
            return
        self.ok = True
        self.watched |= set(made.workflows)
        old = {p.number: p.key for p in before.pages} if before else {}
        self.changed_pages = [p.number for p in made.pages if old.get(p.number) != p.key]
        self.reasons = _reasons(made, changed, self.memo, first=before is None)
        self.preview = made
        self.message = _message(made)

    # ------------------------------------------------------------ reading
    def book_json(self) -> dict[str, Any]:
        """``/api/book`` (see the studio contract)."""
        made = self.preview
        pages = []
        if made is not None:
            for page in made.pages:
                pages.append(
                    {
                        "number": page.number,
                        "image": f"/page/{page.number}.png?v={page.key}",
                        "width": page.width,
                        "height": page.height,
                        "panels": [{"ref": b.ref, "box": list(b.box)} for b in page.panels],
                    }
                )
        title = made.script.meta.title if made is not None else ""
        return {
            "version": self.version,
            "title": title or self.script.stem,
            "script": self.script.name,
            "pages": pages,
            "diagnostics": self.diagnostics,
            "status": {
                "ok": self.ok,
                "building": self.building,
                "message": self.message,
                "reasons": self.reasons,
                "changed_pages": self.changed_pages,
                "pending_paint": pending_json(made),
            },
        }

    def page(self, number: int) -> PageView | None:
        """The page image numbered ``number`` of the last good build."""
        made = self.preview
        if made is None:
            return None
        return next((p for p in made.pages if p.number == number), None)

    # ------------------------------------------------------------ events
    def subscribe(self) -> asyncio.Queue[Event | None]:
        """A queue the running event loop receives rebuild events on."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        with self._sub_lock:
            self._subscribers.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event | None]) -> None:
        with self._sub_lock:
            self._subscribers = [(lp, q) for lp, q in self._subscribers if q is not queue]

    def close(self) -> None:
        """End every event stream (the server is stopping)."""
        self._publish(None)

    def _publish(self, event: Event | None) -> None:
        with self._sub_lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, event)


def pending_json(made: Preview | None) -> dict[str, Any] | None:
    """The images waiting for a confirmed (paid) paint, and what they cost."""
    if made is None or not made.pending:
        return None
    cost = sum(i.cost for i in made.pending)
    units = {i.unit for i in made.pending if i.unit}
    usd = sum(b.usd or 0.0 for b in made.plan.backends if b.paint and b.price is not None)
    return {
        "panels": list(dict.fromkeys(ref_of(i.panel.id) for i in made.pending)),
        "images": len(made.pending),
        "cost": round(cost, 4),
        "currency": ", ".join(sorted(units)) or "free",
        "usd": round(usd, 4) if usd else None,
        "plan": made.plan.one_line(),
    }


def diagnostic_json(d: Diagnostic, sources: dict[str, SourceFile]) -> dict[str, Any]:
    """One diagnostic as the studio shows it: where, the source line and its
    caret, the hint and the terminal's rendering (no colour); secrets redacted."""
    span = d.span
    source_line, caret = "", ""
    if span is not None and span.path in sources:
        source_line = redact(sources[span.path].line_text(span.line))
        width = max(1, span.end_col - span.col) if span.end_line == span.line else 1
        caret = " " * (span.col - 1) + "^" * width
    return {
        "severity": d.severity.value,
        "code": d.code,
        "message": redact(d.message),
        "path": span.path if span is not None else d.path,
        "line": span.line if span is not None else None,
        "col": span.col if span is not None else None,
        "source_line": source_line,
        "caret": caret,
        "hint": redact("; ".join(d.hints)),
        "rendered": render_human([d], sources, color=False),
    }


def _reasons(made: Preview, changed: list[str], memo: LayoutMemo, first: bool) -> list[str]:
    """Why the pages changed: the files saved, the pages laid out again, every
    image painted (or waiting for paint) and why."""
    out = [f"{Path(f).name} changed" for f in changed]
    if not first and memo.laid_out:
        out.append("laid out again: page " + ", ".join(map(str, memo.laid_out)))
    for image in [*made.painted, *made.pending]:
        why = "; ".join(image.reasons) or "not in the cache"
        verb = "painted" if image in made.painted else "to paint"
        out.append(f"{image.panel.id} v{image.variant} {verb}: {why}")
    return out


def _message(made: Preview) -> str:
    pages = len(made.pages)
    text = f"{pages} page{'s' if pages != 1 else ''}"
    if made.painted:
        text += f"; painted {_plural(len(made.painted), 'image')}"
    if made.pending:
        text += f"; {_plural(len(made.pending), 'image')} not painted yet"
        text += f" ({made.plan.one_line()})"
    return text


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _is_file(path: str) -> bool:
    return not path.startswith("<") and Path(path).is_file()


def _real(path: str) -> str:
    return str(Path(path).resolve())


def _source_of(path: Path) -> dict[str, SourceFile]:
    """The script as a source (so a diagnostic can quote it) when it is readable."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    return {str(path): SourceFile.from_text(text, str(path))}
