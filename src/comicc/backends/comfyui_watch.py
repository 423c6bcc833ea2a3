"""ComfyUI's progress websocket, ``/ws?clientId=``: which job runs, how far.

ComfyUI sends each client the events of the jobs it queued: ``execution_start``,
``executing {node}`` (``node: null`` = done, sent after the history entry is
written), ``progress {value, max}``, ``execution_success`` / ``_error`` /
``_interrupted``. :class:`Watch` reads one server's socket on a daemon thread
and hands each event to the :class:`Job` it names; the backend waits on the
job and reads ``/history`` when it is done, polling instead whenever there
is no socket. websocket-client does the protocol; the caps below keep a
hostile server from holding memory or a paint.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import websocket

# the frame reader's classes are not exported by websocket-client; they are
# subclassed only to refuse oversized frames before reading their payload
from websocket._abnf import ABNF, continuous_frame, frame_buffer

from comicc.backends import http

WS_CONNECT_TIMEOUT = 3.0
WS_READ_TIMEOUT = 1.0  # how often the reader looks whether it was closed
WS_MAX_MESSAGE = 1 << 20  # a longer message ends the websocket (polling then)
WS_HANDSHAKE_MAX = 64 * 1024


class Job:
    """What the websocket said about one queued job."""

    def __init__(self, watch: Watch, prompt_id: str):
        self.watch, self.prompt_id = watch, prompt_id
        self.node: str | None = None
        self.node_type: str | None = None
        self.value = self.max = 0
        self.started = False
        self._done = threading.Event()

    def wait(self, seconds: float, stop: threading.Event) -> None:
        """Until the job is done (or may be), ``seconds`` pass or the build stops."""
        end = time.monotonic() + seconds
        while not self._done.is_set() and not stop.is_set() and self.watch.alive():
            left = end - time.monotonic()
            if left <= 0:
                return
            self._done.wait(min(left, 0.2))
        self._done.clear()

    def wake(self) -> None:
        self._done.set()

    def update(self, kind: str, data: dict[str, Any]) -> None:
        if kind in ("execution_start", "executing", "progress"):
            self.started = True
        if kind == "executing":
            self.node = None if data.get("node") is None else str(data["node"])
            if self.node is None:
                self._done.set()  # sent after the history entry is written
        elif kind == "progress":
            self.value, self.max = int(data.get("value") or 0), int(data.get("max") or 0)
            self.node = str(data.get("node") or self.node or "") or None
        elif kind in ("execution_success", "execution_error", "execution_interrupted"):
            self._done.set()

    def describe(self) -> str:
        if not self.started:
            return "it was still waiting in ComfyUI's queue"
        if self.node is None:
            return "it was running"
        step = f", step {self.value} of {self.max}" if self.max else ""
        return f"it was running node {self.node}{step}"


class _CountingSocket(socket.socket):
    """A socket that refuses to take more than ``limit`` bytes (while set): the
    websocket handshake reads header lines of any length."""

    limit: int | None = WS_HANDSHAKE_MAX
    received = 0

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data = super().recv(bufsize, flags)
        if self.limit is not None:
            self.received += len(data)
            if self.received > self.limit:
                raise OSError("the server's websocket handshake is too long")
        return data


class _CappedFrames(frame_buffer):
    """Frames of at most :data:`WS_MAX_MESSAGE` bytes: a longer one ends the socket
    before its payload is read (a hostile server could announce gigabytes)."""

    def recv_length(self) -> None:
        super().recv_length()
        if (self.length or 0) > WS_MAX_MESSAGE:
            raise websocket.WebSocketProtocolException("websocket frame too large")


class _CappedFragments(continuous_frame):
    """Fragmented messages of at most :data:`WS_MAX_MESSAGE` bytes in all."""

    def add(self, frame: ABNF) -> None:
        super().add(frame)
        if self.cont_data and len(self.cont_data[1]) > WS_MAX_MESSAGE:
            raise websocket.WebSocketProtocolException("websocket message too large")


class _CappedSocket(websocket.WebSocket):
    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.frame_buffer = _CappedFrames(self._recv, self.frame_buffer.skip_utf8_validation)
        self.cont_frame = _CappedFragments(
            self.cont_frame.fire_cont_frame, self.cont_frame.skip_utf8_validation
        )


class Watch:
    """ComfyUI's ``/ws?clientId=`` for one server: ``executing``, ``progress``
    and ``execution_*`` events, handed to the :class:`Job` they name.

    One daemon thread connects and reads, so a slow or hostile server never
    holds up a paint: until the socket is up (and after it closes) waiters
    poll the history. Only ``http://`` servers are followed (``https://`` ones
    are polled); the handshake may take :data:`WS_HANDSHAKE_MAX` bytes and a
    message :data:`WS_MAX_MESSAGE`."""

    def __init__(self, base: str, client_id: str):
        parts = urlsplit(base)
        self.url = f"ws://{parts.netloc}{parts.path.rstrip('/')}/ws?clientId={client_id}"
        self.host, self.port = parts.hostname or "", parts.port or 80
        self.jobs: dict[str, Job] = {}
        self.ws: websocket.WebSocket | None = None
        self._lock = threading.Lock()
        self._alive = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="comicc-comfyui-ws", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._alive

    def follow(self, prompt_id: str) -> Job:
        job = Job(self, prompt_id)
        with self._lock:
            self.jobs[prompt_id] = job
        return job

    def forget(self, prompt_id: str) -> None:
        with self._lock:
            self.jobs.pop(prompt_id, None)

    def _connect(self) -> websocket.WebSocket:
        plain = socket.create_connection((self.host, self.port), timeout=WS_CONNECT_TIMEOUT)
        sock = _CountingSocket(fileno=plain.detach())
        sock.settimeout(WS_CONNECT_TIMEOUT)
        try:
            ws = websocket.create_connection(
                self.url,
                timeout=WS_CONNECT_TIMEOUT,
                socket=sock,
                class_=_CappedSocket,
                header=[f"User-Agent: {http.USER_AGENT}"],
            )
        except BaseException:
            sock.close()
            raise
        sock.limit = None
        ws.settimeout(WS_READ_TIMEOUT)
        return ws

    def _run(self) -> None:
        try:
            ws = self._connect()
            self.ws = ws
            self._alive = not self._closed
            while self._alive:
                try:
                    message = ws.recv()
                except websocket.WebSocketTimeoutException:
                    continue
                if not isinstance(message, str):
                    continue  # preview images (binary)
                try:
                    doc = json.loads(message)
                except ValueError:
                    continue
                data = http.json_object(http.json_object(doc).get("data"))
                pid = data.get("prompt_id")
                with self._lock:
                    job = self.jobs.get(pid) if isinstance(pid, str) else None
                if job is not None:
                    job.update(str(http.json_object(doc).get("type")), data)
        except (OSError, websocket.WebSocketException, ValueError):
            pass  # no websocket there (or it broke): the waiters poll
        finally:
            self._alive = False
            with self._lock:
                jobs = list(self.jobs.values())
            for job in jobs:
                job.wake()  # their waits go back to polling
            if self.ws is not None:
                with contextlib.suppress(Exception):
                    self.ws.shutdown()  # no closing handshake: it would read on

    def close(self) -> None:
        self._closed = True
        self._alive = False
        ws = self.ws
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.shutdown()
