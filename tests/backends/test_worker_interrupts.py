"""Ctrl-C while worker processes draw the requests and composite the answers of
a network backend (a book long enough for them, `--jobs 4`): exit 130, no
traceback, no book, no half-written file, and no worker process left behind."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from comicc.paint.scheduler import PROCESS_POOL_MIN_JOBS
from support.processes import ctrl_c_default

ANSWERED = 12  # requests answered before the fake hangs (and the build is stopped)


def script(url: str, panels: int) -> str:
    lines = ["title: Interrupted", "backend: automatic1111", f"automatic1111.url: {url}", ""]
    for page in range(1, -(-panels // 6) + 1):
        lines += [f"PAGE {page}", "layout: 2/2/2", ""]
        for k in range(1, 7):
            lines += [f"PANEL {k}", f"A quiet street, shot {page}.{k}.", f"{k}. HAMMY: Hello?", ""]
    return "\n".join(lines)


def processes_with(marker: str) -> list[int]:
    """The processes whose environment holds ``marker`` (the build and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or not Path("/proc/self/environ").exists(),
    reason="worker processes need two cores; finding them needs /proc",
)
def test_ctrl_c_with_worker_processes_leaves_nothing_behind(tmp_path, httpserver: HTTPServer):
    seen: list[int] = []
    lock = threading.Lock()
    hung = threading.Event()  # a request arrived after ANSWERED
    release = threading.Event()

    def img2img(request: Request) -> Response:
        with lock:
            seen.append(1)
            late = len(seen) > ANSWERED
        if late:
            hung.set()
            release.wait(30)
        body = {"images": request.get_json()["init_images"], "info": json.dumps({"seed": 1})}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/sdapi/v1/options").respond_with_json({})
    httpserver.expect_request("/sdapi/v1/samplers").respond_with_json([{"name": "Euler a"}])
    httpserver.expect_request("/sdapi/v1/sd-models").respond_with_json([])
    httpserver.expect_request("/sdapi/v1/img2img").respond_with_handler(img2img)
    panels = PROCESS_POOL_MIN_JOBS + 12
    path = tmp_path / "story.comic"
    path.write_text(script(httpserver.url_for("/").rstrip("/"), panels))
    out, cache = tmp_path / "story.pdf", tmp_path / "cache"
    marker = f"COMICC_TEST_RUN={uuid.uuid4().hex}"
    name, value = marker.split("=")
    proc = subprocess.Popen(
        [sys.executable, "-m", "comicc", "build", str(path), "-o", str(out), "--no-progress"]
        + ["--jobs", "4", "--dpi", "150", "--cache-dir", str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_default,
        env={**os.environ, "PYTHONUNBUFFERED": "1", name: value},
    )
    try:
        while not hung.wait(0.05):
            assert proc.poll() is None, proc.communicate()[1]
        for _ in range(200):  # the build, the forkserver and the workers are up
            if len(processes_with(marker)) >= 3:
                break
            time.sleep(0.05)
        assert len(processes_with(marker)) >= 3
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)  # a hang guard, not a speed requirement
        except subprocess.TimeoutExpired:  # the build, or a worker holding its pipes, lives on
            left = processes_with(marker)
            for pid in left:  # a failed test, never a hung test run
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            proc.communicate(timeout=60)
            pytest.fail(f"processes left after Ctrl-C: {left}")
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "comicc: interrupted" in err and "Traceback" not in err
    assert len(seen) < panels
    assert not out.exists() and not (tmp_path / "story.comic.lock").exists()
    assert [p.name for p in tmp_path.rglob("*") if ".tmp" in p.name] == []
    art = sorted(cache.rglob("*.jpg"))
    assert 1 <= len(art) <= len(seen)  # what was answered is kept, nothing half-written
    for _ in range(100):  # the workers end with the build (polled: no time limit asserted)
        left = processes_with(marker)
        if not left:
            break
        time.sleep(0.1)
    assert left == []
