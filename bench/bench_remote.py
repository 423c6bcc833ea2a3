"""Benchmark: painting against self-hosted servers that answer in 300 ms, vs the ideal.

    .venv/bin/python bench/bench_remote.py [--panels 60] [--latency 0.3] [--dpi 300]
                                           [--repeat 2] [--src DIR] [--only TEXT]

A local stand-in for stable-diffusion-webui (``/sdapi/v1/img2img``) runs in its
own process: it parses the request as the webui does (the JSON body, the init
image's and the mask's base64), waits ``--latency`` seconds, then answers with
the init image it was sent (so no mask warning fires, and it paints nothing:
the cores are comicc's), taking any number of requests at once on each of two
ports. comicc's painter
(``Painter.paint``, in this process, every panel uncached) paints a generated
book of ``--panels`` panels through the automatic1111 backend in each setup:

* ``--jobs`` 1, 4 and 8 on one server, each server taking ``--jobs`` at once
  (``automatic1111.concurrency``), and 8 over two servers;
* the defaults (``automatic1111.concurrency: 2`` a server, no ``--jobs``) on
  one and two servers.

Each setup is timed as a build paints: ``Painter.warm_up`` (the worker
processes forked or their forkserver started, just before painting) then
``Painter.paint``. The ideal is ``latency x panels / in flight``, in flight =
min(jobs, servers x concurrency): what a painter with no work of its own would
take. ``floor`` is the same with whole rounds of requests (``ceil(panels / in
flight) x latency``: 60 panels on 8 slots are 8 rounds, 2.4 s, 1.067x the
ideal), what a painter with no work of its own and no cost per request would
take. Where the rest goes, from the best round: ``first``, until the first
request was sent; ``full``, until every slot had its first request (the
in-flight-th request sent: the ramp-up, paid once); ``last``, until the last
answer came; ``tail``, from then to the end (that answer composited, encoded,
stored). Setups run interleaved,
``--repeat`` rounds; the best time of each is reported, with the CPU time
comicc spent per panel (this process and its worker processes, read from
/proc; the least of the rounds), the part of it spent in this process
(``here``: the HTTP exchanges and the scheduling) and the stand-in server's:
on a shared machine the CPU time says more than the wall time.
A last line, ``HTTP alone``, times the same number of img2img calls of one
body prepared beforehand, 8 at once, drawing and finishing nothing: the share
of the ratio that is the HTTP exchanges' own (comicc's client and the stand-in
on the same cores).
``--src DIR`` imports comicc from ``DIR`` instead (an older tree, for "before");
``--only TEXT`` runs only the setups whose label holds ``TEXT``.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import inspect
import json
import math
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def serve(ports: Any, latency: float) -> None:
    """Two webui stand-ins (one per port) answering after ``latency`` seconds."""

    class Webui(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # the answer's headers and body go out at once, as the webui's server
        # (uvicorn, TCP_NODELAY) sends them: with Nagle's algorithm the body
        # waits for the client's delayed ACK of the headers, ~40 ms a request
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            return None

        def _send(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._send(
                b'[{"name": "Euler a", "aliases": []}]' if "samplers" in self.path else b"{}"
            )

        def do_POST(self) -> None:
            # parsed as the webui does (JSON, then the init image and the mask
            # taken out of their base64), the init image's base64 echoed back
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            image = body["init_images"][0]
            base64.b64decode(image, validate=True)
            base64.b64decode(body["mask"], validate=True)
            time.sleep(latency)
            self._send(json.dumps({"images": [image], "info": "{}"}).encode())

    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Webui) for _ in range(2)]
    for s in servers:
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
    ports.extend([s.server_address[1] for s in servers])
    threading.Event().wait()


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (all its threads) so far: this one
    by default; 0 where /proc cannot tell (not Linux, gone)."""
    if pid is None:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_worker_cpu(spent: list[float]) -> None:
    """Add each worker process's CPU to ``spent`` just before its pool ends (the
    processes are not this one's children: their time is not in its rusage)."""
    try:
        from comicc.paint.workers import WorkerPool
    except ImportError:  # an older tree: no worker processes
        return
    shutdown = WorkerPool.shutdown

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        executor = getattr(self, "_executor", None)  # an older tree's process pool
        pids = list(getattr(executor, "_processes", None) or {})
        pids += [w.process.pid for w in getattr(self, "_workers", ())]
        for pid in pids:
            spent.append(cpu_seconds(pid))
        shutdown(self, *args, **kwargs)

    WorkerPool.shutdown = counted  # type: ignore[method-assign]


