"""The command line under stress: Ctrl-C in the middle of a build, and a bug
inside comicc. Neither may leave a half-written output or show a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from werkzeug import Response

from comicc import cli
from support import ROOT


def test_ctrl_c_during_a_build_writes_nothing_and_exits_130(tmp_path, httpserver):
    """A slow Automatic1111 fake: interrupt while the first panel is painting."""
    first = threading.Event()

    def options(_req):
        return Response("{}", content_type="application/json")

    def slow_paint(_req):
        first.set()
        time.sleep(5)
        return Response("{}", status=500)

    httpserver.expect_request("/sdapi/v1/options").respond_with_handler(options)
    httpserver.expect_request("/sdapi/v1/samplers").respond_with_json([{"name": "Euler a"}])
    httpserver.expect_request("/sdapi/v1/sd-models").respond_with_json([])
    httpserver.expect_request("/sdapi/v1/img2img").respond_with_handler(slow_paint)
    script = tmp_path / "story.comic"
    text = (ROOT / "examples" / "heist.comic").read_text()
    script.write_text(
        text.replace(
            "backend: draft",
            f"backend: automatic1111\nautomatic1111.url: {httpserver.url_for('/').rstrip('/')}",
        )
    )
    out = tmp_path / "story.pdf"
    proc = subprocess.Popen(
        [sys.executable, "-m", "comicc", "build", str(script), "-o", str(out), "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert first.wait(20), "the build never reached the painting stage"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".story.pdf*"))


def test_an_internal_error_asks_for_a_bug_report(monkeypatch, capsys, tmp_path):
    script = tmp_path / "ok.comic"
    script.write_text("title: x\n\nPAGE 1\n\nPANEL 1\nA cat.\n")

    def boom(_args):
        raise RuntimeError("simulated bug")

    monkeypatch.setitem(cli.COMMANDS, "check", boom)
    assert cli.main(["check", str(script)]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "bug" in err and "Traceback" not in err
    assert cli.main(["check", str(script), "--debug"]) == 3
    assert "Traceback" in capsys.readouterr().err
