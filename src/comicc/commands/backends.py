"""``comicc backends``: every registered image backend and what it supports.

Each backend's module is imported lazily, one at a time; one that cannot be
loaded (module missing, dependency missing, broken plugin) is listed as
"not available" with its hint, and never stops the others from being listed.
Keys: only the environment variable's NAME and whether a key is set are
shown -- never the key.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from comicc.backends import BackendError, Capabilities, api_key, load, names


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: Callable[..., None]
) -> None:
    """Add the ``backends`` verb to the CLI's subparsers (it takes none of the
    ``common`` flags: it reads no script)."""
    p = sub.add_parser(
        "backends",
        help="list image backends and what each supports",
        description="List every registered image backend (built-in and plugins) with "
        "what it needs and supports: API key, mask convention, edge control, "
        "seed, negative prompt, sizes, sync/async, cost, reference images and LoRAs "
        "(per panel). Keys are never shown.",
    )
    p.add_argument("--json", action="store_true", help="print JSON for tools instead of a table")
    p.add_argument(
        "--debug", action="store_true", help="show Python tracebacks for internal errors"
    )


# ---------------------------------------------------------------- describing
def _key_state(env: str | None) -> dict[str, Any] | None:
    if not env:
        return None
    if os.environ.get(env, "").strip():
        where = "environment"
    elif api_key(env):
        where = "keys.toml"
    else:
        where = None
    return {"env": env, "set": where is not None, "from": where}


def _sizes(c: Capabilities) -> str:
    if c.allowed_sizes is not None:
        listed = [f"{w}x{h}" for w, h in c.allowed_sizes]
        if len(listed) > 4:  # SDXL's nine: the full list is in --json
            return f"{len(listed)} fixed sizes ({', '.join(listed[:2])}, ...)"
        return ", ".join(listed) or "none"
    parts = []
    if c.multiple_of > 1:
        parts.append(f"multiples of {c.multiple_of}")
    if c.min_side > 1 or c.max_side is not None:
        hi = f"{c.max_side}" if c.max_side is not None else ""
        parts.append(f"side {c.min_side}-{hi} px" if hi else f"side >= {c.min_side} px")
    if c.min_pixels > 1 or c.max_pixels is not None:
        lo = f"{c.min_pixels:,}"
        parts.append(
            f"{lo}-{c.max_pixels:,} px total" if c.max_pixels is not None else f">= {lo} px total"
        )
    if c.max_request_bytes:
        mib = c.max_request_bytes / 2**20
        parts.append(f"body <= {mib:g} MiB")
    return "; ".join(parts) or "any"


def _caps_json(c: Capabilities) -> dict[str, Any]:
    e = c.edge_control
    return {
        "mask_convention": c.mask_convention,
        "edge_control": None
        if e is None
        else {"param": e.param, "default": e.default, "minimum": e.minimum, "maximum": e.maximum},
        "seed": c.seed,
        "negative_prompt": c.negative_prompt,
        "sizes": {
            "allowed": [list(s) for s in c.allowed_sizes] if c.allowed_sizes is not None else None,
            "multiple_of": c.multiple_of,
            "min_side": c.min_side,
            "max_side": c.max_side,
            "min_pixels": c.min_pixels,
            "max_pixels": c.max_pixels,
            "max_request_bytes": c.max_request_bytes,
            "text": _sizes(c),
        },
        "sync": c.sync,
        "deterministic": c.deterministic,
        "needs_network": c.needs_network,
        "cost_unit": c.cost_unit,
        "cost_per_image": c.cost_per_image,
        "max_references": c.max_references,
        "max_loras": c.max_loras,
    }


def describe(name: str) -> dict[str, Any]:
    """One backend as a JSON-able dict; never raises for a backend that cannot load."""
    entry: dict[str, Any] = {"name": name, "available": False}
    try:
        factory = load(name)
    except BackendError as e:
        entry["reason"] = e.message
        entry["hint"] = e.hint
        return entry
    except Exception as e:  # a broken plugin must not break the listing
        entry["reason"] = f"could not be loaded: {type(e).__name__}: {e}"
        entry["hint"] = None
        return entry
    caps = factory.capabilities
    entry["available"] = True
    entry["key"] = _key_state(caps.needs_key)
    entry.update(_caps_json(caps))
    entry["settings"] = sorted(factory.SETTINGS) if factory.SETTINGS is not None else None
    variants = []
    try:
        for label, vcaps in factory.capability_variants():
            variants.append({"when": label, **_caps_json(vcaps)})
    except Exception:  # descriptive extras only
        variants = []
    entry["variants"] = variants
    return entry


# ------------------------------------------------------------------ printing
COLUMNS = (
    "backend",
    "needs key",
    "mask",
    "edge control",
    "seed",
    "negative",
    "sizes",
    "mode",
    "cost",
    "references",
    "LoRAs",
)


def _up_to(n: int) -> str:
    return f"up to {n}" if n else "no"


def _row(name: str, e: dict[str, Any]) -> list[str]:
    key = e.get("key")
    key_text = "no" if not key else f"{key['env']} ({'set' if key['set'] else 'NOT set'})"
    edge = e["edge_control"]
    edge_text = (
        "none"
        if edge is None
        else (
            f"{edge['param']} {edge['minimum']:g}-{edge['maximum']:g} "
            f"(default {edge['default']:g}; sends {edge['minimum']:g})"
            if edge["maximum"] is not None
            else f"{edge['param']} (sends {edge['minimum']:g})"
        )
    )
    mask = e["mask_convention"] + (
        " = paint" if e["mask_convention"] != "alpha" else " (transparent = paint)"
    )
    cost = (
        "free"
        if not e["cost_unit"] or not e["cost_per_image"]
        else f"{e['cost_per_image']:g} {e['cost_unit']}/image"
    )
    return [
        name,
        key_text,
        mask,
        edge_text,
        "yes" if e["seed"] else "no",
        "yes" if e["negative_prompt"] else "no",
        e["sizes"]["text"],
        "sync" if e["sync"] else "async (queue + poll)",
        cost,
        _up_to(e.get("max_references", 0)),
        _up_to(e.get("max_loras", 0)),
    ]


def render_table(entries: list[dict[str, Any]]) -> str:
    """The human-readable listing: one row per backend and variant, then notes."""
    rows: list[list[str]] = []
    notes: list[str] = []
    for e in entries:
        if not e["available"]:
            rows.append([e["name"], "not available", *[""] * (len(COLUMNS) - 2)])
            notes.append(
                f"{e['name']}: {e['reason']}" + (f" (hint: {e['hint']})" if e.get("hint") else "")
            )
            continue
        rows.append(_row(e["name"], e))
        for v in e.get("variants") or ():
            rows.append(_row(f"  {v['when']}", {**v, "key": e.get("key")}))
    widths = [
        max(len(COLUMNS[i]), *(len(r[i]) for r in rows)) if rows else len(COLUMNS[i])
        for i in range(len(COLUMNS))
    ]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if notes:
        lines.append("")
        lines += notes
    lines.append("")
    lines.append(
        "Switch one on with `backend: NAME` in a script; settings are `NAME.setting: value` "
        "(docs/backends.md). Keys come from the environment or keys.toml, never the script."
    )
    return "\n".join(lines) + "\n"


def cmd_backends(args: argparse.Namespace) -> int:
    """``comicc backends [--json]``: print every registered backend; exit code 0."""
    entries = [describe(name) for name in names()]
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps({"backends": entries}, indent=1) + "\n")
    else:
        sys.stdout.write(render_table(entries))
    return 0
