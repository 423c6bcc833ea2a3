"""Where comicc keeps what it derives for this user, between runs: the user cache.

Each kind has its own folder (the built parser, parsed lines, verified art, the
dataclasses' compiled code...) and its own environment variable to move it or
turn it off. Everything kept there is an optimisation only: a missing folder,
one that cannot be written, or no home folder at all, is no error.
"""

from __future__ import annotations

import os
from pathlib import Path

OFF = ("", "0", "off", "no", "false")  # an environment variable's values meaning "no cache"


def user_cache_dir(env_name: str, sub: str) -> Path | None:
    """A folder of comicc's user cache: ``$ENV_NAME`` when set (``off``, ``0``,
    ``no``, ``false`` or empty: no cache at all), else ``sub`` under
    ``$XDG_CACHE_HOME/comicc`` or ``~/.cache/comicc``; None without a home."""
    env = os.environ.get(env_name)
    if env is not None and env.strip().lower() in OFF:
        return None
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        home = os.path.expanduser("~")
        if home == "~":  # no home folder known: never a `~` folder in the current one
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "comicc" / sub
