"""API keys for the backends: where they come from and where they may go.

Where from: ``$STABILITY_API_KEY`` etc., else ``keys.toml`` in the user config
directory (see :mod:`comicc.backends.config`)::

    STABILITY_API_KEY = "sk-..."

Never from the script, never logged, cached, or written to outputs: every key
is registered as a secret the moment it is read (:func:`secrets` here, and
``comicc.diagnostics.register_secret``, which redacts it from every message),
and :func:`scrub` takes it out of a server's words at the source.

Where to: a key goes only to its service's own host over https (each keyed
backend declares ``KEY_HOSTS``). Any other host -- loopback included -- needs
the user's allowance outside the script (``$COMICC_ALLOW_KEY_HOSTS`` or
``allow_key_hosts`` in ``config.toml``), and a warning is printed once per
host; plain http to a host that is not loopback needs that allowance to name
the host itself (a ``*`` never covers it).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from comicc.backends.base import Unavailable
from comicc.backends.config import ALLOW_KEY_HOSTS_ENV, allow_key_hosts, config_dir, read_toml
from comicc.backends.settings import SettingProblem
from comicc.diagnostics import register_secret

__all__ = [
    "api_key",
    "config_dir",
    "key_for",
    "key_host_problem",
    "key_url_problems",
    "settings_key_problems",
    "register",
    "require_key",
    "scrub",
    "secrets",
]

_lock = threading.Lock()
_secrets: set[str] = set()
_warned: set[str] = set()
MIN_SECRET = 4  # shorter values are not scrubbed (they would eat ordinary words)


def register(value: str) -> None:
    """Remember ``value`` as a secret: :func:`scrub` and every diagnostic hide it."""
    value = value.strip()
    if len(value) < MIN_SECRET:
        return
    with _lock:
        _secrets.add(value)
    register_secret(value)


def secrets() -> frozenset[str]:
    """Every secret read so far in this process."""
    with _lock:
        return frozenset(_secrets)


def scrub(text: str, extra: tuple[str, ...] = ()) -> str:
    """``text`` with every known secret (and ``extra``) replaced by ``[redacted]``;
    longest first, so a key inside a longer secret leaves nothing behind."""
    found = {s for s in (*secrets(), *extra) if len(s) >= MIN_SECRET}
    for secret in sorted(found, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


def header_secrets(authorization: str | None) -> tuple[str, ...]:
    """The secrets inside an ``Authorization`` header value: the whole value, its
    token, and for Basic auth the decoded ``user:password`` and the password."""
    if not authorization:
        return ()
    out = [authorization]
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if token:
        out.append(token)
    if scheme.lower() == "basic" and token:
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            decoded = ""
        if decoded:
            out.append(decoded)
            out.append(decoded.partition(":")[2])
    return tuple(s for s in out if len(s) >= MIN_SECRET)


def api_key(env_var: str) -> str | None:
    """The key from the environment, else from the user's keys.toml (registered
    as a secret either way)."""
    value = os.environ.get(env_var)
    if value and value.strip():
        register(value)
        return value.strip()
    found = read_toml("keys.toml").get(env_var)
    if isinstance(found, str) and found.strip():
        register(found)
        return found.strip()
    return None


def require_key(env_var: str, backend: str) -> str:
    """The key, or :class:`Unavailable` saying where to put it."""
    key = api_key(env_var)
    if not key:
        raise Unavailable(
            f"no API key: `{env_var}` is not set",
            backend=backend,
            hint=f"export {env_var}=... or put it in {config_dir() / 'keys.toml'}; "
            "keys never go in the script",
        )
    return key


# ------------------------------------------------------------ where keys go
def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _allowed(hostname: str, netloc: str) -> tuple[bool, bool]:
    """(named explicitly, allowed by a wildcard) in the user's allowance."""
    allowed = allow_key_hosts()
    return hostname in allowed or netloc in allowed, "*" in allowed


def key_host_problem(
    backend: str, env_var: str, url: str, official: tuple[str, ...]
) -> tuple[str, str] | None:
    """(message, hint) when ``env_var``'s key must not be sent to ``url``; None
    when it may (see the module doc for the rule)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    hostname = (parts.hostname or "").lower()
    netloc = parts.netloc.rpartition("@")[2].lower()  # never a user:password
    if scheme == "https" and hostname in official:
        return None
    explicit, wildcard = _allowed(hostname, netloc)
    own = " or ".join(official) or "its own host"
    allow = (
        f"if you trust {netloc}, allow it outside the script: "
        f"`export {ALLOW_KEY_HOSTS_ENV}={hostname}` or "
        f'`allow_key_hosts = ["{hostname}"]` in {config_dir() / "config.toml"}'
    )
    if scheme == "http" and not _is_loopback(hostname):
        if explicit:
            return None
        return (
            f"`{backend}.url` sends `{env_var}` over plain http to {netloc}: "
            "comicc does not send keys unencrypted",
            f"use https://; {allow}",
        )
    if explicit or wildcard:
        return None
    return (
        f"`{backend}.url` points at {netloc or url!r}, not {backend}'s own host ({own}): "
        f"comicc does not send `{env_var}` there",
        allow,
    )


def key_url_problems(
    backend: str, env_var: str, url: str, official: tuple[str, ...]
) -> list[SettingProblem]:
    """:func:`key_host_problem` as the ``url`` setting's problem (for a backend's
    ``validate_settings``: the build reports it at the `backend.url` line
    before any request)."""
    problem = key_host_problem(backend, env_var, url, official)
    return [] if problem is None else [SettingProblem("url", problem[0], problem[1])]


def settings_key_problems(
    backend: str,
    env_var: str,
    settings: Mapping[str, str],
    default_url: str,
    official: tuple[str, ...],
    problems: Sequence[SettingProblem],
) -> list[SettingProblem]:
    """:func:`key_url_problems` for the url ``settings`` name (``default_url``
    when none), unless ``problems`` (the settings' own) has one for the url
    already: where the key may go, for a keyed service's ``validate_settings``."""
    if any(p.key == "url" for p in problems):
        return []
    return key_url_problems(backend, env_var, settings.get("url", default_url), official)


def key_for(env_var: str, backend: str, url: str, official: tuple[str, ...]) -> str:
    """The key to send to ``url``: :class:`Unavailable` (setting ``url``) when it
    must not go there; a warning on stderr the first time it goes to a host
    that is not the service's own."""
    problem = key_host_problem(backend, env_var, url, official)
    if problem is not None:
        raise Unavailable(problem[0], hint=problem[1], backend=backend, setting="url")
    key = require_key(env_var, backend)
    parts = urlsplit(url.strip())
    hostname = (parts.hostname or "").lower()
    if not (parts.scheme.lower() == "https" and hostname in official):
        netloc = parts.netloc.rpartition("@")[2].lower()
        with _lock:
            first = netloc not in _warned
            _warned.add(netloc)
        if first:
            print(
                f"comicc: warning: sending `{env_var}` to {netloc}, not {backend}'s own "
                f"host (allowed by {ALLOW_KEY_HOSTS_ENV} or config.toml)",
                file=sys.stderr,
                flush=True,
            )
    return key
