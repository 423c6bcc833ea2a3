"""A real studio for tests: the app of ``comicc preview`` on a real uvicorn,
on a free port of 127.0.0.1, in threads of the test process, with its file
watcher running.

    with studio_server(tmp_path, SCRIPT) as s:
        book = requests.get(s.url + "api/book").json()
        s.script.write_text(...)
        s.wait_version(2)

Not a conftest: imported by name (tests/ is on sys.path through pytest's ``pythonpath``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from comicc.studio import Studio, StudioServer

TIMEOUT = 60.0  # seconds a wait gives up after (a failure, never a measurement)


@dataclass
class RunningStudio:
    """A started studio: its address, token, script and state."""

    url: str  # http://127.0.0.1:PORT/
    token: str
    script: Path
    studio: Studio
    server: StudioServer

    @property
    def port(self) -> int:
        return self.server.port

    def wait_version(self, n: int, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Poll ``/api/book`` until its version is at least ``n`` and no rebuild
        is running; the book JSON. Fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        book: dict[str, Any] = {}
        while time.monotonic() < deadline:
            book = requests.get(self.url + "api/book", timeout=10).json()
            if book["version"] >= n and not book["status"]["building"]:
                return book
            time.sleep(0.05)
        raise AssertionError(f"the studio did not reach version {n}: {book.get('version')}")

    def post(self, path: str, body: dict[str, Any], **kw: Any) -> requests.Response:
        """POST ``body`` as JSON to ``path`` (no leading slash) with the token."""
        headers = {"X-Comicc-Token": self.token, **kw.pop("headers", {})}
        return requests.post(self.url + path, json=body, headers=headers, timeout=120, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self.url + path.lstrip("/"), timeout=60, **kw)


@contextmanager
def studio_server(
    tmp_path: Path,
    script_text: str,
    *,
    name: str = "story.comic",
    paint: bool = True,
    files: dict[str, str] | None = None,
) -> Iterator[RunningStudio]:
    """Write ``script_text`` to ``tmp_path/name`` (and ``files``: name -> text
    beside it), start the studio on it (art cache in ``tmp_path/cache``), wait
    for its first build and for the watcher; stop it on leaving."""
    for other, text in (files or {}).items():
        (tmp_path / other).write_text(text, encoding="utf-8")
    script = tmp_path / name
    script.write_bytes(script_text.encode("utf-8"))
    studio = Studio(script, cache_dir=str(tmp_path / "cache"), paint=paint)
    server = StudioServer(studio)
    server.start()
    try:
        running = RunningStudio(server.url, server.token, script, studio, server)
        running.wait_version(1)
        deadline = time.monotonic() + TIMEOUT
        while not server.watching.is_set():
            assert time.monotonic() < deadline, "the studio's watcher did not start"
            time.sleep(0.02)
        yield running
    finally:
        server.stop()
