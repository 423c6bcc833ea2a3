"""ComfyUI: queue an API-format node graph and poll for the picture.

One paint is one attempt made of several calls to the SAME server:

1. ``POST {url}/upload/image`` (multipart ``image``, ``type=input``,
   ``subfolder=comicc``, ``overwrite=true``): the init image as RGBA with
   alpha = 255 - comicc's mask, because ``LoadImage`` makes MASK = 1 - alpha
   (transparent = inpaint; ``to_service_mask(request, "alpha")``). A user
   workflow with ``{{mask}}`` also gets a mask file.
2. ``POST {url}/prompt`` ``{prompt: graph, client_id}`` -> ``{prompt_id}``;
   a graph ComfyUI refuses (400 ``{error, node_errors}``) is ``Rejected``.
3. ``GET {url}/history/{prompt_id}`` until the entry has images (``{}`` =
   still queued or running), sleeping 0.25 s growing to 2 s between polls
   (``sleep`` is injectable). Past ``comfyui.timeout`` seconds the job is
   removed from the queue (best effort) and the attempt is ``Transient``.
   (No WebSocket: polling needs no extra dependency and survives proxies.)
4. ``GET {url}/view?filename=&subfolder=&type=output`` downloads the image.

The graph is the built-in inpaint workflow (:data:`comfyui_workflow.BUILTIN`)
or the writer's ``comfyui.workflow`` file with placeholders; see
:mod:`comicc.backends.comfyui_workflow` and docs/backends.md.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import requests
from PIL import Image

from comicc.backends import comfyui_workflow as wf
from comicc.backends import http
from comicc.backends.base import (
    Backend,
    BackendError,
    Capabilities,
    EdgeControl,
    PaintRequest,
    PaintResult,
    Rejected,
    Transient,
    Unavailable,
    png_bytes,
    to_service_mask,
)
from comicc.backends.settings import SettingProblem, SettingSpec, SettingValues, choice_hint

NAME = "comfyui"
DEFAULT_CHECKPOINT = "sd_xl_base_1.0.safetensors"
PREFLIGHT_TIMEOUT = (3.0, 10.0)
POLL_FIRST, POLL_MAX = 0.25, 2.0

SETTINGS: dict[str, SettingSpec] = {
    "url": SettingSpec("url", "the ComfyUI server's address", "http://127.0.0.1:8188"),
    "urls": SettingSpec("urls", "several ComfyUI addresses, comma-separated (wins over url)"),
    "checkpoint": SettingSpec(
        "str", f"checkpoint file; else `model:`, else {DEFAULT_CHECKPOINT}", ""
    ),
    "steps": SettingSpec("int", "KSampler steps", 25, range=(1, 150)),
    "cfg": SettingSpec("float", "KSampler cfg", 7.0, range=(0, 30)),
    "sampler": SettingSpec("str", "KSampler sampler_name", "euler"),
    "scheduler": SettingSpec("str", "KSampler scheduler", "normal"),
    "denoise": SettingSpec(
        "float", "KSampler denoise (VAEEncodeForInpaint wants 1.0)", 1.0, range=(0, 1)
    ),
    "workflow": SettingSpec("path", "an API-format workflow JSON file with placeholders", ""),
    "timeout": SettingSpec(
        "float", "seconds one panel may take, queue included", 600.0, range=(0.1, None)
    ),
    "grow_mask_by": SettingSpec(
        "int", "VAEEncodeForInpaint grow_mask_by (its own default: 6)", 0, range=(0, 64)
    ),
    "max_side": SettingSpec(
        "int", "longest side requested; larger panels are scaled", 2048, range=(64, 8192)
    ),
}


class ComfyUIBackend(Backend):
    name = NAME
    capabilities = Capabilities(
        mask_convention="alpha",
        edge_control=EdgeControl("grow_mask_by", 6, 0, 64),
        seed=True,
        negative_prompt=True,
        multiple_of=8,
        min_side=64,
        max_side=2048,
        sync=False,
        deterministic=False,
        needs_network=True,
        needs_key=None,
        cost_unit=None,
    )
    SETTINGS = SETTINGS

    @classmethod
    def validate_settings(cls, settings: Mapping[str, str]) -> list[SettingProblem]:
        problems = super().validate_settings(settings)
        if settings.get("workflow", "").strip():
            problems += [
                SettingProblem("workflow", str(p), p.hint)
                for p in wf.workflow_problems(settings["workflow"].strip())
            ]
        return problems

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        **backend_settings: str,
    ):
        self.backend_settings = {k: str(v) for k, v in backend_settings.items()}
        self.values = self.setting_values(self.backend_settings, painting=False)
        self.pool = http.ServerPool.from_settings(self.values.text("url"), self.values.urls("urls"))
        self.capabilities = replace(
            type(self).capabilities, max_side=self.values.integer("max_side")
        )
        self._stop = threading.Event()
        # polls sleep on the stop switch, so close() (Ctrl-C) ends a wait at once
        self.sleep, self.clock = sleep or self._stop.wait, clock
        self.client_id = f"comicc-{uuid.uuid4().hex}"
        self._sessions = http.ThreadSessions()
        self._graphs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._deadline = _PerThread(float("inf"))
        self.graph_for(self.values, error=Unavailable)  # a bad workflow fails now

    # ---------------------------------------------------------- plumbing
    def graph_for(
        self, o: SettingValues, error: type[Rejected] | type[Unavailable] = Rejected
    ) -> dict[str, Any]:
        """The graph template (placeholders unfilled) for the settings ``o``."""
        path = o.text("workflow").strip()
        if not path:
            return wf.BUILTIN
        with self._lock:
            if path not in self._graphs:
                try:
                    self._graphs[path] = wf.load_workflow(path)
                except wf.WorkflowProblem as e:
                    raise error(str(e), backend=NAME, setting="workflow", hint=e.hint) from None
            return self._graphs[path]

    def settings_for(self, request: PaintRequest) -> SettingValues:
        """Typed settings for ``request``: its panel's settings over the backend's."""
        return self.setting_values(
            {**self.backend_settings, **request.backend_settings}, painting=True
        )

    def checkpoint(self, o: SettingValues, model: str | None) -> str:
        return o.text("checkpoint") or model or DEFAULT_CHECKPOINT

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

    # ---------------------------------------------------------- preflight
    def preflight(self) -> None:
        """Every server answers ``GET /system_stats``; the first one has the checkpoint."""
        hint = "is ComfyUI running at that address?" + (
            ""
            if "url" in self.backend_settings or "urls" in self.backend_settings
            else f" `{NAME}.url` defaults to {SETTINGS['url'].default}"
        )
        for base in self.pool.urls:
            try:
                resp = self._call("GET", base + "/system_stats", PREFLIGHT_TIMEOUT)
            except (Unavailable, Transient) as e:
                raise http.unreachable(e, NAME, self.pool, base, hint) from None
            if resp.status_code >= 400:
                raise Unavailable(
                    f"{http.host(base)} answered HTTP {resp.status_code} to "
                    "/system_stats: is it a ComfyUI server?",
                    backend=NAME,
                    setting=self.pool.setting,
                    hint=hint,
                )
        if "checkpoint" in wf.placeholders(self.graph_for(self.values, error=Unavailable)):
            self._check_checkpoint(self.pool.urls[0])

    def _check_checkpoint(self, base: str) -> None:
        ckpt = self.checkpoint(self.values, None)
        try:
            resp = self._call(
                "GET", base + "/object_info/CheckpointLoaderSimple", PREFLIGHT_TIMEOUT
            )
            spec = resp.json()["CheckpointLoaderSimple"]["input"]["required"]["ckpt_name"]
            names = spec[0] if isinstance(spec[0], list) else spec[1]["options"]
            names = [n for n in names if isinstance(n, str)]
        except (BackendError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            return  # best effort: the graph is checked again when it is queued
        if names and ckpt not in names:
            where = "checkpoint" if self.values.text("checkpoint") else None
            raise Unavailable(
                f"{http.host(base)} has no checkpoint `{ckpt}`",
                backend=NAME,
                setting=where,
                hint=choice_hint(ckpt, names) + f" (set `{NAME}.checkpoint`)",
            )

    # ---------------------------------------------------------- painting
    def paint(self, request: PaintRequest) -> PaintResult:
        self.check(request)
        o = self.settings_for(request)
        template = self.graph_for(o)
        base = self.pool.pick()
        self._deadline.set(self.clock() + o.number("timeout"))
        try:
            return self._paint(request, o, template, base, self._deadline.get())
        except Unavailable as e:
            if len(self.pool.urls) > 1 and e.setting == self.pool.setting:
                raise Transient(
                    f"{e}; another server will take the retry",
                    backend=NAME,
                    setting=self.pool.setting,
                ) from None
            raise

    def _paint(
        self,
        request: PaintRequest,
        o: SettingValues,
        template: dict[str, Any],
        base: str,
        deadline: float,
    ) -> PaintResult:
        needs = wf.placeholders(template)
        image, _ = to_service_mask(request, "alpha")
        data = png_bytes(image)
        stem = (
            f"comicc-{re.sub(r'[^A-Za-z0-9_.-]', '_', request.panel_id or 'panel')}"
            f"-v{request.variant}-{hashlib.sha256(data).hexdigest()[:12]}"
        )
        values: dict[str, Any] = {
            "image": self._upload(base, data, stem + ".png"),
            "prompt": request.prompt,
            "negative": request.negative,
            "seed": request.seed if request.seed is not None else 0,
            "width": request.width,
            "height": request.height,
            "checkpoint": self.checkpoint(o, request.model),
            "steps": o.integer("steps"),
            "cfg": o.number("cfg"),
            "sampler": o.text("sampler"),
            "scheduler": o.text("scheduler"),
            "denoise": o.number("denoise"),
            "grow_mask_by": o.integer("grow_mask_by"),
        }
        if "mask" in needs:
            values["mask"] = self._upload(
                base, png_bytes(mask_image(request.mask)), stem + "-mask.png"
            )
        prompt_id = self._queue(base, wf.substitute(template, values), bool(o.text("workflow")))
        found = self._wait(base, prompt_id, deadline, o.number("timeout"))
        resp = self._call(
            "GET",
            base + "/view",
            params={
                "filename": found.get("filename", ""),
                "subfolder": found.get("subfolder", ""),
                "type": found.get("type", "output"),
            },
        )
        http.raise_for_status(resp, NAME)
        return PaintResult(
            image=resp.content,
            seed_used=request.seed if "seed" in needs else None,
            metadata={"backend": NAME, "server": http.host(base), "prompt_id": prompt_id},
        )

    def _upload(self, base: str, data: bytes, filename: str) -> str:
        resp = self._call(
            "POST",
            base + "/upload/image",
            files={"image": (filename, data, "image/png")},
            data={"type": "input", "subfolder": "comicc", "overwrite": "true"},
        )
        http.raise_for_status(resp, NAME)
        try:
            doc = resp.json()
            name, sub = str(doc["name"]), str(doc.get("subfolder") or "")
        except (ValueError, KeyError, TypeError):
            raise Transient(
                f"{http.host(base)} answered the upload without a file name", backend=NAME
            ) from None
        return f"{sub}/{name}" if sub else name

    def _queue(self, base: str, graph: dict[str, Any], user_workflow: bool) -> str:
        resp = self._call(
            "POST", base + "/prompt", json={"prompt": graph, "client_id": self.client_id}
        )
        try:
            doc = resp.json()
        except ValueError:
            doc = None
        refused = resp.status_code == 400 or (isinstance(doc, dict) and doc.get("node_errors"))
        if refused:
            where = (
                f"check the workflow `{self.values.text('workflow') or 'file'}`"
                if user_workflow
                else f"check `{NAME}.checkpoint`, `{NAME}.sampler` and `{NAME}.scheduler`"
            )
            raise Rejected(
                f"ComfyUI refused the workflow: {wf.describe_node_errors(doc)}",
                reason="invalid-workflow",
                backend=NAME,
                setting="workflow" if user_workflow else None,
                hint=where,
            )
        http.raise_for_status(resp, NAME)
        if not isinstance(doc, dict) or not isinstance(doc.get("prompt_id"), str):
            raise Transient(
                f"{http.host(base)} queued the workflow without a prompt_id", backend=NAME
            )
        return doc["prompt_id"]

    def _wait(self, base: str, prompt_id: str, deadline: float, timeout: float) -> dict:
        delay = POLL_FIRST
        while True:
            resp = self._call("GET", f"{base}/history/{prompt_id}")
            http.raise_for_status(resp, NAME)
            try:
                doc = resp.json()
            except ValueError:
                doc = {}
            entry = doc.get(prompt_id) if isinstance(doc, dict) else None
            if isinstance(entry, dict):
                return _finished(entry)
            if self._stop.is_set():
                self._cancel(base, prompt_id)
                raise Transient("the build was stopped", backend=NAME)
            if self.clock() >= deadline:
                self._cancel(base, prompt_id)
                raise Transient(
                    f"ComfyUI did not finish within {timeout:g} s",
                    backend=NAME,
                    setting="timeout",
                    hint=f"raise `{NAME}.timeout` if the queue is long",
                )
            self.sleep(min(delay, max(0.0, deadline - self.clock())))
            delay = min(POLL_MAX, delay * 1.5)

    def _cancel(self, base: str, prompt_id: str) -> None:
        """Take the job off the server's queue (best effort), on a session of its
        own: the build's may be stopped already (Ctrl-C)."""
        try:
            with http.session() as sess:
                self._call(
                    "POST",
                    base + "/queue",
                    PREFLIGHT_TIMEOUT,
                    session=sess,
                    json={"delete": [prompt_id]},
                )
        except BackendError:
            pass

    def close(self) -> None:
        """Stop every wait and request in flight (the build was stopped)."""
        self._stop.set()
        self._sessions.close()


