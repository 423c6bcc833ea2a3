"""The scheduler's rate-limit policy: who may send a request to a service now.

A 429 asking to wait up to the user's maximum (``$COMICC_MAX_RETRY_WAIT`` or
``max_retry_wait`` in config.toml, default 120 s; never the script's choice)
is waited out exactly; a longer one stops every use of that backend for the
rest of the build -- one request, one message naming the wait and how much is
cached -- instead of hammering the service.
"""

from __future__ import annotations

import threading
from typing import Any

from comicc.backends import MAX_RETRY_WAIT_ENV, RateLimited


def asks_too_long(e: BaseException | None, limit: float) -> bool:
    """A 429 asking to wait longer than ``limit`` seconds: stop, don't hammer."""
    return isinstance(e, RateLimited) and e.retry_after is not None and e.retry_after > limit


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class BackendStopped(Exception):
    """A job was not sent: its backend asked to wait too long, or the build stopped."""


class RateGate:
    """Per network backend, who may send a request now.

    Until a service has answered once nobody knows whether it is rate limiting,
    so its first request goes alone (the others wait for that answer); after a
    429 asking to wait longer than the user's maximum, no request goes to it
    again in this build (``stopped``: backend -> the 429 and the job that got it).
    """

    def __init__(self, cancelled: threading.Event, limit: float) -> None:
        self._cond = threading.Condition()
        self._probing: dict[str, int] = {}  # backend -> thread id of its first request
        self._open: set[str] = set()
        self.stopped: dict[str, tuple[RateLimited, Any]] = {}
        self.cancelled = cancelled
        self.limit = limit

    def enter(self, name: str) -> None:
        """Wait for our turn; :class:`BackendStopped` when none will come."""
        me = threading.get_ident()
        with self._cond:
            while True:
                if name in self.stopped or self.cancelled.is_set():
                    raise BackendStopped(name)
                if name in self._open or self._probing.get(name) == me:
                    return
                if name not in self._probing:
                    self._probing[name] = me
                    return
                self._cond.wait(0.1)  # wakes for the answer, or to see a Ctrl-C

    def answered(self, name: str, error: BaseException | None, job: Any) -> None:
        """One answer from ``name``: a long 429 stops it, a short one keeps the
        first request alone (it will retry), anything else opens the gate."""
        with self._cond:
            if isinstance(error, RateLimited) and asks_too_long(error, self.limit):
                self.stopped.setdefault(name, (error, job))
            elif not isinstance(error, RateLimited):
                self._open.add(name)
            self._cond.notify_all()

    def leave(self, name: str) -> None:
        """The first request's retries are over, whatever they gave: let the others go."""
        with self._cond:
            if self._probing.get(name) == threading.get_ident():
                self._open.add(name)
            self._cond.notify_all()


def stopped_message(
    name: str, error: RateLimited, cached: int, total: int, limit: float
) -> tuple[str, str]:
    """(message, hint) for a backend stopped by a long Retry-After."""
    message = (
        f"{name} asks to wait {duration(error.retry_after or 0.0)} (rate limited); "
        f"stopped painting with it: rerun later: {cached} of {total} panels are cached"
    )
    hint = (
        f"comicc waits at most {duration(limit)}; to wait longer, set "
        f"{MAX_RETRY_WAIT_ENV}=SECONDS or `max_retry_wait` in config.toml"
    )
    return message, hint
