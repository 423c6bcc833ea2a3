"""The proxies and options a session takes from the environment, worked out once
per server (comicc.backends.stream.Session) and still honoured on every request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from comicc.backends.stream import Session, ThreadSessions, exchange


class Recording(ThreadingHTTPServer):
    """Answers every request with its own name; keeps the request targets it saw
    (a proxy sees the whole URL, a server its path)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.seen.append(self.path)
                body = server.name.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def servers() -> Iterator[tuple[Recording, Recording]]:
    made = (Recording("proxy"), Recording("server"))
    for s in made:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    yield made
    for s in made:
        s.shutdown()
        s.server_close()


def behind_proxy(
    servers: tuple[Recording, Recording], monkeypatch: pytest.MonkeyPatch, no_proxy: str = ""
) -> tuple[Recording, Recording]:
    """The environment names the first server as the HTTP proxy."""
    monkeypatch.setenv("HTTP_PROXY", servers[0].url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    return servers


def get(sess: Session, url: str, **kw: Any) -> str:
    return exchange(sess, "GET", url, timeout=(5.0, 10.0), **kw).text


@pytest.mark.parametrize("run", ["requests", "exchange"])
def test_every_request_goes_through_the_environment_proxy(
    servers: tuple[Recording, Recording], monkeypatch: pytest.MonkeyPatch, run: str
) -> None:
    proxy, server = behind_proxy(servers, monkeypatch)
    sess = Session()
    for n in range(3):  # the first works the settings out, the others reuse them
        url = f"{server.url}/img/{n}"
        text = sess.get(url, timeout=5).text if run == "requests" else get(sess, url)
        assert text == "proxy"
    assert proxy.seen == [f"{server.url}/img/{n}" for n in range(3)]
    assert server.seen == []


def test_no_proxy_and_explicit_proxies_are_honoured(
    servers: tuple[Recording, Recording], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, server = behind_proxy(servers, monkeypatch, no_proxy="127.0.0.1")
    sess = Session()
    assert [get(sess, f"{server.url}/a"), get(sess, f"{server.url}/b")] == ["server", "server"]
    # proxies given with the call win, every time (never cached)
    via = {"http": proxy.url}
    assert get(sess, f"{server.url}/c", proxies=via) == "proxy"
    assert get(sess, f"{server.url}/d") == "server"
    assert proxy.seen == [f"{server.url}/c"]
    assert server.seen == ["/a", "/b", "/d"]


def test_a_session_that_does_not_trust_the_environment_ignores_it(
    servers: tuple[Recording, Recording], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy, server = behind_proxy(servers, monkeypatch)
    sess = Session()
    sess.trust_env = False
    assert get(sess, f"{server.url}/a") == "server"
    assert proxy.seen == []


def test_every_painting_threads_session_goes_through_the_environment_proxy(
    servers: tuple[Recording, Recording], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings are worked out once for all the sessions of one
    ThreadSessions (one session per thread), and each thread's requests still
    go through the proxy."""
    proxy, server = behind_proxy(servers, monkeypatch)
    sessions = ThreadSessions()
    seen: list[tuple[Session, str]] = []

    def paint(n: int) -> None:
        sess = sessions.get()
        seen.append((sess, get(sess, f"{server.url}/img/{n}")))

    threads = [threading.Thread(target=paint, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [text for _, text in seen] == ["proxy"] * 4
    assert len({id(sess) for sess, _ in seen}) == 4  # a session per thread
    assert sorted(proxy.seen) == sorted(f"{server.url}/img/{n}" for n in range(4))
    assert server.seen == []
    sessions.close()
