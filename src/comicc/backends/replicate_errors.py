"""Replicate's words for what went wrong: error details, waits, retryable failures.

Replicate answers errors in prose (``detail``, ``invalid_fields``) and says
how long to wait only in a sentence ("resets in ~30s"); the backend in
:mod:`comicc.backends.replicate` reads them through these helpers.
"""

from __future__ import annotations

import re

import requests

_UNIT = r"(ms|s|sec|secs|seconds?|m|min|minutes?)"


def retry_after_from_detail(text: str) -> float | None:
    """'Request was throttled. Your rate limit resets in ~30s.' -> 30.0"""
    m = re.search(
        r"resets?\s+in\s+~?\s*(\d+(?:\.\d+)?)\s*" + _UNIT + r"?\b", text, re.IGNORECASE
    ) or re.search(
        r"(?:retry|try again)\D{0,20}?(\d+(?:\.\d+)?)\s*" + _UNIT + r"\b", text, re.IGNORECASE
    )
    if not m:
        return None
    value, unit = float(m.group(1)), (m.group(2) or "s").lower()
    if unit == "ms":
        return value / 1000
    if unit.startswith("m"):
        return value * 60
    return value


def error_detail(resp: requests.Response) -> str:
    """Replicate's own words for an error response (detail + invalid fields)."""
    try:
        doc = resp.json()
    except ValueError:
        return resp.text[:300].strip()
    if not isinstance(doc, dict):
        return str(doc)[:300]
    parts = []
    for key in ("detail", "title", "error", "message"):
        if isinstance(doc.get(key), str) and doc[key].strip():
            parts.append(doc[key].strip())
            break
    fields = doc.get("invalid_fields")
    if isinstance(fields, list):
        for f in fields[:5]:
            if isinstance(f, dict):
                parts.append(f"{f.get('field', '?')}: {f.get('description', f.get('type', ''))}")
    return "; ".join(parts)[:500]


# errors of a failed prediction that are worth trying again
TRANSIENT_WORDS = (
    "interrupted",
    "retry",
    "try again",
    "out of memory",
    "cuda",
    "timed out",
    "timeout",
    "internal",
    "unavailable",
    "connection",
    "temporar",
    "overloaded",
    "capacity",
    "(code: pa)",
    "director",
    "worker",
    "killed",
)
