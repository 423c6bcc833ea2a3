"""A ComfyUI job's life on one server: queued, waited for, cancelled, read.

:class:`ComfyUIJobs` is the part of :class:`~comicc.backends.comfyui.ComfyUIBackend`
that handles a job once its graph is built and its files are uploaded:

* ``POST {url}/prompt`` ``{prompt: graph, client_id, prompt_id}`` queues it
  under an id comicc chooses (so a job whose answer was lost can still be
  cancelled); a graph ComfyUI refuses, wholly (400) or partly (200 with
  ``node_errors``: the part it queued is cancelled), is ``Rejected``.
* Waiting: the server's websocket (:mod:`comicc.backends.comfyui_watch`) says
  when the job is done; ``GET {url}/history/{prompt_id}`` fetches the result
  (``{}`` = still queued or running), polled 0.25 s growing to 2 s apart
  without the websocket, and still every 5 s with it.
* Cancelling: ``POST /queue {"delete": [id]}``, then ``POST /interrupt
  {"prompt_id": id}`` when ``GET /queue`` shows it running; :meth:`close`
  (Ctrl-C) cancels every job still in flight.
* The finished history entry gives the first saved image, or the error the
  workflow ended with (out of memory and interruptions are ``Transient``).

Every call goes through :meth:`ComfyUIJobs._call`, bounded by the paint's
deadline (:class:`PerThread`, one per painting thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from comicc.backends import comfyui_workflow as wf
from comicc.backends import http
from comicc.backends.base import BackendError, Rejected, Transient
from comicc.backends.comfyui_watch import Job, Watch
from comicc.backends.settings import SettingValues

NAME = "comfyui"
PREFLIGHT_TIMEOUT = (3.0, 10.0)  # also bounds each call that cancels a job
POLL_FIRST, POLL_MAX = 0.25, 2.0
WS_RECHECK = 5.0  # with the websocket, the history is still read this often


class ComfyUIJobs:
    """Queue, follow and cancel the jobs of one ComfyUI backend (a mixin:
    :class:`~comicc.backends.comfyui.ComfyUIBackend` sets the state below)."""

    pool: http.ServerPool
    client_id: str
    use_websocket: bool
    sleep: Callable[[float], Any]  # the stop switch's wait unless injected
    clock: Callable[[], float]
    _stop: threading.Event
    _sessions: http.ThreadSessions
    _lock: threading.Lock
    _deadline: PerThread
    _inflight: dict[str, str]  # prompt_id -> server, queued (or maybe queued)
    _watches: dict[str, Watch]  # server -> its /ws

    def _call(
        self,
        method: str,
        url: str,
        timeout: tuple[float, float] | None = None,
        session: requests.Session | None = None,
        **kw: Any,
    ) -> requests.Response:
        """One call; without ``timeout``, at most 60 s and never past the paint's deadline."""
        if timeout is None:
            left = max(0.1, self._deadline.get() - self.clock())
            timeout = (min(10.0, left), min(60.0, left))
        return http.call(
            session or self._sessions.get(),
            method,
            url,
            backend=NAME,
            setting=self.pool.setting,
            timeout=timeout,
            **kw,
        )

    def _queue(
        self,
        base: str,
        graph: dict[str, Any],
        prompt_id: str,
        user_workflow: bool,
        o: SettingValues,
    ) -> str:
        """Queue ``graph`` as ``prompt_id`` (ComfyUI takes the client's id, so even
        a job whose answer was lost can be cancelled); the id the server uses."""
        with self._lock:
            self._inflight[prompt_id] = base
        body = {"prompt": graph, "client_id": self.client_id, "prompt_id": prompt_id}
        resp = self._call("POST", base + "/prompt", json=body)
        try:
            doc = resp.json()
        except ValueError:
            doc = None
        where = (
            f"check the workflow `{o.text('workflow')}`"
            if user_workflow
            else f"check `{NAME}.checkpoint`, `{NAME}.sampler` and `{NAME}.scheduler`"
        )
        if resp.status_code == 400:
            self._inflight.pop(prompt_id, None)  # refused: nothing was queued
            raise Rejected(
                f"ComfyUI refused the workflow: {wf.describe_node_errors(doc)}",
                reason="invalid-workflow",
                backend=NAME,
                setting="workflow" if user_workflow else None,
                hint=where,
            )
        http.raise_for_status(resp, NAME)
        if not isinstance(doc, dict):
            raise Transient(
                f"{http.host(base)} queued the workflow without an answer", backend=NAME
            )
        given = doc.get("prompt_id")
        queued = given if isinstance(given, str) and given else prompt_id
        if queued != prompt_id:
            with self._lock:
                self._inflight.pop(prompt_id, None)
                self._inflight[queued] = base
        if doc.get("node_errors"):
            # HTTP 200 with node_errors: ComfyUI queued the outputs that passed and
            # dropped the others. A graph with a broken node is the writer's to fix,
            # so the job is cancelled rather than left to paint half a workflow.
            with self._lock:
                self._inflight.pop(queued, None)
            self._cancel(base, queued)
            raise Rejected(
                "ComfyUI refused part of the workflow (the job it queued for the rest "
                f"was cancelled): {wf.describe_node_errors(doc)}",
                reason="invalid-workflow",
                backend=NAME,
                setting="workflow" if user_workflow else None,
                hint=where,
            )
        return queued

    def _watch(self, base: str) -> Watch | None:
        """The server's progress websocket, opened once in the background (None:
        switched off, or an https server: polling)."""
        if not self.use_websocket or urlsplit(base).scheme != "http":
            return None
        with self._lock:
            if base not in self._watches:
                self._watches[base] = Watch(base, self.client_id)
            return self._watches[base]

    def _wait(
        self, base: str, prompt_id: str, deadline: float, timeout: float, job: Job | None
    ) -> dict:
        delay = POLL_FIRST
        while True:
            resp = self._call("GET", f"{base}/history/{prompt_id}")
            http.raise_for_status(resp, NAME)
            try:
                doc = resp.json()
            except ValueError:
                doc = {}
            entry = doc.get(prompt_id) if isinstance(doc, dict) else None
            if isinstance(entry, dict) and (entry.get("status") or entry.get("outputs")):
                self._inflight.pop(prompt_id, None)  # done: nothing left to cancel
                return _finished(entry)
            if self._stop.is_set():
                raise Transient("the build was stopped", backend=NAME)
            if self.clock() >= deadline:
                where = f" ({job.describe()})" if job is not None else ""
                raise Transient(
                    f"ComfyUI did not finish within {timeout:g} s{where}; "
                    "the job was cancelled on the server",
                    backend=NAME,
                    setting="timeout",
                    hint=f"raise `{NAME}.timeout` if the queue is long",
                )
            left = max(0.0, deadline - self.clock())
            if job is not None and job.watch.alive():
                # the websocket says when the job is done; look anyway now and then
                job.wait(min(WS_RECHECK, left), self._stop)
            else:
                self.sleep(min(delay, left))
                delay = min(POLL_MAX, delay * 1.5)

    def _cancel(self, base: str, prompt_id: str) -> None:
        """Make sure ``prompt_id`` neither waits nor runs on ``base`` (best effort),
        on a session of its own (the build's may be closed already: Ctrl-C).

        ``POST /queue {"delete": [id]}`` removes a waiting job only; a running
        one is stopped by ``POST /interrupt {"prompt_id": id}``, sent only when
        ``GET /queue`` shows it running (a server older than targeted interrupts
        would stop whatever runs, maybe someone else's job)."""
        try:
            with http.session() as sess:
                self._call(
                    "POST",
                    base + "/queue",
                    PREFLIGHT_TIMEOUT,
                    session=sess,
                    json={"delete": [prompt_id]},
                )
                resp = self._call("GET", base + "/queue", PREFLIGHT_TIMEOUT, session=sess)
                running = http.json_object(_json(resp)).get("queue_running")
                if any(
                    isinstance(item, list) and len(item) > 1 and item[1] == prompt_id
                    for item in (running if isinstance(running, list) else [])
                ):
                    self._call(
                        "POST",
                        base + "/interrupt",
                        PREFLIGHT_TIMEOUT,
                        session=sess,
                        json={"prompt_id": prompt_id},
                    )
        except BackendError:
            pass

    def close(self) -> None:
        """Stop every wait and request in flight (the build was stopped), and
        cancel every job this backend queued that may still wait or run."""
        self._stop.set()
        with self._lock:
            inflight, self._inflight = dict(self._inflight), {}
            watches = list(self._watches.values())
        for prompt_id, base in inflight.items():
            self._cancel(base, prompt_id)
        for watch in watches:
            watch.close()
        self._sessions.close()


