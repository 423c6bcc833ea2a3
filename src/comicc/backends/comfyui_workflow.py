"""ComfyUI workflows: the built-in inpaint graph, user workflow files, placeholders.

A workflow is ComfyUI's *API format*: a JSON object of node id ->
``{"class_type": ..., "inputs": {...}}`` (in ComfyUI: Workflow -> Export
(API); older versions: enable dev mode, then "Save (API Format)"). The UI
format (``{"nodes": [...], "links": [...]}``) cannot be queued.

Placeholders are string values EXACTLY equal to ``{{name}}`` anywhere in a
node's inputs; comicc replaces each with its value for the request (numbers
as numbers). A placeholder inside a longer string is refused rather than
guessed at. ``{{image}}`` and ``{{prompt}}`` are required.

Consistent characters: ``{{reference_1}}`` ... ``{{reference_8}}`` are the
uploaded reference images of the characters in the panel, ``{{lora_1}}`` ...
with ``{{lora_1_weight}}`` ... their LoRAs (:func:`slot_values`). The number
of slots a workflow has is what the backend declares it can take. The built-in
graph takes LoRAs too: :func:`with_loras` chains one ``LoraLoader`` per LoRA.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from comicc.diagnostics import did_you_mean
from comicc.model import expand_home
from comicc.source import InputRefused, read_capped

# name -> (type, what it is)
PLACEHOLDERS: dict[str, tuple[type, str]] = {
    "image": (str, "the uploaded init image (RGBA: transparent = paint), for LoadImage"),
    "mask": (str, "the uploaded mask (white and transparent = paint), for LoadImageMask"),
    "prompt": (str, "the panel's prompt"),
    "negative": (str, "the negative prompt"),
    "seed": (int, "the panel variant's seed"),
    "width": (int, "the requested width in px (a multiple of 8)"),
    "height": (int, "the requested height in px"),
    "checkpoint": (str, "`comfyui.checkpoint`, else `model:`, else the default"),
    "steps": (int, "`comfyui.steps`"),
    "cfg": (float, "`comfyui.cfg`"),
    "sampler": (str, "`comfyui.sampler`"),
    "scheduler": (str, "`comfyui.scheduler`"),
    "denoise": (float, "`comfyui.denoise`"),
    "grow_mask_by": (int, "`comfyui.grow_mask_by` (0 unless set)"),
}
MAX_SLOTS = 8  # reference images and LoRAs a workflow may take
for _n in range(1, MAX_SLOTS + 1):
    PLACEHOLDERS[f"reference_{_n}"] = (str, f"the uploaded reference image number {_n}")
for _n in range(1, MAX_SLOTS + 1):
    PLACEHOLDERS[f"lora_{_n}"] = (str, f"LoRA number {_n}: its name")
    PLACEHOLDERS[f"lora_{_n}_weight"] = (float, f"LoRA number {_n}: its weight")
_SLOT = re.compile(r"^(reference|lora)_([1-9][0-9]*)(_weight)?$")
REQUIRED = ("image", "prompt")
_EXACT = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$")
_INSIDE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

# The built-in inpaint graph: LoadImage's MASK is 1 - alpha, so the init image
# is sent with alpha = 255 - comicc's mask (transparent = paint).
BUILTIN: dict[str, Any] = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "{{checkpoint}}"}},
    "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{prompt}}", "clip": ["1", 1]}},
    "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "{{negative}}", "clip": ["1", 1]}},
    "4": {"class_type": "LoadImage", "inputs": {"image": "{{image}}"}},
    "5": {
        "class_type": "VAEEncodeForInpaint",
        "inputs": {
            "pixels": ["4", 0],
            "vae": ["1", 2],
            "mask": ["4", 1],
            "grow_mask_by": "{{grow_mask_by}}",
        },
    },
    "6": {
        "class_type": "KSampler",
        "inputs": {
            "seed": "{{seed}}",
            "steps": "{{steps}}",
            "cfg": "{{cfg}}",
            "sampler_name": "{{sampler}}",
            "scheduler": "{{scheduler}}",
            "denoise": "{{denoise}}",
            "model": ["1", 0],
            "positive": ["2", 0],
            "negative": ["3", 0],
            "latent_image": ["5", 0],
        },
    },
    "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
    "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "comicc"}},
}

UI_FORMAT_HINT = (
    "export it in API format: in ComfyUI, Workflow -> Export (API) "
    '(older versions: enable dev mode options, then "Save (API Format)")'
)


class WorkflowProblem(ValueError):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


MAX_WORKFLOW_BYTES = 4 * 1024 * 1024


def resolve_path(value: str) -> Path:
    """The workflow file ``value`` names. A build hands the backend an absolute
    path (resolved from the script's folder and confined by the pipeline); a
    relative path given by library code is read from the working directory."""
    return expand_home(value).absolute()


def _strings(node: Any) -> Iterator[str]:
    """Every string value inside a node's inputs (recursively)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def placeholders(graph: dict[str, Any]) -> set[str]:
    found = set()
    for node in graph.values():
        for text in _strings(node.get("inputs", {})):
            m = _EXACT.match(text)
            if m:
                found.add(m.group(1))
    return found


def check_graph(graph: Any, where: str = "the workflow") -> list[WorkflowProblem]:
    """Every problem with an API-format graph and its placeholders."""
    if not isinstance(graph, dict) or not graph:
        return [
            WorkflowProblem(
                f"{where} is not a ComfyUI API-format workflow "
                "(a JSON object of node id -> {class_type, inputs})",
                UI_FORMAT_HINT,
            )
        ]
    if isinstance(graph.get("nodes"), list) and "links" in graph:
        return [
            WorkflowProblem(f"{where} is a ComfyUI UI workflow, not the API format", UI_FORMAT_HINT)
        ]
    out: list[WorkflowProblem] = []
    for nid, node in graph.items():
        if (
            not isinstance(node, dict)
            or not isinstance(node.get("class_type"), str)
            or not isinstance(node.get("inputs"), dict)
        ):
            out.append(
                WorkflowProblem(
                    f"node `{nid}` of {where} has no `class_type` and `inputs`: not the API format",
                    UI_FORMAT_HINT,
                )
            )
            continue
        for text in _strings(node["inputs"]):
            m = _EXACT.match(text)
            if m and m.group(1) not in PLACEHOLDERS:
                out.append(
                    WorkflowProblem(
                        f"node `{nid}` of {where} uses an unknown placeholder `{text}`",
                        _unknown_hint(m.group(1)),
                    )
                )
            elif not m and _INSIDE.search(text):
                out.append(
                    WorkflowProblem(
                        f"node `{nid}` of {where}: a placeholder must be the whole value, "
                        f"not part of `{text[:60]}`",
                        "put the placeholder alone in the field (e.g. a separate text node)",
                    )
                )
    if out:
        return out
    found = placeholders(graph)
    goes = {
        "image": "the init image goes (LoadImage `image`)",
        "prompt": "the prompt goes (CLIPTextEncode `text`)",
    }
    for name in REQUIRED:
        if name not in found:
            tag = "{{" + name + "}}"
            out.append(
                WorkflowProblem(
                    f"{where} has no `{tag}` placeholder",
                    f'put the string "{tag}" where {goes[name]}',
                )
            )
    return out


def _unknown_hint(name: str) -> str:
    """Did-you-mean, else the list of placeholders (the slots as ranges)."""
    close = did_you_mean(name, list(PLACEHOLDERS))
    if close:
        return f"did you mean `{{{{{close[0]}}}}}`?"
    plain = [p for p in PLACEHOLDERS if not _SLOT.match(p)]
    n = MAX_SLOTS
    return (
        "placeholders: "
        + ", ".join("{{" + p + "}}" for p in plain)
        + f", {{{{reference_1}}}} ... {{{{reference_{n}}}}}, {{{{lora_1}}}} ... {{{{lora_{n}}}}}"
        + f" and {{{{lora_1_weight}}}} ... {{{{lora_{n}_weight}}}}"
    )


def slots(graph: dict[str, Any]) -> tuple[int, int]:
    """How many reference images and LoRAs ``graph`` takes: the highest
    ``{{reference_N}}`` and ``{{lora_N}}`` / ``{{lora_N_weight}}`` it uses."""
    refs = loras = 0
    for name in placeholders(graph):
        m = _SLOT.match(name)
        if m and m.group(1) == "reference":
            refs = max(refs, int(m.group(2)))
        elif m:
            loras = max(loras, int(m.group(2)))
    return refs, loras


def slot_values(
    graph: dict[str, Any],
    references: Sequence[str],
    loras: Sequence[tuple[str, float]],
    lora_fallback: str,
) -> dict[str, Any]:
    """The values of ``graph``'s reference and LoRA placeholders.

    ``references`` are the uploaded names of the panel's reference images,
    ``loras`` its (name, weight) pairs, each cut to the graph's slots. A slot
    beyond the panel's own repeats them in turn (a reference image counts
    again; a LoRA comes again with weight 0, a no-op); a panel with no LoRA
    fills its LoRA slots with ``lora_fallback`` at weight 0 (the first LoRA
    the server lists)."""
    n_refs, n_loras = slots(graph)
    out: dict[str, Any] = {}
    for i in range(n_refs):
        if references:
            out[f"reference_{i + 1}"] = references[i % len(references)]
    for i in range(n_loras):
        if i < len(loras):
            name, weight = loras[i]
        elif loras:
            name, weight = loras[i % len(loras)][0], 0.0
        else:
            name, weight = lora_fallback, 0.0
        out[f"lora_{i + 1}"], out[f"lora_{i + 1}_weight"] = name, weight
    return out


def with_loras(graph: dict[str, Any], loras: Sequence[tuple[str, float]]) -> dict[str, Any]:
    """The built-in graph with one ``LoraLoader`` per LoRA chained after the
    checkpoint: every node that took the checkpoint's MODEL (output 0) or CLIP
    (output 1) takes the last LoRA's instead."""
    if not loras:
        return graph
    out = copy.deepcopy(graph)
    ckpt = next(nid for nid, n in out.items() if n["class_type"] == "CheckpointLoaderSimple")
    model, clip = [ckpt, 0], [ckpt, 1]
    added: dict[str, Any] = {}
    for i, (name, weight) in enumerate(loras, 1):
        nid = f"lora{i}"
        added[nid] = {
            "class_type": "LoraLoader",
            "inputs": {
                "model": model,
                "clip": clip,
                "lora_name": name,
                "strength_model": float(weight),
                "strength_clip": float(weight),
            },
        }
        model, clip = [nid, 0], [nid, 1]
    for node in out.values():
        for key, v in node["inputs"].items():
            if v == [ckpt, 0]:
                node["inputs"][key] = list(model)
            elif v == [ckpt, 1]:
                node["inputs"][key] = list(clip)
    return {**out, **added}


def choice_inputs(graph: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(node id, class_type, input, value) of every input naming a checkpoint:
    a ``CheckpointLoaderSimple``'s ``ckpt_name`` and any input that is
    ``{{checkpoint}}`` (the preflight checks them against the server's list)."""
    out = []
    for nid, node in graph.items():
        for key, v in node.get("inputs", {}).items():
            if not isinstance(v, str):
                continue
            m = _EXACT.match(v)
            uses = m is not None and m.group(1) == "checkpoint"
            if uses or (node.get("class_type") == "CheckpointLoaderSimple" and key == "ckpt_name"):
                out.append((str(nid), str(node["class_type"]), str(key), v))
    return out


def _read(value: str) -> Any:
    path = resolve_path(value)
    try:
        text = read_capped(path, MAX_WORKFLOW_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise WorkflowProblem(
            f"the workflow file `{value}` does not exist",
            "a relative path is read from the script's folder",
        ) from None
    except InputRefused as e:
        raise WorkflowProblem(f"the workflow file `{value}` {e}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise WorkflowProblem(f"cannot read the workflow file `{value}`: {e}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise WorkflowProblem(
            f"the workflow file `{value}` is not JSON: {e.msg} (line {e.lineno}, column {e.colno})",
            UI_FORMAT_HINT,
        ) from None


def workflow_problems(value: str) -> list[WorkflowProblem]:
    """Everything wrong with the workflow file ``value`` (empty: usable)."""
    try:
        graph = _read(value)
    except WorkflowProblem as e:
        return [e]
    return check_graph(graph, f"`{value}`")


def load_workflow(value: str) -> dict[str, Any]:
    """The graph in the file ``value``; the first :class:`WorkflowProblem` if it is bad."""
    graph = _read(value)
    problems = check_graph(graph, f"`{value}`")
    if problems:
        raise problems[0]
    return graph


def substitute(graph: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``graph`` with every placeholder replaced by its (typed) value."""

    def sub(v: Any) -> Any:
        if isinstance(v, str):
            m = _EXACT.match(v)
            if m and m.group(1) in values:
                kind = PLACEHOLDERS[m.group(1)][0]
                return kind(values[m.group(1)])
            return v
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [sub(x) for x in v]
        return v

    return {
        nid: {
            **copy.deepcopy({k: x for k, x in node.items() if k != "inputs"}),
            "inputs": sub(node["inputs"]),
        }
        for nid, node in graph.items()
    }


def describe_node_errors(doc: Any) -> str:
    """ComfyUI's answer ``{error, node_errors}`` in one line (the error's
    ``details`` kept: for ``invalid_prompt`` they name the node at fault)."""
    if not isinstance(doc, dict):
        return str(doc)[:300]
    parts = []
    err = doc.get("error")
    if isinstance(err, dict):
        words = str(err.get("message") or err.get("type") or "")
        details = str(err.get("details") or "").strip()
        parts.append(f"{words} ({details})" if details and details not in words else words)
    elif err:
        parts.append(str(err))
    nodes = doc.get("node_errors") or {}
    if isinstance(nodes, dict):
        for nid, info in nodes.items():
            info = info if isinstance(info, dict) else {}
            msgs = [
                f"{e.get('message', '')}{': ' + e['details'] if e.get('details') else ''}"
                for e in info.get("errors", [])
                if isinstance(e, dict)
            ]
            parts.append(f"node {nid} ({info.get('class_type', '?')}): " + "; ".join(msgs))
    return " | ".join(p for p in parts if p)[:600]


def substitute_one(value: str, values: dict[str, Any]) -> Any:
    """``value`` with its placeholder replaced (unchanged when it is none of ``values``)."""
    m = _EXACT.match(value)
    if m and m.group(1) in values:
        return PLACEHOLDERS[m.group(1)][0](values[m.group(1)])
    return value
