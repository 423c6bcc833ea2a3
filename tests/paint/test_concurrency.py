"""Requests in flight: per endpoint (the backend's concurrency) and in all (`--jobs`),
counted on local servers that paint slowly; and local painting in worker processes."""

from __future__ import annotations

import base64
import io
import json
import os
import threading
import time
from collections.abc import Iterator

import pytest
from PIL import Image
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from comicc.backends import Capabilities
from comicc.backends.automatic1111 import Automatic1111Backend
from comicc.backends.draft import DraftBackend
from comicc.paint import ArtCache, Painter, PaintJob, plan_panel
from comicc.paint.ratelimit import BackendStopped, DrawGate, EndpointSlots
from comicc.paint.scheduler import PROCESS_POOL_MIN_JOBS
from support.panels import make_panel, two_speaker_geom
from support.servers import base_url

DELAY = 0.15  # seconds a fake server takes to paint: long enough to overlap


def decoded(data: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data)))


class CountingWebui:
    """stable-diffusion-webui's img2img, answering after ``DELAY`` and counting the
    requests it holds at once (``most``) and in all (``calls``)."""

    def __init__(self, server: HTTPServer) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.calls = 0
        self.seen: list[tuple[Image.Image, Image.Image]] = []  # (init image, mask) as sent
        server.expect_request("/sdapi/v1/img2img", method="POST").respond_with_handler(self.paint)

    def paint(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        with self.lock:
            self.now += 1
            self.calls += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(DELAY)
            init = decoded(body["init_images"][0]).convert("RGB")
            mask = decoded(body["mask"]).convert("L")  # white: paint
            with self.lock:
                self.seen.append((init, mask))
            buf = io.BytesIO()
            Image.composite(Image.new("RGB", init.size, (90, 120, 200)), init, mask).save(
                buf, "PNG"
            )
            image = base64.b64encode(buf.getvalue()).decode("ascii")
            info = json.dumps({"seed": body.get("seed")})
            return Response(
                json.dumps({"images": [image], "info": info}), content_type="application/json"
            )
        finally:
            with self.lock:
                self.now -= 1


@pytest.fixture
def two_webuis() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    servers = [HTTPServer(host="127.0.0.1", port=0, threaded=True) for _ in range(2)]
    for s in servers:
        s.start()
    try:
        yield servers[0], servers[1]
    finally:
        for s in servers:
            s.clear()
            if s.is_running():
                s.stop()


def jobs(n: int, backend: str = "automatic1111") -> list[PaintJob]:
    return [
        PaintJob(make_panel(backend=backend, dpi=72, number=k), two_speaker_geom(), 1)
        for k in range(1, n + 1)
    ]


def paint_all(backend: Automatic1111Backend, tmp_path, n: int, workers: int | None = None):
    painter = Painter(
        {"automatic1111": backend},
        ArtCache(tmp_path / "cache"),
        workers=workers,
        sleep=lambda s: None,
        progress=False,
    )
    outcomes = painter.paint(jobs(n))
    assert [(o.ok, [d.message for d in o.diagnostics]) for o in outcomes] == [(True, [])] * n
    return painter


def test_each_server_gets_at_most_its_concurrency(two_webuis, tmp_path):
    one, two = two_webuis
    fakes = CountingWebui(one), CountingWebui(two)
    backend = Automatic1111Backend(urls=f"{base_url(one)}, {base_url(two)}")
    assert backend.capabilities.concurrency == 2  # a GPU server: one painting, one waiting
    painter = paint_all(backend, tmp_path, 10, workers=8)
    assert painter.workers == 8  # `--jobs 8` is the cap in all, not per server
    assert [f.most for f in fakes] == [2, 2]  # never more, and both servers were used fully
    assert sum(f.calls for f in fakes) == 10 and all(f.calls >= 4 for f in fakes)


def test_the_request_pngs_hold_the_drawn_init_image_and_mask(two_webuis, tmp_path):
    """Encoded ahead of the slots, quickly (zlib level 1): still the exact pixels."""
    one, _ = two_webuis
    fake = CountingWebui(one)
    paint_all(Automatic1111Backend(url=base_url(one)), tmp_path, 3, workers=2)
    caps = Automatic1111Backend.capabilities
    init, mask = plan_panel(jobs(1)[0].panel, two_speaker_geom(), caps).images()
    assert len(fake.seen) == 3
    for sent_init, sent_mask in fake.seen:
        assert sent_init.tobytes() == init.tobytes() and sent_mask.tobytes() == mask.tobytes()


def test_the_concurrency_setting_and_the_default_jobs(two_webuis, tmp_path):
    one, two = two_webuis
    fakes = CountingWebui(one), CountingWebui(two)
    backend = Automatic1111Backend(urls=f"{base_url(one)}, {base_url(two)}", concurrency="1")
    painter = paint_all(backend, tmp_path, 6)
    assert painter.workers == 2  # no --jobs: what the two servers take together
    assert [f.most for f in fakes] == [1, 1]
    assert sum(f.calls for f in fakes) == 6 and all(f.calls >= 2 for f in fakes)


def test_jobs_caps_the_requests_in_flight_over_all_servers(two_webuis, tmp_path):
    one, two = two_webuis
    fakes = CountingWebui(one), CountingWebui(two)
    backend = Automatic1111Backend(urls=f"{base_url(one)}, {base_url(two)}", concurrency="4")
    paint_all(backend, tmp_path, 6, workers=1)
    assert [f.most for f in fakes] == [1, 1]  # one at a time, taking turns
    assert [f.calls for f in fakes] == [3, 3]


def test_concurrency_is_not_part_of_the_cache_key():
    panel = make_panel(
        backend="automatic1111", dpi=72, backend_settings=(("automatic1111.concurrency", "1"),)
    )
    caps = Automatic1111Backend.capabilities
    plain = plan_panel(make_panel(backend="automatic1111", dpi=72), two_speaker_geom(), caps)
    assert plan_panel(panel, two_speaker_geom(), caps).cache_key == plain.cache_key


def test_slots_are_never_exceeded_under_contention():
    cancelled = threading.Event()
    slots = EndpointSlots(cancelled, total=3)
    lock = threading.Lock()
    busy: dict[str, int] = {"a": 0, "b": 0}
    most = {"a": 0, "b": 0, "all": 0}

    def worker() -> None:
        for _ in range(20):
            endpoint = slots.acquire("x", ("a", "b"), 2)
            with lock:
                busy[endpoint] += 1
                most[endpoint] = max(most[endpoint], busy[endpoint])
                most["all"] = max(most["all"], busy["a"] + busy["b"])
            time.sleep(0.001)
            with lock:
                busy[endpoint] -= 1
            slots.release("x", endpoint)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most["a"] <= 2 and most["b"] <= 2 and most["all"] <= 3
    assert most["a"] >= 1 and most["b"] >= 1


def test_a_wait_for_a_slot_ends_on_ctrl_c():
    cancelled = threading.Event()
    slots = EndpointSlots(cancelled, total=1)
    slots.acquire("x", ("a",), None)
    threading.Timer(0.05, cancelled.set).start()
    with pytest.raises(BackendStopped):
        slots.acquire("x", ("a",), None)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="worker processes need two cores")
