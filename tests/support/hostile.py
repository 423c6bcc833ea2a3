"""Hostile HTTP servers on the loopback interface, for the hardening tests.

Each server answers every request the same deliberate way: dripping its body
a byte at a time, advertising (and sending) a huge body, never answering,
rate-limiting with a long Retry-After, or echoing the request (headers
included) in an error body.
They bind 127.0.0.1 on a free port, serve on a daemon thread, stop by
themselves after ``lifetime`` seconds, and record what they received.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    """One request as the hostile server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Hostile:
    """A running hostile server: its base URL and what it received."""

    url: str
    seen: list[Seen] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


Behaviour = Callable[[BaseHTTPRequestHandler, Hostile], None]


def drip(interval: float = 0.5, total: int = 10_000) -> Behaviour:
    """200 with a JSON-looking body sent one byte every ``interval`` seconds."""

    def act(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(total))
        h.end_headers()
        for _ in range(total):
            if server.stop.wait(interval):
                return
            h.wfile.write(b" ")
            h.wfile.flush()

    return act


def huge(advertised: int = 10 * 2**30, chunk: int = 1 << 20, announce: bool = True) -> Behaviour:
    """200 advertising ``advertised`` bytes and streaming zeros until stopped;
    with ``announce`` False no Content-Length is sent (the body runs until the
    connection closes), so only counting what arrives can catch it."""

    def act(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "image/png")
        if announce:
            h.send_header("Content-Length", str(advertised))
        else:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        block = b"\0" * chunk
        sent = 0
        while sent < advertised and not server.stop.is_set():
            h.wfile.write(block)
            sent += chunk

    return act


def hang() -> Behaviour:
    """Read the request, then never answer (until the server stops)."""

    def act(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        server.stop.wait()

    return act


def rate_limited(retry_after: str = "3600") -> Behaviour:
    """429 with a long Retry-After on every request."""

    def act(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        body = b'{"errors": ["rate limited"], "name": "rate_limited"}'
        h.send_response(429)
        h.send_header("Retry-After", retry_after)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return act


def echo(status: int = 401, form: str = "text") -> Behaviour:
    """``status`` with a body that echoes the request, the way some servers'
    error pages do (keys included): ``text`` starts with the Authorization
    header, then the request line, the other headers and the body; ``json`` is
    ``{"name", "errors": [...], "message"}`` with the header in the words a
    service would show first."""

    def act(h: BaseHTTPRequestHandler, server: Hostile) -> None:
        last = server.seen[-1]
        auth = last.headers.get("Authorization", "")
        if form == "json":
            words = f"invalid credentials: Authorization: {auth}"
            doc = {"name": "unauthorized", "errors": [words], "message": words}
            body = json.dumps(doc).encode()
            ctype = "application/json"
        else:
            lines = [f"Authorization: {auth}", f"{last.method} {last.path}"]
            lines += [f"{k}: {v}" for k, v in last.headers.items()]
            body = ("\n".join(lines) + "\n\n").encode() + last.body[:2000]
            ctype = "text/plain"
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return act


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(behaviour: Behaviour, lifetime: float = 120.0) -> Iterator[Hostile]:
    """Run a hostile server for the ``with`` block (and at most ``lifetime`` s)."""
    port = free_port()
    state = Hostile(f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(length, 64 << 20)) if length else b""
            state.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                behaviour(self, state)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    deadline = threading.Timer(lifetime, state.stop.set)
    deadline.daemon = True
    deadline.start()
    try:
        yield state
    finally:
        state.stop.set()
        deadline.cancel()
        httpd.shutdown()
        httpd.server_close()
        time.sleep(0)  # let handler threads see the stop event
