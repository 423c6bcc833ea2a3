"""Content hash of one paint request: the cache key.

The key is the SHA-256 (hex) of a canonical JSON document (sorted keys, no
whitespace, floats rounded) holding everything that changes the pixels a
backend returns:

* ``backend``, ``model``, the backend settings (sorted pairs, under the document's
  ``params`` key), ``prompt``, ``negative``,
  ``seed``, the request size in pixels, the exact panel box size, ``variant``;
* the cast points (a backend may draw figures there; the draft one does);
* the MASK GEOMETRY: mask mode, keep-margin and feather (px), and the reserved
  balloon paths relative to the panel box, every coordinate rounded to 0.01 pt.

It deliberately leaves out the balloon TEXT: fixing a typo that still fits in
the same balloon keeps the same reserved shape, so the key (and the paid
painting) stays the same. Exception: with ``mask.balloons: lettered`` the text
is drawn into the init image the service sees, so there the text lines
(strings, positions, sizes) are part of the key.

Never put secrets (API keys) in here: the key's document may be written to
the cache and lock file for debugging.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from comicc.layout import VectorPath

# Bump whenever comicc changes how it rasterizes the init image or the mask
# (or the draft backend its roughs): old cache entries then stop matching.
KEY_VERSION = 2


def _r(v: float, nd: int = 2) -> float:
    r = round(float(v), nd)
    return 0.0 if r == 0 else r  # no "-0.0"


def path_json(path: VectorPath) -> list[list[str | float]]:
    """A path as JSON: one ``[op, coordinates...]`` list per command, to 0.01."""
    return [[c.op] + [_r(v) for v in c.pts] for c in path.cmds]


def mask_geometry(
    reserve: Iterable[VectorPath],
    *,
    mode: str,
    keep_margin: float,
    feather: float,
    lines: Sequence[tuple[str, float, float, float]] = (),
) -> dict[str, Any]:
    """The part of the key that describes the mask and init image."""
    geo: dict[str, Any] = {"mode": mode, "keep_margin": _r(keep_margin), "feather": _r(feather)}
    if mode != "none":
        geo["reserve"] = [path_json(p) for p in reserve]
    if mode == "lettered":
        geo["lines"] = [[t, _r(x), _r(b), _r(s)] for t, x, b, s in lines]
    return geo


def canonical_json(doc: Any) -> str:
    """JSON with sorted keys and no whitespace: equal documents, equal text."""
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def key_document(
    *,
    backend: str,
    model: str | None,
    backend_settings: Mapping[str, str] | Iterable[tuple[str, str]],
    prompt: str,
    negative: str,
    seed: int | None,
    request_size: tuple[int, int],
    box_size: tuple[int, int],
    variant: int,
    mask: Mapping[str, Any],
    cast: Iterable[tuple[str, tuple[float, float]]] = (),
) -> dict[str, Any]:
    """The document the key hashes (see the module docstring for what goes in)."""
    items = backend_settings.items() if isinstance(backend_settings, Mapping) else backend_settings
    return {
        "v": KEY_VERSION,
        "backend": backend,
        "model": model,
        # named "params" since KEY_VERSION 1: renaming it would repaint every panel
        "params": sorted([str(k), str(v)] for k, v in items),
        "prompt": prompt,
        "negative": negative,
        "seed": seed,
        "size": list(request_size),
        "box": list(box_size),
        "variant": variant,
        "cast": [[n, _r(x, 1), _r(y, 1)] for n, (x, y) in cast],
        "mask": dict(mask),
    }


def cache_key(document: Mapping[str, Any]) -> str:
    """The key: sha256 hex of a :func:`key_document`'s canonical JSON."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()
