"""`comicc preview` as a writer runs it: it prints the studio's address (a
free port of 127.0.0.1), the page answers there, every rebuild is logged, a
`--host` other than loopback is warned about, Ctrl-C stops it with exit 130,
and a bad port or a missing script is a usage error."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from comicc import cli
from support.processes import ctrl_c_default

SCRIPT = "title: On Screen\ndpi: 72\n\nPAGE 1\n\nPANEL 1\nA lighthouse.\n1. CAT: Hello.\n"
URL = re.compile(r"at (http://127\.0\.0\.1:(\d+)/) \(Ctrl-C to stop\)")


def start(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    script = tmp_path / "story.comic"
    script.write_text(SCRIPT, encoding="utf-8")
    return subprocess.Popen(
        [sys.executable, "-m", "comicc", "preview", str(script), "--cache-dir", "c", *extra],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_default,
    )


def read_until(proc: subprocess.Popen[str], pattern: re.Pattern[str]) -> tuple[re.Match[str], str]:
    """Read standard error line by line until ``pattern`` matches a line."""
    assert proc.stderr is not None
    seen = ""
    for line in proc.stderr:
        seen += line
        m = pattern.search(line)
        if m:
            return m, seen
    raise AssertionError(f"`{pattern.pattern}` never printed; stderr:\n{seen}")


@pytest.mark.slow  # a comicc process of its own
def test_preview_serves_the_book_until_ctrl_c(tmp_path):
    proc = start(tmp_path)
    try:
        m, seen = read_until(proc, URL)
        url = m.group(1)
        assert "warning" not in seen
        read_until(proc, re.compile(r"comicc: \[1\] 1 page"))
        book = requests.get(url + "api/book", timeout=30).json()
        assert book["title"] == "On Screen" and len(book["pages"]) == 1
        page = requests.get(url, timeout=30).text
        assert 'name="comicc-token"' in page
    finally:
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130, rest


@pytest.mark.slow  # a comicc process of its own
def test_another_host_is_warned_about(tmp_path):
    proc = start(tmp_path, "--host", "0.0.0.0")
    try:
        _, seen = read_until(proc, re.compile(r"studio for .* at http://0\.0\.0\.0:\d+/"))
        assert "warning: listening on 0.0.0.0" in seen
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


@pytest.mark.slow  # a comicc process of its own
def test_open_opens_the_studio_in_the_browser(tmp_path):
    # the `webbrowser` module runs $BROWSER: here a script that notes the address
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n', encoding="utf-8")
    browser.chmod(0o755)
    proc = start(tmp_path, "--open", env={**os.environ, "BROWSER": f"{browser} %s"})
    try:
        m, _ = read_until(proc, URL)
        deadline = time.monotonic() + 60
        while not (opened.exists() and opened.read_text().strip()):
            assert time.monotonic() < deadline, "the browser was not started"
            time.sleep(0.05)
        assert opened.read_text().strip() == m.group(1)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)


@pytest.mark.parametrize("argv", [["--port", "70000"], ["--port", "x"]])
def test_bad_ports_are_usage_errors(argv, tmp_path, capsys):
    (tmp_path / "s.comic").write_text(SCRIPT, encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        cli.main(["preview", str(tmp_path / "s.comic"), *argv])
    assert e.value.code == 2
    assert "port" in capsys.readouterr().err


def test_a_missing_script_is_a_usage_error(tmp_path, capsys):
    assert cli.main(["preview", str(tmp_path / "nope.comic")]) == 2
    assert "no such script" in capsys.readouterr().err
