"""The scheduler's rate-limit policy: who may send a request to a service now.

A 429 asking to wait up to the user's maximum (``$COMICC_MAX_RETRY_WAIT`` or
``max_retry_wait`` in config.toml, default 120 s; never the script's choice)
is waited out exactly; a longer one stops every use of that backend for the
rest of the build -- one request, one message naming the wait and how much is
cached -- instead of hammering the service.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from comicc.backends import MAX_RETRY_WAIT_ENV, RateLimited
from comicc.diagnostics import Diagnostic, Severity
from comicc.paint.jobs import PaintOutcome

if TYPE_CHECKING:  # loaded by the first retry: a build from the cache needs none
    import tenacity


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


@runtime_checkable
class Closable(Protocol):
    """A backend holding work in flight (a paid prediction being polled) that
    it can cancel when the build stops."""

    def close(self) -> None: ...


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


class EndpointSlots:
    """How many requests are in flight, per endpoint and in all.

    Each network backend's endpoints (its servers) take ``limit`` requests at
    once (the backend's ``concurrency``; None: no limit of its own); ``total``
    (``--jobs``) caps them all together. :meth:`acquire` waits for a free slot
    and names the endpoint: the least busy one, taking turns on a tie, so two
    servers share the work. Waits end on Ctrl-C."""

    def __init__(self, cancelled: threading.Event, total: int) -> None:
        self._cond = threading.Condition()
        self._busy: dict[tuple[str, str], int] = {}
        self._in_flight = 0
        self._turn: dict[str, int] = {}  # backend -> where the next tie starts
        self.total = max(1, total)
        self.cancelled = cancelled

    def acquire(self, name: str, endpoints: tuple[str, ...], limit: int | None) -> str:
        """A free slot on one of ``endpoints`` of backend ``name``: its endpoint;
        :class:`BackendStopped` when the build was cancelled while waiting."""
        with self._cond:
            while True:
                if self.cancelled.is_set():
                    raise BackendStopped(name)
                if self._in_flight < self.total:
                    turn = self._turn.get(name, 0) % max(1, len(endpoints))
                    order = endpoints[turn:] + endpoints[:turn]
                    free = [
                        e for e in order if limit is None or self._busy.get((name, e), 0) < limit
                    ]
                    if free:
                        endpoint = min(free, key=lambda e: self._busy.get((name, e), 0))
                        self._turn[name] = endpoints.index(endpoint) + 1
                        self._busy[(name, endpoint)] = self._busy.get((name, endpoint), 0) + 1
                        self._in_flight += 1
                        return endpoint
                self._cond.wait(0.1)  # wakes on a release, or to see a Ctrl-C

    def release(self, name: str, endpoint: str) -> None:
        with self._cond:
            self._busy[(name, endpoint)] -= 1
            self._in_flight -= 1
            self._cond.notify_all()


class DrawGate:
    """At most ``places`` jobs at once between their start and their request
    drawn (planned, looked up in the cache, locked, drawn by a worker process).

    The threads that run ahead of the slots all start at once: without a limit
    each plans and locks its panel in this process while the worker processes
    draw the first requests, and the slots fill later (at ``--jobs 8`` the
    first request went out 65-88 ms after the start, against 45-54 ms with
    the gate: docs/benchmarks.md). The worker processes draw one request each
    at a time, so a place for each and one to spare keeps them busy. A job
    waiting for another build's lock on its panel keeps its place (that build
    is painting it). :meth:`take` waits for a place (None once the build is
    cancelled); the place is given back once, by the first
    :meth:`Place.release`."""

    def __init__(self, cancelled: threading.Event, places: int) -> None:
        self._free = threading.Semaphore(max(1, places))
        self.cancelled = cancelled

    def take(self) -> Place | None:
        while not self._free.acquire(timeout=0.1):  # wakes to see a Ctrl-C
            if self.cancelled.is_set():
                return None
        return Place(self._free)


class Place:
    """A job's place in a :class:`DrawGate` (or none: ``Place(None)``)."""

    def __init__(self, free: threading.Semaphore | None) -> None:
        self._free = free

    def release(self) -> None:
        free, self._free = self._free, None
        if free is not None:
            free.release()


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


def retry_wait(retry_state: tenacity.RetryCallState) -> float:
    """How long the scheduler waits before a retry: what the service asked for on
    a 429 (exactly: a longer wait than the user's maximum is never retried, see
    :func:`asks_too_long`), else exponential backoff with jitter."""
    import tenacity

    exc = retry_state.outcome.exception() if retry_state.outcome else None
    if isinstance(exc, RateLimited) and exc.retry_after:
        return float(exc.retry_after)
    return tenacity.wait_exponential_jitter(initial=1, max=30)(retry_state)


def say_stopped(gate: RateGate, outcomes: list[PaintOutcome]) -> None:
    """One error per backend that asked to wait too long, on the job that heard
    it: how long, and how much of the book is cached for the rerun."""
    for name, (error, job) in gate.stopped.items():
        mine = [o for o in outcomes if o.job.panel.settings.backend == name]
        cached = sum(1 for o in mine if o.ok)
        message, hint = stopped_message(name, error, cached, len(mine), gate.limit)
        target = next((o for o in mine if o.job is job), mine[0] if mine else None)
        if target is not None:
            target.diagnostics.append(
                Diagnostic(
                    Severity.ERROR, "backend-rate-limited", message, job.panel.span, hints=(hint,)
                )
            )
