"""The comfyui backend's websocket (``/ws?clientId=``) against raw local
servers: ComfyUI's events reach the job they name, and a hostile server (an
endless handshake, a frame announcing gigabytes) ends the socket early,
leaving the waiters to poll. The real ComfyUI's websocket is exercised by
test_real_comfyui.py."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from comicc.backends.comfyui_watch import WS_HANDSHAKE_MAX, WS_MAX_MESSAGE, Watch

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SEND_LIMIT = 64 * 2**20  # the hostile servers stop by themselves after this much


def handshake(conn: socket.socket) -> None:
    """Read the client's upgrade request and accept it."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(4096)
    key = next(
        line.split(b":", 1)[1].strip()
        for line in data.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    conn.sendall(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )


def text_frame(doc: dict) -> bytes:
    payload = json.dumps(doc).encode()
    assert len(payload) < 126
    return bytes([0x81, len(payload)]) + payload


@contextmanager
def raw_server(serve: Callable[[socket.socket], None]) -> Iterator[tuple[int, dict]]:
    """A one-connection TCP server on 127.0.0.1 running ``serve``; ``stats['sent']``
    counts what a hostile one managed to send before the client hung up."""
    listener = socket.create_server(("127.0.0.1", 0))
    stats: dict = {"sent": 0, "done": threading.Event()}

    def run() -> None:
        listener.settimeout(10)
        try:
            conn, _ = listener.accept()
        except OSError:
            stats["done"].set()
            return
        with conn:
            conn.settimeout(10)
            try:
                serve(conn)
            except OSError:
                pass  # the client hung up
            finally:
                stats["done"].set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    try:
        yield listener.getsockname()[1], stats
    finally:
        listener.close()
        t.join(15)


def wait_until(cond: Callable[[], bool], seconds: float = 10) -> bool:
    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:
        time.sleep(0.02)
    return cond()


def test_events_reach_the_job_they_name():
    go = threading.Event()

    def serve(conn: socket.socket) -> None:
        handshake(conn)
        go.wait(10)
        conn.sendall(text_frame({"type": "status", "data": {"status": {}}}))
        conn.sendall(text_frame({"type": "execution_start", "data": {"prompt_id": "p1"}}))
        conn.sendall(text_frame({"type": "executing", "data": {"node": "6", "prompt_id": "p1"}}))
        conn.sendall(
            text_frame({"type": "progress", "data": {"value": 3, "max": 25, "prompt_id": "p1"}})
        )
        conn.sendall(text_frame({"type": "executing", "data": {"node": "6", "prompt_id": "p2"}}))
        time.sleep(0.3)
        conn.sendall(text_frame({"type": "executing", "data": {"node": None, "prompt_id": "p1"}}))
        time.sleep(1)

    with raw_server(serve) as (port, _):
        watch = Watch(f"http://127.0.0.1:{port}", "comicc-test")
        job = watch.follow("p1")
        assert job.describe() == "it was still waiting in ComfyUI's queue"
        assert wait_until(watch.alive)
        go.set()
        assert wait_until(lambda: job.max == 25)
        assert job.describe() == "it was running node 6, step 3 of 25"
        stop = threading.Event()
        started = time.monotonic()
        job.wait(30, stop)  # returns when "executing: null" comes, not after 30 s
        assert time.monotonic() - started < 20 and job.node is None
        watch.close()


@pytest.mark.parametrize("attack", ["endless-handshake", "huge-frame", "huge-fragments"])
def test_a_hostile_websocket_is_dropped_early(attack):
    def serve(conn: socket.socket) -> None:
        if attack == "endless-handshake":
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nX-Long: ")
        else:
            handshake(conn)
            if attack == "huge-frame":
                conn.sendall(bytes([0x81, 0x7F]) + struct.pack("!Q", 2**40))
            else:  # unfinished text frame, then continuation frames without end
                conn.sendall(bytes([0x01, 0x7E]) + struct.pack("!H", 60000) + b"a" * 60000)
        chunk = b"a" * 60000
        while stats["sent"] < SEND_LIMIT:
            if attack == "huge-fragments":
                conn.sendall(bytes([0x00, 0x7E]) + struct.pack("!H", 60000) + chunk)
            else:
                conn.sendall(chunk)
            stats["sent"] += len(chunk)

    with raw_server(serve) as (port, stats):
        watch = Watch(f"http://127.0.0.1:{port}", "comicc-test")
        job = watch.follow("p1")
        assert stats["done"].wait(30)
        assert wait_until(lambda: not watch._thread.is_alive())
        assert not watch.alive()  # waiters poll
        # it hung up long before the server's own limit (socket buffers hold a few MiB)
        assert stats["sent"] < max(WS_HANDSHAKE_MAX, WS_MAX_MESSAGE) + 16 * 2**20
        job.wait(0.1, threading.Event())  # returns at once: nothing to wait for


def test_no_websocket_there_means_polling():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    watch = Watch(f"http://127.0.0.1:{port}", "comicc-test")  # nothing listens
    assert wait_until(lambda: not watch._thread.is_alive()) and not watch.alive()
