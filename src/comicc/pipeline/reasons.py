"""Why an image will be painted again: the repaint reasons of the book plan.

A build keeps, in each cache entry's metadata, the request that painted it
(:func:`request_record`). When the next plan finds an image not in the cache,
:func:`repaint_reasons` compares its request with the record of the key the
lock file holds for that panel variant and says what differs, in the words a
writer reads: ``prompt: added `dutch angle```, ``seed changed``,
``backend stability -> draft``, ``mask: balloon b3 grew``, ``new panel``,
``variants 1 -> 3``. Pure: reads the cache's metadata, never the network.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from comicc.backends import Capabilities
from comicc.layout import PanelGeom
from comicc.model import ir
from comicc.paint import ArtCache, LockFile, PanelPlan

_REF = re.compile(r"@[a-z][a-z0-9_\-]*")  # a snippet reference, as model.prompt reads it
RECORD = "request"  # the key of the request record in a cache entry's metadata
WRITTEN = ("description", "item", "prompt!", "style")  # the kinds a writer writes in a panel


# ----------------------------------------------------------- the request record
def request_record(
    plan: PanelPlan, panel: ir.Panel, geom: PanelGeom, caps: Capabilities
) -> dict[str, Any]:
    """What a cache entry's metadata keeps of the request that painted it, so a
    later plan can say why a panel repaints: prompt and its labelled parts,
    negative, seed, backend, model, settings (the cache key's: none that only
    say how to reach the service), sizes, mask settings and balloon geometry."""
    return {
        "backend": plan.backend,
        "model": plan.model,
        "prompt": plan.prompt,
        "negative": plan.negative,
        "sources": [[s.kind, s.source, s.text, s.name] for s in panel.prompt.sources],
        "seed": plan.seed,
        "settings": [[k, v] for k, v in plan.backend_settings if k not in caps.neutral_settings],
        "dpi": plan.dpi,
        "size": list(plan.request_size),
        "box": list(plan.box_size),
        "mask": {
            "mode": plan.mask_mode,
            "keep_margin": round(plan.keep_margin, 2),
            "feather": round(plan.feather, 2),
        },
        "balloons": {b.id: [round(v, 2) for v in b.rect.to_json()] for b in geom.balloons},
        "cast": [[n, round(x, 1), round(y, 1)] for n, (x, y) in plan.cast],
        "lines": [[t, round(x, 2), round(y, 2), round(s, 2)] for t, x, y, s in plan.lines],
        "references": [[r.character, r.sha256] for r in plan.references],
        "loras": [[lo.character, lo.name, round(lo.weight, 4)] for lo in plan.loras],
    }


# ----------------------------------------------------------- repaint reasons
def repaint_reasons(
    plan: PanelPlan,
    panel: ir.Panel,
    geom: PanelGeom,
    caps: Capabilities,
    lock: LockFile,
    cache: ArtCache,
) -> tuple[str, ...]:
    """Why the image ``plan`` is not in the cache: what differs from the request
    the last build (the lock file) made for this panel variant."""
    entry = lock.panels.get(panel.id)
    if entry is None:
        return ("new panel",) if lock.panels else ("not painted yet (no lock file)",)
    keys = entry["variant_keys"]
    if plan.variant > len(keys):
        return (f"variants {entry['variants']} -> {panel.settings.variants}",)
    before = keys[plan.variant - 1]
    if before == plan.cache_key:
        return ("the art is not in the cache (cleared, or built on another machine)",)
    meta = cache.meta(before)
    record = meta.get(RECORD) if meta else None
    now = request_record(plan, panel, geom, caps)
    out: list[str] = []
    if entry["backend"] != plan.backend:
        out.append(f"backend {entry['backend']} -> {plan.backend}")
    if entry["model"] != plan.model:
        out.append(f"model {entry['model'] or 'the default'} -> {plan.model or 'the default'}")
    if not isinstance(record, dict):
        if plan.variant == entry["pick"] and entry["seed"] != plan.seed and not out:
            out.append("seed changed")
        out += _balloon_reasons(entry["balloons"], now["balloons"], plan.mask_mode)
        return tuple(out) or ("the request changed (the last one is not in the cache)",)
    if record.get("backend") == plan.backend:  # settings of another backend are not comparable
        out += _settings_reasons(record.get("settings"), now["settings"], plan.backend)
    if record.get("seed") != plan.seed:
        out.append("seed changed")
    out += _prompt_reasons(record, now)
    if record.get("negative") != plan.negative:
        out.append("negative prompt changed")
    out += _size_reasons(record, now)
    out += _mask_reasons(record.get("mask"), now["mask"])
    if plan.mask_mode != "none":
        old = record.get("balloons")
        out += _balloon_reasons(
            old if isinstance(old, dict) else {}, now["balloons"], plan.mask_mode
        )
        if plan.mask_mode == "lettered" and record.get("lines") != now["lines"]:
            out.append("mask: the lettering drawn into the init image changed (`lettered`)")
    if record.get("cast") != now["cast"]:
        out.append("cast moved")
    out += _character_reasons(record, now)
    return tuple(dict.fromkeys(out)) or ("the request changed",)


def _prompt_reasons(record: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    old_sources = record.get("sources")
    if not isinstance(old_sources, list):
        return ["prompt changed"] if record.get("prompt") != now["prompt"] else []
    old = [tuple(s) + (None,) * (4 - len(s)) for s in old_sources if isinstance(s, list)]
    new = [tuple(s) for s in now["sources"]]
    out: list[str] = []
    label = {"description": "prompt", "item": "prompt", "prompt!": "prompt!", "style": "style"}

    def written(parts: Iterable[tuple[Any, ...]]) -> Counter[tuple[str, str]]:
        return Counter((str(p[0]), str(p[1])) for p in parts if p[0] in WRITTEN[1:])

    was, now_written = written(old), written(new)
    for kind, source in (now_written - was).elements():
        out.append(f"{label[kind]}: added `{source}`")
    for kind, source in (was - now_written).elements():
        out.append(f"{label[kind]}: removed `{source}`")
    old_desc = next((str(p[1]) for p in old if p[0] == "description"), "")
    new_desc = next((str(p[1]) for p in new if p[0] == "description"), "")
    if old_desc != new_desc:
        old_refs, new_refs = _refs(old_desc), _refs(new_desc)
        out += [f"prompt: added `{r}`" for r in new_refs - old_refs]
        out += [f"prompt: removed `{r}`" for r in old_refs - new_refs]
        if _without_refs(old_desc) != _without_refs(new_desc):
            out.append("prompt: description changed")
    for kind, what in (("snippet", "snippet"), ("character", "character")):
        before = {str(p[3] or p[1]): p[2] for p in old if p[0] == kind}
        after = {str(p[3] or p[1]): p[2] for p in new if p[0] == kind}
        for name in sorted(before.keys() & after.keys()):
            if before[name] != after[name]:
                shown = f"@{name}" if kind == "snippet" else name
                out.append(f"{what} `{shown}` changed")
    if not out and record.get("prompt") != now["prompt"]:
        out.append("prompt changed")
    return out


def _refs(text: str) -> set[str]:
    return {m.group(0) for m in _REF.finditer(text)}


def _without_refs(text: str) -> str:
    """``text`` without its snippet references and the punctuation around them."""
    return re.sub(r"[\s,.;:!?]+", " ", _REF.sub(" ", text)).strip()


def _settings_reasons(old: Any, new: list[list[str]], backend: str) -> list[str]:
    if not isinstance(old, list):
        return []
    before = {str(p[0]): str(p[1]) for p in old if isinstance(p, list) and len(p) == 2}
    after = {k: v for k, v in new}
    out = []
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            out.append(
                f"`{backend}.{key}` {before.get(key, '(unset)')} -> {after.get(key, '(unset)')}"
            )
    return out


def _size_reasons(record: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    if record.get("box") != now["box"]:
        old = record.get("box") or ["?", "?"]
        reason = f"panel size {old[0]}x{old[1]} -> {now['box'][0]}x{now['box'][1]} px"
        if record.get("dpi") not in (None, now["dpi"]):
            reason += f" (dpi {record.get('dpi')} -> {now['dpi']})"
        return [reason]
    if record.get("size") != now["size"]:
        old = record.get("size") or ["?", "?"]
        return [f"request size {old[0]}x{old[1]} -> {now['size'][0]}x{now['size'][1]} px"]
    return []


def _mask_reasons(old: Any, new: Mapping[str, Any]) -> list[str]:
    if not isinstance(old, dict):
        return []
    out = []
    if old.get("mode") != new["mode"]:
        out.append(f"mask: balloons {old.get('mode')} -> {new['mode']}")
    for key, what in (("keep_margin", "keep margin"), ("feather", "feather")):
        if old.get(key) != new[key]:
            out.append(f"mask: {what} {old.get(key)} -> {new[key]} px")
    return out


def _character_reasons(record: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """``reference image of MAYA changed``, ``LoRA of MAYA changed``..."""
    out = []
    for key, what in (("references", "reference image"), ("loras", "LoRA")):
        old = record.get(key)
        if not isinstance(old, list) or old == now[key]:
            continue
        before = {str(e[0]): e[1:] for e in old if isinstance(e, list) and e}
        after = {str(e[0]): e[1:] for e in now[key]}
        for name in sorted(before.keys() | after.keys()):
            if name not in before:
                out.append(f"{what} of {name} added")
            elif name not in after:
                out.append(f"{what} of {name} removed")
            elif before[name] != after[name]:
                out.append(f"{what} of {name} changed")
    return out


def _balloon_reasons(
    old: Mapping[str, Any], new: Mapping[str, list[float]], mode: str
) -> list[str]:
    """``mask: balloon b3 grew``...: how the reserved balloons differ (the mask's shape)."""
    if mode == "none":
        return []
    out = []
    for bid in list(new) + [b for b in old if b not in new]:
        short = bid.rsplit(".", 1)[-1]
        was, now = old.get(bid), new.get(bid)
        if was is None:
            out.append(f"mask: new balloon {short}")
        elif now is None:
            out.append(f"mask: balloon {short} removed")
        elif [round(float(v), 1) for v in was] != [round(v, 1) for v in now]:
            area_was, area_now = float(was[2]) * float(was[3]), now[2] * now[3]
            if abs(area_now - area_was) < 0.5:
                out.append(f"mask: balloon {short} moved")
            else:
                out.append(f"mask: balloon {short} {'grew' if area_now > area_was else 'shrank'}")
    return out
