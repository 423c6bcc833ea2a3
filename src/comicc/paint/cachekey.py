"""Content hash of one paint request: the cache key.

The key is the SHA-256 (hex) of a canonical JSON document (sorted keys, no
whitespace, floats rounded) holding everything that changes the pixels a
backend returns:

* ``backend``, ``model``, the backend settings (sorted pairs, under the document's
  ``params`` key), ``prompt``, ``negative``,
  ``seed``, the request size in pixels, the exact panel box size, ``variant``;
* the cast points (a backend may draw figures there; the draft one does);
* the MASK GEOMETRY: mask mode, keep-margin and feather (px), and the reserved
  balloon paths relative to the panel box, every coordinate rounded to 0.01 pt;
* a backend setting naming a file (``comfyui.workflow``) as the SHA-256 of the
  file's content, not its path (:func:`file_content`);
* the consistent-character inputs the backend is SENT (``refs``: character and
  SHA-256 of each reference image's content, never its path; ``loras``:
  character, name and weight), and only when there are some: a backend that
  cannot use them gets none, so their changes repaint nothing there, and a
  script without them keeps the keys it had.

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

from comicc.backends import BackendError
from comicc.backends import load as load_backend
from comicc.layout import VectorPath
from comicc.model import expand_home

# Bump whenever comicc changes how it rasterizes the init image or the mask
# (or the draft backend its roughs): old cache entries then stop matching.
KEY_VERSION = 4  # 3: masks stroked without round joints; 4: feather rings 2 px apart
# along outlines flattened within 1 px (paint/mask.py)


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
    references: Sequence[tuple[str, str]] = (),
    loras: Sequence[tuple[str, str, float]] = (),
) -> dict[str, Any]:
    """The document the key hashes (see the module docstring for what goes in).
    ``references``: (character, sha256) pairs; ``loras``: (character, name, weight)."""
    items = backend_settings.items() if isinstance(backend_settings, Mapping) else backend_settings
    extra: dict[str, Any] = {}
    if references:
        extra["refs"] = [[c, h] for c, h in references]
    if loras:
        extra["loras"] = [[c, n, _r(w, 4)] for c, n, w in loras]
    return {
        **extra,
        "v": KEY_VERSION,
        "backend": backend,
        "model": model,
        # named "params" since KEY_VERSION 1: renaming it would repaint every panel
        "params": sorted([str(k), file_content(backend, str(k), str(v))] for k, v in items),
        "prompt": prompt,
        "negative": negative,
        "seed": seed,
        "size": list(request_size),
        "box": list(box_size),
        "variant": variant,
        "cast": [[n, _r(x, 1), _r(y, 1)] for n, (x, y) in cast],
        "mask": dict(mask),
    }


MAX_KEYED_FILE = 64 * 2**20  # a larger file named by a setting stays keyed by its path


def file_content(backend: str, key: str, value: str) -> str:
    """A backend setting naming a file (a ``path`` setting, e.g. ``comfyui.workflow``)
    enters the key as ``sha256:`` of the file's CONTENT: editing the file repaints,
    moving it (with its setting) does not. Any other setting, or a file that
    cannot be read (the build reports it), stays as it is."""
    try:
        spec = (load_backend(backend).SETTINGS or {}).get(key)
    except BackendError:
        return value
    if spec is None or spec.kind != "path" or not value.strip():
        return value
    path = expand_home(value.strip())
    try:
        if path.stat().st_size > MAX_KEYED_FILE:
            return value
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return value


def cache_key(document: Mapping[str, Any]) -> str:
    """The key: sha256 hex of a :func:`key_document`'s canonical JSON."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()