class _PerThread(threading.local):
    """A value per thread (the scheduler paints several panels at once)."""

    def __init__(self, value: Any):
        self.value = value

    def get(self) -> Any:
        return self.value

    def set(self, value: Any) -> None:
        self.value = value


def _finished(entry: dict) -> dict:
    """The first saved image of a finished history entry (Rejected: none / an error)."""
    status = http.json_object(entry.get("status"))
    if status.get("status_str") == "error":
        info = next(
            (
                m[1]
                for m in status.get("messages", [])
                if isinstance(m, list)
                and len(m) == 2
                and m[0] == "execution_error"
                and isinstance(m[1], dict)
            ),
            {},
        )
        why = f"{info.get('node_type', '?')}: {info.get('exception_message', 'failed')}".strip()
        cls = Transient if "OutOfMemory" in str(info.get("exception_type", "")) else Rejected
        raise cls(f"the workflow failed in ComfyUI ({why})", backend=NAME)
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


def mask_image(mask: Image.Image) -> Image.Image:
    """comicc's mask for ``{{mask}}``: RGB white = paint AND alpha transparent =
    paint, so LoadImageMask gives the same mask with any channel."""
    rgba = Image.merge("RGB", (mask,) * 3).convert("RGBA")
    rgba.putalpha(mask.point(lambda v: 255 - v))
    return rgba
