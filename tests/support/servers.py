"""What the backend tests share: local server addresses, a closed port, a fake clock,
a second fake server, panel plans for a backend, and the user's allowance that
lets API keys go to those local fakes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from PIL import Image
from pytest_httpserver import HTTPServer

from comicc.backends import Backend
from comicc.paint import PanelPlan, plan_panel
from support.panels import make_panel, two_speaker_geom

ALLOW_KEY_HOSTS_ENV = "COMICC_ALLOW_KEY_HOSTS"
LOOPBACK_HOSTS = "127.0.0.1,localhost"


def allow_local_key_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Allow API keys to go to servers on this machine, the way a user would
    (outside the script): the contract tests' fakes listen on 127.0.0.1."""
    monkeypatch.setenv(ALLOW_KEY_HOSTS_ENV, LOOPBACK_HOSTS)


@pytest.fixture
def local_key_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    """:func:`allow_local_key_hosts` as a fixture (``usefixtures``)."""
    allow_local_key_hosts(monkeypatch)


def base_url(server: HTTPServer) -> str:
    """The fake's address on 127.0.0.1 (never leaves the machine)."""
    return f"http://127.0.0.1:{server.port}"


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_server() -> Iterator[HTTPServer]:
    """A second local HTTP server (the ``httpserver`` fixture is the first)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


class FakeClock:
    """A monotonic clock that only sleeping advances; ``sleeps`` records each sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def plan_for(backend: Backend, dpi: int = 72, **backend_settings: str) -> PanelPlan:
    """The two-speaker test panel planned for ``backend`` with ``backend_settings``."""
    panel = make_panel(
        backend=backend.name,
        dpi=dpi,
        backend_settings=tuple((f"{backend.name}.{k}", v) for k, v in backend_settings.items()),
    )
    return plan_panel(panel, two_speaker_geom(), backend.capabilities)


def keep_point(mask: Image.Image) -> tuple[int, int]:
    """Centre of the test panel's first balloon (a known KEEP region) in request pixels."""
    x, y = round(mask.width * 0.28), round(mask.height * 0.18)
    assert mask.getpixel((x, y)) == 0
    return x, y
