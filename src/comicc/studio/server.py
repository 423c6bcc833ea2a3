"""The studio running: uvicorn serving the app in a thread, and the file
watcher rebuilding the book on every save in another.

:class:`StudioServer` is what ``comicc preview`` starts and what the tests
start (a real server on a free port): :meth:`~StudioServer.start` binds the
socket first (so the port -- and the Host header values the studio answers --
are known before the first request), builds the book once, then watches the
script, its theme files and its ComfyUI workflows (as ``comicc watch`` does,
through ``watchfiles``, their folders, so an editor that saves by renaming
is seen too).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from comicc.studio.app import create_app
from comicc.studio.security import allowed_hosts, new_token
from comicc.studio.state import Studio

WATCH_TIMEOUT_MS = 400  # how long the watcher waits for a change before looking again
START_SECONDS = 30.0  # how long start() waits for uvicorn to listen


class StudioServer:
    """A studio session served on ``host``:``port`` (0: a free port)."""

    def __init__(self, studio: Studio, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.studio = studio
        self.host = host
        self.token = new_token()
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.port: int = self.sock.getsockname()[1]
        named = None if host in ("127.0.0.1", "::1", "localhost") else host
        wildcard = host in ("0.0.0.0", "::")
        self.app = create_app(
            studio,
            token=self.token,
            hosts=allowed_hosts(self.port, named),
            any_ip=self.port if wildcard else None,
        )
        config = uvicorn.Config(
            self._quiet_on_stop,
            interface="asgi3",  # a bound method: uvicorn's guess would take it for ASGI 2
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.stopping = threading.Event()
        self.watching = threading.Event()  # set once the watcher looks at the files
        self._threads: list[threading.Thread] = []

    async def _quiet_on_stop(self, scope: Any, receive: Any, send: Any) -> None:
        """The app, except that a request cut short because the studio is
        stopping (Ctrl-C: uvicorn cancels what is still in flight) ends
        quietly instead of as a traceback on the terminal."""
        try:
            await self.app(scope, receive, send)
        except asyncio.CancelledError:
            if not (self.stopping.is_set() or self.server.should_exit):
                raise

    @property
    def url(self) -> str:
        """The studio's address (the page itself carries the token)."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}/"

    def start(self, *, build: bool = True) -> None:
        """Serve (in a thread), then build once and watch (in another)."""
        self.sock.listen(64)
        serve = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            name="comicc-studio-http",
            daemon=True,
        )
        serve.start()
        self._threads.append(serve)
        deadline = time.monotonic() + START_SECONDS
        while not self.server.started and serve.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        watcher = threading.Thread(
            target=self._watch, args=(build,), name="comicc-studio-watch", daemon=True
        )
        watcher.start()
        self._threads.append(watcher)

    def _watch(self, build: bool) -> None:
        """Build once, then again on every change of a watched file."""
        from watchfiles import watch

        if build:
            self.studio.rebuild()
        while not self.stopping.is_set():
            files = set(self.studio.watched)
            folders = sorted(
                {os.path.dirname(f) for f in files if os.path.isdir(os.path.dirname(f))}
            )

            def relevant(change: object, path: str, wanted: set[str] = files) -> bool:
                return str(Path(path).resolve()) in wanted

            for changes in watch(
                *folders,
                watch_filter=relevant,
                rust_timeout=WATCH_TIMEOUT_MS,
                yield_on_timeout=True,
                stop_event=self.stopping,
                raise_interrupt=False,
                recursive=False,  # the files' own folders: not the art cache inside them
            ):
                self.watching.set()
                if not changes:
                    continue
                self.studio.rebuild(sorted({p for _, p in changes}))
                if self.studio.watched != files:
                    break  # a new theme or workflow file: watch its folder too

    def stop(self) -> None:
        """Stop watching and serving; end the event streams."""
        self.stopping.set()
        self.studio.close()
        self.server.should_exit = True
        for thread in self._threads:
            thread.join(timeout=10)
        self.sock.close()

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the server to stop; whether it did."""
        serve = self._threads[0]
        serve.join(timeout=seconds)
        return not serve.is_alive()
