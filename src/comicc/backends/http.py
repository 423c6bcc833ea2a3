"""What every HTTP backend shares: its settings checked when it is set up, one
requests session per thread, timeouts on every call, the one mapping from HTTP
failures to comicc's typed errors, and a self-hosted backend's servers (the
pool, the preflight's hint, a retry taken to another server).

Retries are NOT done here (the build scheduler owns them): a backend makes
one attempt and raises ``RateLimited`` / ``Transient`` / ``Rejected`` /
``Unavailable``. Keys come from :mod:`comicc.backends.keys`.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack
from urllib.parse import urlsplit

import requests

from comicc.backends.base import (
    Backend,
    BackendError,
    RateLimited,
    Rejected,
    Transient,
    Unavailable,
    setting_error,
)
from comicc.backends.keys import header_secrets, scrub
from comicc.backends.settings import SettingValues
from comicc.backends.stream import (
    IMAGE_MAX_BYTES,
    USER_AGENT,
    DeadlineExpired,
    Dropped,
    Session,
    Stopped,
    ThreadSessions,
    TooLarge,
    exchange,
)

__all__ = [
    "IMAGE_MAX_BYTES",
    "USER_AGENT",
    "Session",
    "ThreadSessions",
    "call",
    "host",
    "raise_for_status",
    "status_error",
]

DEFAULT_TIMEOUT = (10.0, 120.0)  # connect, the whole exchange (seconds)


def checked_settings(
    backend: type[Backend], raw: Mapping[str, str]
) -> tuple[dict[str, str], SettingValues]:
    """A service's settings as it is set up: ``raw`` with each value stripped,
    and typed; the first problem ``validate_settings`` finds is raised (as
    :class:`Unavailable`, naming the setting)."""
    settings = {str(k): str(v).strip() for k, v in raw.items()}
    problems = backend.validate_settings(settings)
    if problems:
        raise setting_error(problems[0], backend.name, painting=False)
    return settings, backend.setting_values(settings, painting=False)


def session() -> Session:
    return Session()


def parse_timeout(
    seconds: float | None, default: tuple[float, float] = DEFAULT_TIMEOUT
) -> tuple[float, float]:
    """(connect, read) with ``seconds`` as the read timeout when given."""
    if not seconds:
        return default
    return (default[0], float(seconds))


def host(url: str) -> str:
    """The ``host:port`` of ``url`` (what messages name; never a path or a query)."""
    return urlsplit(url).netloc or url


def retry_after(resp: requests.Response, default: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta or HTTP date)."""
    value = resp.headers.get("retry-after")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        return max(0.0, when.timestamp() - time.time())


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def call(
    sess: requests.Session,
    method: str,
    url: str,
    *,
    backend: str,
    setting: str = "url",
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    max_bytes: int = IMAGE_MAX_BYTES,
    **kw: Any,
) -> requests.Response:
    """One HTTP call with its whole answer read (see :mod:`comicc.backends.stream`):
    at most ``timeout[1]`` seconds in all and ``max_bytes`` of body. Connection
    problems become typed errors naming ``setting``. ``kw`` goes to
    :meth:`requests.Session.request` as it is."""
    seconds = timeout[1]
    try:
        return exchange(sess, method, url, timeout=timeout, max_bytes=max_bytes, **kw)
    except Stopped:
        raise Transient("the build was stopped", backend=backend) from None
    except DeadlineExpired as e:
        what = "did not send its whole answer" if e.answered else "did not answer"
        raise Transient(
            f"{host(url)} {what} within {seconds:g} s",
            backend=backend,
            setting=setting,
            hint=f"raise `{backend}.timeout` if the server is just slow",
        ) from None
    except TooLarge as e:
        said = f" (it announced {_size(e.advertised)})" if e.advertised else ""
        raise Rejected(
            f"{host(url)} sent an answer larger than {_size(e.limit)}{said}; "
            "comicc stopped reading it",
            reason="response_too_large",
            backend=backend,
            setting=setting,
            hint=f"check `{backend}.{setting}`: is it the service you meant?",
        ) from None
    except Dropped as e:
        raise Transient(
            f"the connection to {host(url)} broke while reading its answer ({e})",
            backend=backend,
        ) from None
    except requests.exceptions.ConnectTimeout as e:
        raise Transient(
            f"connecting to {host(url)} timed out", backend=backend, setting=setting
        ) from e
    except requests.exceptions.Timeout as e:
        raise Transient(
            f"{host(url)} did not answer within {seconds:g} s", backend=backend, setting=setting
        ) from e
    except requests.exceptions.ConnectionError as e:
        raise Unavailable(
            f"cannot reach {host(url)}",
            backend=backend,
            setting=setting,
            hint=f"is the server running? check `{backend}.{setting}`",
        ) from e
    except requests.exceptions.RequestException as e:
        raise Transient(
            f"request to {host(url)} failed: {type(e).__name__}", backend=backend
        ) from e


