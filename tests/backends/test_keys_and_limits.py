"""Unit checks behind the hostile-server builds: where keys may go, keys taken
out of a server's words at the source, the total deadline and size cap of one
exchange, the stop switch, and the scheduler's Retry-After policy."""

from __future__ import annotations

import threading

import pytest
import requests

from comicc.backends import (
    Backend,
    Capabilities,
    PaintRequest,
    PaintResult,
    RateLimited,
    Rejected,
    Transient,
    Unavailable,
    http,
)
from comicc.backends.config import max_retry_wait
from comicc.backends.keys import api_key, key_for, key_host_problem, scrub
from comicc.backends.stability import StabilityBackend
from comicc.diagnostics import redact
from comicc.paint import ArtCache, Painter, PaintJob
from support.hostile import drip, echo, hang, huge, serve
from support.panels import make_panel, two_speaker_geom

KEY = "sk-unit-test-0123456789abcdef"
OFFICIAL = ("api.stability.ai",)


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch, tmp_path):
    monkeypatch.setenv("COMICC_CONFIG", str(tmp_path / "config"))
    monkeypatch.delenv("COMICC_ALLOW_KEY_HOSTS", raising=False)
    monkeypatch.delenv("COMICC_MAX_RETRY_WAIT", raising=False)
    monkeypatch.setenv("STABILITY_API_KEY", KEY)


def allowed(url: str) -> bool:
    return key_host_problem("stability", "STABILITY_API_KEY", url, OFFICIAL) is None


# ------------------------------------------------------------ key hosts
def test_the_official_host_over_https_needs_nothing():
    assert allowed("https://api.stability.ai")
    assert not allowed("http://api.stability.ai")  # plain http to a remote host
    assert not allowed("https://evil.example")
    assert not allowed("http://127.0.0.1:8000")  # loopback too needs the allowance


def test_the_allowance_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("COMICC_ALLOW_KEY_HOSTS", "127.0.0.1, sd.example.org")
    assert allowed("http://127.0.0.1:8000") and allowed("https://sd.example.org/v1")
    assert allowed("http://sd.example.org")  # named explicitly: plain http allowed
    assert not allowed("https://other.example")


def test_a_wildcard_never_covers_plain_http_to_a_remote_host(monkeypatch):
    monkeypatch.setenv("COMICC_ALLOW_KEY_HOSTS", "*")
    assert allowed("https://any.example") and allowed("http://localhost:7860")
    assert not allowed("http://evil.example")


def test_the_allowance_comes_from_config_toml(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text('allow_key_hosts = ["127.0.0.1:9000"]\n')
    assert allowed("http://127.0.0.1:9000") and not allowed("http://127.0.0.1:9001")


def test_a_refused_url_is_a_problem_of_the_url_setting_before_any_request():
    [problem] = StabilityBackend.validate_settings({"url": "http://evil.example/"})
    assert problem.key == "url" and "plain http" in problem.message
    with pytest.raises(Unavailable) as e:
        key_for("STABILITY_API_KEY", "stability", "https://evil.example/x", OFFICIAL)
    assert e.value.setting == "url" and "COMICC_ALLOW_KEY_HOSTS" in (e.value.hint or "")


def test_keys_from_keys_toml_are_registered_as_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("STABILITY_API_KEY")
    secret = "sk-from-keys-toml-abcdef0123456789"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "keys.toml").write_text(f'STABILITY_API_KEY = "{secret}"\n')
    assert api_key("STABILITY_API_KEY") == secret
    assert secret not in redact(f"the server said: {secret}")
    assert secret not in scrub(f"the server said: {secret}")


# --------------------------------------------------- keys out at the source
@pytest.mark.parametrize("form", ["text", "json"])
def test_an_echoed_key_is_taken_out_of_the_error(form):
    other = "sk-never-registered-9876543210zyx"  # only the request knows it
    with serve(echo(401, form)) as server:
        resp = http.call(
            http.session(),
            "POST",
            server.url + "/v2",
            backend="stability",
            timeout=(5.0, 30.0),
            headers={"Authorization": f"Bearer {other}"},
            data=b"x",
        )
    assert other in resp.text  # the server did echo it
    error = http.status_error(resp, "stability")
    assert error is not None and "HTTP 401" in str(error)
    assert other not in str(error) and other not in http.short_body(resp)


# ------------------------------------------------ deadline, size, stop switch
def test_the_deadline_covers_the_whole_answer_not_each_read():
    with serve(drip(interval=0.1)) as server:
        with pytest.raises(Transient) as e:
            http.call(http.session(), "GET", server.url, backend="stability", timeout=(5.0, 1.0))
    assert "did not send its whole answer within 1 s" in str(e.value)


