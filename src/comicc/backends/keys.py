"""API keys for the backends: from the environment, else the user's ``keys.toml``.

``$STABILITY_API_KEY`` etc., else ``keys.toml`` in the user config directory
(``$COMICC_CONFIG`` or ``$XDG_CONFIG_HOME/comicc`` or ``~/.config/comicc``)::

    STABILITY_API_KEY = "sk-..."

Never from the script, never logged, cached, or written to outputs.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from comicc.backends.base import Unavailable


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