def warm_up(painter: Any, expect: list[str]) -> None:
    """What a build does just before it paints (an older tree's ``warm_up``
    takes no jobs; the oldest has none)."""
    warm = getattr(painter, "warm_up", None)
    if warm is None:
        return
    if inspect.signature(warm).parameters:
        warm(expect)
    else:
        warm()


def timed_requests(backend: Any, sent: list[float], answered: list[float]) -> None:
    """Note when each request is sent to ``backend``'s servers and when its answer
    is back (``time.perf_counter``), from this instance's ``paint_on``."""
    paint_on = backend.paint_on

    def noted(request: Any, endpoint: str) -> Any:
        sent.append(time.perf_counter())
        try:
            return paint_on(request, endpoint)
        finally:
            answered.append(time.perf_counter())

    backend.paint_on = noted


@dataclass(frozen=True)
class Setup:
    label: str
    jobs: int | None  # None: the default
    servers: int
    concurrency: int | None  # None: the backend's default


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--panels", type=int, default=60)
    ap.add_argument("--latency", type=float, default=0.3)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--src", help="import comicc from this src/ folder")
    ap.add_argument("--only", help="only the setups whose label holds this text (e.g. 'jobs 8')")
    a = ap.parse_args()
    if a.src:
        sys.path.insert(0, str(Path(a.src).resolve()))
    sys.path.insert(0, str(HERE))
    from bench_build import generate
    from comicc.backends.automatic1111 import Automatic1111Backend
    from comicc.diagnostics import Sink
    from comicc.paint import ArtCache, Painter, PaintJob
    from comicc.pipeline import check_source, layout
    from comicc.source import SourceFile

    manager = multiprocessing.Manager()
    ports = manager.list()
    server = multiprocessing.Process(target=serve, args=(ports, a.latency), daemon=True)
    server.start()
    while len(ports) < 2:
        time.sleep(0.05)
    urls = [f"http://127.0.0.1:{p}" for p in ports]

    pages = -(-a.panels // 6)
    text = generate(pages).replace("style: @ink", "style: @ink\nbackend: automatic1111", 1)
    sink = Sink()
    checked = check_source(SourceFile.from_text(text, "bench.comic"), sink)
    assert checked is not None and checked.script is not None, [d.message for d in sink.errors]
    script = checked.script
    book = layout(script, checked.theme, Sink())
    assert book is not None
    geoms = {g.id: g for page in book.pages for g in page.panels}
    panels = [replace(p, settings=replace(p.settings, dpi=a.dpi)) for p in script.panels]
    jobs = [PaintJob(p, geoms[p.id], 1) for p in panels[: a.panels]]
    supports = "concurrency" in (Automatic1111Backend.SETTINGS or {}) and hasattr(
        importlib.import_module("comicc.paint.ratelimit"), "EndpointSlots"
    )

    setups = [
        Setup("--jobs 1, one server", 1, 1, 1),
        Setup("--jobs 4, one server", 4, 1, 4),
        Setup("--jobs 8, one server", 8, 1, 8),
        Setup("--jobs 8, two servers (4 each)", 8, 2, 4),
    ]
    if supports:
        setups += [
            Setup("defaults, one server (2 in flight)", None, 1, None),
            Setup("defaults, two servers (2 each)", None, 2, None),
        ]
    setups = [s for s in setups if not a.only or a.only in s.label]
    best: dict[str, float] = {}
    # the best round's first request, the request filling the last slot, the last answer
    path: dict[str, tuple[float, float, float]] = {}
    expect = [j.panel.settings.backend for j in jobs]
    flight: dict[str, int] = {}
    cpu: dict[str, list[float]] = {s.label: [] for s in setups}  # comicc's CPU seconds, each round
    here: dict[str, list[float]] = {s.label: [] for s in setups}  # this process's share
    served: dict[str, list[float]] = {s.label: [] for s in setups}  # the server's
    workers_spent: list[float] = []
    count_worker_cpu(workers_spent)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.repeat):
            for s in setups:
                settings = {"urls": ", ".join(urls[: s.servers])}
                if supports and s.concurrency is not None:
                    settings["concurrency"] = str(s.concurrency)
                backend = Automatic1111Backend(**settings)
                sent: list[float] = []
                answered: list[float] = []
                timed_requests(backend, sent, answered)
                cache = ArtCache(Path(tmp) / f"cache-{r}-{len(best)}-{time.monotonic_ns()}")
                painter = Painter({"automatic1111": backend}, cache, workers=s.jobs, progress=False)
                concurrency = getattr(backend.capabilities, "concurrency", None) or painter.workers
                flight[s.label] = min(painter.workers, s.servers * concurrency)
                workers_spent.clear()
                mine, theirs = cpu_seconds(), cpu_seconds(server.pid)
                t = time.perf_counter()
                warm_up(painter, expect)
                outcomes = painter.paint(jobs)
                wall = time.perf_counter() - t
                cpu[s.label].append(cpu_seconds() - mine + sum(workers_spent))
                here[s.label].append(cpu_seconds() - mine)
                served[s.label].append(cpu_seconds(server.pid) - theirs)
                bad = [d.message for o in outcomes for d in o.diagnostics]
                assert all(o.ok for o in outcomes) and not bad, bad[:3]
                if wall < best.get(s.label, math.inf):
                    best[s.label] = wall
                    # (not known if the painter asked the servers otherwise)
                    k = min(flight[s.label], len(sent)) - 1  # every slot's first request
                    path[s.label] = (
                        (min(sent) - t, sorted(sent)[k] - t, max(answered) - t)
                        if sent
                        else (math.nan, math.nan, math.nan)
                    )
    alone = http_alone(Automatic1111Backend, urls[0], jobs, a.repeat) if not a.only else None
    server.terminate()
    print(
        f"{len(jobs)} panels at {a.dpi} dpi, {a.latency * 1000:.0f} ms a request, "
        f"{os.cpu_count()} cores, best of {a.repeat}"
    )
    print(
        f"{'setup':40} {'in flight':>9} {'ideal':>7} {'comicc':>7} {'ratio':>6}"
        f" {'CPU/panel':>10} {'here':>7} {'server':>7} {'floor':>7} {'first':>7} {'full':>7}"
        f" {'last':>7} {'tail':>7}"
    )
    for s in setups:
        ideal = a.latency * len(jobs) / flight[s.label]
        floor = a.latency * math.ceil(len(jobs) / flight[s.label])
        wall = best[s.label]
        first, full, last = path[s.label]
        per_panel = 1000 * min(cpu[s.label]) / len(jobs)
        here_ms = 1000 * min(here[s.label]) / len(jobs)
        server_ms = 1000 * min(served[s.label]) / len(jobs)
        print(
            f"{s.label:40} {flight[s.label]:9d} {ideal:6.2f}s {wall:6.2f}s {wall / ideal:5.2f}x"
            f" {per_panel:7.1f} ms {here_ms:4.1f} ms {server_ms:4.1f} ms {floor:6.2f}s"
            f" {1000 * first:4.0f} ms {1000 * full:4.0f} ms {last:6.2f}s"
            f" {1000 * (wall - last):4.0f} ms"
        )
    if alone is not None:
        ideal = a.latency * len(jobs) / 8
        print(
            f"{'HTTP alone, 8 at once (no painting)':40} {8:9d} {ideal:6.2f}s {alone:6.2f}s"
            f" {alone / ideal:5.2f}x"
        )
    print(
        "CPU/panel: comicc's CPU time (this process and its worker processes, least of "
        "the rounds) per panel; here: the part of it spent in this process (the HTTP "
        "exchanges, the scheduling); server: the stand-in's; floor: whole rounds of requests "
        "at the latency; first / full / last / tail: the best round's first request sent, "
        "the one that took the last free slot, the last answer back, and the time from it "
        "to the end; HTTP alone: the same number of "
        "requests of one prepared body, 8 threads calling paint_on, nothing drawn or finished"
    )


def http_alone(kind: Any, url: str, jobs: list[Any], repeat: int) -> float:
    """The best time of ``len(jobs)`` img2img calls, 8 at once, of one body
    prepared beforehand: what the HTTP exchanges cost alone (comicc's client
    and the stand-in), without drawing or finishing anything."""
    from comicc.paint import plan_panel

    settings = {"url": url}
    if "concurrency" in (getattr(kind, "SETTINGS", None) or {}):
        settings["concurrency"] = "8"
    backend = kind(**settings)
    job = jobs[0]
    plan = plan_panel(job.panel, job.geom, backend.capabilities, variant=job.variant)
    request = backend.prepare(plan.request())
    backend.paint_on(request, url)  # a first connection for the timing's threads to copy
    best = math.inf
    lock = threading.Lock()
    left: list[int] = []

    def calls() -> None:
        while True:
            with lock:
                if not left:
                    return
                left.pop()
            backend.paint_on(request, url)

    for _ in range(repeat):
        left[:] = range(len(jobs))
        threads = [threading.Thread(target=calls) for _ in range(8)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        best = min(best, time.perf_counter() - t)
    return best


if __name__ == "__main__":
    main()