def test_an_answer_over_the_cap_is_refused():
    with serve(huge(advertised=50 * 2**20)) as server:
        with pytest.raises(Rejected) as e:
            http.call(
                http.session(), "GET", server.url, backend="x", timeout=(5, 30), max_bytes=2**20
            )
    assert "larger than 1.0 MiB" in str(e.value) and "announced 50.0 MiB" in str(e.value)
    with serve(huge(advertised=50 * 2**20, announce=False)) as server:
        with pytest.raises(Rejected) as e:
            http.call(
                http.session(), "GET", server.url, backend="x", timeout=(5, 30), max_bytes=2**20
            )
    assert "larger than 1.0 MiB" in str(e.value) and "announced" not in str(e.value)


def test_closing_the_sessions_stops_a_request_in_flight():
    sessions = http.ThreadSessions()
    failure: list[BaseException] = []

    def paint() -> None:
        try:
            http.call(sessions.get(), "GET", server.url, backend="x", timeout=(5, 60))
        except BaseException as e:  # recorded for the test
            failure.append(e)

    with serve(hang()) as server:
        worker = threading.Thread(target=paint)
        worker.start()
        for _ in range(200):  # until the request is in (bounded)
            if server.seen:
                break
            threading.Event().wait(0.05)
        sessions.close()
        worker.join(timeout=30)  # hang guard, not a speed requirement
        assert not worker.is_alive()
    assert isinstance(failure[0], Transient) and "stopped" in str(failure[0])


# -------------------------------------------------------------- Retry-After
class Limited(Backend):
    """A network backend that is rate limited ``times`` times, then paints."""

    name = "limited"
    capabilities = Capabilities(needs_network=True)

    def __init__(self, retry_after: float, times: int = 1000):
        super().__init__()
        self.retry_after, self.times, self.calls = retry_after, times, 0
        self.lock = threading.Lock()

    def paint(self, request: PaintRequest) -> PaintResult:
        with self.lock:
            self.calls += 1
            limited = self.calls <= self.times
        if limited:
            raise RateLimited("rate limited (HTTP 429)", retry_after=self.retry_after)
        return PaintResult(image=request.init_image.copy())


def jobs(n: int) -> list[PaintJob]:
    return [
        PaintJob(make_panel(backend="limited", dpi=72, number=i), two_speaker_geom(), 1)
        for i in range(1, n + 1)
    ]


def test_a_wait_within_the_users_maximum_is_honoured_exactly(tmp_path, monkeypatch):
    monkeypatch.setenv("COMICC_MAX_RETRY_WAIT", "600")
    assert max_retry_wait() == 600
    backend = Limited(retry_after=200, times=1)
    slept: list[float] = []
    painter = Painter(
        {"limited": backend}, ArtCache(tmp_path), progress=False, workers=1, sleep=slept.append
    )
    [out] = painter.paint(jobs(1))
    assert out.ok and slept == [200.0] and backend.calls == 2


def test_a_longer_wait_stops_the_backend_after_one_request(tmp_path):
    backend = Limited(retry_after=3600)
    slept: list[float] = []
    painter = Painter(
        {"limited": backend}, ArtCache(tmp_path), progress=False, workers=3, sleep=slept.append
    )
    outcomes = painter.paint(jobs(3))
    assert backend.calls == 1 and slept == []  # one request, no waiting, no hammering
    errors = [d for o in outcomes for d in o.diagnostics if d.is_error]
    assert [d.code for d in errors] == ["backend-rate-limited"]
    assert "asks to wait 60 min" in errors[0].message and "0 of 3 panels" in errors[0].message
    assert "COMICC_MAX_RETRY_WAIT" in errors[0].hints[0]


class SelfHosted(Backend):
    """A self-hosted server (no 429s) that paints only while two requests are in
    it at once: a first request held back until it answers would wait forever."""

    name = "selfhosted"
    capabilities = Capabilities(needs_network=True, rate_limited=False, concurrency=2)

    def __init__(self) -> None:
        super().__init__()
        self.together = threading.Barrier(2, timeout=60)  # a hang guard, not a speed limit

    def paint(self, request: PaintRequest) -> PaintResult:
        self.together.wait()
        return PaintResult(image=request.init_image.copy())


def test_a_self_hosted_servers_first_requests_go_together(tmp_path):
    """Nothing to learn about rate limits from a server that queues: the first
    request does not go alone (a hosted API's does, see above)."""
    backend = SelfHosted()
    painter = Painter({"selfhosted": backend}, ArtCache(tmp_path), progress=False, workers=2)
    work = [
        PaintJob(make_panel(backend="selfhosted", dpi=72, number=i), two_speaker_geom(), 1)
        for i in (1, 2)
    ]
    outcomes = painter.paint(work)
    assert [(o.ok, o.diagnostics) for o in outcomes] == [(True, [])] * 2
    assert not backend.together.broken


def test_a_broken_max_retry_wait_falls_back_to_the_default(monkeypatch):
    monkeypatch.setenv("COMICC_MAX_RETRY_WAIT", "soon")
    assert max_retry_wait() == 120.0


def test_requests_exceptions_are_still_typed():
    with pytest.raises(Unavailable):
        http.call(http.session(), "GET", "http://127.0.0.1:1/", backend="x", timeout=(2, 5))
    assert issubclass(requests.exceptions.ReadTimeout, requests.exceptions.Timeout)