def test_local_painting_in_worker_processes_gives_the_same_bytes(tmp_path):
    """Enough draft panels and two jobs: painted in worker processes, byte for byte
    what one job in this process paints."""
    work = jobs(PROCESS_POOL_MIN_JOBS, backend="draft")
    arts = []
    for workers, wait in ((1, False), (2, True), (2, False)):
        painter = Painter(
            {"draft": DraftBackend()}, ArtCache(tmp_path / f"cache{workers}{wait}"), workers=workers
        )
        painter.wait_for_processes = wait
        outcomes = painter.paint(work)
        assert all(o.ok and not o.from_cache and not o.diagnostics for o in outcomes)
        # waiting for them, every panel is painted in the worker processes; not
        # waiting, the threads paint until they are up (how many: the machine's load)
        expected = {(1, False): 0, (2, True): len(work)}.get((workers, wait))
        assert expected is None or painter.painted_in_processes == expected
        arts.append([o.art.data for o in outcomes if o.art is not None])
    assert arts[0] == arts[1] == arts[2] and len(arts[0]) == PROCESS_POOL_MIN_JOBS


def test_a_backend_without_concurrency_keeps_the_old_default(tmp_path):
    class Hosted(DraftBackend):
        name = "hosted"
        capabilities = Capabilities(needs_network=True)

    painter = Painter({"hosted": Hosted()}, ArtCache(tmp_path / "cache"), progress=False)
    assert painter.workers == 4


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="worker processes need two cores")
def test_network_requests_prepared_and_finished_in_worker_processes(two_webuis, tmp_path):
    """Enough panels for the worker processes: each request is drawn and encoded
    in one, each answer composited and encoded in one, the HTTP call stays in
    this process's threads within each server's limit; the art is byte for byte
    what one job painting everything in this process gives."""
    one, two = two_webuis
    fakes = CountingWebui(one), CountingWebui(two)
    urls = f"{base_url(one)}, {base_url(two)}"
    work = jobs(PROCESS_POOL_MIN_JOBS)
    arts = []
    for workers in (1, 4):
        painter = Painter(
            {"automatic1111": Automatic1111Backend(urls=urls)},
            ArtCache(tmp_path / f"cache{workers}"),
            workers=workers,
            sleep=lambda s: None,
            progress=False,
        )
        painter.wait_for_processes = True
        outcomes = painter.paint(work)
        assert [(o.ok, o.diagnostics) for o in outcomes] == [(True, [])] * len(work)
        # one job: no worker processes; four: every request and every answer in one
        assert painter.painted_in_processes == (0 if workers == 1 else 2 * len(work))
        arts.append([o.art.data for o in outcomes if o.art is not None])
    assert arts[0] == arts[1] and len(arts[0]) == len(work)
    assert [f.most for f in fakes] == [2, 2]  # never more than each server's concurrency
    caps = Automatic1111Backend.capabilities
    init, mask = plan_panel(work[0].panel, two_speaker_geom(), caps).images()
    for sent_init, sent_mask in fakes[0].seen + fakes[1].seen:  # the pixels drawn there
        assert sent_init.tobytes() == init.tobytes() and sent_mask.tobytes() == mask.tobytes()


