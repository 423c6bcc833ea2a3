"""Real builds (``python -m comicc build``) against hostile servers on 127.0.0.1.

What the security review found, each checked end to end: an error page echoing
the key, a script sending the key to a host it names, a 10 GB answer, a server
dripping a byte at a time, Ctrl-C while a request hangs, and a 429 storm with
a one-hour Retry-After. Every build runs in a subprocess; its ``timeout=`` is
a hang guard (a generous bound so a regression fails instead of hanging the
suite), never a speed requirement.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from support.fakes_stability_openai import KEY as FAKE_KEY
from support.fakes_stability_openai import FakeStability
from support.hostile import drip, echo, hang, huge, rate_limited, serve
from support.processes import ctrl_c_default
from support.servers import ALLOW_KEY_HOSTS_ENV, base_url

KEY = "sk-hostile-test-0123456789abcdefXYZ"  # never a real key
HANG_GUARD = 120  # seconds: only so a regression cannot hang the suite

PANELS = (
    "A kitchen at night, a wheel of cheese on the counter.",
    "A hamster peers over the counter.",
    "A bear stands in the doorway.",
)


def write_script(tmp_path: Path, *settings: str, panels: tuple[str, ...] = PANELS) -> Path:
    body = "".join(f"PANEL {i}\n{what}\n\n" for i, what in enumerate(panels, 1))
    header = "\n".join(("title: Hostile", "backend: stability", "dpi: 72", *settings))
    path = tmp_path / "story.comic"
    path.write_text(f"{header}\n\nPAGE 1\n\n{body}", encoding="utf-8")
    return path


def environment(
    tmp_path: Path, *, allow: str | None = "127.0.0.1", key: str = KEY
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMICC_")}
    env["COMICC_CONFIG"] = str(tmp_path / "config")
    env["STABILITY_API_KEY"] = key
    if allow is not None:
        env[ALLOW_KEY_HOSTS_ENV] = allow
    return env


def build_args(path: Path) -> list[str]:
    out = path.with_suffix(".pdf")
    cache = path.parent / "cache"
    return [sys.executable, "-m", "comicc", "build", str(path), "-o", str(out)] + [
        "--cache-dir",
        str(cache),
        "--no-progress",
    ]


def build(
    path: Path, env: dict[str, str], preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        build_args(path),
        cwd=path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,  # hang guard, not a speed requirement
        preexec_fn=preexec,
    )


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_clean_failure(done: subprocess.CompletedProcess[str]) -> None:
    """Exit 1 with a message: no traceback, no internal error."""
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


# ------------------------------------------------------------ item 2: keys
@pytest.mark.parametrize(
    "status, form, key_from",
    [
        (401, "text", "environment"),
        (401, "json", "keys.toml"),
        (500, "json", "environment"),
        (500, "text", "keys.toml"),
    ],
)
def test_a_server_echoing_the_key_never_gets_it_shown_or_stored(tmp_path, status, form, key_from):
    env = environment(tmp_path)
    if key_from == "keys.toml":
        del env["STABILITY_API_KEY"]
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "keys.toml").write_text(f'STABILITY_API_KEY = "{KEY}"\n')
    with serve(echo(status, form)) as server:
        path = write_script(tmp_path, f"stability.url: {server.url}", panels=PANELS[:1])
        done = build(path, env)
    assert server.seen, done.stderr
    assert KEY in server.seen[0].headers["Authorization"]  # and it was echoed back
    assert_clean_failure(done)
    assert "HTTP" in done.stderr  # the failure itself is reported
    assert KEY not in done.stderr and KEY not in done.stdout
    for name, data in files_under(tmp_path).items():
        if name != "config/keys.toml":
            assert KEY.encode() not in data, name


# ------------------------------------------------------- item 3: key hosts
def test_a_key_is_not_sent_to_a_local_server_without_the_users_allowance(tmp_path):
    with serve(echo(200)) as server:
        path = write_script(tmp_path, f"stability.url: {server.url}")
        done = build(path, environment(tmp_path, allow=None))
    assert_clean_failure(done)
    assert server.seen == []  # refused before any request
    assert "story.comic:4:" in done.stderr and f"stability.url: {server.url}" in done.stderr
    assert "does not send `STABILITY_API_KEY`" in done.stderr
    assert ALLOW_KEY_HOSTS_ENV in done.stderr  # the hint says how to allow it
    assert not path.with_suffix(".pdf").exists()


def test_a_key_is_never_sent_over_plain_http_to_a_remote_host(tmp_path):
    path = write_script(tmp_path, "stability.url: http://evil.example/")
    done = build(path, environment(tmp_path, allow="*"))  # a wildcard never covers plain http
    assert_clean_failure(done)
    assert "story.comic:4:" in done.stderr and "plain http" in done.stderr


def test_with_the_allowance_the_key_goes_there_and_a_warning_says_so(tmp_path, httpserver):
    fake = FakeStability(httpserver, out_size=(1024, 1024))
    path = write_script(tmp_path, f"stability.url: {base_url(httpserver)}")
    done = build(path, environment(tmp_path, allow="127.0.0.1", key=FAKE_KEY))
    fake.verify()
    assert done.returncode == 0, done.stderr
    assert len(fake.seen) == 3
    warning = f"warning: sending `STABILITY_API_KEY` to 127.0.0.1:{httpserver.port}"
    assert done.stderr.count(warning) == 1  # once per host, not per request


# ----------------------------------------------- item 4: a 10 GB answer
def _limit_memory() -> None:
    limit = 1536 * 2**20  # 1.5 GiB of address space: a regression fails, not the machine
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize("announce", [True, False])
def test_a_huge_answer_is_refused_within_bounded_memory(tmp_path, announce):
    with serve(huge(announce=announce)) as server:
        path = write_script(tmp_path, f"stability.url: {server.url}")
        done = build(path, environment(tmp_path), preexec=_limit_memory)
    assert_clean_failure(done)
    assert "MemoryError" not in done.stderr
    assert "larger than 64.0 MiB" in done.stderr
    if announce:
        assert "it announced 10.0 GiB" in done.stderr
    assert not path.with_suffix(".pdf").exists()


# ---------------------------------------- item 5: a slow server and Ctrl-C
def test_a_dripping_server_cannot_outlast_the_timeout(tmp_path):
    with serve(drip(interval=0.2)) as server:
        path = write_script(tmp_path, f"stability.url: {server.url}", "stability.timeout: 2")
        done = build(path, environment(tmp_path))
    assert_clean_failure(done)
    assert "did not send its whole answer within 2 s" in done.stderr


def _interrupted_build(tmp_path: Path, presses: int) -> tuple[int, str, Path]:
    with serve(hang()) as server:
        path = write_script(tmp_path, f"stability.url: {server.url}")
        proc = subprocess.Popen(
            build_args(path),
            cwd=tmp_path,
            env=environment(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=ctrl_c_default,
        )
        try:
            for _ in range(400):  # until a request hangs (bounded: 40 s at most)
                if server.seen or proc.poll() is not None:
                    break
                time.sleep(0.1)
            assert server.seen, "the build never sent a request"
            for _ in range(presses):
                proc.send_signal(signal.SIGINT)
                time.sleep(0.05)
            _, stderr = proc.communicate(timeout=60)  # hang guard, not a speed requirement
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return proc.returncode, stderr, path


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_a_build_whose_request_hangs(tmp_path, presses):
    code, stderr, path = _interrupted_build(tmp_path, presses)
    # a second Ctrl-C that lands while the interpreter is already finishing
    # meets the default handler: killed by SIGINT, which the shell shows as 130 too
    expected = (130,) if presses == 1 else (130, -signal.SIGINT)
    assert code in expected, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert not path.with_suffix(".pdf").exists()
    # no temp file, no half-written art (a panel's cache lock file may stay: it is
    # how builds take turns, and holds nothing; so may the page's layout memo,
    # written whole before the first request, which the next build reuses)
    left = sorted(p for p in files_under(tmp_path) if not p.endswith(".lock"))
    memo = [p for p in left if p.startswith("cache/layout/") and p.endswith(".page")]
    assert sorted(set(left) - set(memo)) == ["story.comic"], left


# ------------------------------------------------- item 6: Retry-After
def test_a_long_retry_after_stops_the_backend_after_one_request(tmp_path, httpserver):
    fake = FakeStability(httpserver, out_size=(1024, 1024))
    path = write_script(tmp_path, f"stability.url: {base_url(httpserver)}")
    first = build(path, environment(tmp_path, key=FAKE_KEY))
    assert first.returncode == 0, first.stderr
    assert len(fake.seen) == 3
    # one panel changes: two stay cached; the service now rate-limits for an hour
    with serve(rate_limited("3600")) as server:
        text = path.read_text().replace(base_url(httpserver), server.url)
        path.write_text(text.replace("A bear stands", "A bear sits"))
        done = build(path, environment(tmp_path, key=FAKE_KEY))
    assert_clean_failure(done)
    assert len(server.seen) == 1  # one request for the service, not one per panel
    assert "stability asks to wait 60 min" in done.stderr
    assert "2 of 3 panels are cached" in done.stderr
    assert done.stderr.count("asks to wait") == 1


def test_a_long_retry_after_on_a_fresh_build_sends_one_request(tmp_path):
    with serve(rate_limited("3600")) as server:
        path = write_script(tmp_path, f"stability.url: {server.url}")
        done = build(path, environment(tmp_path))
    assert_clean_failure(done)
    assert len(server.seen) == 1
    assert "0 of 3 panels are cached" in done.stderr