def sent_secrets(resp: requests.Response) -> tuple[str, ...]:
    """The secrets the request behind ``resp`` carried (its Authorization header)."""
    request = getattr(resp, "request", None)
    headers = getattr(request, "headers", None) or {}
    return header_secrets(headers.get("Authorization"))


def clean(text: str, resp: requests.Response) -> str:
    """A server's words with every key taken out (servers echo requests back)."""
    return scrub(text, sent_secrets(resp))


# ------------------------------------------------------ status -> typed error
@dataclass(frozen=True)
class StatusRule:
    """What one HTTP status means for a service: the error type, its words and hint.

    ``setting`` is the backend setting at fault (None: none); ``reason`` the
    :class:`Rejected` reason (None: the service's own error code, else its words).
    """

    error: type[BackendError]
    words: str
    hint: str | None = None
    setting: str | None = None
    reason: str | None = None


KEY_REFUSED = StatusRule(
    Unavailable, "the API key was refused", "check the key in your environment or keys.toml"
)


def key_refused(env_var: str) -> StatusRule:
    """A keyed service's 401: the key in ``env_var`` was refused."""
    return StatusRule(
        Unavailable,
        "the API key was refused",
        f"check `{env_var}` in your environment or keys.toml",
    )


# the statuses every service shares; a backend passes its own wording for some of them
STATUS_RULES: Mapping[int, StatusRule] = {
    400: StatusRule(Rejected, "invalid request"),
    401: KEY_REFUSED,
    402: StatusRule(Unavailable, "payment required", "the account is out of credit"),
    403: StatusRule(Rejected, "refused"),
    404: StatusRule(Rejected, "not found"),
    408: StatusRule(Transient, "request timeout"),
    409: StatusRule(Transient, "conflict"),
    413: StatusRule(Rejected, "request too large", reason="too_large"),
    422: StatusRule(Rejected, "unprocessable request"),
    425: StatusRule(Transient, "too early"),
    429: StatusRule(RateLimited, "rate limited"),
}
SERVER_ERROR = StatusRule(Transient, "server error")


def status_error(
    resp: requests.Response,
    backend: str,
    *,
    why: str | None = None,
    reason: str | None = None,
    rules: Mapping[int, StatusRule] | None = None,
    retry_default: float | None = None,
) -> BackendError | None:
    """The typed error for ``resp``'s status, or None for a 2xx answer.

    ``why`` is the service's own words (default: a short form of the body),
    ``reason`` its machine-readable error code (the ``Rejected`` reason),
    ``rules`` the service's wording for some statuses over :data:`STATUS_RULES`,
    ``retry_default`` the wait of a 429 without a Retry-After header.
    """
    code = resp.status_code
    if code < 300:
        return None
    if why is None:
        why = short_body(resp)
    why = clean(why, resp)  # an error page may echo the request, key included
    reason = clean(reason, resp) if reason else reason
    tail = f": {why}" if why else ""
    rule = (rules or {}).get(code) or STATUS_RULES.get(code)
    if rule is None:
        if 300 <= code < 400:
            return Transient(f"unexpected HTTP {code}{tail}", backend=backend)
        rule = SERVER_ERROR if code >= 500 else StatusRule(Rejected, "refused")
    message = f"{rule.words} (HTTP {code}){tail}"
    if rule.error is RateLimited:
        return RateLimited(
            message,
            retry_after=retry_after(resp, retry_default),
            hint=rule.hint,
            backend=backend,
            setting=rule.setting,
        )
    if rule.error is Rejected:
        return Rejected(
            message,
            reason=rule.reason or reason or why or f"http-{code}",
            hint=rule.hint,
            backend=backend,
            setting=rule.setting,
        )
    return rule.error(message, hint=rule.hint, backend=backend, setting=rule.setting)


