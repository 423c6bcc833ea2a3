"""The command line under stress: Ctrl-C in the middle of a build, and a bug
inside comicc. Neither may leave a half-written output or show a traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

from werkzeug import Request, Response

from comicc import cli
from support import ROOT
from support.processes import ctrl_c_default


def test_ctrl_c_during_a_build_writes_nothing_and_exits_130(tmp_path, httpserver):
    """Interrupt while the first panel is being painted (one at a time, by an
    Automatic1111 fake that answers only once the build has stopped): exit 130,
    no traceback, no book, no lock file, no temporary file, and only the panel
    already in flight reaches the art cache; the other panels are never asked for."""
    painting = threading.Event()  # the first request arrived
    answer = threading.Event()  # the test lets the fake answer
    requests: list[dict] = []

    def img2img(request: Request) -> Response:
        requests.append(request.get_json())
        painting.set()
        answer.wait()
        body = {"images": request.get_json()["init_images"], "info": json.dumps({"seed": 1})}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/sdapi/v1/options").respond_with_json({})
    httpserver.expect_request("/sdapi/v1/samplers").respond_with_json([{"name": "Euler a"}])
    httpserver.expect_request("/sdapi/v1/sd-models").respond_with_json([])
    httpserver.expect_request("/sdapi/v1/img2img").respond_with_handler(img2img)
    script = tmp_path / "story.comic"
    text = (ROOT / "examples" / "heist.comic").read_text()
    script.write_text(
        text.replace(
            "backend: draft",
            f"backend: automatic1111\nautomatic1111.url: {httpserver.url_for('/').rstrip('/')}",
        )
    )
    panels = text.count("\nPANEL ")
    out, cache = tmp_path / "story.pdf", tmp_path / "cache"
    proc = subprocess.Popen(
        [sys.executable, "-m", "comicc", "build", str(script), "-o", str(out), "--no-progress"]
        + ["--jobs", "1", "--cache-dir", str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_default,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    try:
        while not painting.wait(0.05):  # until the first paint request, unless it ended
            assert proc.poll() is None, proc.communicate()[1]
        proc.send_signal(signal.SIGINT)
        err = ""
        while "interrupted" not in err:  # the build has stopped ...
            line = proc.stderr.readline()
            assert line, err
            err += line
        answer.set()  # ... before the panel in flight comes back
        err += proc.communicate()[1]
    finally:
        answer.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "comicc: interrupted" in err and "Traceback" not in err
    assert len(requests) == 1 < panels
    assert not out.exists() and not (tmp_path / "story.comic.lock").exists()
    assert [p.name for p in tmp_path.rglob("*") if ".tmp" in p.name] == []
    art = sorted(cache.rglob("*.jpg"))
    assert len(art) == 1  # what was painted is kept; a rebuild will not pay for it again


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
