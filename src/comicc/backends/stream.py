"""One HTTP exchange with hard limits: a total deadline, a size cap, a stop switch.

A server may be slow or hostile: dripping a byte at a time (which defeats a
per-read timeout), advertising or sending gigabytes, or never answering while
the user presses Ctrl-C. So every request runs on a short-lived daemon thread
that streams the body in chunks, checking between them the deadline (connect
+ whole answer), the size cap and whether it was abandoned; the calling thread
only waits -- a tenth of a second at a time -- for the answer, the deadline
or the build's stop switch (:meth:`ThreadSessions.close`). A caller therefore
gets its answer or an error by the deadline whatever the server does, and a
thread stuck in a socket read never keeps the process alive.

What comes back is a :class:`requests.Response` whose body is already read
(``.content``, ``.json()`` and ``.text`` work as usual).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import urllib3

from comicc import __version__

if TYPE_CHECKING:  # the stubs' name for what merge_environment_settings returns
    from requests.sessions import _Settings

USER_AGENT = f"comicc/{__version__}"
IMAGE_MAX_BYTES = 64 * 2**20  # an answer carrying an image (raw or base64 in JSON)
CHUNK = 1 << 16
POLL = 0.1  # seconds: how often a waiting caller looks at the deadline and the stop switch


class Stopped(Exception):
    """The build was stopped (Ctrl-C) while the request was in flight."""


class DeadlineExpired(Exception):
    """The whole exchange took longer than its deadline."""

    def __init__(self, seconds: float, answered: bool):
        super().__init__(f"no complete answer within {seconds:g} s")
        self.seconds = seconds
        self.answered = answered  # the headers came, the body did not finish


class TooLarge(Exception):
    """The answer is (or says it is) larger than the cap."""

    def __init__(self, limit: int, advertised: int | None):
        super().__init__(f"answer larger than {limit} bytes")
        self.limit = limit
        self.advertised = advertised


class Dropped(Exception):
    """The connection broke while the body was being read."""


class Session(requests.Session):
    """A requests session a build can stop: ``stopped`` is shared by every
    session of one :class:`ThreadSessions`, and so is ``environment`` (what
    :meth:`merge_environment_settings` worked out); ``retired`` marks a session
    an abandoned exchange may still be using (it is not handed out again)."""

    def __init__(
        self,
        stopped: threading.Event | None = None,
        environment: dict[tuple[Any, ...], _Settings] | None = None,
    ) -> None:
        super().__init__()
        self.headers["User-Agent"] = USER_AGENT
        self.stopped = stopped if stopped is not None else threading.Event()
        self.retired = False
        self._environment = environment if environment is not None else {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> _Settings:
        """requests' own, worked out once per server and options: with
        ``trust_env`` it reads every environment variable for the proxies on
        each request (0.4 to 0.9 ms of CPU on the bench machine, up to a third
        of a small request's), and a build's environment does not change: once for
        all the painting threads' sessions. A call that names proxies is never
        cached."""
        if proxies or not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        key = (urlsplit(url)[:2], stream, verify, cert)
        settings = self._environment.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, {}, stream, verify, cert)
            self._environment[key] = settings
        return {**settings, "proxies": dict(settings["proxies"])}  # the caller's to change


class ThreadSessions:
    """One session per painting thread (a Session is not promised to be
    thread-safe, and the scheduler paints several panels at once), all stopped
    together by :meth:`close`."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[Session] = []
        self.stopped = threading.Event()
        self._environment: dict[tuple[Any, ...], _Settings] = {}  # the sessions' own

    def get(self) -> Session:
        sess: Session | None = getattr(self._local, "session", None)
        if sess is None or sess.retired:
            sess = Session(self.stopped, self._environment)
            self._local.session = sess
            with self._lock:
                self._all = [s for s in self._all if not s.retired] + [sess]
        return sess

    def close(self) -> None:
        """Stop every exchange in flight (each raises :class:`Stopped` within
        :data:`POLL` seconds) and every later one; close the connections."""
        self.stopped.set()
        with self._lock:
            sessions, self._all = self._all, []
        for sess in sessions:
            with contextlib.suppress(Exception):  # best effort while stopping
                sess.close()


class _Exchange:
    """The request and its body, read on a daemon thread."""

    def __init__(
        self,
        sess: requests.Session,
        method: str,
        url: str,
        timeout: tuple[float, float],
        deadline: float,
        max_bytes: int,
        kw: dict[str, Any],
    ) -> None:
        self.sess, self.method, self.url = sess, method, url
        self.timeout, self.deadline, self.max_bytes, self.kw = timeout, deadline, max_bytes, kw
        self.done = threading.Event()
        self.abandoned = threading.Event()
        self.answered = False
        self.response: requests.Response | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            resp = self.sess.request(
                self.method, self.url, timeout=self.timeout, stream=True, **self.kw
            )
            self.answered = True
            try:
                self._read(resp)
            except BaseException:
                resp.close()  # never leave a half-read connection in the pool
                raise
            self.response = resp
        except BaseException as e:  # handed to the waiting caller
            self.error = e
        finally:
            self.done.set()

    def _read(self, resp: requests.Response) -> None:
        length = resp.headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > self.max_bytes:
            raise TooLarge(self.max_bytes, int(length))
        raw = resp.raw
        buf = bytearray()
        while True:
            if self.abandoned.is_set():
                raise Stopped
            if time.monotonic() >= self.deadline:
                raise DeadlineExpired(0.0, True)
            try:
                chunk = raw.read1(CHUNK, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError as e:
                raise requests.exceptions.ReadTimeout(str(e)) from e
            except (urllib3.exceptions.HTTPError, OSError) as e:
                raise Dropped(type(e).__name__) from e
            if not chunk:
                break
            buf += chunk
            if len(buf) > self.max_bytes:
                raise TooLarge(self.max_bytes, int(length) if length.isdigit() else None)
        # requests keeps a read body here (``.content`` returns it); there is no
        # public way to hand a response its body
        resp._content = bytes(buf)
        raw.release_conn()  # the body is read: the connection goes back to the pool

    def abandon(self) -> None:
        self.abandoned.set()
        if isinstance(self.sess, Session):
            self.sess.retired = True  # the daemon thread may still be reading with it


def exchange(
    sess: requests.Session,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float],
    max_bytes: int = IMAGE_MAX_BYTES,
    **kw: Any,
) -> requests.Response:
    """``method url`` with its whole answer read, or an exception: requests'
    own (connection refused, a socket timeout), :class:`DeadlineExpired` past
    ``timeout[1]`` seconds in all (``timeout[0]`` bounds connecting),
    :class:`TooLarge` past ``max_bytes``, :class:`Dropped`, or :class:`Stopped`
    once the session's build is stopped."""
    connect, total = timeout
    stopped = sess.stopped if isinstance(sess, Session) else None
    if stopped is not None and stopped.is_set():
        raise Stopped
    deadline = time.monotonic() + total
    job = _Exchange(sess, method, url, (min(connect, total), total), deadline, max_bytes, kw)
    thread = threading.Thread(target=job.run, name="comicc-http", daemon=True)
    thread.start()
    try:
        while not job.done.wait(POLL):
            if stopped is not None and stopped.is_set():
                raise Stopped
            if time.monotonic() >= deadline:
                raise DeadlineExpired(total, job.answered)
    except BaseException:  # the deadline, the stop switch, Ctrl-C in this thread
        job.abandon()
        raise
    if job.error is not None:
        if isinstance(job.error, DeadlineExpired):
            raise DeadlineExpired(total, True)
        raise job.error
    assert job.response is not None  # done without an error: the body was read
    return job.response