class StatusWords(TypedDict, total=False):
    """:func:`status_error`'s keywords (what the service said, its own rules)."""

    why: str | None
    reason: str | None
    rules: Mapping[int, StatusRule] | None
    retry_default: float | None


def raise_for_status(resp: requests.Response, backend: str, **words: Unpack[StatusWords]) -> None:
    """Raise :func:`status_error`'s error when ``resp`` is not a 2xx answer."""
    error = status_error(resp, backend, **words)
    if error is not None:
        raise error


def json_object(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object (a dict), else an empty one: for answers
    whose fields may be missing or of another type."""
    return value if isinstance(value, dict) else {}


def short_body(resp: requests.Response) -> str:
    """The service's words from an error body: a JSON message field, else the
    text; never a key the request carried."""
    return clean(_short_body(resp), resp)


def _short_body(resp: requests.Response) -> str:
    try:
        doc = resp.json()
    except ValueError:
        return resp.text[:200].strip()
    if isinstance(doc, dict):
        for k in ("message", "detail", "error", "name", "errors"):
            v = doc.get(k)
            if isinstance(v, str) and v:
                return v[:300]
            if isinstance(v, dict) and isinstance(v.get("message"), str):
                return str(v["message"])[:300]
            if isinstance(v, list) and v:
                return "; ".join(str(x) for x in v)[:300]
    return str(doc)[:200]


# ------------------------------------------------------- self-hosted servers
class ServerPool:
    """A backend's base URLs, dealt round-robin under a lock (the scheduler paints
    in parallel): panels spread evenly; with the same model everywhere, which
    server paints a panel does not change the picture."""

    def __init__(self, urls: tuple[str, ...], setting: str):
        self.urls = urls
        self.setting = setting  # "url" or "urls": what a failure points at
        self._next = 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, url: str, urls: tuple[str, ...]) -> ServerPool:
        """``urls`` when the writer set it (it wins over ``url``), else ``url``."""
        return cls(urls, "urls") if urls else cls((url,), "url")

    def pick(self) -> str:
        with self._lock:
            url = self.urls[self._next % len(self.urls)]
            self._next += 1
        return url


def unreachable(
    exc: Unavailable | Transient, backend: str, pool: ServerPool, url: str, hint: str
) -> Unavailable:
    """A preflight failure to connect, pointing at the url setting."""
    why = "cannot reach" if isinstance(exc, Unavailable) else "no answer in time from"
    return Unavailable(
        f"{why} {host(url)}; check `{backend}.{pool.setting}`",
        backend=backend,
        setting=pool.setting,
        hint=hint,
    )


def preflight_hint(
    question: str, backend: str, settings: Mapping[str, str], default: object
) -> str:
    """The hint of a failed preflight: ``question`` (is the server running
    there?), and the default address when the writer set neither url nor urls."""
    return question + (
        "" if "url" in settings or "urls" in settings else f" `{backend}.url` defaults to {default}"
    )


def retry_elsewhere(exc: Unavailable, backend: str, pool: ServerPool) -> Transient:
    """``exc``, one server of ``pool`` failing, as :class:`Transient`: the retry
    goes to another server (the caller checks that there is another)."""
    return Transient(
        f"{exc}; another server will take the retry",
        backend=backend,
        setting=pool.setting,
    )
