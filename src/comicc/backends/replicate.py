"""Replicate: inpainting through hosted predictions (SDXL, FLUX Fill).

One ``paint`` call is one attempt (retries belong to the build scheduler),
but on Replicate one attempt is a small conversation:

1. the init image and the mask are PNG-encoded; a file of at most 256 KB
   goes inline as a ``data:image/png;base64,...`` URL, a larger one is
   uploaded first (``POST /v1/files``, multipart field ``content``) and
   referenced by the ``urls.get`` URL the upload returns;
2. the prediction is created (``POST /v1/models/{owner}/{name}/predictions``
   with ``{input}``, or ``POST /v1/predictions`` with ``{version, input}``
   when ``replicate.version`` is set) with ``Prefer: wait=N`` so that quick
   predictions answer in the same call;
3. if it is still ``starting``/``processing``, it is polled (``urls.get``)
   with a backoff of 0.5 s doubling to 5 s until ``succeeded``, ``failed``
   or ``canceled``; past ``replicate.timeout`` seconds (or on Ctrl-C) it is
   canceled (``POST /v1/predictions/{id}/cancel``) so nothing keeps billing;
4. the output URL is downloaded at once (Replicate deletes outputs after
   about an hour). An empty output means Replicate dropped an NSFW image
   without saying so.

Mask convention: SDXL and FLUX Fill both read white = inpaint, black = keep,
i.e. comicc's own convention sent as is (``to_service_mask(.., "white")``).

Consistent characters: a multi-image edit model (``google/nano-banana``)
takes ``image_input``, a list: the init image first, then the reference
images of the panel's characters (uploaded like the init image); it has no
mask input, so the mask is guidance only and is not uploaded. SDXL and FLUX
Fill take no reference images; no Replicate model here takes LoRAs.

The input schema depends on the model family, and so do the capabilities:
``capabilities`` is computed from ``replicate.model`` (FLUX Fill has no
negative prompt, so the plan drops it and says so). The settings table, its
rules between settings and the per-family capabilities and inputs are in
:mod:`comicc.backends.replicate_inputs`.

The API token (``$REPLICATE_API_TOKEN`` or ``keys.toml``) is sent only to the
configured API host, never to the output/download host, and is never logged
or put into errors, metadata or the cache.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from PIL import Image

from comicc.backends import http
from comicc.backends.base import (
    Backend,
    Capabilities,
    PaintRequest,
    PaintResult,
    RateLimited,
    Rejected,
    Transient,
    Unavailable,
    png_bytes,
    to_service_mask,
)
from comicc.backends.keys import key_for, require_key, settings_key_problems
from comicc.backends.references import reference_image
from comicc.backends.replicate_errors import TRANSIENT_WORDS, error_detail, retry_after_from_detail
from comicc.backends.replicate_inputs import (
    DEFAULT_MODEL,
    DEFAULT_URL,
    EDIT_MODELS,
    FLUX_MODELS,
    MAX_WAIT,
    NAME,
    SETTINGS,
    TOKEN_ENV,
    capabilities_for,
    family_problems,
    is_multi_image,
    prediction_input,
)
from comicc.backends.settings import SettingProblem

DATA_URL_LIMIT = 256 * 1024  # Replicate accepts data URLs for files up to 256 KB
POLL_FIRST, POLL_MAX = 0.5, 5.0  # backoff between polls: 0.5 s doubling to 5 s
CONNECT_TIMEOUT = 10.0
DOWNLOAD_TIMEOUT = 120.0
SEED_MAX = 2**32 - 2
RUNNING = ("starting", "processing")


class _ModelCapabilities:
    """``ReplicateBackend.capabilities``: the default model's on the class,
    the configured model's on an instance."""

    def __get__(self, obj: Any, owner: type | None = None) -> Capabilities:
        if obj is None:
            return capabilities_for(DEFAULT_MODEL)
        return capabilities_for(obj.model)


# Replicate's wording for the statuses that mean something particular there
STATUS_RULES = {
    401: http.StatusRule(
        Unavailable,
        "Replicate refused the API token",
        f"check `{TOKEN_ENV}` in your environment or keys.toml",
    ),
    402: http.StatusRule(
        Unavailable,
        "Replicate wants payment",
        "set up billing or add credit on replicate.com",
    ),
    422: http.StatusRule(Rejected, "Replicate refused the input"),
    429: http.StatusRule(RateLimited, "rate limited by Replicate"),
}


