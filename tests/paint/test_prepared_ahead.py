"""Requests drawn ahead of the slots: while every slot waits on the server, the
next request for every slot is ready, so a round of answers coming back together
never leaves a slot waiting on comicc's drawing; and no more than that is drawn."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from comicc.backends import PaintRequest
from comicc.backends.automatic1111 import Automatic1111Backend
from comicc.paint import ArtCache, Painter, PaintJob
from comicc.paint.jobs import PaintOutcome
from support.panels import make_panel, two_speaker_geom
from support.servers import base_url

PATIENCE = 30.0  # seconds a condition may take to come true on a loaded machine


class CountingBackend(Automatic1111Backend):
    """The webui backend, counting the requests it has prepared (drawn, encoded)."""

    prepared = 0
    lock = threading.Lock()

    def prepare(self, request: PaintRequest) -> PaintRequest:
        with CountingBackend.lock:
            CountingBackend.prepared += 1
        return super().prepare(request)


class HeldWebui:
    """img2img that holds every request until :attr:`open` is set, counting those held."""

    def __init__(self, server: HTTPServer) -> None:
        self.open = threading.Event()
        self.lock = threading.Lock()
        self.held = 0
        server.expect_request("/sdapi/v1/img2img", method="POST").respond_with_handler(self.paint)

    def paint(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        with self.lock:
            self.held += 1
        self.open.wait(PATIENCE)
        answer = {"images": [body["init_images"][0]], "info": json.dumps({"seed": 1})}
        return Response(json.dumps(answer), content_type="application/json")


def eventually(condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` comes true within :data:`PATIENCE` seconds."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def webui() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)  # requests held at once
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def test_a_request_is_ready_for_every_slot_while_the_slots_are_busy(webui, tmp_path):
    fake = HeldWebui(webui)
    CountingBackend.prepared = 0
    backend = CountingBackend(url=base_url(webui), concurrency="4")
    painter = Painter(
        {"automatic1111": backend}, ArtCache(tmp_path / "cache"), workers=4, progress=False
    )
    jobs = [
        PaintJob(make_panel(backend="automatic1111", dpi=72, number=k), two_speaker_geom(), 1)
        for k in range(1, 13)
    ]
    outcomes: list[PaintOutcome] = []
    paint = threading.Thread(target=lambda: outcomes.extend(painter.paint(jobs)))
    paint.start()
    try:
        assert eventually(lambda: fake.held == 4)  # every slot taken, the server holding them
        # the next request for every slot drawn meanwhile: 4 sent + 4 ready
        assert eventually(lambda: CountingBackend.prepared >= 8)
        assert CountingBackend.prepared == 8 and fake.held == 4  # no more, and no 5th sent
    finally:
        fake.open.set()
        paint.join(PATIENCE)
    assert len(outcomes) == 12 and all(o.ok for o in outcomes)
    assert CountingBackend.prepared == 12 and fake.held == 12
