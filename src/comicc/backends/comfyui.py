"""ComfyUI: queue an API-format node graph, follow it, fetch the picture.

One paint is one attempt made of several calls to the SAME server:

1. ``POST {url}/upload/image`` (multipart ``image``, ``type=input``,
   ``subfolder=comicc``, ``overwrite=true``): the init image as RGBA with
   alpha = 255 - comicc's mask, because ``LoadImage`` makes MASK = 1 - alpha
   (transparent = inpaint; ``to_service_mask(request, "alpha")``). A user
   workflow with ``{{mask}}`` also gets a mask file, one with
   ``{{reference_N}}`` the panel's reference images. Each file is named by its
   content hash: ComfyUI (0.3.64) has no call that deletes an input file, so
   the same picture keeps ONE file there whichever panel, retry or build sends
   it.
2. ``POST {url}/prompt`` ``{prompt: graph, client_id, prompt_id}``: comicc
   chooses the id, so a job whose answer was lost can still be cancelled. A
   graph ComfyUI refuses (400 ``{error, node_errors}``) is ``Rejected``; an
   HTTP 200 with ``node_errors`` (ComfyUI queued the outputs that passed) is
   cancelled and ``Rejected`` too.
3. Waiting: ComfyUI's websocket ``/ws?clientId=`` (websocket-client) says
   when the job is done and how far it got; ``GET {url}/history/{prompt_id}``
   fetches the result (``{}`` = still queued or running). Without the
   websocket, the history is polled, 0.25 s growing to 2 s between polls
   (``sleep`` is injectable).
4. ``GET {url}/view?filename=&subfolder=&type=output`` downloads the image.

A job never outlives its attempt: on a timeout (``comfyui.timeout``), a
failure after queueing, or Ctrl-C (:meth:`ComfyUIBackend.close`) it is taken
off the queue (``POST /queue {"delete": [id]}``) and, when ``GET /queue``
shows it running, stopped (``POST /interrupt {"prompt_id": id}``); the retry
queues a fresh one.

The graph is the built-in inpaint workflow (:data:`comfyui_workflow.BUILTIN`,
with a ``LoraLoader`` chained per LoRA) or the writer's ``comfyui.workflow``
file with placeholders; see :mod:`comicc.backends.comfyui_workflow` and
docs/backends.md. Queueing, waiting, cancelling and reading the history
(steps 2 and 3, and :meth:`ComfyUIBackend.close`) live in
:mod:`comicc.backends.comfyui_jobs`.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

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
from comicc.backends.comfyui_jobs import NAME, PREFLIGHT_TIMEOUT, ComfyUIJobs, PerThread
from comicc.backends.comfyui_watch import Watch
from comicc.backends.references import reference_png
from comicc.backends.settings import SettingProblem, SettingSpec, SettingValues, choice_hint

DEFAULT_CHECKPOINT = "sd_xl_base_1.0.safetensors"
UPLOAD_FOLDER = "comicc"  # input/comicc/ on the server

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


class ComfyUIBackend(ComfyUIJobs, Backend):
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
        # the built-in graph chains a LoraLoader per LoRA; reference images need
        # a workflow with {{reference_N}} slots (IP-Adapter and the like)
        max_references=0,
        max_loras=wf.MAX_SLOTS,
        rate_limited=False,  # self-hosted: ComfyUI queues every prompt, never a 429
    )
    SETTINGS = SETTINGS
    #: follow jobs over ComfyUI's /ws (False: poll the history only)
    use_websocket = True

    @classmethod
    def capability_variants(cls) -> list[tuple[str, Capabilities]]:
        """A user workflow takes as many references and LoRAs as it has slots."""
        return [
            (
                "comfyui.workflow: with slots",
                replace(cls.capabilities, max_references=wf.MAX_SLOTS, max_loras=wf.MAX_SLOTS),
            )
        ]

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
        self._stop = threading.Event()
        # polls sleep on the stop switch, so close() (Ctrl-C) ends a wait at once
        self.sleep, self.clock = sleep or self._stop.wait, clock
        self.client_id = f"comicc-{uuid.uuid4().hex}"
        self._sessions = http.ThreadSessions()
        self._graphs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._deadline = PerThread(float("inf"))
        self._inflight: dict[str, str] = {}  # prompt_id -> server, queued (or maybe queued)
        self._uploaded: dict[tuple[str, str], str] = {}  # (server, file name) -> its name there
        self._lora_names: dict[str, str] = {}  # server -> the first LoRA it lists
        self._watches: dict[str, Watch] = {}  # server -> its /ws
        template = self.graph_for(self.values, error=Unavailable)  # a bad workflow fails now
        refs, loras = (
            wf.slots(template) if self.values.text("workflow").strip() else (0, wf.MAX_SLOTS)
        )
        self.capabilities = replace(
            type(self).capabilities,
            max_side=self.values.integer("max_side"),
            max_references=refs,
            max_loras=loras,
        )

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

    # ---------------------------------------------------------- preflight
    def preflight(self) -> None:
        """Every server answers ``GET /system_stats``; the first one has every
        checkpoint the graph names (asked only when the graph loads one)."""
        hint = http.preflight_hint(
            "is ComfyUI running at that address?",
            NAME,
            self.backend_settings,
            SETTINGS["url"].default,
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
        self._check_checkpoints(self.pool.urls[0])

    def _choices(self, base: str, class_type: str, field: str) -> list[str] | None:
        """The values the server lists for ``class_type``'s COMBO input ``field``
        (possibly none at all); None when it does not say (best effort)."""
        try:
            resp = self._call("GET", f"{base}/object_info/{class_type}", PREFLIGHT_TIMEOUT)
            inputs = resp.json()[class_type]["input"]
            spec = {**inputs.get("optional", {}), **inputs["required"]}[field]
            names = spec[0] if isinstance(spec[0], list) else spec[1]["options"]
            return [n for n in names if isinstance(n, str)]
        except (BackendError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            return None  # the graph is checked again when it is queued

    def _check_checkpoints(self, base: str) -> None:
        template = self.graph_for(self.values, error=Unavailable)
        ckpt = self.checkpoint(self.values, None)
        for _nid, class_type, field, value in wf.choice_inputs(template):
            placeholder = value != wf.substitute_one(value, {"checkpoint": ckpt})
            name = ckpt if placeholder else value
            names = self._choices(base, class_type, field)
            if names is None or name in names:
                continue
            if placeholder:
                where = "checkpoint" if self.values.text("checkpoint") else None
                fix = f"set `{NAME}.checkpoint` to one of them"
            else:
                where, fix = "workflow", f"change `{field}` in the workflow file"
            if not names:
                raise Unavailable(
                    f"{http.host(base)} has no checkpoint at all (its `{class_type}` lists "
                    f"no `{field}`), so it cannot load `{name}`",
                    backend=NAME,
                    setting=where,
                    hint="put a checkpoint into ComfyUI's models/checkpoints folder, "
                    "or use a workflow that loads no checkpoint",
                )
            raise Unavailable(
                f"{http.host(base)} has no checkpoint `{name}`",
                backend=NAME,
                setting=where,
                hint=choice_hint(name, names) + f" ({fix})",
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
                raise http.retry_elsewhere(e, NAME, self.pool) from None
            raise

    def _paint(
        self,
        request: PaintRequest,
        o: SettingValues,
        template: dict[str, Any],
        base: str,
        deadline: float,
    ) -> PaintResult:
        user_workflow = bool(o.text("workflow").strip())
        # the graph's own slots (a panel may name another workflow than the backend's)
        n_refs, n_loras = wf.slots(template) if user_workflow else (0, wf.MAX_SLOTS)
        loras = [(lo.name, lo.weight) for lo in request.loras][:n_loras]
        if not user_workflow:
            template = wf.with_loras(template, loras)
        needs = wf.placeholders(template)
        image, _ = to_service_mask(request, "alpha")
        values: dict[str, Any] = {
            "image": self._upload(base, png_bytes(image)),
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
            values["mask"] = self._upload(base, png_bytes(mask_image(request.mask)))
        if user_workflow:
            refs = [self._upload(base, reference_png(r)) for r in request.references[:n_refs]]
            fallback = self._lora_fallback(base) if n_loras and not loras else ""
            # a panel without any reference still paints: its slots get the init image
            values.update(wf.slot_values(template, refs or [values["image"]], loras, fallback))
        graph = wf.substitute(template, values)
        prompt_id = uuid.uuid4().hex
        watch = self._watch(base)
        job = watch.follow(prompt_id) if watch is not None else None
        try:
            prompt_id = self._queue(base, graph, prompt_id, user_workflow, o)
            if watch is not None and prompt_id not in watch.jobs:  # the server chose an id
                watch.forget(job.prompt_id if job is not None else "")
                job = watch.follow(prompt_id)
            found = self._wait(base, prompt_id, deadline, o.number("timeout"), job)
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
        except BaseException:
            # a job that may still be queued or running never outlives its attempt:
            # the retry queues a fresh one
            if self._inflight.pop(prompt_id, None) is not None:
                self._cancel(base, prompt_id)
            raise
        finally:
            self._inflight.pop(prompt_id, None)
            if watch is not None:
                watch.forget(prompt_id)
        return PaintResult(
            image=resp.content,
            seed_used=request.seed if "seed" in needs else None,
            metadata={"backend": NAME, "server": http.host(base), "prompt_id": prompt_id},
        )

    def _upload(self, base: str, data: bytes) -> str:
        """Upload ``data`` under a name made of its content hash (ComfyUI has no
        call that deletes an input file: the same picture keeps the same single
        file, whichever panel, retry or build sends it); once per server."""
        filename = f"{hashlib.sha256(data).hexdigest()[:32]}.png"
        with self._lock:
            done = self._uploaded.get((base, filename))
        if done is not None:
            return done
        resp = self._call(
            "POST",
            base + "/upload/image",
            files={"image": (filename, data, "image/png")},
            data={"type": "input", "subfolder": UPLOAD_FOLDER, "overwrite": "true"},
        )
        http.raise_for_status(resp, NAME)
        try:
            doc = resp.json()
            name, sub = str(doc["name"]), str(doc.get("subfolder") or "")
        except (ValueError, KeyError, TypeError):
            raise Transient(
                f"{http.host(base)} answered the upload without a file name", backend=NAME
            ) from None
        where = f"{sub}/{name}" if sub else name
        with self._lock:
            self._uploaded[(base, filename)] = where
        return where

    def _lora_fallback(self, base: str) -> str:
        """The first LoRA ``base`` lists, which fills the LoRA slots of a panel
        without any at weight 0 ("" when it lists none: a ``LoraLoader`` then
        refuses it, and ComfyUI's node error says which node)."""
        with self._lock:
            if base in self._lora_names:
                return self._lora_names[base]
        names = self._choices(base, "LoraLoader", "lora_name")
        first = names[0] if names else ""
        with self._lock:
            self._lora_names[base] = first
        return first


def mask_image(mask: Image.Image) -> Image.Image:
    """comicc's mask for ``{{mask}}``: RGB white = paint AND alpha transparent =
    paint, so LoadImageMask gives the same mask with any channel."""
    rgba = Image.merge("RGB", (mask,) * 3).convert("RGBA")
    rgba.putalpha(mask.point(lambda v: 255 - v))
    return rgba