class PerThread(threading.local):
    """A value per thread (the scheduler paints several panels at once): the
    deadline of the paint each thread is in."""

    def __init__(self, value: Any):
        self.value = value

    def get(self) -> Any:
        return self.value

    def set(self, value: Any) -> None:
        self.value = value


def _json(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


# ------------------------------------------------------------------ results
def _message(status: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The data of the first ``kind`` message of a history entry's status."""
    for m in status.get("messages", []) if isinstance(status.get("messages"), list) else []:
        if isinstance(m, list) and len(m) == 2 and m[0] == kind and isinstance(m[1], dict):
            return m[1]
    return None


def _finished(entry: dict) -> dict:
    """The first saved image of a finished history entry (an error: none, or a failure)."""
    status = http.json_object(entry.get("status"))
    if status.get("status_str") == "error":
        info = _message(status, "execution_error")
        if info is None:
            stopped = _message(status, "execution_interrupted") or {}
            at = f" at node {stopped.get('node_id', '?')} ({stopped.get('node_type', '?')})"
            raise Transient(
                f"ComfyUI interrupted the job{at if stopped else ''}: someone stopped it "
                "(ComfyUI's Cancel button, or another client's /interrupt); it will be retried",
                backend=NAME,
            )
        message = str(info.get("exception_message", "failed")).strip()
        why = f"{info.get('node_type', '?')}: {message.splitlines()[0] if message else 'failed'}"
        kind = str(info.get("exception_type", ""))
        if "OutOfMemory" in kind or "out of memory" in message.lower():
            raise Transient(
                f"ComfyUI ran out of memory ({why})",
                backend=NAME,
                hint=f"a smaller `{NAME}.max_side` needs less memory; the build retries it",
            )
        raise Rejected(f"the workflow failed in ComfyUI ({why})", backend=NAME)
    outputs = http.json_object(entry.get("outputs"))
    images = [
        im
        for nid in sorted(outputs, key=lambda n: (len(str(n)), str(n)))
        for im in http.json_object(outputs[nid]).get("images", [])
        if isinstance(im, dict)
    ]
    saved = [im for im in images if im.get("type") == "output"] or images
    if not saved:
        raise Rejected(
            "the workflow finished without an image; does it end in a SaveImage node?",
            backend=NAME,
            setting="workflow",
        )
    return saved[0]
