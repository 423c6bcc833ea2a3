"""The user's own configuration: what a script may never decide for itself.

Two places, both outside any script: environment variables, and
``config.toml`` in the user config directory (``$COMICC_CONFIG`` or
``$XDG_CONFIG_HOME/comicc`` or ``~/.config/comicc``, beside ``keys.toml``)::

    allow_key_hosts = ["sd.example.org", "127.0.0.1:8000"]  # $COMICC_ALLOW_KEY_HOSTS
    max_retry_wait = 600                                   # $COMICC_MAX_RETRY_WAIT

The environment wins over the file. A missing or unreadable file is an empty
one; a value of the wrong type is ignored (the default applies).
"""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path
from typing import Any

ALLOW_KEY_HOSTS_ENV = "COMICC_ALLOW_KEY_HOSTS"
MAX_RETRY_WAIT_ENV = "COMICC_MAX_RETRY_WAIT"
DEFAULT_MAX_RETRY_WAIT = 120.0  # seconds: a longer Retry-After stops the backend


def config_dir() -> Path:
    """The user config directory (where ``keys.toml`` and ``config.toml`` live)."""
    if os.environ.get("COMICC_CONFIG"):
        return Path(os.environ["COMICC_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "comicc"


def read_toml(name: str) -> dict[str, Any]:
    """``name`` in the config directory as a table; empty when absent or broken."""
    try:
        with open(config_dir() / name, "rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def allow_key_hosts() -> frozenset[str]:
    """The hosts (``host`` or ``host:port``, lower case; ``*`` = any) the user
    allows API keys to go to besides each service's own host."""
    raw = os.environ.get(ALLOW_KEY_HOSTS_ENV)
    if raw is not None and raw.strip():
        entries: list[object] = list(raw.split(","))
    else:
        value = read_toml("config.toml").get("allow_key_hosts")
        entries = list(value) if isinstance(value, list) else []
    return frozenset(e.strip().lower() for e in entries if isinstance(e, str) and e.strip())


def max_retry_wait() -> float:
    """The longest Retry-After (seconds) the build waits out; a longer one stops
    painting with that backend."""
    raw: object = os.environ.get(MAX_RETRY_WAIT_ENV)
    if raw is None or not str(raw).strip():
        raw = read_toml("config.toml").get("max_retry_wait")
    if isinstance(raw, bool):
        return DEFAULT_MAX_RETRY_WAIT
    try:
        value = float(raw) if isinstance(raw, (int, float, str)) else math.nan
    except ValueError:
        return DEFAULT_MAX_RETRY_WAIT
    return value if math.isfinite(value) and value >= 0 else DEFAULT_MAX_RETRY_WAIT