class _GiveUp(Exception):
    """Internal: the poll loop stops (deadline or close()); the prediction gets canceled."""


class ReplicateBackend(Backend):
    name = NAME
    SETTINGS = SETTINGS
    capabilities = _ModelCapabilities()
    KEY_HOSTS = ("api.replicate.com",)
    #: files larger than this (encoded bytes) are uploaded instead of inlined
    data_url_limit = DATA_URL_LIMIT

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
        **backend_settings: str,
    ):
        self.backend_settings, self.values = http.checked_settings(type(self), backend_settings)
        self.url = self.values.text("url")
        self.model = self.values.text("model")
        self.version = self.values.optional_text("version") or None
        self.wait = self.values.integer("wait")
        self.timeout = self.values.number("timeout")
        self._stop = threading.Event()
        # polls sleep on the stop switch, so close() (Ctrl-C) ends a wait at once
        self._sleep = sleep or self._stop.wait
        self._clock = clock
        self._shared_session = session
        self._sessions = http.ThreadSessions()
        self._token: str | None = None

    def __repr__(self) -> str:  # never the token
        return f"ReplicateBackend(url={self.url!r}, model={self.model!r})"

    @classmethod
    def capability_variants(cls) -> list[tuple[str, Capabilities]]:
        """The other model families (the class's capabilities are SDXL's)."""
        return [
            (f"{NAME}.model: {FLUX_MODELS[0]}", capabilities_for(FLUX_MODELS[0])),
            (f"{NAME}.model: {EDIT_MODELS[0]}", capabilities_for(EDIT_MODELS[0])),
        ]

    @classmethod
    def validate_settings(cls, settings: Mapping[str, str]) -> list[SettingProblem]:
        problems = super().validate_settings(settings)
        problems += family_problems({k: v for k, v in settings.items() if k in SETTINGS})
        problems += settings_key_problems(
            NAME, TOKEN_ENV, settings, DEFAULT_URL, cls.KEY_HOSTS, problems
        )
        return problems

    # ------------------------------------------------------------- plumbing
    def preflight(self) -> None:
        """The token must be there; no request is sent (a rebuild from the cache is free)."""
        self._token = require_key(TOKEN_ENV, NAME)

    def _session(self) -> requests.Session:
        if self._shared_session is not None:
            return self._shared_session
        return self._sessions.get()

    def _auth(self) -> dict[str, str]:
        self._token = key_for(TOKEN_ENV, NAME, self.url, self.KEY_HOSTS)
        return {"Authorization": f"Bearer {self._token}"}

    def _same_host(self, url: str) -> bool:
        a, b = urlsplit(url), urlsplit(self.url)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)

    def _api(self, path: str) -> str:
        return f"{self.url}{path}"

    def _call(
        self,
        method: str,
        url: str,
        *,
        read: float,
        session: requests.Session | None = None,
        **kw: Any,
    ) -> requests.Response:
        headers = dict(kw.pop("headers", {}) or {})
        if self._same_host(url):  # the token goes to the API host only
            headers.update(self._auth())
        return http.call(
            session or self._session(),
            method,
            url,
            backend=NAME,
            setting="url",
            timeout=(CONNECT_TIMEOUT, max(1.0, read)),
            max_bytes=self.capabilities.max_response_bytes,
            headers=headers,
            **kw,
        )

    def _raise_for_status(self, resp: requests.Response, *, creating: bool = False) -> None:
        if resp.status_code < 400:
            return
        why = error_detail(resp)
        rules = dict(STATUS_RULES)
        if creating:
            setting = "version" if self.version else "model"
            rules[404] = http.StatusRule(
                Unavailable,
                "Replicate does not know this model/version",
                f"check `{NAME}.{setting}` (it is `{self.version or self.model}`)",
                setting=setting,
            )
        http.raise_for_status(
            resp, NAME, why=why, rules=rules, retry_default=retry_after_from_detail(why)
        )

    @staticmethod
    def _json(resp: requests.Response) -> dict:
        try:
            doc = resp.json()
        except ValueError:
            raise Transient(
                f"Replicate answered HTTP {resp.status_code} without JSON", backend=NAME
            ) from None
        if not isinstance(doc, dict):
            raise Transient("Replicate answered with unexpected JSON", backend=NAME)
        return doc

    # -------------------------------------------------------------- inputs
    def _file_input(self, image: Image.Image, name: str, deadline: float) -> str:
        data = png_bytes(image)
        if len(data) <= self.data_url_limit:
            return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        resp = self._call(
            "POST",
            self._api("/v1/files"),
            read=self._left(deadline, 120.0),
            files={"content": (f"{name}.png", data, "image/png")},
        )
        self._raise_for_status(resp)
        doc = self._json(resp)
        url = (doc.get("urls") or {}).get("get") if isinstance(doc.get("urls"), dict) else None
        if not isinstance(url, str) or not url:
            raise Transient("Replicate accepted the upload but returned no file URL", backend=NAME)
        return url

    def build_input(
        self,
        request: PaintRequest,
        seed: int,
        image: str,
        mask: str,
        references: Sequence[str] = (),
    ) -> dict[str, Any]:
        """The prediction's ``input`` for the configured model family."""
        return prediction_input(self.model, self.values, request, seed, image, mask, references)

    # ---------------------------------------------------------------- paint
    def _left(self, deadline: float, cap: float) -> float:
        return min(cap, deadline - self._clock())

    def paint(self, request: PaintRequest) -> PaintResult:
        self.check(request)
        self._auth()  # Unavailable before any upload when there is no token
        deadline = self._clock() + self.timeout
        # Replicate picks a random seed when none is sent (and shows it only in
        # the logs): always send one, and report it.
        seed = (
            request.seed if request.seed is not None else random.SystemRandom().randint(1, SEED_MAX)
        )
        caps = capabilities_for(self.model)
        image, mask = to_service_mask(request, caps.mask_convention)
        edit = is_multi_image(self.model)  # no mask input: the mask is not sent
        inp = self.build_input(
            request,
            seed,
            self._file_input(image, "image", deadline),
            "" if edit else self._file_input(mask, "mask", deadline),
            [
                self._file_input(reference_image(ref), f"reference-{i}", deadline)
                for i, ref in enumerate(request.references[: caps.max_references], 1)
            ],
        )
        wait = max(1, min(self.wait, MAX_WAIT, int(self.timeout)))
        if self.version:
            url, body = self._api("/v1/predictions"), {"version": self.version, "input": inp}
        else:
            url, body = self._api(f"/v1/models/{self.model}/predictions"), {"input": inp}
        resp = self._call(
            "POST",
            url,
            read=self._left(deadline, wait + 30.0),
            json=body,
            headers={"Prefer": f"wait={wait}"},
        )
        self._raise_for_status(resp, creating=True)
        pred = self._json(resp)
        pid = str(pred.get("id") or "")
        if pred.get("status") in RUNNING or pred.get("status") is None:
            if not pid:
                raise Transient(
                    "Replicate returned a running prediction without an id", backend=NAME
                )
            pred = self._poll(pred, pid, deadline)
        return self._finish(pred, pid, seed if caps.seed else None, deadline)

    def _poll(self, pred: dict, pid: str, deadline: float) -> dict:
        """Poll until the prediction leaves starting/processing; cancel it on the
        deadline, on Ctrl-C and on :meth:`close`."""
        get_url = self._pred_url(pred, "get", f"/v1/predictions/{pid}")
        delay = POLL_FIRST
        try:
            while pred.get("status") not in ("succeeded", "failed", "canceled"):
                now = self._clock()
                if now >= deadline or self._stop.is_set():
                    why = (
                        "the build was stopped"
                        if self._stop.is_set()
                        else f"it did not finish within {self.timeout:g} s (`{NAME}.timeout`)"
                    )
                    raise _GiveUp(f"Replicate prediction {pid} was canceled: {why}")
                self._sleep(min(delay, deadline - now))
                delay = min(delay * 2, POLL_MAX)
                try:
                    resp = self._call("GET", get_url, read=self._left(deadline, 30.0))
                    if resp.status_code == 429 or resp.status_code >= 500:
                        continue  # a hiccup while polling: keep polling, don't pay twice
                    self._raise_for_status(resp)
                    pred = self._json(resp)
                except Transient:
                    continue
            return pred
        except _GiveUp as e:
            self._cancel(pred, pid)
            raise Transient(str(e), backend=NAME, setting="timeout") from None
        except BaseException:  # Ctrl-C, a refused token, ...: stop paying, then re-raise
            self._cancel(pred, pid)
            raise

    def _pred_url(self, pred: dict, which: str, fallback: str) -> str:
        url = http.json_object(pred.get("urls")).get(which)
        # follow the service's URL only on the API host: the token goes nowhere else
        if isinstance(url, str) and url and self._same_host(url):
            return url
        return self._api(fallback)

    def _cancel(self, pred: dict, pid: str) -> None:
        """Best effort: a failed cancel must not hide the real error."""
        url = self._pred_url(pred, "cancel", f"/v1/predictions/{pid}/cancel")
        try:  # on a session of its own: the build's may be stopped already (Ctrl-C)
            with http.session() as sess:
                self._call("POST", url, read=5.0, session=sess)
        except Exception:  # noqa: BLE001 - never mask the reason we are canceling
            pass

    def close(self) -> None:
        """Stop every poll in progress (their predictions get canceled) and every
        request in flight."""
        self._stop.set()
        self._sessions.close()

    def _finish(self, pred: dict, pid: str, seed: int | None, deadline: float) -> PaintResult:
        status = pred.get("status")
        if status == "failed":
            err = str(pred.get("error") or "no reason given").strip()
            low = err.lower()
            if "nsfw" in low:
                raise Rejected(
                    f"Replicate prediction failed: {err}",
                    reason="nsfw",
                    backend=NAME,
                    hint="reword the prompt; Replicate's safety checker refused it",
                )
            if any(w in low for w in TRANSIENT_WORDS):
                raise Transient(f"Replicate prediction failed: {err}", backend=NAME)
            raise Rejected(f"Replicate prediction failed: {err}", reason=err[:200], backend=NAME)
        if status == "canceled":
            raise Transient(f"Replicate prediction {pid} was canceled", backend=NAME)
        output = pred.get("output")
        urls = (
            [output]
            if isinstance(output, str)
            else (
                [u for u in output if isinstance(u, str) and u] if isinstance(output, list) else []
            )
        )
        if not urls:
            raise Rejected(
                "no image returned (Replicate drops NSFW outputs silently)",
                reason="nsfw",
                backend=NAME,
                hint="reword the prompt or change the seed",
            )
        data = self._download(urls[0], deadline)
        metrics = http.json_object(pred.get("metrics"))
        meta: dict[str, Any] = {"backend": NAME, "model": self.model, "prediction_id": pid}
        if self.version:
            meta["version"] = self.version
        if isinstance(metrics.get("predict_time"), (int, float)):
            meta["predict_time"] = metrics["predict_time"]
        return PaintResult(image=data, seed_used=seed, metadata=meta)

    def _download(self, url: str, deadline: float) -> bytes:
        """The output file, fetched now: Replicate deletes outputs after ~1 hour."""
        if url.startswith("data:"):
            try:
                return base64.b64decode(url.split(",", 1)[1], validate=False)
            except (IndexError, ValueError):
                raise Transient("Replicate returned an unreadable data URL", backend=NAME) from None
        url = urljoin(self.url + "/", url)
        if urlsplit(url).scheme not in ("http", "https"):
            raise Transient(
                f"Replicate returned an output that is not a URL: {url[:80]}", backend=NAME
            )
        resp = self._call(
            "GET", url, read=max(DOWNLOAD_TIMEOUT / 4, self._left(deadline, DOWNLOAD_TIMEOUT))
        )
        if resp.status_code in (404, 410):
            raise Transient(
                f"the output was gone before it could be downloaded (HTTP {resp.status_code})",
                backend=NAME,
            )
        self._raise_for_status(resp)
        if not resp.content:
            raise Transient("Replicate's output file was empty", backend=NAME)
        return resp.content
