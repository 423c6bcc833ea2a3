"""What every HTTP backend shares: one requests session, timeouts on every
call, API keys from the environment or the user's config file, and the
mapping from HTTP failures to comicc's typed errors.

Retries are NOT done here (the build scheduler owns them): a backend makes
one attempt and raises ``RateLimited`` / ``Transient`` / ``Rejected`` /
``Unavailable``.

Keys: ``$STABILITY_API_KEY`` etc., else ``keys.toml`` in the user config
directory (``$COMICC_CONFIG`` or ``$XDG_CONFIG_HOME/comicc`` or
``~/.config/comicc``)::

    STABILITY_API_KEY = "sk-..."

Never from the script, never logged, cached, or written to outputs.
"""

from __future__ import annotations

import email.utils
import os
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import requests

from comicc import __version__
from comicc.backends.base import RateLimited, Rejected, Transient, Unavailable

DEFAULT_TIMEOUT = (10.0, 120.0)  # connect, read (seconds)
USER_AGENT = f"comicc/{__version__}"


def config_dir() -> Path:
    if os.environ.get("COMICC_CONFIG"):
        return Path(os.environ["COMICC_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "comicc"


def api_key(env_var: str) -> str | None:
    """The key from the environment, else from the user's keys.toml."""
    value = os.environ.get(env_var)
    if value:
        return value.strip()
    path = config_dir() / "keys.toml"
    try:
        with open(path, "rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    value = doc.get(env_var)
    return value.strip() if isinstance(value, str) and value.strip() else None


def require_key(env_var: str, backend: str) -> str:
    key = api_key(env_var)
    if not key:
        raise Unavailable(
            f"no API key: `{env_var}` is not set",
            backend=backend,
            hint=f"export {env_var}=... or put it in {config_dir() / 'keys.toml'}; "
            "keys never go in the script",
        )
    return key


def session() -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    return s


class ThreadSessions:
    """One requests session per painting thread (a Session is not promised to
    be thread-safe, and the scheduler paints several panels at once)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = session()
        return self._local.session


def parse_timeout(
    value: str | None, default: tuple[float, float] = DEFAULT_TIMEOUT
) -> tuple[float, float]:
    if not value:
        return default
    return (default[0], float(value))


def retry_after(resp: requests.Response, default: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta or HTTP date)."""
    value = resp.headers.get("retry-after")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when else default


def call(
    sess: requests.Session,
    method: str,
    url: str,
    *,
    backend: str,
    setting: str = "url",
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    **kw: Any,
) -> requests.Response:
    """One HTTP call; connection problems become typed errors naming ``setting``."""
    try:
        return sess.request(method, url, timeout=timeout, **kw)
    except requests.exceptions.ConnectTimeout as e:
        raise Transient(
            f"connecting to {_host(url)} timed out", backend=backend, setting=setting
        ) from e
    except requests.exceptions.Timeout as e:
        raise Transient(
            f"{_host(url)} did not answer within {timeout[1]:g} s", backend=backend, setting=setting
        ) from e
    except requests.exceptions.ConnectionError as e:
        raise Unavailable(
            f"cannot reach {_host(url)}",
            backend=backend,
            setting=setting,
            hint=f"is the server running? check `{backend}.{setting}`",
        ) from e
    except requests.exceptions.RequestException as e:
        raise Transient(
            f"request to {_host(url)} failed: {type(e).__name__}", backend=backend
        ) from e


def raise_for_status(resp: requests.Response, backend: str, reason: str | None = None) -> None:
    """Map an error status to a typed error; ``reason`` is the service's own words."""
    code = resp.status_code
    if code < 400:
        return
    why = reason or _short_body(resp)
    if code == 429:
        raise RateLimited(
            f"rate limited (HTTP 429){': ' + why if why else ''}",
            retry_after=retry_after(resp),
            backend=backend,
        )
    if code in (401,):
        raise Unavailable(
            f"the API key was refused (HTTP 401){': ' + why if why else ''}",
            backend=backend,
            hint="check the key in your environment or keys.toml",
        )
    if code == 403:
        raise Rejected(
            f"refused (HTTP 403){': ' + why if why else ''}",
            reason=why or "forbidden",
            backend=backend,
        )
    if code in (400, 404, 413, 422):
        raise Rejected(
            f"HTTP {code}{': ' + why if why else ''}", reason=why or f"http-{code}", backend=backend
        )
    if code >= 500:
        raise Transient(f"server error (HTTP {code}){': ' + why if why else ''}", backend=backend)
    raise Rejected(
        f"HTTP {code}{': ' + why if why else ''}", reason=why or f"http-{code}", backend=backend
    )


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
                return v["message"][:300]
            if isinstance(v, list) and v:
                return "; ".join(str(x) for x in v)[:300]
    return str(doc)[:200]


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.netloc or url