def test_a_draw_gate_gives_out_at_most_its_places():
    gate = DrawGate(threading.Event(), 3)
    lock = threading.Lock()
    now, most = [0], [0]

    def job() -> None:
        for _ in range(20):
            place = gate.take()
            assert place is not None
            with lock:
                now[0] += 1
                most[0] = max(most[0], now[0])
            time.sleep(0.001)
            with lock:
                now[0] -= 1
            place.release()
            place.release()  # a second release gives nothing back

    threads = [threading.Thread(target=job) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 3


def test_a_wait_for_a_draw_gate_place_ends_on_ctrl_c():
    cancelled = threading.Event()
    gate = DrawGate(cancelled, 1)
    assert gate.take() is not None
    threading.Timer(0.05, cancelled.set).start()
    assert gate.take() is None


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="worker processes need two cores")
def test_no_more_jobs_are_started_than_the_worker_processes_draw(two_webuis, tmp_path, monkeypatch):
    """With worker processes drawing the requests, at most one job more than
    there are processes is between its start (planned) and its request drawn:
    the threads that run ahead do not all plan and lock at once."""
    from comicc.paint import scheduler

    one, two = two_webuis
    fakes = CountingWebui(one), CountingWebui(two)
    lock = threading.Lock()
    pending, most = [0], [0]
    plan, drawn = scheduler.plan_panel, scheduler.body_request

    def planned(*args, **kwargs):
        with lock:
            pending[0] += 1
            most[0] = max(most[0], pending[0])
        return plan(*args, **kwargs)

    def made(*args, **kwargs):
        with lock:
            pending[0] -= 1
        return drawn(*args, **kwargs)

    monkeypatch.setattr(scheduler, "plan_panel", planned)
    monkeypatch.setattr(scheduler, "body_request", made)
    work = jobs(PROCESS_POOL_MIN_JOBS)
    painter = Painter(
        {"automatic1111": Automatic1111Backend(urls=f"{base_url(one)}, {base_url(two)}")},
        ArtCache(tmp_path / "cache"),
        workers=4,
        sleep=lambda s: None,
        progress=False,
    )
    painter.wait_for_processes = True
    outcomes = painter.paint(work)
    assert [(o.ok, o.diagnostics) for o in outcomes] == [(True, [])] * len(work)
    assert painter.painted_in_processes == 2 * len(work)  # every request drawn there
    size = painter.pool_size([j.panel.settings.backend for j in work])
    assert 1 <= most[0] <= size + 1
    assert [f.most for f in fakes] == [2, 2]  # the slots still fill
